"""Every default in one place.

The CLI takes its defaults from here; library functions take a :class:`ReadOptions`.

>>> ReadOptions().layout
'auto'
>>> ReadOptions(layout="field").replace(workers=2).workers
2
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path

#: Layout names built in; a path to a ``.toml`` file names a user layout.
BUILTIN_LAYOUTS = ("auto", "us", "in-cts", "top-right", "field")

#: Image file suffixes read from folders (case-insensitive).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pdf", ".x9", ".x937", ".icl", ".dat")

#: Suffixes of image formats not read (phone photos, JPEG 2000, JPEG XL): a folder's files of them are taken
#: all the same, so that each gets its error row saying what it is (they were left out without a word).
UNREAD_IMAGE_SUFFIXES = (".heic", ".heif", ".avif", ".jp2", ".j2k", ".jpf", ".jxl")

#: Refuse images with more pixels than this, before decoding (decompression bombs).
MAX_PIXELS = 120_000_000

#: Refuse input files larger than this many bytes.
MAX_FILE_BYTES = 2_000_000_000

#: LeNet-5 input geometry (the 1998 paper): digit fitted in 20x20, centred by mass
#: in 28x28, padded to 32x32; background -0.1, ink 1.175.
INPUT_SIZE = 32
FIT_SIZE = 20
CENTER_SIZE = 28
BACKGROUND_VALUE = -0.1
INK_VALUE = 1.175

#: Default confidence a read needs to go through without review, used when neither
#: ``target_error`` nor ``review_threshold`` is given and the model ships no table.
DEFAULT_REVIEW_THRESHOLD = 0.9

#: Default target error rate of auto-accepted reads.
DEFAULT_TARGET_ERROR = 0.01

#: Classifier batch size.
DEFAULT_BATCH_SIZE = 512

#: Epochs of ``finetune`` (``cheque-reader finetune --epochs``).
FINETUNE_EPOCHS = 10

#: Where the real development data lives (tests and scripts only).
DATA_ENV = "CHEQUE_READER_DATA"


def data_dir() -> Path:
    """The development data folder: ``$CHEQUE_READER_DATA`` or ``../shared/data``.

    >>> isinstance(data_dir(), Path)
    True
    """
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def default_workers() -> int:
    """Worker processes for a batch: one per core, at most 8.

    >>> 1 <= default_workers() <= 8
    True
    """
    return max(1, min(os.cpu_count() or 1, 8))


@dataclass(frozen=True)
class ReadOptions:
    """Options for reading cheques; one object passed through the pipeline (as ``cheque-reader read``'s
    options are; :func:`~cheque_reader.pipeline.check_options` refuses bad ones with a UsageError).

    - ``layout``: ``"auto"``, ``"us"``, ``"in-cts"``, ``"top-right"``, ``"field"`` (each image already
      is the amount field) or the path of a layout ``.toml`` file.
    - ``target_error``: the error rate allowed among reads that skip review, in (0, 1); it picks the
      confidence threshold from the model's table. ``review_threshold``: that confidence itself, in
      [0, 1]; it wins over ``target_error`` when both are set.
    - ``device``: ``"cpu"`` or ``"cuda"``. ``backend``: ``"auto"`` runs both networks on ONNX Runtime
      when the device is the CPU and the ``onnx`` extra is installed, the field reader's in 8 bits
      (``"onnx-int8"``; ``"onnx"`` keeps them in float), else on ``"torch"``.
    - ``model_path``: weights to read with instead of the shipped ones (``finetune``'s ``.pt``).
    - ``batch_size``: digits per forward pass. ``workers``: worker processes of
      :func:`~cheque_reader.batch.read_folder`, at least 1 (1: in this process; ``read_cheque`` reads in this one).
    - ``max_pixels``, ``max_file_bytes``: a bigger input is refused (an ``error`` row) before it is decoded;
      an image given to ``read_cheque`` as a numpy array or a Pillow image, of more than ``max_pixels``, too.
    - ``keep_digit_reads``: keep each digit's read in ``ChequeResult.digit_reads`` (``--digits-out``).
    - ``field_reader``: add the second reader, the SDNN that reads the whole field without cutting it
      (:mod:`cheque_reader.sdnn`), when its weights are there; off, the segmenting reader alone.

    >>> options = ReadOptions(layout="field", review_threshold=0.9)
    >>> options.target_error, options.replace(workers=2).workers, options.workers
    (0.01, 2, 1)
    """

    layout: str | os.PathLike[str] = "auto"
    target_error: float | None = DEFAULT_TARGET_ERROR
    review_threshold: float | None = None
    device: str = "cpu"
    backend: str = "auto"
    model_path: str | os.PathLike[str] | None = None
    batch_size: int = DEFAULT_BATCH_SIZE
    workers: int = 1
    max_pixels: int = MAX_PIXELS
    max_file_bytes: int = MAX_FILE_BYTES
    keep_digit_reads: bool = True
    field_reader: bool = True

    def replace(self, **changes) -> "ReadOptions":
        """A copy with ``changes`` applied (the options are frozen).

        >>> ReadOptions().replace(layout="us").layout
        'us'
        """
        return dataclasses.replace(self, **changes)
