"""errors: the exceptions the library raises, each public, each with its exit code."""

import inspect

import cheque_reader
from cheque_reader import errors


def test_every_exception_the_library_raises_is_public():
    """``read_cheque(layout="US")`` raises LayoutError, and a huge scan ImageTooLargeError: both are
    ``from cheque_reader import ...``-able, as their parents are."""
    classes = {name for name, obj in inspect.getmembers(errors, inspect.isclass)
               if issubclass(obj, errors.ChequeReaderError)}
    assert classes <= set(cheque_reader.__all__), classes - set(cheque_reader.__all__)
    for name in classes:
        assert getattr(cheque_reader, name) is getattr(errors, name)
        assert getattr(errors, name).exit_code in (errors.EXIT_NEEDS_ATTENTION, errors.EXIT_USAGE, errors.EXIT_OUTPUT)
