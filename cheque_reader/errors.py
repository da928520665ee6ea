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
    """Base class of the errors this package raises; ``exit_code`` is the CLI's when one ends a run.

    >>> from cheque_reader.io import open_bytes
    >>> try:
    ...     open_bytes(b"", source="empty.png")
    ... except ChequeReaderError as exc:
    ...     print(type(exc).__name__, exc.exit_code, exc)
    InputError 1 empty.png: empty (0 bytes)
    """

    exit_code = EXIT_NEEDS_ATTENTION


class InputError(ChequeReaderError):
    """An input file cannot be read as pages (corrupt, empty, wrong type, too big).

    >>> from cheque_reader.io import open_bytes
    >>> open_bytes(b"Dear Sir,", source="letter.png")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.InputError: letter.png: not a supported image file (it looks like a text file)
    """


class ImageTooLargeError(InputError):
    """An image claims more pixels than the configured limit.

    >>> issubclass(ImageTooLargeError, InputError), issubclass(InputError, ChequeReaderError)
    (True, True)
    """


class UsageError(ChequeReaderError):
    """Bad options or arguments.

    >>> from cheque_reader.config import ReadOptions
    >>> from cheque_reader.pipeline import check_options
    >>> check_options(ReadOptions(target_error=2))
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: target error 2 is not an error rate between 0 and 1 (0.01 means 1%)
    """

    exit_code = EXIT_USAGE


class LayoutError(UsageError):
    """A layout name or layout file that cannot be used.

    >>> from cheque_reader.locate import resolve_layout
    >>> resolve_layout("uk-cheque")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.LayoutError: unknown layout 'uk-cheque': use auto, us, in-cts, top-right, field or a .toml file
    """


class ModelError(ChequeReaderError):
    """Weights that are missing, corrupt or do not match their sidecar.

    >>> from cheque_reader.classify import load_metadata
    >>> load_metadata("no-such-model.pt")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.ModelError: model weights not found: no-such-model.pt
    """

    exit_code = EXIT_USAGE


class OutputError(ChequeReaderError):
    """The output cannot be written (unwritable path, full disk).

    >>> import tempfile
    >>> from cheque_reader.batch import check_writable
    >>> check_writable(tempfile.mkdtemp())
    Traceback (most recent call last):
    ...
    cheque_reader.errors.OutputError: cannot write ...: it is a directory
    """

    exit_code = EXIT_OUTPUT
