"""cheque_reader: read the handwritten courtesy amount on scanned cheques with LeNet-5.

The public names are imported on first use, so ``import cheque_reader`` stays light
(torch loads only when a classifier is needed).

>>> import cheque_reader
>>> cheque_reader.BBox(0, 0, 2, 3).area
6
"""

import importlib
import logging

logging.getLogger("cheque_reader").addHandler(logging.NullHandler())

__version__ = "0.1.0"

_PUBLIC = {
    "read_cheque": "pipeline",
    "read_page": "pipeline",
    "read_folder": "batch",
    "DigitClassifier": "classify",
    "DigitPredictions": "classify",
    "ReadOptions": "config",
    "ChequeResult": "types",
    "AmountRead": "types",
    "DigitRead": "types",
    "DigitCandidate": "types",
    "Field": "types",
    "Page": "types",
    "BBox": "types",
    "ChequeReaderError": "errors",
    "InputError": "errors",
    "ImageTooLargeError": "errors",
    "LayoutError": "errors",
    "ModelError": "errors",
    "OutputError": "errors",
    "UsageError": "errors",
}

__all__ = list(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f".{_PUBLIC[name]}", __name__), name)
    raise AttributeError(f"module 'cheque_reader' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
