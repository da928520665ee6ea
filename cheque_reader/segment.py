"""Binary ink of a field -> digit candidates and separators; the best path through them.

:func:`segment_field` works in four steps:

1. connected components of the ink (8-connectivity), specks dropped;
2. the digit band (typical top, bottom and height of the tall components) tells
   separators from digits: ``.`` (small, low), ``,`` (small, reaching below the
   baseline), ``-`` (flat), ``/`` (a tall slanted stroke ending the amount, as in
   ``25,00,000/-``); stray marks above the band are dropped;
3. a point written against a digit is cut off it (:func:`_touching_point`), then broken strokes
   are merged (pieces overlapping horizontally: the hat of a 5, an open 4);
4. over-segmentation: a piece wider than a digit is cut at minima of its vertical ink
   projection into primitive pieces; candidates are every run of up to
   ``MAX_SPAN`` neighbouring primitives (``DigitCandidate.start``/``end``), and also pairs of
   narrow neighbouring pieces (a digit written in two strokes).

:func:`best_path` picks the cover of the primitives that maximises the product of the
classifier's probabilities ``max_k P(k) * (1 - P(not digit))`` (LeCun et al. 1998), so a
wrong cut, whose halves look like fragments, loses to the right one.

Images are ``uint8`` with paper 255 and ink 0; boxes are in field pixels.

>>> import numpy as np
>>> ink = np.full((40, 60), 255, np.uint8)
>>> ink[5:35, 5:15] = 0; ink[5:35, 30:40] = 0; ink[31:35, 50:54] = 0   # two digits and a dot
>>> [c.kind for c in segment_field(ink)]
['digit', 'digit', '.']
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from .preprocess import (
    connected_components,
    enclosed_paper,
    ink_elongation,
    point_cov,
    small_median,
    solid_dot,
    speck_area,
)
from .types import BBox, DigitCandidate

log = logging.getLogger("cheque_reader")

#: Components with fewer pixels than this fraction of the band height squared are specks.
SPECK_FRACTION = 0.004

#: A piece is "wide" (may hold touching digits) above this many typical digit widths.
WIDE_FACTOR = 1.35

#: Most primitives one candidate may span.
MAX_SPAN = 3

#: A cut column holds at most this fraction of the piece's densest column.
CUT_MAX_INK = 0.45

#: A terminator '/' is a thin straight stroke: minor/major axis ratio at most this.
SLASH_MAX_ELONGATION = 0.3

#: A terminator '/' encloses no paper: a piece holding a loop of at least this share of the band's
#: height squared holds a digit too (a last ``0`` written into its ``/-``, IDRBT 120618's
#: ``55,60,000/-``, read ``555000``); the strokes taken for '/' on the 40 IDRBT cheques enclose
#: at most 0.001 of it (a pen's blot), that ``0/`` 0.16.
SLASH_MAX_HOLE = 0.02

#: best_path: log-score taken from a digit reading per unit of height below 0.55 of the band.
SMALL_DIGIT_PENALTY = 4.0

#: best_path: log prior added per digit read (below 0 favours fewer, whole digits over cuts).
DIGIT_LOG_PRIOR = -0.5

#: best_path: log prior of dropping a primitive as noise, and its growth with size above 0.3 band.
NOISE_LOG_PRIOR = -0.3
BIG_NOISE_PENALTY = 3.0

#: A small stroke above the middle of the band joins the digit under at least this share of its width.
HAT_OVERLAP = 0.5

#: A ``-`` with at least this share of its columns within a digit's (and its middle within the
#: digit's rows) is the bar of a crossed 7, not a separator.
CROSSBAR_OVERLAP = 0.6

#: A ``.`` whose top lies more than this many band heights below the digits' feet is a scrap.
POINT_BELOW = 0.2

#: A ``.`` with digit ink at most this many band heights right above it is a scrap of the digit.
POINT_UNDER_INK = 0.25

#: A ``-`` between digits whose middle lies below ``band.bottom - LOW_DASH * band.height`` (as low as
#: the digits' feet) is not a separator.
LOW_DASH = 0.15

#: A ``-`` before the last digit at least this many band heights tall is a digit: a 1 leaning so far
#: that its stroke lies closer to horizontal than vertical (:func:`separator_kind` takes such strokes
#: for a dash or a tail); a dash is flat.
TALL_DASH = 0.7

#: A final thin stroke with no dash after it is a '/' only when this many band heights tall.
SLASH_ALONE_HEIGHT = 1.3

#: Separators are at most this fraction of the digit band height tall ('/' excepted).
SEPARATOR_HEIGHT = 0.45

#: A line drawn under superscript cents and touching them is at least this many digit widths long.
UNDERLINE_LENGTH = 1.2

#: ... and lies at least this many band heights above the digits' feet. Session 13, on the last
#: piece of each field only: 13 more right values of 1,000 synthetic cheques (superscript cents
#: 66 -> 79 of 107); no text of the 1,120 real fields changed (without the raise and last-piece
#: tests, 13 ORAND texts did, and 8 fewer ORAND reads were accepted).
UNDERLINE_RAISE = 0.2

#: A speck (smaller than ``SPECK_FRACTION`` or than the cleaning's own speck size) is a point when its
#: middle lies within this many band heights of the digits' feet, in a gap between two digits.
BASELINE_DOT = 0.15

#: A ``.`` is at most 0.25 band heights across, or, a round filled dot (a thick pen's), this many.
#: Set on the development sets (session 13): 0.34 gives 16 more right values of 1,000 synthetic
#: cheques and shows 12 real ORAND points; 0.40 also read scraps of ORAND digits as second points.
ROUND_POINT_SIZE = 0.34

#: A filled round dot larger than that, up to ``THICK_POINT_SIZE`` band heights across, its middle in
#: the lowest ``THICK_POINT_LOW`` of the band, is likely a thick pen's point (:func:`_thick_point`):
#: it stays a digit candidate of its own, never one with the digit beside it (which read ``0.`` as one
#: ``0``), so that the path leaves it out and the pipeline puts it back as the point
#: (``pipeline.with_skipped_points``, whose size and height limits these are). On 2,000 synthetic
#: cheques: 3 more right values (``100.00-`` had been read ``10000-``, ``43.95-`` ``4395-``), 4 more
#: reads accepted, none wrong; no read of the 1,080 ORAND fields or 40 IDRBT cheques changed.
THICK_POINT_SIZE = 0.5
THICK_POINT_LOW = 0.4

#: :func:`superscript_underline` (set on 1,000 synthetic cheques, seed 4): the line is at
#: most this many band heights thick (a thick pen's line is 0.3), the cents standing on it reach
#: at most ``UNDERLINE_CENTS_HEIGHT`` band heights above its top (a line is found under 68 of the
#: 107 superscript cents with 0.95, 74 with 1.1; on the 893 other cheques, with 1.1 and
#: ``UNDERLINE_START``, one: the flat base of a final ``2`` written a little high, ``3.82`` read
#: ``3.87``), over at least
#: ``UNDERLINE_COVER`` of its length, ``UNDERLINE_OVER`` of their ink above it. The line is taken
#: off both readers' inputs (``pipeline._clean_and_segment``): a touching line joined the cents
#: into one piece and read as a closing dash.
UNDERLINE_THICKNESS = 0.35
UNDERLINE_CENTS_HEIGHT = 1.1
UNDERLINE_COVER = 0.2
UNDERLINE_OVER = 0.6

#: The line under superscript cents starts at the first cent or before it: ink standing on it
#: that reaches more than this many digit widths left of its start is a digit whose own flat
#: bottom the run is. On the 74 lines found under superscript cents of 1,000 synthetic cheques the
#: cents reach at most 0.0 left of the line; on the 5 ORAND fields (of 1,080) where a line was
#: found without it, the flat bottoms of two small joined zeros (``25.000``, ``6000``, ``1.000-``)
#: or a final 2's base, 0.07 to 0.48 (4 of those 5 reads went wrong, ``6000`` read ``60.00``).
UNDERLINE_START = 0.03

#: A small piece taller than wide, hanging from the lower half of the band to below the digits'
#: feet, its ink filling at least this share of its box, is a thick pen's comma (a small digit's
#: strokes fill less). Session 13: 14 more right values of 1,000 synthetic cheques; on the 1,120
#: real fields 2 texts changed (a comma before or after the digits) once flat scraps were excluded.
SOLID_COMMA_FILL = 0.55


#: :func:`_joined_dash`: a dash drawn on from the digit before it, cut off that digit's piece, has its
#: middle this far down the digit band (in band heights from its top; the 11 such dashes of the 1,000
#: --world cheques, seed 4, 0.48 to 0.67; the marks cut off at a piece's end that it took for dashes
#: otherwise, a 7's or 5's bar or a joining stroke, 0.15 to 0.29 and 0.69 to 0.84) ...
JOINED_DASH_MIDDLE = (0.4, 0.68)

#: ... and is at least this many band heights thick (those dashes 0.16 to 0.37; a hairline joining
#: stroke 0.06).
JOINED_DASH_HEIGHT = 0.1


#: :func:`_touching_point` (set on 1,000 synthetic cheques, seed 4, checked on seed 5 and the 1,120
#: real fields): a decimal point written against a digit sits on the digits' feet, so its columns hold
#: ink only in the lowest ``TOUCHING_POINT_ZONE`` band heights (the points of the 20 seed-4 cheques
#: read 100 times too big for such a point reach 0.40 above the feet, a thick pen's).
TOUCHING_POINT_ZONE = 0.42

#: ... joined to the digit by a neck: the ink of the column where it is cut off at most this share of
#: its thickest column (0.08 to 0.69 for the 18 points found on seed 4, 0.07 to 0.68 for the 21 of
#: seed 5; big points lying over a digit's foot, 0.74 to 0.88, are left: at 0.8 the thickened ends of
#: three 2s' feet of the 2,000 cheques came in). A point before a digit, joined to its left end, at
#: most ``TOUCHING_POINT_NECK_BEFORE``: the tails of 3s and 5s and the loop at a 2's foot end low on a
#: digit's left, round and solid too, and measured 0.50 to 0.69 there (the 5 points found before a
#: digit 0.07 to 0.33; 3 others of seed 4, 0.50 to 0.69, are left).
TOUCHING_POINT_NECK = 0.7
TOUCHING_POINT_NECK_BEFORE = 0.45

#: ... or at most ``TOUCHING_POINT_NECK_BIG`` for a big point after a digit, at least
#: ``TOUCHING_POINT_BIG`` band heights thick, lying over the digit's foot (a thick pen's: the 11 points
#: of the 2,000 cheques with necks 0.7 to 0.9 are 0.22 to 0.38 thick, the 9 of them at least 0.3 within
#: 0.8; the thickened ends of three 2s' feet with such necks 0.19 to 0.21).
TOUCHING_POINT_NECK_BIG = 0.8
TOUCHING_POINT_BIG = 0.3

#: ... is this many band heights across (its longer side; the points found 0.15 to 0.41) ...
TOUCHING_POINT_SIZE = (0.15, 0.5)

#: ... round: minor over major axis of its ink at least this (the points found 0.82 to 1.0; of the
#: 68 stroke ends a neck cut off on seed 4, 61 lie under it) ...
TOUCHING_POINT_ROUND = 0.8

#: ... solid: its ink fills at least this share of its box (a disc 0.785; the points found 0.73 to
#: 0.89, one left at 0.69; the stroke ends cut off 0.60 to 0.89, 40 of the 68 under it) ...
TOUCHING_POINT_FILL = 0.72

#: ... with its lowest ink at most this many band heights below the digits' feet (the points found
#: -0.03 to 0.07; a comma's tail joined to a digit hangs 0.22 to 0.33 below them) ...
TOUCHING_POINT_FOOT = 0.15

#: ... and at most this many above them: a point is written on the line the digits stand on; the
#: thickened end of a 2's foot (or a 6's loop) off it ends 0.06 to 0.09 above their feet (without this, 4 ORAND
#: fields of 1,080 were read with such a point, one auto-accepted, ``8293`` read ``82.93``, and on
#: seed 5 a 2's foot and a 3's tail; 2 points of seed 4, -0.06 and -0.07, are left).
TOUCHING_POINT_RAISED = 0.05


@dataclass
class _Piece:
    mask: np.ndarray  # bool, whole field shape is too big: kept as crop + offset
    x: int
    y: int
    kind: str = "digit"

    @property
    def w(self) -> int:
        return self.mask.shape[1]

    @property
    def h(self) -> int:
        return self.mask.shape[0]

    @property
    def x2(self) -> int:
        return self.x + self.w

    @property
    def y2(self) -> int:
        return self.y + self.h


def _merge(a: _Piece, b: _Piece) -> _Piece:
    x, y = min(a.x, b.x), min(a.y, b.y)
    x2, y2 = max(a.x2, b.x2), max(a.y2, b.y2)
    m = np.zeros((y2 - y, x2 - x), bool)
    m[a.y - y : a.y2 - y, a.x - x : a.x2 - x] |= a.mask
    m[b.y - y : b.y2 - y, b.x - x : b.x2 - x] |= b.mask
    return _Piece(m, x, y, a.kind)


def _components(ink: np.ndarray, label=None) -> list[_Piece]:
    """The pieces of ink of ``ink`` (paper 255, ink 0), labelled by ``label`` (``None``:
    :func:`connected_components`; or a :class:`~cheque_reader.preprocess.LastLabelled` that may have
    labelled them already)."""
    n, lab, stats, _ = (label or connected_components)((ink < 128).astype(np.uint8))
    out = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        out.append(_Piece(lab[y : y + h, x : x + w] == i, int(x), int(y)))
    return out


@dataclass(frozen=True)
class Band:
    """The digit band: typical top and bottom row of the digits, their height and width.

    >>> Band(top=10, bottom=40, height=30, digit_width=18).height
    30
    """

    top: float
    bottom: float
    height: float
    digit_width: float


def digit_band(pieces: list[_Piece]) -> Band:
    """The band of the digit-sized pieces: typical top, bottom, height and width.

    Robust to a tall ``/``, a big first digit or a flourish: the height is the median of
    the pieces at least 0.2 times the tallest, then of those near that median.

    >>> digits = [_Piece(np.ones((30, 18), bool), x, 10) for x in (0, 25, 50)]
    >>> digit_band(digits + [_Piece(np.ones((60, 4), bool), 80, 0)])   # a tall '/' does not stretch it
    Band(top=10.0, bottom=40.0, height=30.0, digit_width=18.0)
    """
    hs = np.array([p.h for p in pieces], float)
    h0 = small_median(hs[hs >= 0.2 * hs.max()])
    core = [p for p in pieces if 0.6 * h0 <= p.h <= 1.6 * h0] or [p for p in pieces if p.h >= 0.2 * hs.max()]
    top = small_median([p.y for p in core])
    bottom = small_median([p.y2 for p in core])
    height = max(1.0, small_median([p.h for p in core]))
    widths = [p.w for p in core if p.w <= 1.1 * height]
    dw = small_median(widths) if widths else 0.6 * height
    dw = float(np.clip(dw, 0.35 * height, 1.0 * height))
    return Band(top, bottom, height, dw)


def _elongation(p: _Piece) -> float:
    """Minor over major axis length of the ink (0 for a thin straight stroke, about 1 for a blob).

    >>> round(_elongation(_Piece(np.eye(20, dtype=bool), 0, 0)), 2)
    0.0
    """
    return ink_elongation(p.mask)


def _slant(p: _Piece) -> float:
    """Angle of a piece's main axis from vertical in degrees: positive leaning right like ``/``.

    >>> _slant(_Piece(np.eye(10, dtype=bool)[::-1], 0, 0))
    45.0
    """
    ys, xs = np.nonzero(p.mask)
    if len(xs) < 3:
        return 0.0
    cov = point_cov(xs, ys)
    _, vecs = np.linalg.eigh(cov)
    vx, vy = vecs[:, 1]
    ang = float(np.degrees(np.arctan2(abs(vx), abs(vy))))
    return round(ang, 1) if vx * vy < 0 else round(-ang, 1)


def separator_kind(p: _Piece, band: Band) -> str | None:
    """The separator ``p`` is (``. , -``), ``"noise"`` for a stray mark, ``"tail"`` for a flat
    stroke off the band (a dash only if it ends the amount), or ``None`` for a digit.

    ``-``: flat; ``.``: tiny, low; ``,``: a short thin stroke low in the band reaching the
    baseline. A small round piece (a small ``0``) stays a digit.

    >>> band = Band(top=10, bottom=40, height=30, digit_width=18)
    >>> (separator_kind(_Piece(np.ones((30, 18), bool), 0, 10), band),   # digit-sized
    ...  separator_kind(_Piece(np.ones((4, 14), bool), 0, 22), band),    # flat, mid-band
    ...  separator_kind(_Piece(np.ones((4, 4), bool), 0, 35), band),     # tiny, at the feet
    ...  separator_kind(_Piece(np.ones((4, 4), bool), 0, 12), band))     # tiny, at the top
    (None, '-', '.', 'noise')
    """
    H = band.height
    mid = 0.5 * (band.top + band.bottom)
    cy = p.y + 0.5 * p.h
    # the ink's elongation (its covariance's eigenvalues), last in each test and made at most once: most
    # digits' shapes and places decide without it
    elongation: list[float] = []

    def e() -> float:
        if not elongation:
            elongation.append(_elongation(p))
        return elongation[0]

    flat = (p.h <= SEPARATOR_HEIGHT * H and p.w >= 1.6 * p.h and p.w >= 0.3 * H) or (
        p.w >= 2.5 * p.h and p.h < 0.7 * H and e() < 0.35
    )
    if not flat and p.w >= 0.6 * H and e() < 0.25 and abs(_slant(p)) > 50:
        flat = True  # a thin stroke closer to horizontal than vertical: a tail or strike
    if flat:
        # a dash or tail lies across the band; thin scraps above or below are left-over printed lines
        in_band = band.top + 0.15 * H <= cy <= band.bottom + 0.1 * H
        if in_band and p.h >= max(2.0, 0.06 * H):
            return "-"
        return "tail" if p.h >= max(2.0, 0.06 * H) and p.w >= 0.6 * H else "noise"
    if p.w >= 1.6 * p.h and p.h < 0.15 * H:
        return "noise"
    if p.y2 < band.top + 0.35 * H:
        # wholly above the digits: superscript cents if at the end (decided by the caller), else a scrap
        return "high" if p.h >= 0.3 * H else "noise"
    if max(p.w, p.h) <= 0.25 * H or (max(p.w, p.h) <= ROUND_POINT_SIZE * H and _round_dot(p)):
        if cy > mid:
            return "."
        return "noise"  # a stray mark above the digits
    if p.h <= 0.65 * H and p.w <= 0.45 * H and p.y >= band.top + 0.35 * H and p.y2 >= band.bottom - 0.1 * H and e() < 0.45:
        return ","
    if (0.3 * H <= p.h <= 0.6 * H and p.w <= 0.4 * H and p.h >= 1.3 * p.w and float(p.mask.mean()) >= SOLID_COMMA_FILL
            and p.y >= mid and p.y2 >= band.bottom + 0.15 * H and not _has_hole(p.mask)):
        return ","  # a thick pen's comma: a solid blob with a short tail, hanging below the baseline
    if p.h <= 0.95 * H and p.w <= 0.5 * H and p.y >= band.top + 0.3 * H and p.y2 >= band.bottom + 0.15 * H and e() < 0.4:
        return ","  # a long comma hanging well below the baseline
    if p.h <= 1.15 * H and p.y >= band.top + 0.25 * H and p.y2 >= band.bottom + 0.25 * H and e() < 0.25:
        return ","  # a long straight comma stroke, starting low and ending well below the digits
    if p.h <= 2.0 * H and p.y >= band.top + 0.5 * H and p.y2 >= band.bottom + 0.4 * H and e() < 0.25:
        return ","  # no digit starts in the lower half of the band and plunges far below it
    if p.y >= band.bottom:
        return "noise"  # wholly below the digits
    return None


def _baseline_dots(specks: list[_Piece], pieces: list[_Piece], band: Band) -> list[_Piece]:
    """The specks that are a fine pen's decimal point: solid dots with their middle at the digits'
    feet (``BASELINE_DOT``), in a gap of at most 1.2 digit widths between two tall pieces, a thin
    last one not counted (it may be the '/' of a closing '/-', which turned scans leave specks before)."""
    tall = sorted((p for p in pieces if p.h >= 0.5 * band.height), key=lambda p: p.x)
    if tall and tall[-1].w < 0.6 * band.digit_width:
        tall = tall[:-1]  # a thin last stroke: maybe the '/' of '/-', which turned scans leave dots before
    gaps = [(a.x2, b.x) for a, b in zip(tall[:-1], tall[1:]) if b.x - a.x2 <= 1.2 * band.digit_width]
    out = []
    for s in specks:
        cy = s.y + 0.5 * s.h
        if (any(a <= s.x and s.x2 <= b for a, b in gaps) and abs(cy - band.bottom) <= BASELINE_DOT * band.height
                and solid_dot(s.w, s.h, int(s.mask.sum()))):
            out.append(s)
    return out


def _touching_point(p: _Piece, band: Band) -> tuple[list[_Piece], _Piece | None]:
    """A decimal point written against a digit, cut off ``p``: the digit's ink (one piece, or two
    when the point sat between two joined digits) and the point, kind ``"."``; ``([p], None)``
    when ``p`` has none. The point: a run of columns holding ink only at the digits' feet
    (``TOUCHING_POINT_ZONE``) at an end of ``p`` or between two digits, cut at the narrowest column
    (``TOUCHING_POINT_NECK``), small, round, solid and on the feet (``TOUCHING_POINT_SIZE``,
    ``_ROUND``, ``_FILL``, ``_FOOT``), one piece of ink, the digit left at least half the band tall.

    >>> ink = np.zeros((40, 30), bool); ink[:, :6] = True; ink[34:38, 5:20] = True   # a 1 with a foot ...
    >>> yy, xx = np.mgrid[:40, :30]; ink |= (yy - 33) ** 2 + (xx - 24) ** 2 <= 30    # ... and a point on it
    >>> band = Band(top=0, bottom=40, height=40, digit_width=20)
    >>> parts, point = _touching_point(_Piece(ink, 0, 0), band)
    >>> [(q.x, q.w) for q in parts], (point.x, point.w, point.kind)
    ([(0, 19)], (19, 11, '.'))
    >>> _touching_point(_Piece(ink[:, :20], 0, 0), band)[1] is None   # the foot alone
    True
    """
    H = band.height
    if p.h < 0.5 * H:
        return [p], None
    m = p.mask
    low = np.argmax(m, axis=0) >= band.bottom - TOUCHING_POINT_ZONE * H - p.y  # (every column of a piece has ink)
    if low.sum() < 2 or low.all():
        return [p], None
    cnt = m.sum(axis=0).astype(float)
    low &= cnt > 0
    widest = int(TOUCHING_POINT_SIZE[1] * H)
    narrowest = TOUCHING_POINT_ROUND * TOUCHING_POINT_SIZE[0] * H  # a round point's width at least
    best: tuple[float, int, int, int] | None = None  # (neck ratio, point width, first column, end): the lowest, then narrowest
    edges = np.flatnonzero(np.diff(np.concatenate([[0], low.astype(np.int8), [0]])))
    for a, b in zip(edges[::2], edges[1::2]):  # the runs of low columns [a, b)
        a, b = int(a), int(b)
        if (a == 0 and b == p.w) or b - a < narrowest:
            continue
        if a == 0:  # a point before the digit: cut at a neck e (< b), the point columns [0, e)
            e = np.arange(2, min(b, widest + 1))
            if len(e) == 0:
                continue
            ratio = cnt[e] / np.maximum.accumulate(cnt[:b])[e - 1]
            k = int(np.argmin(ratio))  # the first: the narrowest of equal necks
            if ratio[k] <= TOUCHING_POINT_NECK_BEFORE:
                best = min(best or (np.inf,), (float(ratio[k]), int(e[k]), 0, int(e[k])))
        elif b == p.w:  # a point after the digit: cut at a neck s - 1 (>= a), the point columns [s, w)
            s = np.arange(max(a + 1, p.w - widest), p.w - 1)
            if len(s) == 0:
                continue
            thick = np.maximum.accumulate(cnt[::-1])[::-1][s]
            ratio = cnt[s - 1] / thick
            big = (ratio <= TOUCHING_POINT_NECK_BIG) & (thick >= TOUCHING_POINT_BIG * H)
            ratio = np.where((ratio <= TOUCHING_POINT_NECK) | big, ratio, np.inf)
            k = len(s) - 1 - int(np.argmin(ratio[::-1]))  # the last: the narrowest of equal necks
            if np.isfinite(ratio[k]):
                best = min(best or (np.inf,), (float(ratio[k]), p.w - int(s[k]), int(s[k]), p.w))
        else:  # between two joined digits: necks on both sides
            for s in range(a + 1, b - 2):
                e = np.arange(s + 2, min(b, s + widest + 1))
                if len(e) == 0:
                    continue
                ratio = np.maximum(cnt[s - 1], cnt[e]) / np.maximum.accumulate(cnt[s:b])[e - s - 1]
                k = int(np.argmin(ratio))
                if ratio[k] <= TOUCHING_POINT_NECK:
                    best = min(best or (np.inf,), (float(ratio[k]), int(e[k]) - s, s, int(e[k])))
    if best is None:
        return [p], None
    _, _, s, e = best
    cut = {q.x - p.x: q for q in _split(p, [s, e])}  # by first column: the point's is s
    dot = cut.pop(s)
    small, large = TOUCHING_POINT_SIZE
    side = max(dot.w, dot.h)
    if (not small * H <= side <= large * H or ink_elongation(dot.mask) < TOUCHING_POINT_ROUND
            or float(dot.mask.mean()) < TOUCHING_POINT_FILL or not -TOUCHING_POINT_RAISED * H <= dot.y2 - band.bottom <= TOUCHING_POINT_FOOT * H
            or connected_components(dot.mask.astype(np.uint8))[0] != 2):
        return [p], None
    parts = list(cut.values())
    if max((q.h for q in parts), default=0) < 0.5 * H:
        return [p], None
    dot.kind = "."
    return parts, dot


def _thick_point(p: _Piece, band: Band) -> bool:
    """Whether a piece is a thick pen's decimal point, too big to be called a ``.`` (over
    ``ROUND_POINT_SIZE`` band heights across, at most ``THICK_POINT_SIZE``): a filled round dot
    (:func:`_round_dot`) with its middle in the lowest ``THICK_POINT_LOW`` of the band.

    >>> yy, xx = np.mgrid[:16, :16]; disc = (yy - 7.5) ** 2 + (xx - 7.5) ** 2 <= 64
    >>> band = Band(top=0, bottom=40, height=40, digit_width=24)
    >>> _thick_point(_Piece(disc, 30, 24), band), _thick_point(_Piece(disc, 30, 4), band)   # at the feet; high
    (True, False)
    """
    H = band.height
    return (ROUND_POINT_SIZE * H < max(p.w, p.h) <= THICK_POINT_SIZE * H and _round_dot(p)
            and p.y + 0.5 * p.h >= band.bottom - THICK_POINT_LOW * H)


def _has_hole(mask: np.ndarray) -> bool:
    """Whether the ink encloses paper (a 0, a loop) that the paper around it cannot reach.

    >>> ring = np.ones((7, 7), bool); ring[2:5, 2:5] = False
    >>> _has_hole(ring), _has_hole(np.ones((7, 7), bool))
    (True, False)
    """
    return bool(enclosed_paper(mask).any())


def _largest_hole(mask: np.ndarray) -> int:
    """The area in pixels of the largest patch of paper the ink encloses (0: none; see :func:`_has_hole`).

    >>> ring = np.ones((7, 7), bool); ring[2:5, 2:5] = False
    >>> _largest_hole(ring), _largest_hole(np.ones((7, 7), bool))
    (9, 0)
    """
    n, _, stats, _ = cv2.connectedComponentsWithStats(enclosed_paper(mask), connectivity=4)
    return int(stats[1:, cv2.CC_STAT_AREA].max()) if n > 1 else 0


def _round_dot(p: _Piece) -> bool:
    """Whether a piece is a filled round dot: about as wide as tall, its ink filling most of its box
    (a small 0 is a ring, a scrap of a stroke a thin arc).

    >>> yy, xx = np.mgrid[:12, :12]
    >>> disc = (yy - 5.5) ** 2 + (xx - 5.5) ** 2 <= 36
    >>> _round_dot(_Piece(disc, 0, 0)), _round_dot(_Piece(disc & ((yy - 5.5) ** 2 + (xx - 5.5) ** 2 > 12), 0, 0))
    (True, False)
    """
    return 0.65 * max(p.w, p.h) <= min(p.w, p.h) and float(p.mask.mean()) >= 0.6


def _drop_scraps_of_digits(pieces: list[_Piece], kinds: list[str | None], band: Band) -> list[str | None]:
    """``kinds`` with the marks that belong to a digit turned to ``"noise"``: separators stand
    between digits. A ``.`` wholly below the digits' feet (``POINT_BELOW``) is a scrap of the guide
    line or of the next field; one with digit ink right above its middle third (within
    ``POINT_UNDER_INK``: a closing point may sit further under a 5's long hat) is the foot of a 7
    or a scrap of a line under a stroke; a ``-`` lying across a digit (``CROSSBAR_OVERLAP`` of
    its columns within the digit's, its middle within the digit's rows) is the bar of a crossed 7;
    a ``-`` between digits whose middle is as low as the digits' feet (``LOW_DASH``) is a joining
    stroke, a tail or a scrap of the guide line (a dash between digit groups stands higher; a
    closing dash after the last digit stays wherever it is). Commas stay: a comma often hangs
    under the end of the digit before it.

    >>> digit = _Piece(np.ones((30, 20), bool), 0, 0)
    >>> under, gap = _Piece(np.ones((3, 3), bool), 8, 31), _Piece(np.ones((3, 3), bool), 22, 27)
    >>> bar, dash = _Piece(np.ones((2, 10), bool), 8, 15), _Piece(np.ones((2, 10), bool), 22, 15)
    >>> band = Band(top=0, bottom=30, height=30, digit_width=20)
    >>> _drop_scraps_of_digits([digit, under, gap, bar, dash], [None, ".", ".", "-", "-"], band)
    [None, 'noise', '.', 'noise', '-']
    """
    out = list(kinds)
    digits = [q for q, kq in zip(pieces, kinds) if kq is None]
    first = min((q.x for q in digits), default=0)
    last = max((q.x2 for q in digits), default=0)
    for i, (p, k) in enumerate(zip(pieces, kinds)):
        if k == ".":
            if p.y > band.bottom + POINT_BELOW * band.height:
                out[i] = "noise"  # wholly below the baseline: a scrap of the line or of the next field
                continue
            a, b = p.x + p.w // 3, p.x2 - p.w // 3
            for q in digits:
                lo, hi = max(a, q.x), min(b, q.x2)
                top = max(0, p.y - q.y - int(POINT_UNDER_INK * band.height))
                if lo < hi and q.y < p.y and q.mask[top : p.y - q.y, lo - q.x : hi - q.x].any():
                    out[i] = "noise"
                    break
        elif k == "-":
            cy = p.y + 0.5 * p.h
            if p.x2 < last and p.h >= TALL_DASH * band.height:
                out[i] = None  # a leaning 1
                continue
            if first < p.x and p.x2 < last and cy >= band.bottom - LOW_DASH * band.height:
                out[i] = "noise"
                continue
            for q in digits:
                inside = min(p.x2, q.x2) - max(p.x, q.x)
                if inside >= CROSSBAR_OVERLAP * p.w and q.y < cy < q.y2:
                    out[i] = "noise"
                    break
    return out


def is_terminator_slash(p: _Piece, band: Band, before_dash: bool) -> bool:
    """Whether the rightmost digit-sized piece is the ``/`` of a ``/-`` terminator rather than a ``1``.

    >>> import cv2
    >>> band = Band(top=10, bottom=40, height=30, digit_width=18)
    >>> stroke = np.zeros((30, 14), np.uint8); _ = cv2.line(stroke, (12, 1), (1, 28), 1, 2)
    >>> ring = np.zeros((30, 18), np.uint8); _ = cv2.ellipse(ring, (9, 15), (7, 13), 0, 0, 360, 1, 2)
    >>> slash, zero = _Piece(stroke.astype(bool), 0, 10), _Piece(ring.astype(bool), 0, 10)
    >>> is_terminator_slash(slash, band, True), is_terminator_slash(slash, band, False), is_terminator_slash(zero, band, True)
    (True, False, False)
    """
    H = band.height
    if _largest_hole(p.mask) >= SLASH_MAX_HOLE * H * H:
        return False  # a digit's loop written into the stroke
    tall_before_dash = before_dash and p.h > 1.1 * H
    if _elongation(p) > (SLASH_MAX_ELONGATION + 0.15 if tall_before_dash else SLASH_MAX_ELONGATION):
        return False  # a digit's loop or bend, not a single stroke
    s = _slant(p)
    if before_dash and s > -10:
        return True  # a straight stroke right before the closing dash: '/-'
    # without a dash a final '1' or '7' looks alike: only a thin stroke clearly taller or flatter than digits
    e = _elongation(p)
    if p.h > SLASH_ALONE_HEIGHT * H and e < 0.2:
        return True
    return s > 40 and e < 0.2 and p.w > 0.8 * H


def _mark_fraction(prims: list[tuple[_Piece, int]], band: Band) -> None:
    """Mark the ``/`` of ``xx/100`` cents: a thin slanted stroke clearly taller than the few small
    digit pieces (the ``100``, maybe over-cut) that end the amount after it, and that sit lower
    than its top (superscript cents after a final ``1`` reach the top of the digits)."""
    digit_idx = [i for i, (q, _) in enumerate(prims) if q.kind == "digit"]
    for n_after in range(2, 7):
        if len(digit_idx) < n_after + 3:
            break
        q = prims[digit_idx[-n_after - 1]][0]
        after = [prims[j][0] for j in digit_idx[-n_after:]]
        span = max(a.x2 for a in after) - min(a.x for a in after)
        if (span <= 4.5 * band.digit_width and q.h >= 1.25 * max(a.h for a in after)
                and _elongation(q) < 0.25 and _slant(q) > 15 and all(a.x >= q.x + 0.5 * q.w for a in after)
                and min(a.y for a in after) >= q.y + 0.2 * q.h):
            q.kind = "/"
            return


def _mark_terminator(prims: list[tuple[_Piece, int]], band: Band) -> None:
    """Mark the trailing ``-`` strokes and the ``/`` of a ``/-`` terminator among the rightmost primitives."""
    H = band.height
    n_digits = sum(q.kind == "digit" for q, _ in prims)
    j = len(prims) - 1
    dash = False
    while j >= 0 and n_digits > 1:
        q = prims[j][0]
        if q.kind == "-":
            dash = True
        elif q.kind == "digit" and (
            (q.w > 1.5 * q.h and q.h < 0.7 * H and _elongation(q) < 0.35) or (q.h < 0.3 * H and q.w < 0.6 * H)
        ):
            q.kind = "-"
            dash = True
            n_digits -= 1
        else:
            break
        j -= 1
    if j >= 0 and n_digits > 1 and prims[j][0].kind == "digit" and is_terminator_slash(prims[j][0], band, dash):
        prims[j][0].kind = "/"


def _cuts(p: _Piece, dw: float) -> list[int]:
    """Candidate cut columns (piece coordinates): minima of the vertical ink projection and
    valleys of the upper and lower contours (where two touching digits meet)."""
    m = p.mask
    prof = m.sum(axis=0).astype(float)
    if len(prof) < 5:
        return []
    k = max(1, int(dw / 8)) | 1
    box = np.ones(k) / k
    sm = np.convolve(prof, box, mode="same")
    has = m.any(axis=0)
    upper = np.where(has, m.argmax(axis=0), p.h).astype(float)
    lower = np.where(has, p.h - 1 - m[::-1].argmax(axis=0), -1).astype(float)
    up_s = np.convolve(upper, box, mode="same")
    lo_s = np.convolve(lower, box, mode="same")
    lo, hi = max(1, int(0.3 * dw)), min(p.w - 1, int(p.w - 0.3 * dw))
    peak = sm.max()
    win = max(2, int(0.25 * dw))
    scored: list[tuple[float, int]] = []
    if hi > lo:
        # every column c in lo..hi-1 against its window c - win .. c + win (cut at the piece's ends)
        c = np.arange(lo, hi)
        a, b = np.maximum(0, c - win), np.minimum(p.w - 1, c + win)

        def window(v: np.ndarray, reduce, pad: float) -> np.ndarray:
            padded = np.concatenate([np.full(win, pad), v, np.full(win, pad)])
            return reduce(np.lib.stride_tricks.sliding_window_view(padded, 2 * win + 1)[c], axis=1)

        low = (sm[c] <= window(sm, np.min, np.inf) + 1e-9) & (sm[c] <= CUT_MAX_INK * peak)
        scored += [(v, int(x)) for v, x in zip(sm[c][low] / peak, c[low])]
        # upper contour dips (a valley seen from above) / lower contour rises (seen from below)
        dips = (up_s[c] >= window(up_s, np.max, -np.inf) - 1e-9) & (up_s[c] - np.minimum(up_s[a], up_s[b]) > 0.12 * p.h)
        rises = (lo_s[c] <= window(lo_s, np.min, np.inf) + 1e-9) & (np.maximum(lo_s[a], lo_s[b]) - lo_s[c] > 0.12 * p.h)
        scored += [(0.5, int(x)) for x in c[dips]] + [(0.5, int(x)) for x in c[rises]]
    scored.sort()
    chosen: list[int] = []
    for _, c in scored:
        if all(abs(c - o) >= 0.3 * dw for o in chosen):
            chosen.append(c)
        if len(chosen) >= 8:
            break
    return sorted(chosen)


def _split(p: _Piece, cuts: list[int]) -> list[_Piece]:
    out = []
    edges = [0, *cuts, p.w]
    for a, b in zip(edges[:-1], edges[1:]):
        m = p.mask[:, a:b]
        rows = np.nonzero(m.any(axis=1))[0]
        if len(rows) == 0:
            continue
        out.append(_Piece(m[rows[0] : rows[-1] + 1], p.x + a, p.y + int(rows[0])))
    return out


def _joined_dash(parts: list[_Piece], band: Band) -> list[_Piece]:
    """The parts of a piece cut in columns (left to right) with a dash drawn on from the digit
    before it made one part of kind ``"-"``: the run of parts that ends the piece, no taller than a
    separator (``SEPARATOR_HEIGHT``), that :func:`separator_kind` takes together for a ``-``, at
    least ``JOINED_DASH_HEIGHT`` band heights thick and its middle at mid-height
    (``JOINED_DASH_MIDDLE``), a part at least half the band tall left before it. British pence after
    a dash (``60-00``) had lost their dash so: cut off as digit pieces the path dropped.

    >>> band = Band(top=10, bottom=40, height=30, digit_width=18)
    >>> zero, dash = _Piece(np.ones((30, 18), bool), 0, 10), _Piece(np.ones((5, 8), bool), 18, 24)
    >>> [p.kind for p in _joined_dash([zero, dash, _Piece(np.ones((5, 6), bool), 26, 24)], band)]
    ['digit', '-']
    >>> [p.kind for p in _joined_dash([zero, _Piece(np.ones((5, 14), bool), 18, 32)], band)]   # low: a foot
    ['digit', 'digit']
    """
    H = band.height
    low, high = JOINED_DASH_MIDDLE
    run = 0
    while run < len(parts) and parts[-1 - run].h <= SEPARATOR_HEIGHT * H:
        run += 1
    for k in range(run, 0, -1):  # the longest run that is a dash
        rest = parts[:-k]
        if not any(q.h >= 0.5 * H for q in rest):
            continue
        dash = parts[-k]
        for q in parts[len(parts) - k + 1 :]:
            dash = _merge(dash, q)
        middle = (dash.y + 0.5 * dash.h - band.top) / H
        if separator_kind(dash, band) == "-" and dash.h >= JOINED_DASH_HEIGHT * H and low <= middle <= high:
            dash.kind = "-"
            return rest + [dash]
    return parts


def _crop(p: _Piece, gray: np.ndarray | None = None) -> np.ndarray:
    """The candidate's ink: binary, or the gray pixels under its (slightly grown) mask on white paper."""
    if gray is None:
        return np.where(p.mask, 0, 255).astype(np.uint8)
    g = gray[p.y : p.y2, p.x : p.x2]
    grown = cv2.dilate(p.mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    return np.where(grown, g, 255).astype(np.uint8)


def _merge_broken(pieces: list[_Piece], band: Band) -> list[_Piece]:
    """Merge pieces overlapping horizontally by at least half the narrower one, if the union stays digit-sized."""
    pieces = sorted(pieces, key=lambda p: p.x)
    merged = True
    while merged:
        merged = False
        for i in range(len(pieces)):
            for j in range(i + 1, len(pieces)):
                a, b = pieces[i], pieces[j]
                if b.x >= a.x2:
                    break
                ov = min(a.x2, b.x2) - max(a.x, b.x)
                if ov < 0.5 * min(a.w, b.w):
                    continue
                u = _merge(a, b)
                if u.h > 1.5 * band.height or u.w > 1.3 * band.digit_width + 0.2 * band.height:
                    continue
                pieces[i] = u
                del pieces[j]
                merged = True
                break
            if merged:
                break
    return pieces


def _without_underline(p: _Piece, band: Band) -> list[_Piece]:
    """A piece as the pieces of its ink above a line drawn under it and touching it (the line
    under superscript cents), the line dropped; ``[p]`` when it has none.

    The line: a straight horizontal run at least ``UNDERLINE_LENGTH`` digit widths long and most of
    the piece's width, in the lower half of the piece with no ink under it, raised off the digits'
    feet (``UNDERLINE_RAISE``: superscript cents stand raised), reaching past the ink
    above it (the joined feet of two digits stop where they do).
    """
    dw = band.digit_width
    if p.w < UNDERLINE_LENGTH * dw or p.h < 0.3 * band.height:
        return [p]
    length = max(3, int(UNDERLINE_LENGTH * dw))
    bar = cv2.morphologyEx(p.mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, length), np.uint8)).astype(bool)
    rows = np.nonzero(bar.sum(axis=1) >= 0.6 * p.w)[0]  # the rows a long straight run crosses
    if len(rows) == 0:
        return [p]
    bottom = int(rows.max())
    top = bottom
    while top - 1 in rows:
        top -= 1
    cols = np.nonzero(bar[top : bottom + 1].any(axis=0))[0]
    if (top < 0.5 * p.h or bottom - top > 0.25 * band.height or p.mask[bottom + 2 :].sum() > 0.05 * p.mask.sum()
            or p.y + top > band.bottom - UNDERLINE_RAISE * band.height):
        return [p]
    line = np.zeros_like(p.mask)
    line[max(0, top - 1) : bottom + 2] = True  # the line's rows and one on each side: the joins go too
    above = p.mask & ~line
    above[top:] = False
    ink_cols = np.nonzero(above.any(axis=0))[0]
    if len(ink_cols) == 0 or (cols[0] > ink_cols[0] - 0.15 * dw and cols[-1] < ink_cols[-1] + 0.15 * dw):
        return [p]
    n, lab, stats, _ = connected_components(above.astype(np.uint8))
    out = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        out.append(_Piece(lab[y : y + h, x : x + w] == i, p.x + int(x), p.y + int(y)))
    return out or [p]


def _pieces_and_band(ink: np.ndarray, label=None) -> tuple[list[_Piece], list[_Piece], Band] | None:
    """The ink's pieces and its specks (under the speck size the digit band sets, and the cleaning's
    own: a speck is a dot kept for a decimal point, a point only on the baseline between digits), and
    the digit band of the pieces; ``None`` without a piece (``label``: see :func:`_components`)."""
    pieces = _components(ink, label)
    if not pieces:
        return None
    band = digit_band(pieces)
    speck = max(3, int(SPECK_FRACTION * band.height * band.height), speck_area(ink.shape[0]))
    specks = [p for p in pieces if p.mask.sum() < speck]
    pieces = [p for p in pieces if p.mask.sum() >= speck]
    if not pieces:
        return None
    return pieces, specks, digit_band(pieces)


def superscript_underline(ink: np.ndarray, found: tuple | None = None) -> np.ndarray:
    """The mask of a line drawn under superscript cents (``12⁵⁶`` with the ``56`` underlined), whether
    it touches them or not; all False when the field has none. Taking it off the ink (and off the
    field reader's gray image) leaves the small cents alone, where a touching line joins them into one
    piece (``14¹⁸`` read ``1468``) and reads as a closing dash.

    The line: of the straight horizontal runs at least ``UNDERLINE_LENGTH`` digit widths long, the
    one reaching furthest right with ink standing on it over ``UNDERLINE_COVER`` of its length (a
    closing dash after the cents has none: the next one is looked at), with no digit after it; at
    most ``UNDERLINE_THICKNESS`` band heights thick, its middle ``UNDERLINE_RAISE`` band heights above
    the feet of the tall digits beside it, no ink under it, and what stands on it cents
    (:func:`_standing_on`). A stroke that crosses it (ink right above and right below) is kept. A
    line under the whole amount lies at the digits' feet; a ``7``'s bar and a ``5``'s hat have ink
    under them; a digit's own flat base ends where the digit does. ``found``: the ink's
    :func:`_pieces_and_band`, when already made.

    >>> import numpy as np, cv2
    >>> ink = np.full((60, 160), 255, np.uint8)
    >>> for x in (10, 40):  # two tall "0"s ...
    ...     _ = cv2.ellipse(ink, (x + 10, 35), (9, 18), 0, 0, 360, 0, 3)
    >>> for x in (75, 95):  # ... and two small raised ones standing on a line
    ...     _ = cv2.ellipse(ink, (x + 7, 22), (6, 10), 0, 0, 360, 0, 3)
    >>> _ = cv2.line(ink, (72, 34), (112, 34), 0, 4)
    >>> line = superscript_underline(ink)
    >>> ys, xs = np.nonzero(line); (int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max()))
    (31, 36, 70, 114)
    """
    mask = ink < 128
    none = np.zeros(ink.shape, bool)
    found = _pieces_and_band(ink) if found is None else found
    if found is None or len(found[0]) < 2:
        return none
    pieces, _, band = found
    H, dw = band.height, band.digit_width
    length = max(3, int(UNDERLINE_LENGTH * dw))
    bar = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, length), np.uint8))
    _, lab, stats, _ = connected_components(bar)
    # superscript cents end the amount: the runs from the right, the first with ink standing on it
    for i in 1 + np.argsort(-(stats[1:, 0] + stats[1:, 2]), kind="stable"):
        x, y, w, h, _ = (int(v) for v in stats[i])
        x2 = x + w
        comp = lab[y : y + h, x:x2] == i
        cols = comp.any(axis=0)
        top = y + int(small_median(np.argmax(comp, axis=0)[cols]))
        foot = y + h - 1 - int(small_median(np.argmax(comp[::-1], axis=0)[cols]))
        above = mask[max(0, int(top - UNDERLINE_CENTS_HEIGHT * H)) : max(0, int(top - 0.15 * H)), x:x2]
        if above.any(axis=0).sum() < UNDERLINE_COVER * w:
            continue  # nothing stands on it: a closing dash, a tail
        if any(p.h >= 0.6 * H and p.x >= x2 - 0.2 * dw for p in pieces):
            return none  # digits after it: the cents end the amount
        tall = [p for p in pieces if p.h >= 0.75 * H and (p.x2 <= x or p.x >= x2)]
        digits_feet = small_median([p.y2 for p in tall]) if tall else band.bottom
        if foot - top + 1 > UNDERLINE_THICKNESS * H or top + foot > 2 * (digits_feet - UNDERLINE_RAISE * H):
            return none  # too thick, or at the digits' feet
        line = _line_rows(mask, comp, x, y, dw)
        gap = max(2, int(0.1 * H))
        below = mask[foot + gap : int(foot + H), x:x2] & ~line[foot + gap : int(foot + H), x:x2]
        higher = int(top - (UNDERLINE_CENTS_HEIGHT + 0.2) * H)
        if below.sum() > 0.05 * line.sum() or (higher >= 0 and mask[higher, x:x2].any()):
            return none  # ink under it, or what stands on it is taller than cents
        if not _standing_on(mask & ~line, x, x2, top, H, dw):
            return none  # what stands on it reaches out past its ends: a digit's own stroke
        # a stroke crossing the line: ink right above it and, in the same column, as far below it as
        # the test of ink under it looks (a line sagging a pixel or two under a cent is no stroke: kept
        # as one, it joined the cent to the line's sag, ``8.38`` read ``838``; 2 more right values of
        # 2,000 synthetic cheques, no real read changed)
        over, under = max(0, top - 2), min(ink.shape[0] - 1, foot + gap)
        crossing = mask[over, x:x2] & mask[under, x:x2] & ~line[over, x:x2] & ~line[under, x:x2]
        line[:, x:x2][:, crossing] = False
        return line
    return none


def _line_rows(mask: np.ndarray, comp: np.ndarray, x: int, y: int, dw: float) -> np.ndarray:
    """The ink of a straight run ``comp`` (its mask, from column ``x`` and row ``y``) and a pixel
    around it: in each column, the rows between its top and foot as they run along it (medians over
    half a digit width), so that a stroke of a digit standing on it, that joins it and makes it
    look thicker there (a ``2``'s base), stays."""
    cols = np.nonzero(comp.any(axis=0))[0]
    tops = np.argmax(comp[:, cols], axis=0)
    feet = comp.shape[0] - 1 - np.argmax(comp[::-1, cols], axis=0)
    k = max(1, int(0.25 * dw))
    windows = np.lib.stride_tricks.sliding_window_view
    tops = np.median(windows(np.pad(tops, k, mode="edge"), 2 * k + 1), axis=1).astype(int)
    feet = np.median(windows(np.pad(feet, k, mode="edge"), 2 * k + 1), axis=1).astype(int)
    line = np.zeros(mask.shape, bool)
    for c, t, f in zip(cols, tops, feet):
        line[max(0, y + t - 1) : y + f + 2, max(0, x + c - 1) : x + c + 2] = True
    return line & mask


def _standing_on(rest: np.ndarray, x: int, x2: int, top: int, H: float, dw: float) -> bool:
    """Whether the ink of ``rest`` standing on a line (columns ``x:x2``, top row ``top``: the pieces
    with ink in the ``UNDERLINE_CENTS_HEIGHT`` band heights above it) looks like cents written on
    it rather than the digit whose own stroke the line is: pieces reaching at most
    ``UNDERLINE_CENTS_HEIGHT`` band heights above it, together 0.3 tall, at least ``UNDERLINE_OVER``
    of their ink within 0.15 digit widths of the line's ends, none reaching ``UNDERLINE_START``
    digit widths left of its start, and two of them or one the line runs on past (a ``0``'s flat
    bottom, a ``2``'s base: the line ends where the digit does)."""
    y0 = max(0, int(top - UNDERLINE_CENTS_HEIGHT * H))
    _, lab, stats, _ = connected_components(rest[:top].astype(np.uint8))
    ids = np.unique(lab[y0:top, x:x2])
    ids = ids[ids > 0]
    if len(ids) == 0:
        return False
    big = [i for i in ids if stats[i, 4] >= 0.03 * H * H]
    if any(top - stats[i, 1] > UNDERLINE_CENTS_HEIGHT * H for i in ids):
        return False
    on = np.isin(lab, ids)
    rows, cols = np.nonzero(on.any(axis=1))[0], np.nonzero(on.any(axis=0))[0]
    a, b = max(0, int(x - 0.15 * dw)), int(x2 + 0.15 * dw)
    if rows[-1] - rows[0] < 0.3 * H or on[:, a:b].sum() < UNDERLINE_OVER * on.sum():
        return False
    if cols[0] < x - UNDERLINE_START * dw:
        return False  # the line starts under the first cent, not under the middle of a digit
    return len(big) >= 2 or cols[-1] - cols[0] < 0.8 * (x2 - x)


def _attach_hats(pieces: list[_Piece], band: Band) -> list[_Piece]:
    """Join small strokes in the upper half of the band to the digit below them (the hat of a 5, a 7's bar)."""
    H = band.height
    mid = 0.5 * (band.top + band.bottom)
    big = [p for p in pieces if p.h >= 0.6 * H]
    out = []
    for p in pieces:
        if p.h < SEPARATOR_HEIGHT * H and p.y + 0.5 * p.h < mid and big:
            def overlap(q: _Piece) -> int:
                return min(p.x2, q.x2) - max(p.x, q.x)
            host = max(big, key=overlap)
            if overlap(host) >= HAT_OVERLAP * p.w and _merge(host, p).h <= 1.5 * H:
                k = next(i for i, q in enumerate(big) if q is host)
                merged = _merge(host, p)
                big[k] = merged
                continue
        out.append(p)
    # replace the hosts by their merged versions
    hosts = {id(q) for q in pieces if q.h >= 0.6 * H}
    return [q for q in out if id(q) not in hosts] + big


def segment_without_underline(ink: np.ndarray, label=None, *, joined_dashes: bool = False
                              ) -> tuple[np.ndarray, np.ndarray | None, tuple[DigitCandidate, ...]]:
    """:func:`segment_field` of ``ink`` with the line under superscript cents taken off first
    (:func:`superscript_underline`): the ink as segmented, the line's mask (``None``: none) and the
    candidates. The ink's pieces are found once where it has no such line (most fields), by ``label``
    (see :func:`_components`: the cleaning's labeller hands back the pieces it labelled last).
    ``joined_dashes`` as :func:`segment_field` takes it.

    >>> ink = np.full((40, 60), 255, np.uint8); ink[5:35, 10:14] = ink[5:35, 40:44] = 0
    >>> out, line, cands = segment_without_underline(ink)
    >>> out is ink, line, len(cands) == len(segment_field(ink))
    (True, None, True)
    """
    found = _pieces_and_band(ink, label) if ink.ndim == 2 and ink.size else None
    line = superscript_underline(ink, found)
    if not line.any():
        return ink, None, tuple(segment_field(ink, found=found, joined_dashes=joined_dashes))
    ink = np.where(line, 255, ink).astype(np.uint8)
    return ink, line, tuple(segment_field(ink, joined_dashes=joined_dashes))


def segment_field(ink: np.ndarray, gray: np.ndarray | None = None, *,
                  found: tuple | None = None, joined_dashes: bool = False) -> tuple[DigitCandidate, ...]:
    """Digit and separator candidates of a binary field (paper 255, ink 0), left to right.

    With ``gray`` (the field's gray image, same shape), candidate images keep the gray
    levels of their ink (paper outside the stroke mask set to 255), closer to what the
    classifier saw in training; otherwise they are binary.

    Candidates of kind ``"digit"`` may overlap (over-segmentation); :func:`best_path`
    chooses among them. Separators have ``end == start + 1`` and no alternative.

    With ``joined_dashes``, a dash drawn on from the digit before it is cut off that digit as a
    ``-`` (:func:`_joined_dash`): for fields whose convention is known, where it is the dash before
    British pence (``60-00``); in a field of unknown convention the bar of a crossed 7 or the arm of
    a 4 cut off at a piece's end looks the same (6 of ORAND's 1,080 Chilean fields, 3 of them read
    right and accepted, so sent to review).

    >>> import numpy as np
    >>> import cv2
    >>> ink = np.full((40, 90), 255, np.uint8)
    >>> for x in (5, 30, 48):  # a "0", then two touching "0"s
    ...     _ = cv2.ellipse(ink, (x + 8, 20), (7, 14), 0, 0, 360, 0, 3)
    >>> cands = segment_field(ink)
    >>> sorted((c.bbox.x, c.bbox.w) for c in cands if c.bbox.w > 15)[:3]   # whole rings among the candidates
    [(4, 19), (29, 18), (29, 27)]
    """
    if ink.ndim != 2 or ink.size == 0:
        return ()
    found = _pieces_and_band(ink) if found is None else found  # (given: the ink's, already found)
    if found is None:
        return ()
    pieces, specks, band = found
    pieces = pieces + _baseline_dots(specks, pieces, band)

    pieces = _attach_hats(pieces, band)
    last = max(pieces, key=lambda p: p.x2)  # superscript cents end the amount
    pieces = [q for p in pieces for q in (_without_underline(p, band) if p is last else [p])]
    # separators next (they must not be merged into digits), then merge broken strokes
    seps, digits = [], []
    kinds = [separator_kind(p, band) for p in pieces]
    right = max((p.x2 for p, k in zip(pieces, kinds) if k is None), default=0)
    # superscript cents: raised pieces after the last digit on the band
    sup = [p for p, k in zip(pieces, kinds) if k == "high" and p.x >= right - 0.1 * band.height]
    if sup:
        x0, x1 = min(p.x for p in sup), max(p.x2 for p in sup)
        seps.append(_Piece(np.ones((1, 1), bool), max(0, x0 - 1), int(band.bottom) - 1, "."))
    kinds = _drop_scraps_of_digits(pieces, kinds, band)
    for p, kind in zip(pieces, kinds):
        if kind == "high":
            kind = None if any(p is q for q in sup) else "noise"
        if kind == "-" and sup and p.x < x1 and p.x2 > x0 and p.y > min(q.y2 for q in sup) - 2:
            kind = "noise"  # the line under superscript cents
        if kind == "tail":
            # a flourish off the band: the closing dash when it is right of every digit
            kind = "-" if p.x >= right - 0.2 * band.height else "noise"
        if kind == "noise":
            continue
        if kind is None:
            digits.append(p)
        else:
            p.kind = kind
            seps.append(p)
    split = [_touching_point(p, band) for p in digits]
    digits = [q for parts, _ in split for q in parts]
    seps += [dot for _, dot in split if dot is not None]
    digits = _merge_broken(digits, band)

    # primitives: wide digit pieces cut at projection minima; a group id per original piece
    prims: list[tuple[_Piece, int]] = []
    for gid, p in enumerate(digits):
        parts = [p]
        if p.w > WIDE_FACTOR * band.digit_width:
            cuts = _cuts(p, band.digit_width)
            if cuts:
                parts = _split(p, cuts)
                parts = _joined_dash(parts, band) if joined_dashes else parts
        prims.extend((q, gid) for q in parts)
    prims.extend((s, -1 - k) for k, s in enumerate(seps))
    prims.sort(key=lambda t: t[0].x + 0.5 * t[0].w)

    _mark_fraction(prims, band)
    _mark_terminator(prims, band)

    cands: list[DigitCandidate] = []
    n = len(prims)
    thick = [_thick_point(q, band) for q, _ in prims]
    for i in range(n):
        p, g = prims[i]
        if p.kind != "digit":
            cands.append(DigitCandidate(BBox(p.x, p.y, p.w, p.h), _crop(p, gray), p.kind, i, i + 1))
            continue
        acc = p
        cands.append(DigitCandidate(BBox(p.x, p.y, p.w, p.h), _crop(p, gray), "digit", i, i + 1))
        all_same = True
        for j in range(i + 1, min(n, i + MAX_SPAN)):
            q, gq = prims[j]
            if q.kind != "digit" or (gq != prims[j - 1][1] and (thick[j] or thick[j - 1])):
                break  # a separator, or a thick pen's point beside the digit: never one digit with it
            all_same = all_same and gq == g
            acc = _merge(acc, q)
            limit = (1.6 if all_same else 1.25) * band.digit_width + 0.1 * band.height
            if acc.w > limit or acc.h > 1.6 * band.height:
                break
            cands.append(DigitCandidate(BBox(acc.x, acc.y, acc.w, acc.h), _crop(acc, gray), "digit", i, j + 1))
    return tuple(cands)


#: :func:`unread_height` joins specks lying within this many digit heights of each other.
SPECK_JOIN = 0.12


def unread_height(specks: np.ndarray, candidates: Sequence[DigitCandidate]) -> float:
    """The height, in digit heights, of the tallest group of ``specks`` (a mask of the ink the
    cleaning dropped as specks), joined :data:`SPECK_JOIN` wide, that lies on the digit band outside the candidates' columns (no more
    than half its width under them): a faint digit that a black-and-white scan broke into pieces,
    which neither reader sees. 0.0 when there is none.

    >>> import numpy as np
    >>> from cheque_reader.types import BBox, DigitCandidate
    >>> cands = [DigitCandidate(BBox(40, 10, 20, 40), np.zeros((40, 20), np.uint8), "digit", 0, 1)]
    >>> specks = np.zeros((60, 120), bool); specks[12:16, 10:13] = specks[20:24, 12:15] = specks[28:32, 11:14] = True
    >>> unread_height(specks, cands), unread_height(np.roll(specks, 35, axis=1), cands)   # left of the digit; in its columns
    (0.6, 0.0)
    """
    groups = _unread_groups(specks, candidates)
    return max((h for h in groups[1].values()), default=0.0) if groups is not None else 0.0


def unread_specks(specks: np.ndarray, candidates: Sequence[DigitCandidate], low: float, high: float) -> np.ndarray:
    """The mask of the ``specks`` in the groups :func:`unread_height` measures that stand ``low`` to
    ``high`` digit heights tall: the pieces of a faint digit the candidates leave out (empty when none).

    >>> import numpy as np
    >>> from cheque_reader.types import BBox, DigitCandidate
    >>> cands = [DigitCandidate(BBox(40, 10, 20, 40), np.zeros((40, 20), np.uint8), "digit", 0, 1)]
    >>> specks = np.zeros((60, 120), bool); specks[12:16, 10:13] = specks[20:24, 12:15] = specks[28:32, 11:14] = True
    >>> specks[40:42, 100:102] = True                    # a lone speck right of the digit: no digit's pieces
    >>> found = unread_specks(specks, cands, 0.45, 1.2)
    >>> int(found.sum()), bool(found[:, 60:].any())
    (36, False)
    """
    groups = _unread_groups(specks, candidates)
    if groups is None:
        return np.zeros(specks.shape, bool)
    labels, heights = groups
    keep = np.zeros(int(labels.max()) + 1, bool)
    for label, h in heights.items():
        keep[label] = low <= h <= high
    return keep[labels] & specks


def _unread_groups(specks: np.ndarray, candidates: Sequence[DigitCandidate]) -> tuple[np.ndarray, dict[int, float]] | None:
    """The joined specks' labels and, for each group on the digit band outside the candidates'
    columns, its height in digit heights (:func:`unread_height`); ``None`` without specks or digits."""
    digits = [c.bbox for c in candidates if c.kind == "digit" and c.end == c.start + 1]
    if not digits or not specks.any():
        return None
    top, bottom = small_median([b.y for b in digits]), small_median([b.y2 for b in digits])
    height = max(1.0, small_median([b.h for b in digits]))
    k = max(3, round(SPECK_JOIN * height))
    joined = cv2.dilate(specks.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(joined)
    covered = np.zeros(specks.shape[1], bool)
    for c in candidates:
        covered[c.bbox.x : c.bbox.x2] = True
    heights = {}
    for label, (x, y, w, h, _) in enumerate(stats[1:], 1):
        if y + h < top - 0.2 * height or y > bottom + 0.2 * height or covered[x : x + w].mean() > 0.5:
            continue
        heights[label] = round(float(h) / height, 2)
    return labels, heights


def candidate_scores(candidates: Sequence[DigitCandidate], predictions) -> tuple[np.ndarray, np.ndarray]:
    """Log scores :func:`best_path` gives each candidate: as a digit, and dropped as noise.

    The digit score is ``log(max_k P(k) * (1 - P(not digit)))`` with a prior against pieces
    much shorter than the digit band; the noise score is ``log P(not digit)`` with a prior
    against dropping tall pieces.

    >>> from cheque_reader.classify import DigitPredictions
    >>> img = np.zeros((30, 10), np.uint8)
    >>> cands = [DigitCandidate(BBox(0, 0, 10, 30), img, "digit", 0, 1),    # a tall piece read as a 7
    ...          DigitCandidate(BBox(12, 24, 4, 4), img, "digit", 1, 2)]    # a small one the classifier calls noise
    >>> probs = np.full((2, 10), 0.01); probs[:, 7] = 0.91
    >>> digit, noise = candidate_scores(cands, DigitPredictions(probs.argmax(1), probs, np.array([0.05, 0.9])))
    >>> (digit > noise).tolist()
    [True, False]
    """
    cands = list(candidates)
    is_digit = np.array([c.kind == "digit" for c in cands])
    probs = np.asarray(predictions.probs, float)
    nd = np.clip(np.asarray(predictions.not_digit, float), 1e-6, 1 - 1e-6)
    heights = np.array([c.bbox.h for c in cands], float)
    dh = heights[is_digit] if is_digit.any() else heights
    band = small_median(dh[dh >= 0.5 * dh.max()])
    rel = heights / max(band, 1.0)
    digit = np.log(np.clip(probs.max(axis=1) * (1.0 - nd), 1e-9, 1.0))
    digit += DIGIT_LOG_PRIOR - SMALL_DIGIT_PENALTY * np.maximum(0.0, 0.55 - rel)
    noise = np.log(nd) + NOISE_LOG_PRIOR - BIG_NOISE_PENALTY * np.maximum(0.0, rel - 0.3)
    return digit, noise


def best_path(candidates, predictions=None) -> tuple[int, ...]:
    """Indices of the chosen candidates, left to right: the best cover of the primitives.

    Each primitive is covered once: by a digit candidate (score
    ``log(max_k P(k) * (1 - P(not digit)))`` plus a size prior that disfavours tiny
    pieces), by a separator (score 0), or, for a single primitive, dropped as noise
    (score ``log P(not digit)`` plus a prior favouring small pieces). Dropped pieces are
    not in the result. Without predictions, the fewest candidates win (whole pieces, no cuts).

    >>> import numpy as np
    >>> from cheque_reader.types import DigitCandidate, BBox
    >>> img = np.zeros((2, 2), np.uint8)
    >>> cands = [DigitCandidate(BBox(0, 0, 1, 1), img, "digit", 0, 1),
    ...          DigitCandidate(BBox(1, 0, 1, 1), img, "digit", 1, 2),
    ...          DigitCandidate(BBox(0, 0, 2, 1), img, "digit", 0, 2)]
    >>> best_path(cands)
    (2,)
    """
    cands = list(candidates)
    if not cands:
        return ()
    n = max(c.end for c in cands)
    is_digit = np.array([c.kind == "digit" for c in cands])
    if predictions is not None and len(predictions) == len(cands):
        digit_score, noise_score = candidate_scores(cands, predictions)
    else:
        digit_score = np.full(len(cands), -1.0)
        noise_score = np.full(len(cands), -np.inf)
    score = np.where(is_digit, digit_score, 0.0)
    best = np.full(n + 1, -np.inf)
    back: list[tuple[int, bool]] = [(-1, False)] * (n + 1)
    best[0] = 0.0
    by_start: dict[int, list[int]] = {}
    for i, c in enumerate(cands):
        by_start.setdefault(c.start, []).append(i)
    for s in range(n):
        if not np.isfinite(best[s]):
            continue
        for i in by_start.get(s, []):
            e = cands[i].end
            options = [(score[i], True)]
            if is_digit[i] and e == s + 1:
                options.append((noise_score[i], False))
            for sc, keep in options:
                v = best[s] + sc
                if v > best[e]:
                    best[e] = v
                    back[e] = (i, keep)
    if not np.isfinite(best[n]):
        # no full cover (should not happen): fall back to single pieces in order
        return tuple(i for i, c in enumerate(cands) if c.end == c.start + 1)
    path = []
    e = n
    while e > 0:
        i, keep = back[e]
        if keep:
            path.append(i)
        e = cands[i].start
    return tuple(reversed(path))


def best_path_for(candidates, predictions, digits: str) -> tuple[int, ...] | None:
    """The best cover of the primitives whose digits spell ``digits`` (another reader's string), or ``None``.

    The same covers as :func:`best_path`, but the ``j``-th digit candidate kept must read as
    ``digits[j]``: its score is the path score with the classifier's ``P(digits[j])`` in place of
    its best probability. Gives the boxes, separators and text for a string read elsewhere.

    >>> import numpy as np
    >>> from cheque_reader.classify import DigitPredictions
    >>> img = np.zeros((30, 10), np.uint8)
    >>> cands = [DigitCandidate(BBox(0, 0, 10, 30), img, "digit", 0, 1),
    ...          DigitCandidate(BBox(12, 20, 3, 3), img, ".", 1, 2),
    ...          DigitCandidate(BBox(16, 0, 10, 30), img, "digit", 2, 3)]
    >>> probs = np.full((3, 10), 0.01); probs[0, 7] = probs[0, 1] = 0.45; probs[2, 5] = 0.91
    >>> pred = DigitPredictions(probs.argmax(1), probs, np.array([0.05, 0.9, 0.05]))
    >>> best_path_for(cands, pred, "15"), best_path_for(cands, pred, "155")
    ((0, 1, 2), None)
    """
    cands = list(candidates)
    if not cands or predictions is None or len(predictions) != len(cands):
        return None
    n, m = max(c.end for c in cands), len(digits)
    digit_score, noise_score = candidate_scores(cands, predictions)
    probs = np.clip(np.asarray(predictions.probs, float), 1e-9, 1.0)
    log_best = np.log(probs.max(axis=1))
    best = np.full((n + 1, m + 1), -np.inf)
    back: dict[tuple[int, int], tuple[int, int, int, bool]] = {}
    best[0, 0] = 0.0
    by_start: dict[int, list[int]] = {}
    for i, c in enumerate(cands):
        by_start.setdefault(c.start, []).append(i)
    for s in range(n):
        for j in range(m + 1):
            here = best[s, j]
            if not np.isfinite(here):
                continue
            for i in by_start.get(s, []):
                c = cands[i]
                moves = []
                if c.kind != "digit":
                    moves.append((j, 0.0, True))
                else:
                    if j < m:
                        k = int(digits[j])
                        moves.append((j + 1, digit_score[i] + np.log(probs[i, k]) - log_best[i], True))
                    if c.end == s + 1:
                        moves.append((j, noise_score[i], False))
                for j2, sc, keep in moves:
                    if here + sc > best[c.end, j2]:
                        best[c.end, j2] = here + sc
                        back[(c.end, j2)] = (i, s, j, keep)
    if not np.isfinite(best[n, m]):
        return None
    path, state = [], (n, m)
    while state != (0, 0):
        i, s, j, keep = back[state]
        if keep:
            path.append(i)
        state = (s, j)
    return tuple(reversed(path))
