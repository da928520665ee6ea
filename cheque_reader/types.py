"""Frozen dataclasses passed between the pipeline stages.

Images are ``uint8`` 2-D grayscale numpy arrays indexed ``[row, col]``, paper light
(255) and ink dark. Boxes are :class:`BBox` in pixels of the image they were found on.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Mapping

import numpy as np

#: Values of ``ChequeResult.status``.
STATUS_OK = "ok"
STATUS_NO_FIELD = "no_field"
STATUS_NO_DIGITS = "no_digits"
STATUS_ERROR = "error"

#: Review reason codes, in the order they are reported.
REVIEW_REASONS = ("low_confidence", "no_field", "segmentation", "grammar", "micr_mismatch", "error")


@dataclass(frozen=True)
class BBox:
    """An axis-aligned box ``(x, y, w, h)``, top-left origin, in pixels.

    >>> BBox(10, 20, 30, 40).x2
    40
    >>> round(BBox(0, 0, 10, 10).iou(BBox(5, 0, 10, 10)), 3)
    0.333
    """

    x: int
    y: int
    w: int
    h: int

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h

    @property
    def area(self) -> int:
        return max(self.w, 0) * max(self.h, 0)

    def iou(self, other: "BBox") -> float:
        """Intersection over union with ``other`` (0 when either is empty)."""
        ix = max(0, min(self.x2, other.x2) - max(self.x, other.x))
        iy = max(0, min(self.y2, other.y2) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def union(self, other: "BBox") -> "BBox":
        """The smallest box holding both boxes."""
        x, y = min(self.x, other.x), min(self.y, other.y)
        return BBox(x, y, max(self.x2, other.x2) - x, max(self.y2, other.y2) - y)

    def shift(self, dx: int, dy: int) -> "BBox":
        """The same box moved by ``(dx, dy)``."""
        return BBox(self.x + dx, self.y + dy, self.w, self.h)

    def clip(self, width: int, height: int) -> "BBox":
        """The part of the box inside an image of ``width`` x ``height``."""
        x, y = min(max(self.x, 0), width), min(max(self.y, 0), height)
        return BBox(x, y, max(0, min(self.x2, width) - x), max(0, min(self.y2, height) - y))

    def crop(self, image: np.ndarray) -> np.ndarray:
        """The pixels of ``image`` inside the box (a view, clipped to the image)."""
        b = self.clip(image.shape[1], image.shape[0])
        return image[b.y : b.y2, b.x : b.x2]


@dataclass(frozen=True)
class Page:
    """One decoded page of an input file.

    ``image`` is grayscale; ``color`` is the BGR original when the source had colour
    (colour dropout uses it), else ``None``. ``extra`` carries per-item metadata that
    becomes extra result columns (X9.37 item sequence number, MICR amount).

    >>> page = Page("scan.tif", 2, np.full((40, 120), 255, np.uint8))
    >>> page.source, page.page, page.color is None, dict(page.extra)
    ('scan.tif', 2, True, {})
    """

    source: str
    page: int
    image: np.ndarray
    color: np.ndarray | None = None
    dpi: float | None = None
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True)
class Field:
    """The courtesy-amount field found on a page.

    ``bbox`` is in page pixels (of the page as given, before deskewing); ``image`` is
    the grayscale field crop after deskewing, ``color`` the BGR crop when known. A field of
    a low-resolution scan is enlarged ``zoom`` times (see :data:`cheque_reader.locate.MIN_FIELD_HEIGHT`):
    the digits' boxes are reported in the field's own pixels (:meth:`unzoomed`).

    >>> f = Field(BBox(0, 0, 60, 24), np.full((48, 120), 255, np.uint8), zoom=2.0)
    >>> f.unzoomed(BBox(10, 4, 20, 40))
    BBox(x=5, y=2, w=10, h=20)
    """

    bbox: BBox
    image: np.ndarray
    color: np.ndarray | None = None
    layout: str = "field"
    score: float = 1.0
    angle: float = 0.0
    upside_down: bool = False
    #: field-image pixels per page pixel (1.0 unless the field was cut enlarged)
    zoom: float = 1.0
    #: the printed box the field was found by, in field-image pixels (``None``: a prior rectangle or
    #: ``--layout field``); the field is cut a little wider, for handwriting spilling over it
    box: BBox | None = None
    #: cheques seen on the page: more than one, the field is one cheque's (the largest) and the
    #: read goes to review (reason ``no_field``: which amount the page's row holds is uncertain)
    cheques: int = 1

    def unzoomed(self, box: BBox) -> BBox:
        """``box`` (field-image pixels) in the pixels of the field as the page has it."""
        if self.zoom == 1.0:
            return box
        x, y = round(box.x / self.zoom), round(box.y / self.zoom)
        return BBox(x, y, max(1, round(box.x2 / self.zoom) - x), max(1, round(box.y2 / self.zoom) - y))


@dataclass(frozen=True)
class DigitCandidate:
    """A piece of ink that may be a digit or a separator.

    ``bbox`` is in field-image pixels; ``image`` is the ink crop (dark on light).
    ``kind`` is ``"digit"`` or the separator character (``, . - /``).
    ``start`` and ``end`` index the left-to-right primitive pieces this candidate
    covers: a plain segmentation has ``end == start + 1``; over-segmentation adds
    candidates that span several pieces (merged strokes) or share one (split cuts).

    >>> c = DigitCandidate(BBox(4, 2, 10, 20), np.full((20, 10), 255, np.uint8), start=2, end=4)
    >>> c.kind, c.end - c.start  # a digit candidate over two primitive pieces
    ('digit', 2)
    """

    bbox: BBox
    image: np.ndarray
    kind: str = "digit"
    start: int = 0
    end: int = 1


@dataclass(frozen=True)
class DigitRead:
    """One classified digit: its label, calibrated confidence, runner-up, and box (in the pixels of
    the field as the page has it, see :meth:`Field.unzoomed`).

    >>> DigitRead(7, 0.98, 1, 0.01, BBox(24, 44, 15, 48)).label
    7
    """

    label: int
    confidence: float
    alt_label: int
    alt_confidence: float
    bbox: BBox


@dataclass(frozen=True)
class AmountRead:
    """The digits and separators of a field, put together.

    >>> AmountRead(digits="123456", text="1,234.56", amount="1234.56", confidence=0.98)
    AmountRead(digits='123456', text='1,234.56', amount='1234.56', confidence=0.98, grammar_ok=True, convention='')
    """

    digits: str
    text: str
    amount: str | None
    confidence: float
    grammar_ok: bool = True
    convention: str = ""


@dataclass(frozen=True)
class ChequeResult:
    """Everything read from one page: one row of ``results.csv`` (:func:`~cheque_reader.report.result_row`;
    the README's Results section says what each column holds).

    ``source``, ``page`` (1-based); ``status``: ``ok``, ``no_field``, ``no_digits`` or ``error``;
    ``digits`` (the digits alone, ``"123456"``), ``text`` (as written, ``"1,234.56"``), ``amount`` (the
    decimal value as text, ``"1234.56"``, ``None`` when none can be formed); ``confidence``: the calibrated
    probability that ``digits`` is right; ``needs_review`` (a bool here, ``true``/``false`` text in the CSV
    and in ``read_folder``'s frame) and ``review_reasons`` (a tuple of :data:`REVIEW_REASONS` codes, ``;``-joined
    in the CSV); ``field``: the amount field's :class:`BBox` in page pixels (``None``: none found);
    ``n_digits``; ``model``; ``elapsed_ms``; ``error``: the message of an ``error`` row; ``digit_reads``: one
    :class:`DigitRead` a digit (``digits.csv``'s rows, empty with ``ReadOptions(keep_digit_reads=False)``);
    ``layout``: the layout whose field was read; ``extra``: an X9.37 item's columns (``item_sequence``,
    ``micr_amount``). Plain Python values throughout: ``json.dumps(dataclasses.asdict(result))`` works.

    >>> from pathlib import Path
    >>> from cheque_reader import read_cheque
    >>> r = read_cheque(Path(__file__).parents[1] / "samples" / "cheque_01.png")
    >>> r.status, r.text, r.amount, r.needs_review, len(r.digit_reads)
    ('ok', '1,234.56', '1234.56', False, 6)
    """

    source: str
    page: int
    status: str
    digits: str = ""
    text: str = ""
    amount: str | None = None
    confidence: float = 0.0
    needs_review: bool = True
    review_reasons: tuple[str, ...] = ()
    field: BBox | None = None
    n_digits: int = 0
    model: str = ""
    elapsed_ms: float = 0.0
    error: str = ""
    digit_reads: tuple[DigitRead, ...] = ()
    layout: str = ""
    #: left out of ``hash`` (a dict is not hashable), kept in ``==``: results can key a dict or fill a set
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)
