"""``python -m cheque_reader``: the ``cheque-reader`` command, where its script is not on the PATH
(a virtual environment not activated, Windows)."""

from .cli import main

if __name__ == "__main__":  # pragma: no cover (run by python -m)
    main(prog_name="cheque-reader")
