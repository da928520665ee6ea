"""cheque_reader: read the handwritten courtesy amount on scanned cheques with LeNet-5."""

import logging

logging.getLogger("cheque_reader").addHandler(logging.NullHandler())

__version__ = "0.1.0"
