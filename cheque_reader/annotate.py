"""Pictures of a read: the page with the found field, and the field with its cuts, digits and confidences.

The first thing to open when a read is wrong (``cheque-reader read --annotate DIR``).

>>> import numpy as np
>>> from cheque_reader.types import ChequeResult
>>> out = annotate_page(np.full((100, 300), 255, np.uint8), ChequeResult("x.png", 1, "no_field"), None, (), ())
>>> out.ndim, out.shape[2], out.dtype
(3, 3, dtype('uint8'))
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .types import ChequeResult, DigitCandidate, Field

#: Width in pixels of the annotated picture.
OUT_WIDTH = 1000

_GREEN = (0, 170, 0)
_RED = (0, 0, 230)
_BLUE = (200, 80, 0)
_ORANGE = (0, 140, 255)
_GRAY = (170, 170, 170)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


def _bgr(img: np.ndarray) -> np.ndarray:
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(img[:, :, :3])


#: Height in pixels the page, and the enlarged field, take at most in the picture (an A4 page at
#: :data:`OUT_WIDTH` is 1,414): a tall narrow image is drawn narrower, on white, not stretched to
#: the width (a 10,000 x 1 pixel scan asked for a 10,000,000-row picture, 30 GB).
MAX_PART_HEIGHT = 1500


def _fit(img: np.ndarray, width: int, max_height: int = MAX_PART_HEIGHT) -> tuple[np.ndarray, float]:
    """``img`` scaled to ``width`` (at most ``max_height`` tall: then narrower, padded with white on
    the right to ``width``), and the scale."""
    h, w = img.shape[:2]
    s = min(width / max(1, w), max_height / max(1, h))
    size = (min(width, max(1, round(w * s))), min(max_height, max(1, round(h * s))))
    out = cv2.resize(img, size, interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
    if size[0] < width:
        out = cv2.copyMakeBorder(out, 0, 0, 0, width - size[0], cv2.BORDER_CONSTANT, value=(255, 255, 255))
    return out, s


def _text(img: np.ndarray, s: str, org: tuple[int, int], color, scale: float = 0.6, thick: int = 1) -> None:
    cv2.putText(img, s, org, _FONT, scale, (255, 255, 255), thick + 3, cv2.LINE_AA)
    cv2.putText(img, s, org, _FONT, scale, color, thick, cv2.LINE_AA)


#: Height of the footer: the read, and under it the legend of the colours.
FOOTER = 60

#: The legend: what each colour drawn means.
LEGEND = (("field found", _GREEN), ("digit: label confidence", _BLUE), ("separator", _ORANGE),
          ("cut between pieces", _RED), ("other candidate", _GRAY))

#: Height of the strip under the enlarged field that holds the labels, in two rows.
LABEL_STRIP = 60


class _LabelRows:
    """Where the labels under the field go: at their box's left edge, in the upper of two rows
    where the label before it leaves room, else in the lower (close cuts ran labels together)."""

    def __init__(self, height: int):
        self.baselines = (height - LABEL_STRIP + 22, height - 10)
        self.ends = [-10**9, -10**9]

    def place(self, text: str, x: int, scale: float, thick: int) -> tuple[int, int]:
        width = cv2.getTextSize(text, _FONT, scale, thick + 3)[0][0]
        row = next((k for k, end in enumerate(self.ends) if x >= end + 4), int(np.argmin(self.ends)))
        self.ends[row] = x + width
        return x, self.baselines[row]


def annotate_page(
    page_image: np.ndarray,
    result: ChequeResult,
    field: Field | None,
    candidates: Sequence[DigitCandidate],
    chosen: Sequence[int],
) -> np.ndarray:
    """A BGR picture of one read.

    Top: the page with the found field (green). Below it: the field enlarged, every
    candidate in light grey, the primitive cuts in red, the chosen digits in blue with
    their label and confidence, the chosen separators in orange; last, a line with the
    status, the digits, the text and the string confidence, and the legend of the colours.

    >>> picture = annotate_page(np.full((300, 700), 255, np.uint8), ChequeResult("a.png", 1, "no_digits"), None, [], [])
    >>> picture.ndim, picture.shape[2], picture.dtype
    (3, 3, dtype('uint8'))
    """
    page, s_page = _fit(_bgr(page_image), OUT_WIDTH)
    if result.field is not None:
        b = result.field
        cv2.rectangle(page, (int(b.x * s_page), int(b.y * s_page)), (int(b.x2 * s_page), int(b.y2 * s_page)), _GREEN, 2)
        _text(page, f"field ({result.layout or (field.layout if field else '')})", (int(b.x * s_page), max(14, int(b.y * s_page) - 6)), _GREEN)
    parts = [page]
    if field is not None and field.image.size:
        fimg = field.color if field.color is not None else field.image
        big, s = _fit(_bgr(fimg), OUT_WIDTH)
        big = cv2.copyMakeBorder(big, 0, LABEL_STRIP, 0, 0, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        rows = _LabelRows(big.shape[0])
        for c in candidates:
            x0, y0, x1, y1 = (int(v * s) for v in (c.bbox.x, c.bbox.y, c.bbox.x2, c.bbox.y2))
            cv2.rectangle(big, (x0, y0), (x1, y1), _GRAY, 1)
        # cuts: boundaries between neighbouring primitives inside one chosen path
        cut_x = sorted({int(c.bbox.x * s) for c in candidates if c.start > 0})
        for x in cut_x:
            cv2.line(big, (x, 0), (x, big.shape[0] - LABEL_STRIP - 1), _RED, 1)
        reads = {(r.bbox.x, r.bbox.y, r.bbox.w, r.bbox.h): r for r in result.digit_reads}
        for i in chosen:
            c = candidates[i]
            x0, y0, x1, y1 = (int(v * s) for v in (c.bbox.x, c.bbox.y, c.bbox.x2, c.bbox.y2))
            if c.kind == "digit":
                cv2.rectangle(big, (x0, y0), (x1, y1), _BLUE, 2)
                b = field.unzoomed(c.bbox)  # the reads' boxes are in the field's own pixels
                r = reads.get((b.x, b.y, b.w, b.h))
                label = f"{r.label} {r.confidence:.2f}" if r else "?"
                _text(big, label, rows.place(label, x0, 0.55, 1), _BLUE, 0.55, 1)
            else:
                cv2.rectangle(big, (x0, y0), (x1, y1), _ORANGE, 2)
                _text(big, c.kind, rows.place(c.kind, x0, 0.7, 2), _ORANGE, 0.7, 2)
        parts.append(big)
    footer = np.full((FOOTER, OUT_WIDTH, 3), 255, np.uint8)
    msg = f"{result.status}  digits={result.digits or '-'}  text={result.text or '-'}  conf={result.confidence:.3f}"
    if result.review_reasons:
        msg += "  review: " + ",".join(result.review_reasons)
    if field is not None and field.cheques > 1:  # why no_field, with the field drawn
        msg += f"  ({field.cheques} cheques on the page: one read)"
    _text(footer, msg, (8, 24), (0, 0, 0), 0.6, 1)
    x = 8
    for words, colour in LEGEND:  # what the colours mean: a swatch of each, and its words
        cv2.rectangle(footer, (x, 40), (x + 14, 52), colour, -1)
        _text(footer, words, (x + 20, 51), (60, 60, 60), 0.45, 1)
        x += 20 + cv2.getTextSize(words, _FONT, 0.45, 1)[0][0] + 22
    parts.append(footer)
    return np.vstack(parts)
