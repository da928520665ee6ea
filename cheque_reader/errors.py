"""Exceptions, each with the exit code the CLI gives when it ends a run.

Per-page problems (a corrupt file) never end a batch: they become an ``error`` row
whose message is ``str(exc)``. Only usage and output problems end a run.

>>> InputError("x.png: not an image").exit_code
1
"""

from __future__ import annotations

#: Exit codes (DESIGN.md): 0 all read, 1 some pages need review or failed, 2 bad usage,
#: 3 output not writable, 130 interrupted (Ctrl-C: 128 + SIGINT, as shells give), 141 standard output
#: closed by its reader (``read -o - | head``: 128 + SIGPIPE, as shells give a command that signal ends;
#: Python ignores SIGPIPE, so the CLI exits so itself, quietly; 1, Python's own, means pages to review here).
EXIT_OK = 0
EXIT_NEEDS_ATTENTION = 1
EXIT_USAGE = 2
EXIT_OUTPUT = 3
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141


class ChequeReaderError(Exception):
    """Base class of the errors this package raises."""

    exit_code = EXIT_NEEDS_ATTENTION


class InputError(ChequeReaderError):
    """An input file cannot be read as pages (corrupt, empty, wrong type, too big)."""


class ImageTooLargeError(InputError):
    """An image claims more pixels than the configured limit.

    >>> issubclass(ImageTooLargeError, InputError), issubclass(InputError, ChequeReaderError)
    (True, True)
    """


class UsageError(ChequeReaderError):
    """Bad options or arguments."""

    exit_code = EXIT_USAGE


class LayoutError(UsageError):
    """A layout name or layout file that cannot be used."""


class ModelError(ChequeReaderError):
    """Weights that are missing, corrupt or do not match their sidecar."""

    exit_code = EXIT_USAGE


class OutputError(ChequeReaderError):
    """The output cannot be written (unwritable path, full disk)."""

    exit_code = EXIT_OUTPUT
