"""Clean an amount field into binary ink: colour dropout, flat-fielding, binarization, line removal.

The output of :func:`clean_field` is ``uint8`` with paper 255 and ink 0, the shape of
``field.image``. The steps:

1. colour before gray: with a colour crop, the darkest channel of each pixel is used,
   so light tinted backgrounds, coloured security patterns and printed guide lines in
   a light tint fade while blue, black and other dark inks stay dark;
2. flat-field: the paper level is estimated by a grey closing wider than a pen stroke
   and divided out (uneven lighting, tinted boxes); faded ink, whose darkest strokes are
   less than ``FADED_BELOW`` darker than the paper, has its darkness stretched;
3. binarize: Sauvola's local threshold, restricted to pixels clearly darker than paper,
   so thin ballpoint strokes survive while faint patterns drop;
4. remove printed box and guide lines: horizontal and vertical runs much longer than a
   digit (morphological opening), a currency-sign cell closed by a vertical rule, and
   specks, save the solid dots a fine pen's decimal point makes (``DOT_MIN_AREA``;
   the segmenter keeps those on the baseline between digits).

>>> import numpy as np
>>> img = np.full((60, 200), 230, np.uint8)
>>> img[50:52, :] = 90                 # a printed guide line
>>> img[10:45, 40:44] = 30             # a pen stroke ("1")
>>> ink = clean_field(Field(BBox(0, 0, 200, 60), img))
>>> bool((ink[10:45, 40:44] == 0).mean() > 0.9), bool((ink[50:52, 100:150] == 255).all())
(True, True)
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import logging

import cv2
import numpy as np

from .types import BBox, Field, Page  # noqa: F401 - BBox: the doctests make fields with it

log = logging.getLogger("cheque_reader")

#: Sauvola's ``k``: larger keeps less faint ink.
SAUVOLA_K = 0.2

#: A pixel must be at least this much darker than the estimated paper (fraction of paper level).
MIN_DARKNESS = 0.22

#: The global (Otsu) bound is never set darker than this (a field of mostly heavy ink).
MIN_OTSU = 0.35

#: Horizontal lines at least this long (fraction of the field width, or the height
#: times LINE_H_PER_HEIGHT, whichever is larger) are removed.
LINE_H_FRACTION = 0.35
LINE_H_PER_HEIGHT = 1.5

#: Vertical lines at least this long (fraction of the field height) are removed.
LINE_V_FRACTION = 0.5

#: Micro-text: components shorter than this fraction of the field height, at least this many in a row.
MICROTEXT_HEIGHT = 0.12
MICROTEXT_MIN_COUNT = 8

#: A printed currency sign inside the box ends within this fraction of the field width.
SIGN_MAX_RIGHT = 0.13

#: A component whose ink's minor/major axis ratio is below this is a pen stroke (a ``1`` at any
#: slant), never a printed currency sign.
SIGN_MIN_ELONGATION = 0.3

#: A printed sign's ink is darker than the handwriting's by at least this (median gray levels):
#: IDRBT's printed rupee signs 0-15 against pen ink 19-83; a first digit is the pen's own shade.
SIGN_DARKER_BY = 10

#: A rupee sign's two bars lie in this top share of its height.
SIGN_BARS_TOP = 0.4

#: A piece shaped as a printed euro or pound sign, which no digit is (:func:`euro_bars`: two bars across
#: an open C; :func:`pound_bars`: a bar across a stem and a foot), may end this far into the field
#: (fraction of its width; else :data:`SIGN_MAX_RIGHT`), and need not be printed darker than the pen.
#: Synthetic European and British cheques (``synth.WORLD_LAYOUTS``) with the sign inside the box: its
#: right edge at 0.13-0.17 of the field's width.
SIGN_SHAPE_MAX_RIGHT = 0.2

#: Check-protection asterisks (``**1,234.56``, ``*****30.97``: cheque-writing software fills the space
#: before, sometimes after, a printed amount so that no digit can be added): a run of at least
#: ``ASTERISK_MIN_RUN`` stars side by side, each as tall as ``ASTERISK_HEIGHT`` of the field's
#: tallest piece of ink (the printed stars of 38 fonts 0.50-0.67), alike in size and top, each with
#: at least ``ASTERISK_MIN_SPOKES`` spokes on two of three circles about its middle and one fewer
#: at least on the third (``ASTERISK_RADII``, shares of its half size; those stars 5 or 6 spokes, a
#: small one's filled middle 4 on the inner circle), as many on every circle within 2. Read as
#: digits they were 4s and 8s (``**666.48`` read ``34666.48``); no piece of ink in the 1,080 ORAND
#: fields is taken for them.
ASTERISK_MIN_RUN = 2
ASTERISK_HEIGHT = (0.35, 0.8)
ASTERISK_MIN_SPOKES = 5
ASTERISK_RADII = (0.55, 0.7, 0.85)

#: A dollar sign printed left of a printed amount (``$1,234.56``, ``$**1,234.56``, ``US$1,234.56``;
#: :func:`dollar_sign`): an S with a bar through it, enclosing two holes, the upper one's middle in
#: ``DOLLAR_UPPER_HOLE`` of its height and the lower one's in ``DOLLAR_LOWER_HOLE``, the lower one
#: right of the upper (the 38 fonts of ``eval_real.py --printed`` at 24-44 pixels: 0.21-0.32 and
#: 0.59-0.71, 0.08-0.36 of its width further right); the bar's foot a narrow stroke (its lowest
#: rows at most ``DOLLAR_FOOT_WIDTH`` of its width, those fonts 0.06-0.2); and taller than the
#: amount's digits by ``DOLLAR_TALLER`` (those fonts 1.17-1.25), reaching below them. No digit
#: has two holes so set but an 8 leaning back, whose foot is a loop.
DOLLAR_UPPER_HOLE = (0.12, 0.42)
DOLLAR_LOWER_HOLE = (0.55, 0.82)
DOLLAR_FOOT_WIDTH = 0.24
DOLLAR_TALLER = 1.08
DOLLAR_BAR = 0.9

#: :func:`drop_side_remnants`: a hairline left where a printed box's left or right side was removed
#: (1 pixel wide, 45-53 pixels tall, 1 pixel inside the side, on a synthetic cheque whose ``100.00``
#: was read ``100.00.,``) is at most this wide, and lies wholly within this reach of the side's column.
SIDE_REMNANT_WIDTH = 2
SIDE_REMNANT_REACH = 3

#: Ink components smaller than this fraction of the field height squared are specks.
SPECK_AREA = 0.0012

#: Red ink (a rubber stamp across the box): its red channel at least this far above green and
#: blue. A red stamp on cream paper: about 135; blue, violet and black pens: below 0.
STAMP_REDNESS = 60

#: Red ink covering less than this share of a field is left alone (IDRBT's scans: none has any).
STAMP_MIN_SHARE = 0.01

#: Where a pen stroke crosses a stamp both inks absorb: such pixels are darker than this in red,
#: and stay.
STAMP_MIN_RED = 100

#: The paper's level: this percentile of the field's gray levels.
PAPER_PERCENTILE = 90

#: A colour field whose paper (the median of each channel) has its weakest channel below this share
#: of its strongest lies under a colour cast (a photo under a yellow lamp), and each channel is
#: scaled to make the paper neutral before the darkest channel is taken as the gray (:func:`to_gray`):
#: else the cast's weak channel, dark all over, leaves the ink little darker than the paper.
#: Measured on the fields found: the 40 IDRBT scans 0.65-0.91 (median 0.90), 300 synthetic cheques
#: (coloured security patterns among them) 0.84 or more; IDRBT under a yellow cast (blue at 45% and
#: green at 85% of the light) 0.40-0.61, under a warm lamp (65% and 88%) 0.58-0.86.
CAST_RATIO = 0.62

#: Specks of at least this many pixels that are solid dots (a fine pen's decimal point) stay in
#: the cleaned ink: the segmenter keeps those on the baseline between digits, and drops the rest.
DOT_MIN_AREA = 6


def is_bitonal(gray: np.ndarray, step: int = 4) -> bool:
    """Whether a page is black and white only (a Group 4 TIFF, an X9.37 item's image): every
    ``step``-th pixel of every ``step``-th row 0 or 255.

    >>> import numpy as np
    >>> is_bitonal(np.array([[0, 255], [255, 255]], np.uint8)), is_bitonal(np.full((8, 8), 128, np.uint8))
    (True, False)
    """
    sample = gray[::step, ::step]
    # a gray page shows its gray in a sparse sample first (a subset of the sample): 0.01 against 0.2 ms
    sparse = sample[::8, ::8]
    if np.count_nonzero((sparse != 0) & (sparse != 255)):
        return False
    # levels 1..254 are those at most 253 once 1 is taken off in uint8 (0 wraps to 255): two passes
    # over the sample, not four (0.12 against 0.20 ms a 1600 x 734 Group 4 page)
    if sample.dtype == np.uint8:
        return sample.size > 0 and not np.count_nonzero(sample - np.uint8(1) < 254)
    return sample.size > 0 and not np.count_nonzero((sample != 0) & (sample != 255))


#: A black-and-white page is an error-diffused ("halftone") scan, a scanner's black-and-white mode
#: that dithers the paper's gray into scattered dots, when at least this share of the black pixels
#: in the middle of the page (half its width and height) are lone (at most one other black pixel
#: among their 8 neighbours). Measured on whole pages: IDRBT scans at 200 and 300 dpi dithered
#: (Floyd-Steinberg) 0.69-0.73; the same thresholded at 200 dpi 0.02-0.09; synthetic Group 4 TIFFs
#: 0.002 or less (the middle alone: the same IDRBT rows of eval_real --robustness; 0.2 ms a page, 0.4
#: for the whole).
DITHER_LONE_SHARE = 0.3

#: A dithered page is read through a Gaussian blur of this sigma (pixels), which turns its dots back
#: into gray. IDRBT at 200 dpi dithered: 0.7 14 of 37 right, 0.85 31, 1.0 30, 1.5 25, 2.0 21; at 300
#: dpi 1.0 29, 1.2 31.
DESCREEN_SIGMA = 1.0


def is_dithered(gray: np.ndarray) -> bool:
    """Whether a black-and-white page (:func:`is_bitonal`) is dithered (see :data:`DITHER_LONE_SHARE`).

    >>> import numpy as np
    >>> dots = np.full((40, 40), 255, np.uint8); dots[::3, ::3] = 0     # a dithered light gray
    >>> bars = np.full((40, 40), 255, np.uint8); bars[5:35, 10:14] = 0  # a thresholded stroke
    >>> is_dithered(dots), is_dithered(bars)
    (True, False)
    """
    h, w = gray.shape[:2]
    if h >= 64 and w >= 64:  # the middle of the page tells (a quarter of the pixels to count)
        gray = gray[h // 4 : h - h // 4, w // 4 : w - w // 4]
    black = cv2.threshold(gray, 0, 1, cv2.THRESH_BINARY_INV)[1]  # 1 where black
    n_black = cv2.countNonZero(black)
    if n_black == 0:
        return False
    around = cv2.boxFilter(black, cv2.CV_8U, (3, 3), normalize=False, borderType=cv2.BORDER_CONSTANT)
    lone = cv2.countNonZero(cv2.bitwise_and(black, cv2.threshold(around, 2, 1, cv2.THRESH_BINARY_INV)[1]))
    return lone >= DITHER_LONE_SHARE * n_black


def descreened(page: Page) -> Page:
    """``page`` as gray when it is a dithered black-and-white scan (:func:`is_dithered`), else itself:
    the located field, its cleaning and the segmenter see gray paper with dark strokes, not a field
    of dots (IDRBT dithered at 200 dpi: 30 of 37 amounts right, none before).

    >>> import numpy as np
    >>> dots = np.full((40, 40), 255, np.uint8); dots[::3, ::3] = 0
    >>> int(descreened(Page("p", 1, dots)).image[20, 20]) in range(180, 250)
    True
    """
    gray = page.image
    if gray is None or not is_bitonal(gray) or not is_dithered(gray):
        return page
    log.debug("%s: a dithered black-and-white page, read through a blur", page.source)
    return Page(page.source, page.page, cv2.GaussianBlur(gray, (0, 0), DESCREEN_SIGMA), None, page.dpi, page.extra)


def to_gray(field: Field, paper: np.ndarray | None = None) -> np.ndarray:
    """The field as one gray channel where ink is dark: the darkest colour channel when colour is known;
    the pixels of mask ``paper`` (a stamp, see :func:`red_stamp`) set to the paper's level.

    >>> import numpy as np
    >>> bgr = np.zeros((1, 2, 3), np.uint8); bgr[0, 0] = (240, 200, 150); bgr[0, 1] = (160, 60, 40)
    >>> to_gray(Field(BBox(0, 0, 2, 1), bgr[..., 1], bgr)).tolist()   # light-blue paper, blue ink
    [[150, 40]]
    """
    color = _field_color(field)
    gray = field.image
    if color is not None:
        color = without_cast(color)
        # channel by channel: numpy's min over the last (interleaved) axis is about 25 times slower
        gray = functools.reduce(np.minimum, (color[..., c] for c in range(1, color.shape[2])), color[..., 0])
    return with_paper(gray, paper)


def with_paper(gray: np.ndarray, paper: np.ndarray | None) -> np.ndarray:
    """``gray`` (a field's :func:`to_gray` without ``paper``) with the pixels of mask ``paper`` set to
    the paper's level (a copy; ``gray`` itself when the mask is ``None`` or empty): the field's gray
    made once serves its reads with and without a stamp (0.45 ms of a colour field's 657 x 227).

    >>> g = np.array([[200, 40, 210, 205]], np.uint8)   # the stamp's pixel to the paper's level (a high percentile)
    >>> with_paper(g, np.array([[False, True, False, False]])).tolist(), with_paper(g, None) is g
    ([[200, 208, 210, 205]], True)
    """
    if paper is not None and paper.any():
        gray = gray.copy()
        gray[paper] = np.percentile(gray, PAPER_PERCENTILE)
    return gray


def without_cast(color: np.ndarray) -> np.ndarray:
    """``color`` (a field's, BGR) with its channels scaled to make the paper neutral when it lies
    under a colour cast (:data:`CAST_RATIO`); else ``color`` itself.

    >>> import numpy as np
    >>> lamp = np.full((8, 8, 3), (100, 190, 230), np.uint8); lamp[1, 1] = (60, 45, 35)   # blue ink
    >>> without_cast(lamp)[1, :3].tolist()   # the paper's blue, 100, lifted to its red's level
    [[230, 230, 230], [138, 54, 35], [230, 230, 230]]
    >>> cream = np.full((8, 8, 3), (200, 235, 245), np.uint8)
    >>> without_cast(cream) is cream
    True
    """
    sample = np.ascontiguousarray(color[::4, ::4])
    paper = [float(np.argmax(np.cumsum(cv2.calcHist([sample], [c], None, [256], [0, 256]).ravel()) >= 0.5 * sample[..., c].size))
             for c in range(color.shape[2])]
    top = max(paper)
    if top <= 0 or min(paper) >= CAST_RATIO * top:
        return color
    gain = np.array([top / max(1.0, p) for p in paper], np.float32)
    return np.clip(color * gain + 0.5, 0, 255).astype(np.uint8)


def _field_color(field: Field) -> np.ndarray | None:
    """The field's colour crop when it has one of the gray image's size, else ``None``."""
    color = field.color
    if color is None or color.ndim != 3 or color.shape[:2] != field.image.shape[:2]:
        return None
    return color


def red_stamp(field: Field) -> np.ndarray | None:
    """The mask of a colour field's red ink, to read as paper, when enough of it lies off straight
    lines to be a stamp (``STAMP_MIN_SHARE`` of the field; a box printed in red or brown is straight),
    else ``None``. Red ink: red at least ``STAMP_REDNESS`` above green and blue (blue, violet and
    black pens, and gray, fall far below), widened by a pixel for its blended rim, where red light
    still passes (a pen stroke across the stamp stays). A red pen looks the same here: the pipeline
    keeps its ink when nothing like a pen's is left without it (``pipeline.STAMP_MIN_INK_LEFT``).

    >>> import numpy as np
    >>> bgr = np.full((40, 100, 3), 235, np.uint8)
    >>> _ = cv2.ellipse(bgr, (50, 20), (40, 15), 0, 0, 360, (60, 60, 200), 3)   # a red oval
    >>> bgr[2:38, 48:52] = (150, 60, 30)                                       # a blue "1" across it
    >>> mask = red_stamp(Field(BBox(0, 0, 100, 40), bgr[..., 1], bgr))
    >>> bool(mask[20, 10]), bool(mask[5, 50]), bool(mask[20, 50])   # the oval; the pen, over it and inside
    (True, False, False)
    >>> bgr[:] = 235; _ = cv2.rectangle(bgr, (3, 3), (96, 36), (40, 80, 170), 3)   # a box printed in brown
    >>> red_stamp(Field(BBox(0, 0, 100, 40), bgr[..., 1], bgr)) is None
    True
    """
    color = _field_color(field)
    if color is None or color.shape[2] != 3:
        return None
    # red - max(green, blue) >= STAMP_REDNESS by OpenCV's saturating subtraction (no red above them: 0),
    # a 0/255 mask: 0.26 against 0.57 ms in int16 numpy on a 657 x 227 field, most of them stampless
    b, g, r = cv2.split(np.ascontiguousarray(color))
    red = cv2.compare(cv2.subtract(r, cv2.max(g, b)), STAMP_REDNESS, cv2.CMP_GE)
    if cv2.countNonZero(red) / red.size < STAMP_MIN_SHARE:
        return None
    h, w = red.shape
    lines = (cv2.morphologyEx(red, cv2.MORPH_OPEN, _rect(max(3, int(LINE_H_FRACTION * w)), 1))
             | cv2.morphologyEx(red, cv2.MORPH_OPEN, _rect(1, max(3, int(LINE_V_FRACTION * h)))))
    if (red.astype(bool) & (cv2.dilate(lines, _rect(5, 5)) == 0)).mean() < STAMP_MIN_SHARE:
        return None
    return (cv2.dilate(red, _rect(3, 3)) > 0) & (r >= STAMP_MIN_RED)


def flatten_background(gray: np.ndarray, stroke: int) -> np.ndarray:
    """``gray`` divided by its paper level (grey closing wider than a stroke), as float in 0-1 (paper 1).

    The paper level is smooth, so it is estimated on the field shrunk about ``stroke / 4``
    times and enlarged back (the closing and the blur cost the same at any stroke width).

    >>> gray = np.tile(np.linspace(150, 250, 200).astype(np.uint8), (60, 1))   # paper darkening to the left
    >>> gray[20:40, 100:104] = 60                                                # a pen stroke
    >>> flat = flatten_background(gray, stroke=4)
    >>> flat.dtype, round(float(flat[5, 10]), 2), round(float(flat[5, 190]), 2), round(float(flat[30, 101]), 2)
    (dtype('float32'), 1.0, 1.0, 0.3)
    """
    k = max(3, 2 * stroke + 1)
    f = max(1, stroke // 4)
    h, w = gray.shape
    small = cv2.resize(gray, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA) if f > 1 else gray
    ks = max(3, (k // f) | 1)
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (ks, ks)))
    paper = cv2.GaussianBlur(paper, (0, 0), k / (2.0 * f))
    if f > 1:
        paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR)
    flat = gray.astype(np.float32)  # in place: clip(gray / max(paper, 1), 0, 1)
    flat /= np.maximum(paper.astype(np.float32), np.float32(1.0))
    return np.clip(flat, 0.0, 1.0, out=flat)


def small_median(values) -> float:
    """``float(np.median(values))`` of a few numbers (a list, or a 1-D array): the middle one, or the
    mean of the two middle ones, without numpy's machinery (about 25 us a call, some 17 calls a page on
    lists of up to a few dozen boxes' sizes). An empty ``values`` is numpy's (nan, with its warning).

    >>> small_median([3, 1, 2]), small_median([4, 1, 3, 2]), small_median(np.array([2.0, 5.0]))
    (2.0, 2.5, 3.5)
    """
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float(np.median(values))
    mid = n // 2
    # each one a float before they are added: two uint8 values' sum would wrap
    return float(ordered[mid]) if n % 2 else (float(ordered[mid - 1]) + float(ordered[mid])) / 2


def connected_components(mask: np.ndarray, connectivity: int = 8):
    """``cv2.connectedComponentsWithStats`` of a ``uint8`` mask: ``(n, labels, stats, centroids)``.

    The labels are ``uint16`` when the image cannot hold 65,535 components (at most one per 2 x 2
    block with 8-connectivity): OpenCV labels that way 2.5x faster here than in ``int32`` (1.56
    against 0.63 ms on an 800 x 367 page, the same labels and stats); ``int32`` beyond.

    >>> m = np.zeros((5, 9), np.uint8); m[1:4, 1:3] = 1; m[2, 6:8] = 1
    >>> n, labels, stats, _ = connected_components(m)
    >>> n, labels.dtype.name, stats[1:, cv2.CC_STAT_AREA].tolist()
    (3, 'uint16', [6, 2])
    """
    h, w = mask.shape[:2]
    most = ((h + 1) // 2) * ((w + 1) // 2) if connectivity == 8 else (h * w + 1) // 2
    ltype = cv2.CV_16U if most < 65535 else cv2.CV_32S
    return cv2.connectedComponentsWithStats(mask, connectivity=connectivity, ltype=ltype)


class LastLabelled:
    """:func:`connected_components` (8-connected) that keeps the last mask it labelled and its answer:
    a mask labelled again unchanged (a step of the cleaning that dropped nothing hands the next the
    same ink: 2.7 labellings of 6 a page of the bench's Group 4 and JPEG pages) is compared
    (``np.array_equal``), not labelled again. The answer is shared: its callers only read it.

    >>> label = LastLabelled()
    >>> m = np.zeros((5, 9), np.uint8); m[1:4, 1:3] = 1
    >>> a = label(m); b = label(m.copy()); c = label(1 - m); d = label(1 - m, connectivity=4)
    >>> a is b, a[0], c[0], label.labelled
    (True, 2, 2, 3)
    """

    def __init__(self) -> None:
        self.mask: np.ndarray | None = None
        self.answer: tuple | None = None
        self.labelled = 0

    def __call__(self, mask: np.ndarray, connectivity: int = 8) -> tuple:
        if connectivity != 8:
            self.labelled += 1
            return connected_components(mask, connectivity)
        if (self.mask is None or self.mask.shape != mask.shape or self.mask.dtype != mask.dtype
                or not np.array_equal(self.mask, mask)):
            self.labelled += 1
            self.mask, self.answer = mask.copy(), connected_components(mask)
        return self.answer


def label_lookup(table: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``table[labels]`` (a value per component, for each pixel's label): a boolean table of at most
    256 components by OpenCV's lookup table (6x numpy's indexing on a 151 x 437 field), else
    ``np.take`` (2.5x).

    >>> lab = np.array([[0, 2], [1, 2]], np.uint16)
    >>> label_lookup(np.array([False, True, False]), lab).tolist(), label_lookup(np.array([5, 6, 7]), lab).tolist()
    ([[False, False], [True, False]], [[5, 7], [6, 7]])
    """
    if table.dtype == bool and len(table) <= 256:
        lut = np.zeros(256, np.uint8)
        lut[: len(table)] = table
        return cv2.LUT(labels.astype(np.uint8), lut).view(bool)
    return np.take(table, labels)


def threshold_sauvola(image: np.ndarray, window_size: int, k: float = SAUVOLA_K, r: float = 0.5,
                      where: np.ndarray | None = None) -> np.ndarray:
    """Sauvola's local threshold ``m * (1 + k * (s / r - 1))`` (mean ``m`` and deviation ``s`` over a
    centred ``window_size`` square, borders reflected): skimage's, by OpenCV box filters. ``where``:
    the pixels (a mask) it is wanted at, the same numbers there and 0 elsewhere (its arithmetic
    after the filters on those alone: 0.49 -> 0.40 ms a Group 4 field, where 12% can be ink, the mask made).

    >>> img = np.random.default_rng(0).random((30, 40)).astype(np.float32)
    >>> from skimage.filters import threshold_sauvola as sk
    >>> bool(np.allclose(threshold_sauvola(img, 11, 0.2, 0.5), sk(img, window_size=11, k=0.2, r=0.5), atol=1e-5))
    True
    >>> some = threshold_sauvola(img, 11, 0.2, 0.5, where=img < 0.3)
    >>> bool(np.array_equal(some[img < 0.3], threshold_sauvola(img, 11, 0.2, 0.5)[img < 0.3])), float(some[img >= 0.3].max())
    (True, 0.0)
    """
    x = image.astype(np.float64)
    size = (int(window_size), int(window_size))
    m = cv2.boxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT_101)
    # the box filter of x * x: the same sums (squares made in the filter's rows, not in a pass before it)
    s = cv2.sqrBoxFilter(x, -1, size, borderType=cv2.BORDER_REFLECT_101)
    dtype = image.dtype if image.dtype.kind == "f" else np.float64
    if where is not None:  # each pixel's arithmetic is its own: those wanted alone
        at = np.flatnonzero(where)
        m, s = m.ravel()[at], s.ravel()[at]
        x = np.empty_like(m)
    # the same arithmetic as m * (1 + k * (sqrt(max(m2 - m * m, 0)) / r - 1)), in place (0.7x the time)
    np.subtract(s, np.multiply(m, m, out=x), out=s)
    np.clip(s, 0, None, out=s)
    np.sqrt(s, out=s)
    s /= r
    s -= 1
    s *= k
    s += 1
    s *= m
    if where is None:
        return s.astype(dtype)
    out = np.zeros(image.shape, dtype)
    out.ravel()[at] = s
    return out


def threshold_otsu(image: np.ndarray, nbins: int = 256) -> float:
    """Otsu's threshold of ``image`` over ``nbins`` bins between its minimum and maximum (as skimage's).

    >>> threshold_otsu(np.array([0.1, 0.1, 0.2, 0.8, 0.9, 0.9], np.float32)) < 0.8
    True
    """
    x = image.ravel().astype(np.float64)
    lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        return lo
    x -= lo  # in place: (x - lo) * (nbins / (hi - lo))
    x *= nbins / (hi - lo)
    if nbins <= 256:  # the bins as bytes, counted by OpenCV's histogram (float32 counts, exact below 2**24)
        np.minimum(x, nbins - 1, out=x)
        counts = cv2.calcHist([x.astype(np.uint8).reshape(1, -1)], [0], None, [nbins], [0, nbins]).ravel()
    else:
        idx = x.astype(np.intp)
        np.clip(idx, 0, nbins - 1, out=idx)
        counts = np.bincount(idx, minlength=nbins).astype(np.float32)  # as skimage does
    edges = np.linspace(lo, hi, nbins + 1)
    centers = (edges[:-1] + edges[1:]) / 2.0
    w1 = np.cumsum(counts)
    w2 = np.cumsum(counts[::-1])[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        m1 = np.cumsum(counts * centers) / w1
        m2 = (np.cumsum((counts * centers)[::-1]) / w2[::-1])[::-1]
    var = w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2
    return float(centers[int(np.nanargmax(var))])


#: A fold's crease across the field: a thin, straight line within CREASE_MAX_LEAN degrees of upright,
#: a little darker than its sides along at least CREASE_MIN_SPAN of the field's height (a pen's
#: strokes, the tallest of them a digit's height, cover less). Its pixels are no ink unless they are
#: CREASE_INK_BELOW levels darker than the crease's own level (a stroke crossing it).
CREASE_MAX_LEAN = 4
CREASE_MIN_SPAN = 0.9
CREASE_INK_BELOW = 40
#: ... and only when its level is this much lighter than the field's other ink (the median): a pen's
#: long slash or a printed divider is as dark as the pen.
CREASE_LIGHTER = 30


def drop_crease(ink: np.ndarray, gray: np.ndarray) -> np.ndarray:
    """``ink`` without a fold's crease crossing the field top to bottom (see :data:`CREASE_MIN_SPAN`).

    >>> import numpy as np
    >>> g = np.full((60, 120), 220, np.uint8); g[:, 80:82] = 150      # a crease
    >>> g[20:40, 20:24] = 40                                           # a stroke
    >>> ink = g < 180
    >>> out = drop_crease(ink, g)
    >>> bool(out[:, 80:82].any()), bool(out[20:40, 20:24].all())
    (False, True)
    """
    h, w = gray.shape
    if h < 20 or w < 20 or not ink.any():
        return ink
    # thin dark upright structure: darker than what lies a few pixels to either side
    thin = cv2.threshold(cv2.morphologyEx(gray, cv2.MORPH_BLACKHAT, _rect(9, 1)), 20, 1, cv2.THRESH_BINARY)[1]
    # no column, widened by the most a leaning line moves, is covered down the field: no crease
    reach = 2 * int(np.ceil(np.tan(np.radians(CREASE_MAX_LEAN)) * h / 2)) + 3
    widened = cv2.dilate(thin, _rect(reach, 1))
    cover = cv2.reduce(widened, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    edge = int(0.08 * w)  # the box's own sides
    if cover[edge : w - edge].max(initial=0) < CREASE_MIN_SPAN * h:
        return ink
    best = (0.0, 0, 0.0)
    rows = np.arange(h, dtype=np.float32)
    ys, xs = np.nonzero(thin)
    for lean in range(-CREASE_MAX_LEAN, CREASE_MAX_LEAN + 1):
        shift = np.round(np.tan(np.radians(lean)) * (rows - h / 2)).astype(int)
        pad = int(np.abs(shift).max()) + 2
        # rows in which the line, 1-3 pixels wide, is seen at each column (once a row)
        seen = np.zeros((h, w + 2 * pad), bool)
        for dx in (-1, 0, 1):
            seen[ys, xs - shift[ys] + pad + dx] = True
        span = seen.sum(axis=0) / h
        i = int(np.argmax(span))
        if span[i] > best[0]:
            best = (float(span[i]), i - pad, float(lean))
    if best[0] < CREASE_MIN_SPAN:
        return ink
    _, x0, lean = best
    shift = np.round(np.tan(np.radians(lean)) * (rows - h / 2)).astype(int)
    cols = np.clip(x0 + shift[:, None] + np.arange(-3, 4)[None, :], 0, w - 1)
    band = np.zeros((h, w), bool)
    band[np.repeat(np.arange(h), 7), cols.ravel()] = True
    # the crease's own level: the darkest of each row's band, the median over the rows
    level = float(np.median(np.where(band, gray, 255).min(axis=1)))
    rest = ink & ~band
    if not rest.any() or level < float(np.median(gray[rest])) + CREASE_LIGHTER:
        return ink  # as dark as the pen: a stroke (a long slash), a printed divider, no crease
    return ink & ~(band & (gray >= level - CREASE_INK_BELOW))


#: A page smeared along one axis (the camera, or the scanner's transport, moved) spreads every
#: stroke across that axis: the printed box's sides (smeared sideways), or its top and bottom lines
#: (smeared up or down), come out at least SMEAR_MIN_WIDENING pixels wider than the lines the other
#: way (each measured where it is half as dark as at its darkest), and at most SMEAR_MAX_DARKNESS
#: as dark as them (the same ink spread wider).
SMEAR_MIN_WIDENING = 4
SMEAR_MAX_DARKNESS = 0.6
#: The Wiener filter's noise-to-signal balance when the smear is undone (larger: smoother, less sharp).
SMEAR_WIENER_BALANCE = 0.05
#: A smear shorter than this many pixels is left as it is: the pen's strokes, wider than the box's
#: lines, still read (IDRBT smeared sideways at 300 dpi, of 37 right: 5 pixels 25 as it is, 24
#: undone; 7 pixels 29 undone, 26 in session 26; 9 pixels 26 undone, 20 as it is).
SMEAR_MIN_LENGTH = 6


def _line_width(profile: np.ndarray) -> tuple[int, float]:
    """``(width, darkness)`` of the darkest line across ``profile`` (paper light): the run of
    samples around its darkest that are darker than half-way to the paper (its 90th percentile).

    >>> _line_width(np.array([200, 200, 140, 100, 100, 140, 200, 200], np.float32))
    (4, 100.0)
    """
    k = int(0.9 * (len(profile) - 1))
    paper = float(np.partition(profile, k)[k])
    i = int(np.argmin(profile))
    darkness = paper - float(profile[i])
    dark = profile < paper - 0.5 * darkness
    a, b = i, i
    while a > 0 and dark[a - 1]:
        a -= 1
    while b < len(profile) - 1 and dark[b + 1]:
        b += 1
    return b - a + 1, darkness


def _spread_by_smear(spread: list[tuple[int, float]], sharp: list[tuple[int, float]]) -> int:
    """How long a smear across the two lines ``spread`` is, the two ``sharp`` ones (``(width,
    darkness)`` each) along it showing the print's own width; 0 when they do not show one."""
    line_w, line_dark = min(w for w, _ in sharp), min(d for _, d in sharp)
    # each spread line is smeared, or run into a barcode beside it (wide and as dark as the sharp
    # ones), and one smear spreads both alike: else what looked smeared is something else (a stamp)
    widened = [w >= line_w + SMEAR_MIN_WIDENING for w, _ in spread]
    smeared = [w for w, d in spread if w >= line_w + SMEAR_MIN_WIDENING and d <= SMEAR_MAX_DARKNESS * line_dark]
    if not smeared or not all(widened) or max(smeared) - min(smeared) > 2:
        return 0
    # a line thinner than the smear comes out about as wide as the smear is long, at half its darkness
    return min(smeared)


def smear_lengths(field: Field) -> tuple[int, int]:
    """``(across, down)``: how many pixels long a smear of ``field`` is sideways and up or down,
    from its printed box (``(0, 0)``: none seen, or no printed box; see :data:`SMEAR_MIN_WIDENING`).

    >>> import numpy as np
    >>> img = np.full((100, 300), 230, np.uint8)
    >>> img[20:23, 20:280] = img[80:83, 20:280] = img[20:83, 20:23] = img[20:83, 277:280] = 40
    >>> f = Field(BBox(0, 0, 300, 100), img, box=BBox(21, 21, 258, 60))
    >>> smear_lengths(f), smear_lengths(dataclasses.replace(f, image=cv2.blur(img, (9, 1))))
    ((0, 0), (9, 0))
    >>> smear_lengths(dataclasses.replace(f, image=cv2.blur(img, (1, 7))))
    (0, 7)
    """
    box, gray = field.box, field.image
    if box is None or box.w < 40 or box.h < 20:
        return 0, 0
    h, w = gray.shape
    r = max(8, box.h // 4)
    # every other row of the sides' middle half, every fourth column of the lines'
    rows, cols = slice(box.y + box.h // 4, box.y + 3 * box.h // 4, 2), slice(box.x + box.w // 4, box.x + 3 * box.w // 4, 4)
    sides = [_line_width(np.median(gray[rows, max(0, x - r) : min(w, x + r)], axis=0)) for x in (box.x, box.x2 - 1)]
    lines = [_line_width(np.median(gray[max(0, y - r) : min(h, y + r), cols], axis=1)) for y in (box.y, box.y2 - 1)]
    return _spread_by_smear(sides, lines), _spread_by_smear(lines, sides)


def unsmeared(field: Field) -> Field:
    """``field`` with a smear along one axis (:func:`smear_lengths`) undone by a Wiener filter; the
    same field when none is seen.

    >>> import numpy as np
    >>> img = np.full((100, 300), 230, np.uint8)
    >>> img[20:22, 20:280] = img[80:82, 20:280] = img[20:82, 20:22] = img[20:82, 278:280] = 40
    >>> img[35:65, 100:103] = 30                       # an upright stroke
    >>> f = Field(BBox(0, 0, 300, 100), cv2.blur(img, (9, 1)), box=BBox(21, 21, 258, 60))
    >>> int(f.image[50, 101]), int(unsmeared(f).image[50, 101]) < 120
    (163, True)
    """
    across, down = smear_lengths(field)
    length = max(across, down)
    if length < SMEAR_MIN_LENGTH or (across and down):
        return field
    from skimage.restoration import wiener  # only for the rare smeared page

    psf = np.full((1, length) if across else (length, 1), 1.0 / length)
    px, py = (2 * length, 0) if across else (0, 2 * length)

    def undo(image: np.ndarray) -> np.ndarray:
        x = cv2.copyMakeBorder(image, py, py, px, px, cv2.BORDER_REFLECT).astype(np.float64) / 255.0
        planes = [x] if x.ndim == 2 else [x[..., c] for c in range(x.shape[2])]
        out = np.stack([wiener(p, psf, SMEAR_WIENER_BALANCE) for p in planes], axis=-1)
        out = out[py : out.shape[0] - py, px : out.shape[1] - px]
        return np.clip(out.reshape(image.shape) * 255.0 + 0.5, 0, 255).astype(np.uint8)

    log.debug("field smeared %d pixels %s: undone", length, "sideways" if across else "up or down")
    color = None if field.color is None else undo(field.color)
    return dataclasses.replace(field, image=undo(field.image), color=color)


#: A field is a black-and-white scan's (Group 4, X9.37), turned or not, when at least this share of
#: its pixels is pure black or white (0 or 255): turning it by interpolation grays only the edges of
#: its strokes and lines. 1,000 synthetic cheques as Group 4 TIFFs: 0.93-0.94 for fields turned
#: 0.6-2.7 degrees; the same cheques in colour, with paper texture and tints, far below.
BITONAL_FIELD_SHARE = 0.9


def is_bitonal_field(gray: np.ndarray) -> bool:
    """Whether a field is a black-and-white scan's, turned or not (:data:`BITONAL_FIELD_SHARE`).

    >>> import numpy as np
    >>> bw = np.full((20, 40), 255, np.uint8); bw[5:15, 10:12] = 0; bw[5:15, 12] = 128  # a stroke, one gray edge
    >>> is_bitonal_field(bw), is_bitonal_field(np.full((20, 40), 230, np.uint8))
    (True, False)
    """
    return bool(gray.size) and bool(np.count_nonzero((gray == 0) | (gray == 255)) >= BITONAL_FIELD_SHARE * gray.size)


def binarize_levels(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The flat-fielded field (float, paper 1, faded ink restored) and its Sauvola threshold, which
    :func:`binarize` compares, where the field is dark enough to be ink (:data:`MIN_DARKNESS` below
    the paper), 0 on the rest (no ink whatever the threshold); ``None`` for a field under 3 pixels high or wide.

    >>> flat, t = binarize_levels(np.full((20, 20), 200, np.uint8))
    >>> flat.shape == t.shape == (20, 20)
    True
    """
    h, w = gray.shape
    if h < 3 or w < 3:
        return None
    stroke = max(2, int(round(h / 8)))
    flat = _restore_faded(flatten_background(gray, stroke))
    window = max(11, (h // 3) | 1)
    # binarize's ink is at least MIN_DARKNESS darker than the paper (the same bound as there)
    return flat, threshold_sauvola(flat, window_size=window, k=SAUVOLA_K, r=0.5, where=flat < 1.0 - MIN_DARKNESS)


def binarize(gray: np.ndarray, otsu_bound: bool = True,
             levels: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Ink mask (``bool``, True = ink) of a gray field, by flat-fielding and Sauvola; ``otsu_bound``:
    also no lighter than the field's Otsu level (without it, :data:`MIN_DARKNESS` alone bounds it);
    ``levels``: the field's :func:`binarize_levels`, when already made (both masks of one field).

    >>> import numpy as np
    >>> g = np.full((40, 40), 200, np.uint8); g[10:30, 18:22] = 40
    >>> int(binarize(g).sum())
    80
    """
    levels = binarize_levels(gray) if levels is None else levels
    if levels is None:
        return np.zeros(gray.shape, bool)
    flat, t = levels
    # a global (Otsu) bound drops security patterns and tints lighter than the pen
    glob = (threshold_otsu(flat) if flat.min() < flat.max() else 0.0) if otsu_bound else 1.0
    ink = (flat < t) & (flat < min(1.0 - MIN_DARKNESS, max(glob, MIN_OTSU)))
    return ink


#: Faded ink: when the darkest ink of a flat-fielded field (its 1st percentile) is between
#: FADED_MIN_DARKNESS and FADED_BELOW darker than the paper, its darkness is stretched to
#: FADED_TARGET (at most FADED_MAX_GAIN times). The floor lies under a dim, washed-out scan's
#: ink, which MIN_DARKNESS alone drops whole: IDRBT's fields as scanned 0.73-1.0, faded to 45%
#: 0.27-0.42, squeezed between 60% and 85% gray 0.18-0.28 (0.2 before: two of those fields lost
#: every stroke), a faint printed pattern without ink about 0.1.
FADED_BELOW = 0.45
FADED_TARGET = 0.6
FADED_MIN_DARKNESS = 0.15
FADED_MAX_GAIN = 2.5


def _restore_faded(flat: np.ndarray) -> np.ndarray:
    """``flat`` (paper 1) with faded ink's darkness stretched (see :data:`FADED_BELOW`), else ``flat`` itself.

    IDRBT cheques with every ink kept at 45% of its darkness: 24 of 37 amounts right (5 accepted)
    without, 28 (9) with, as many as at full darkness. Of the 281 held-out ORAND fields (the 193 of
    the validation fold have ink 0.41-0.94 dark) one read changes: the same digits, with a higher
    confidence (``a_car_000756``, 0.85 -> 0.996).
    """
    sample = flat[::2, ::2].ravel()
    k = (sample.size - 1) // 100  # the 1st percentile (lower), by a partial sort
    dark = 1.0 - float(np.partition(sample, k)[k])
    if not FADED_MIN_DARKNESS <= dark < FADED_BELOW:
        return flat
    gain = min(FADED_MAX_GAIN, FADED_TARGET / dark)
    return np.clip(1.0 - (1.0 - flat) * gain, 0.0, 1.0).astype(np.float32)


#: Width (pixels) of the bridge that joins the pieces of a box side leaning by up to about 3 degrees.
LEAN_BRIDGE = 7


def _vertical_rules(u8: np.ndarray, min_len: int, hor_rows: np.ndarray, leaning_sides: bool = False) -> np.ndarray:
    """Thin vertical printed rules of at least ``min_len`` whose both ends meet a horizontal line or
    the border (``leaning_sides``: and the box's sides leaning a little, :func:`_leaning_sides`)."""
    h, w = u8.shape
    # ruled lines binarize 1-2 px wide with breaks and 1 px jogs: bridge them
    bridged = cv2.dilate(cv2.morphologyEx(u8, cv2.MORPH_CLOSE, _rect(1, 3)), _rect(3, 1))
    ver = cv2.morphologyEx(bridged, cv2.MORPH_OPEN, _rect(1, min_len))
    n, lab, stats, _ = connected_components(ver)
    keep = np.zeros(n, bool)
    tol = 5
    # a box side at the very edge may be as thick as the printed lines it meets (thick bitonal boxes)
    side_w = max(6, w // 40, min(_longest_run(hor_rows) + 1, h // 10))
    x, y, cw, ch = (stats[1:, j] for j in range(4))
    centre = x + cw / 2
    at_edge = (centre < 0.06 * w) | (centre > 0.94 * w)
    keep[1:] = cw <= np.where(at_edge, side_w, max(6, w // 40))
    for yy in (y, y + ch - 1):  # both ends at the border or at a line
        end = (yy <= tol) | (yy >= h - 1 - tol)
        if len(hor_rows) > 0:
            end |= np.abs(hor_rows[None, :] - yy[:, None]).min(axis=1, initial=tol + 1) <= tol
        keep[1:] &= end
    # the kept rules' pixels, box by box (a few thin boxes: not a lookup over the whole field)
    rules = np.zeros((h, w), bool)
    for i in np.flatnonzero(keep):
        x0, y0, cw0, ch0 = (int(v) for v in stats[i, :4])
        rules[y0 : y0 + ch0, x0 : x0 + cw0] |= lab[y0 : y0 + ch0, x0 : x0 + cw0] == i
    if leaning_sides and len(hor_rows) > 1:
        rules |= _leaning_sides(u8, min_len, hor_rows, side_w + LEAN_BRIDGE, tol)
    return (rules & (u8 > 0)).view(np.uint8)


def _leaning_sides(u8: np.ndarray, min_len: int, hor_rows: np.ndarray, max_w: int, tol: int) -> np.ndarray:
    """Box sides leaning a little (a photographed cheque's perspective), which break up in
    :func:`_vertical_rules`' opening: in the field's edge strips, rules bridged :data:`LEAN_BRIDGE`
    wide, centred within 6% of the width from an edge, that run from a printed line to a printed
    line (their pixels left beside the upright opening's band would be read as a ``/``)."""
    h, w = u8.shape
    strip = min(w, int(0.1 * w) + LEAN_BRIDGE)
    out = np.zeros((h, w), bool)
    for x0 in sorted({0, w - strip}):
        part = np.ascontiguousarray(u8[:, x0 : x0 + strip])
        bridged = cv2.dilate(cv2.morphologyEx(part, cv2.MORPH_CLOSE, _rect(1, 3)), _rect(LEAN_BRIDGE, 1))
        opened = _open_cols(bridged, min_len)
        n, lab, stats, _ = connected_components(opened)
        if n < 2:
            continue
        x, y, cw, ch = (stats[:, j] for j in range(4))
        centre = x0 + x + cw / 2
        top, bottom = (np.abs(hor_rows[None, :] - ends[:, None]).min(axis=1) <= tol for ends in (y, y + ch - 1))
        side = ((centre < 0.06 * w) | (centre > 0.94 * w)) & (cw <= max_w) & top & bottom
        side[0] = False  # the background
        out[:, x0 : x0 + strip] |= label_lookup(side, lab)
    return out


def _longest_run(values: np.ndarray) -> int:
    """Length of the longest run of consecutive integers in sorted ``values``.

    >>> _longest_run(np.array([3, 4, 5, 9, 10]))
    3
    """
    if len(values) == 0:
        return 0
    breaks = np.nonzero(np.diff(values) != 1)[0]
    bounds = np.concatenate([[-1], breaks, [len(values) - 1]])
    return int(np.diff(bounds).max())


def _rect(w: int, h: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (w, h))


def _open_rows(u8: np.ndarray, length: int) -> np.ndarray:
    """``cv2.morphologyEx(u8, cv2.MORPH_OPEN, _rect(length, 1))`` (``uint8``), the opening run only on
    the rows with at least as many nonzero pixels as its narrowest window holds (a window at an edge of
    the image is cut short by it): on the others every window holds a 0, and so does the opening. A
    field's long horizontal openings, most of its rows without a line (3 a page: 0.95 against 0.2-0.3
    ms a page on the bench's Group 4 cheques).

    >>> m = np.zeros((4, 30), np.uint8); m[1, 2:28] = 1; m[2, ::2] = 1; m[3, :12] = 1
    >>> bool(np.array_equal(_open_rows(m, 20), cv2.morphologyEx(m, cv2.MORPH_OPEN, _rect(20, 1))))
    True
    """
    h, w = u8.shape
    a = length // 2  # OpenCV's anchor: the window of column x is x - a .. x - a + length - 1, within the image
    x = np.arange(w)
    least = int((np.minimum(w - 1, x - a + length - 1) - np.maximum(0, x - a)).min()) + 1 if w else 0
    # each row's sum (OpenCV's: 7x numpy's count of nonzero pixels), at least its count of them
    rows = np.flatnonzero(cv2.reduce(u8, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel() >= least)
    if len(rows) == h:
        return cv2.morphologyEx(u8, cv2.MORPH_OPEN, _rect(length, 1))
    out = np.zeros_like(u8)
    if len(rows):  # the kernel is one row high: each row is opened alone
        out[rows] = cv2.morphologyEx(u8[rows], cv2.MORPH_OPEN, _rect(length, 1))
    return out


def _open_cols(u8: np.ndarray, length: int) -> np.ndarray:
    """``cv2.morphologyEx(u8, cv2.MORPH_OPEN, _rect(1, length))``, as :func:`_open_rows` of the
    image turned on its side: the opening runs only on the columns that hold enough ink. A field's
    edge strips (:func:`_leaning_sides`), a few of whose columns hold a box's side: 0.36 against 0.12
    ms a colour JPEG field (the bench's, two strips each).

    >>> m = np.zeros((30, 4), np.uint8); m[2:28, 1] = 1; m[::2, 2] = 1; m[:12, 3] = 1
    >>> bool(np.array_equal(_open_cols(m, 20), cv2.morphologyEx(m, cv2.MORPH_OPEN, _rect(1, 20))))
    True
    """
    return np.ascontiguousarray(_open_rows(np.ascontiguousarray(u8.T), length).T)


def _horizontal_lines(u8: np.ndarray, min_len: int, wander: bool = False) -> np.ndarray:
    # printed lines often binarize dashed: bridge short gaps before looking for long runs
    if not wander:
        bridged = cv2.morphologyEx(u8, cv2.MORPH_CLOSE, _rect(5, 1))
        return _open_rows(bridged, min_len) & u8
    # a resampled (deskewed) line also wanders by a pixel: allow that too
    bridged = cv2.dilate(cv2.morphologyEx(u8, cv2.MORPH_CLOSE, _rect(9, 1)), _rect(1, 3))
    found = _open_rows(bridged, min_len)
    return cv2.dilate(found, _rect(1, 3)) & u8


#: A black-and-white page's printed box lines, light on paper, break into dashes at its one threshold
#: (Group 4, X9.37), and dashed box sides were read as digits (a ``1``, a ``6``) or separators: in a
#: field's ``ruled`` ink (:func:`remove_lines`) the vertical rules are looked for with gaps up to this
#: share of the field's height bridged along them, and the lines they end at likewise. 1,000 synthetic
#: cheques as Group 4 TIFFs: digit strings 894 -> 902 (seed 4) and 902 -> 904 (seed 5), accepted
#: 477 -> 483 (4 wrong both) and 499 -> 507 (2 -> 3 wrong: a pale 0 the threshold broke, read wrong
#: before and after, no longer held back by the dashes); gap 0.06: 900 strings, 0.15: 901 (seed 4).
#: Horizontal lines are not removed so bridged: across a field the bridge joins the digits' strokes
#: into "lines" (892 strings, 458 accepted). The currency cell's rule (:func:`drop_currency_cell`)
#: is looked for so bridged too when none is seen unbridged, in its thin ink only
#: (:data:`RULE_DASH_THIN`; its pieces in its column alone, :data:`DASH_RULE_SPREAD`), and the lines
#: it ends at bridged along their length: unbridged, the cell's dashed rule and lines were not seen
#: and the sign was left in the ink of 58 of 474 Indian fields with their box found (in colour 6 of
#: 487), 21 after; the same 1,000 cheques accepted 544 -> 565 (5 wrong both), seed 5 550 -> 571 (4
#: wrong both), no digit string changed (gap 0.06: 563 accepted). Without the column test, the left
#: of a 9's loop near a box's side was taken for a cell rule and the loop dropped with the "cell"
#: (``bench.py``'s Group 4 cheque 16, ``9`` read ``7``).
RULE_DASH_GAP = 0.1
#: ... and only the ink in level runs under this many pixels (a printed rule, 1-3 px wide deskewed)
#: is so bridged: a pen's upright stroke standing near the box's lines was bridged to them and
#: removed as a rule (IDRBT at 200 dpi black and white: a "/", 29 -> 28 amounts right; on the old
#: fax a "1" too, 30 -> 29); with it, both as before and the synthetic figures above unchanged.
RULE_DASH_THIN = 4


def _bridged(u8: np.ndarray, w: int, h: int) -> np.ndarray:
    """``u8`` closed by a ``w`` x ``h`` rectangle (itself when both are under 2)."""
    return cv2.morphologyEx(u8, cv2.MORPH_CLOSE, _rect(w, h)) if max(w, h) > 1 else u8


def _rules_bridged(u8: np.ndarray, gap: int) -> np.ndarray:
    """``u8`` (0/1) with the upright gaps up to ``gap`` pixels long in its thin ink
    (:data:`RULE_DASH_THIN`) bridged: a dashed printed rule made whole, a pen's stroke left as it is."""
    thin = u8 & ~cv2.morphologyEx(u8, cv2.MORPH_OPEN, _rect(RULE_DASH_THIN, 1))
    return _bridged(thin, 1, gap) | u8


def remove_lines(ink: np.ndarray, wander: bool = False, ruled: np.ndarray | None = None) -> np.ndarray:
    """``ink`` (bool) without long horizontal runs and box-side vertical rules (box and guide lines).

    Strokes crossing a removed line are bridged again where ink sits right above and below it.
    ``wander``: printed lines may step by a pixel (a resampled field, or a box on a slightly
    skewed page); bare field crops (``layout="field"``) are searched strictly. ``ruled``: a superset
    of ``ink`` in which the vertical rules, and the lines they must end at, are looked for.

    >>> ink = np.zeros((60, 200), bool)
    >>> ink[50:52, :] = True          # a guide line
    >>> ink[10:55, 40:44] = True      # a "1" crossing it
    >>> out = remove_lines(ink)
    >>> bool(out[50:52, 100:150].any()), bool(out[10:55, 40:44].all())   # the line goes, the crossing stroke stays
    (False, True)
    """
    h, w = ink.shape
    u8 = ink.astype(np.uint8)
    hlen = int(max(15, LINE_H_FRACTION * w, LINE_H_PER_HEIGHT * h))
    vlen = int(max(9, LINE_V_FRACTION * h))
    hor = _horizontal_lines(u8, hlen, wander)
    if ruled is None:
        rows = np.nonzero(hor.any(axis=1))[0]
        ver = _vertical_rules(u8, vlen, rows, leaning_sides=True)
    else:
        # a black-and-white field's box lines break into dashes: bridged along their length (a
        # bridge across the digits would take their strokes for lines)
        gap = int(RULE_DASH_GAP * h)
        lined = ruled.astype(np.uint8)
        rows = np.nonzero(_horizontal_lines(_bridged(lined, gap, 1), hlen, wander).any(axis=1))[0]
        ver = _vertical_rules(_rules_bridged(lined, gap), vlen, rows, leaning_sides=True) & u8
    lines = (hor | ver).astype(bool)
    if not lines.any():
        return ink
    # grow the line mask a little (anti-aliased edges), then give back pixels of strokes crossing it
    grown = cv2.dilate(lines.astype(np.uint8), _rect(3, 3)).astype(bool)
    out = ink & ~grown
    keep = _crossing_strokes(out, cv2.dilate(hor, _rect(3, 3)).astype(bool))
    return out | (keep & ink)


def _crossing_strokes(rest: np.ndarray, lines: np.ndarray) -> np.ndarray:
    """Pixels of ``lines`` that join ink right above and right below (a stroke crossing a line)."""
    h = rest.shape[0]
    reach = max(3, h // 12)
    k = np.ones((reach, 1), np.uint8)
    above = cv2.dilate(rest.astype(np.uint8), k, anchor=(0, 0)).astype(bool)  # ink at or above within reach
    below = cv2.dilate(rest.astype(np.uint8), k, anchor=(0, reach - 1)).astype(bool)
    return lines & above & below


def drop_currency_cell(ink: np.ndarray, ruled: np.ndarray | None = None, dash_gap: int = 0) -> np.ndarray:
    """Blank what lies left of a printed vertical rule in the left 30% of the field (the rule and
    its lines looked for in ``ruled``, a superset of ``ink``, when given; with ``dash_gap``, gaps
    up to that many pixels bridged along the lines and along the rule's thin ink: a black-and-white
    scan's dashed printed lines, :data:`RULE_DASH_GAP`).

    The rule must run from one horizontal line (or the border) to another, as the
    rupee-sign cell of CTS cheques does; a handwritten ``1`` does not.

    >>> ink = np.zeros((60, 200), bool)
    >>> ink[2:4, :] = ink[56:58, :] = True    # the box's top and bottom lines
    >>> ink[2:58, 30:32] = True               # a rule closing the currency cell
    >>> ink[20:40, 10:20] = True              # the printed sign in the cell
    >>> ink[15:45, 80:84] = True              # a handwritten "1"
    >>> out = drop_currency_cell(ink)
    >>> bool(out[:, :32].any()), bool(out[15:45, 80:84].all())
    (False, True)
    >>> dashed = np.zeros((60, 200), bool)    # a black-and-white scan's: lines and rule in dashes
    >>> for x in range(0, 200, 14):
    ...     dashed[8:10, x : x + 7] = dashed[50:52, x : x + 7] = True
    >>> for y in range(8, 52, 10):
    ...     dashed[y : y + 5, 30:32] = True
    >>> dashed[20:40, 10:20] = dashed[15:45, 80:84] = True
    >>> [bool(drop_currency_cell(dashed, dash_gap=g)[20:40, 10:20].any()) for g in (0, 8)]
    [True, False]
    """
    h, w = ink.shape
    u8 = ink.astype(np.uint8) if ruled is None else ruled.astype(np.uint8)
    lw = max(1, int(0.3 * w))
    left = np.ascontiguousarray(u8[:, :lw])
    line_len, rule_len = max(15, w // 3), max(9, int(0.4 * h))
    inner = int(0.04 * w) + 1  # the box's own left side sits at the very left: the cell rule is further in
    rows = np.nonzero(_horizontal_lines(u8, line_len).any(axis=1))[0]
    ver = _vertical_rules(left, rule_len, rows)
    if not ver[:, inner:].any() and dash_gap > 1:  # a black-and-white scan's rule and lines in dashes
        rows = np.nonzero(_horizontal_lines(_bridged(u8, dash_gap, 1), line_len).any(axis=1))[0]
        ver = _alone_in_their_column(_vertical_rules(_rules_bridged(left, dash_gap), rule_len, rows), left, rows)
    cols = np.nonzero(ver[:, inner:].any(axis=0))[0] + inner
    if len(cols) == 0:
        return ink
    out = ink.copy()
    out[:, : cols.max() + 1] = False
    return out


#: A rule made whole from dashes (:func:`drop_currency_cell`) is one when every piece of ink it
#: joined, away from the lines it ends at, stands within this many pixels of its column: a pen's
#: stroke bridged to the lines, the left of a 9's loop beside a box's side, spreads further
#: (``bench.py``'s Group 4 cheque 16, ``9`` read ``7``).
DASH_RULE_SPREAD = 3


def _alone_in_their_column(rules: np.ndarray, ink: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """The ``rules`` (0/1, from bridged dashes) whose pieces of ``ink`` stand in their column alone
    (:data:`DASH_RULE_SPREAD`), the rows ``rows`` of the printed lines and beside them left out.

    >>> ink = np.zeros((40, 30), np.uint8); ink[5:35:6, 10:12] = 1   # a rule in dashes ...
    >>> ink[8:30, 20:22] = 1; ink[8:10, 20:28] = 1                  # ... and a pen's stroke, turning
    >>> rules = np.zeros_like(ink); rules[2:38, 10:12] = rules[2:38, 20:22] = 1
    >>> np.flatnonzero(_alone_in_their_column(rules, ink, np.array([1, 38])).any(axis=0)).tolist()
    [10, 11]
    """
    if not rules.any():
        return rules
    body = ink.copy()
    for r in rows:
        body[max(0, r - 2) : r + 3] = 0
    n_r, rlab, rstats, _ = connected_components(rules)
    _, blab, bstats, _ = connected_components(body)
    out = np.zeros_like(rules)
    for j in range(1, n_r):
        x0, x1 = int(rstats[j, cv2.CC_STAT_LEFT]), int(rstats[j, cv2.CC_STAT_LEFT] + rstats[j, cv2.CC_STAT_WIDTH])
        pieces = np.unique(blab[(rlab == j) & (body > 0)])
        pieces = pieces[pieces > 0]
        lo, hi = bstats[pieces, cv2.CC_STAT_LEFT], bstats[pieces, cv2.CC_STAT_LEFT] + bstats[pieces, cv2.CC_STAT_WIDTH]
        if len(pieces) and lo.min() >= x0 - DASH_RULE_SPREAD and hi.max() <= x1 + DASH_RULE_SPREAD:
            out[rlab == j] = rules[rlab == j]
    return out


def drop_microtext(ink: np.ndarray, label=connected_components) -> np.ndarray:
    """Drop rows of many tiny components (pre-printed micro-text lines along the box); ``label``
    labels the ink's pieces (:func:`connected_components`, or a :class:`LastLabelled`).

    A band counts when it holds at least ``MICROTEXT_MIN_COUNT`` components shorter than
    ``MICROTEXT_HEIGHT`` of the field height, spread over at least 40% of the width.

    >>> ink = np.zeros((60, 200), bool)
    >>> for x in range(10, 190, 12):          # a row of 15 tiny printed letters along the box
    ...     ink[52:55, x:x + 3] = True
    >>> ink[10:45, 40:44] = True              # a handwritten "1"
    >>> out = drop_microtext(ink)
    >>> bool(out[52:55].any()), bool(out[10:45, 40:44].all())
    (False, True)
    """
    h, w = ink.shape
    n, lab, stats, cent = label(ink.astype(np.uint8))
    if n <= MICROTEXT_MIN_COUNT:
        return ink
    tiny = np.nonzero(stats[1:, cv2.CC_STAT_HEIGHT] < MICROTEXT_HEIGHT * h)[0] + 1
    if len(tiny) < MICROTEXT_MIN_COUNT:
        return ink
    cy = cent[tiny, 1]
    band = max(3.0, 0.04 * h)
    drop = np.zeros(n, bool)
    for i in tiny:
        near = tiny[np.abs(cy - cent[i, 1]) <= band]
        if len(near) < MICROTEXT_MIN_COUNT:
            continue
        x0 = stats[near, cv2.CC_STAT_LEFT].min()
        x1 = (stats[near, cv2.CC_STAT_LEFT] + stats[near, cv2.CC_STAT_WIDTH]).max()
        if x1 - x0 >= 0.4 * w:
            drop[near] = True
    return ink & ~label_lookup(drop, lab)


def drop_left_sign(ink: np.ndarray, gray: np.ndarray, rupee: bool = True, label=connected_components) -> np.ndarray:
    """Drop a printed currency sign standing alone at the left edge of a boxed field.

    The sign is the leftmost component when it ends within ``SIGN_MAX_RIGHT`` of the
    width, is 15-70% of the field height, not a thin stroke at any slant (a ``1``: ink
    elongation below ``SIGN_MIN_ELONGATION``), printed darker than the rest of the ink in
    ``gray`` (by ``SIGN_DARKER_BY``: a handwritten first digit has the pen's shade) or, when a
    black pen matches the print's shade and ``rupee`` (the field may hold one), with a rupee's two
    bars at its top (:func:`two_top_bars`), and no other ink starts left of its right edge. A piece
    shaped as a euro or pound sign (:func:`euro_bars`, :func:`pound_bars`) is dropped whatever its
    shade, when it ends within ``SIGN_SHAPE_MAX_RIGHT`` of the width. ``label`` labels the ink's
    pieces (:func:`connected_components`, or a :class:`LastLabelled`).

    >>> gray = np.full((60, 200), 230, np.uint8)
    >>> gray[20:40, 8:22] = 20                           # a printed sign, darker than ...
    >>> gray[12:48, 60:64] = gray[12:48, 90:94] = 100    # ... the pen's "11"
    >>> out = drop_left_sign(gray < 128, gray)
    >>> bool(out[:, :30].any()), int(out.sum()) == 2 * 36 * 4
    (False, True)
    >>> gray[20:40, 8:22] = 100                          # the pen's shade: a handwritten first digit stays
    >>> bool(drop_left_sign(gray < 128, gray)[20:40, 8:22].all())
    True
    """
    h, w = ink.shape
    n, lab, stats, _ = label(ink.astype(np.uint8))
    if n <= 2:
        return ink
    cy = stats[1:, cv2.CC_STAT_TOP] + stats[1:, cv2.CC_STAT_HEIGHT] / 2.0
    # ignore specks and strays near the top or bottom edge (descenders from the line above)
    idx = np.nonzero((stats[1:, cv2.CC_STAT_HEIGHT] > 0.1 * h) & (cy > 0.2 * h) & (cy < 0.8 * h))[0] + 1
    if len(idx) < 2:
        return ink
    order = idx[np.argsort(stats[idx, cv2.CC_STAT_LEFT])]
    first = order[0]
    x, y, cw, ch, _ = stats[first]
    if x + cw > SIGN_SHAPE_MAX_RIGHT * w or not 0.15 * h <= ch <= 0.7 * h:
        return ink
    piece = lab[y : y + ch, x : x + cw] == first
    if cw < 0.3 * ch or ink_elongation(piece) < SIGN_MIN_ELONGATION:
        return ink  # a thin stroke, upright or slanted, is a handwritten "1", not a printed sign
    if stats[order[1:], cv2.CC_STAT_LEFT].min() < x + cw:
        return ink
    shaped = euro_bars(piece) or pound_bars(piece)
    if x + cw > SIGN_MAX_RIGHT * w and not shaped:
        return ink
    sign = lab == first
    darker = np.median(gray[sign]) <= np.median(gray[ink & ~sign]) - SIGN_DARKER_BY
    if not darker and not shaped and not (rupee and two_top_bars(piece)):
        return ink  # the pen's own shade and no sign's shape: a handwritten first digit
    return ink & ~sign


def asterisks(ink: np.ndarray, label=connected_components) -> np.ndarray | None:
    """The mask of the check-protection asterisks in ``ink`` (bool, ink True), ``None`` when it has none
    (``label`` labels the ink's pieces: :func:`connected_components`, or a :class:`LastLabelled`).

    The components in runs of ``ASTERISK_MIN_RUN`` or more stars side by side, each
    ``ASTERISK_HEIGHT`` of the tallest piece's height and star-shaped (:func:`spokes`), alike in
    size and top (printed from one glyph: within a tenth, or 2 pixels), at most a star's width apart.

    >>> import cv2
    >>> ink = np.zeros((60, 300), np.uint8)
    >>> for x in (20, 42):                                   # "**" ...
    ...     for angle in (0, 60, 120):
    ...         d = np.array([np.sin(np.radians(angle)), np.cos(np.radians(angle))]) * 8
    ...         _ = cv2.line(ink, (int(x - d[0]), int(22 - d[1])), (int(x + d[0]), int(22 + d[1])), 1, 2)
    >>> _ = cv2.putText(ink, "25", (60, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 1, 3)   # ... then "25"
    >>> stars = asterisks(ink.astype(bool))
    >>> int(stars[:, :55].sum()), bool(stars[:, 55:].any()), asterisks(ink[:, 31:].astype(bool)) is None   # one star alone: none
    (280, False, True)
    """
    n, lab, stats, _ = label(ink.astype(np.uint8))
    if n < 1 + ASTERISK_MIN_RUN:
        return None
    tallest = int(stats[1:, cv2.CC_STAT_HEIGHT].max())
    low, high = ASTERISK_HEIGHT
    found = []
    for i in range(1, n):
        x, y, w, h = (int(v) for v in stats[i, :4])
        if not low * tallest <= h <= high * tallest:
            continue
        if 0.6 <= w / h <= 1.6 and _star_shaped(lab[y : y + h, x : x + w] == i):
            found.append((x, y, w, h, i))
        elif w > 1.6 * h:  # stars printed close, joined by their side arms: each part between the joins a star
            parts = _joined_parts(lab[y : y + h, x : x + w] == i)
            if len(parts) >= ASTERISK_MIN_RUN and all(0.6 <= (b - a) / h <= 1.6 and _star_shaped(m) for a, b, m in parts):
                found.extend((x + a, y, b - a, h, i) for a, b, _ in parts)
    found.sort()
    runs, run = [], found[:1]
    for a, b in itertools.pairwise(found):
        # printed from one glyph: the same size and top, to a pixel or two
        tol = max(2.0, 0.1 * max(a[3], b[3]))
        alike = abs(b[3] - a[3]) <= tol and abs(b[1] - a[1]) <= tol and abs(b[2] - a[2]) <= max(2.0, 0.1 * max(a[2], b[2]))
        if alike and b[0] - (a[0] + a[2]) <= max(a[2], b[2]):
            run.append(b)
        else:
            runs.append(run)
            run = [b]
    runs.append(run)
    stars = [c[4] for r in runs if len(r) >= ASTERISK_MIN_RUN for c in r]
    if not stars:
        return None
    keep = np.zeros(n, bool)
    keep[stars] = True
    return label_lookup(keep, lab)


def dollar_sign(ink: np.ndarray, label=connected_components) -> np.ndarray | None:
    """The mask of a dollar sign printed left of the amount in ``ink`` (bool, ink True) and of all the
    ink wholly left of it (``US$``), ``None`` when there is none (``label``: as :func:`asterisks`').

    The sign is a piece with a dollar's two holes and foot (:func:`dollar_shaped`), at least
    ``DOLLAR_TALLER`` times the height of the pieces right of it at least half its height (at least
    two of them: the amount's digits; their median), its foot lower than theirs, and at most three
    such pieces wholly left of it (``US``) and none reaching under it. A handwritten first digit
    is not dropped for it: it has no such holes, or no such foot below the others.

    >>> import cv2
    >>> ink = np.zeros((60, 200), np.uint8)
    >>> _ = cv2.putText(ink, "25", (60, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 1, 3)    # the amount ...
    >>> ink[14:52, 20:40] = 1; ink[20:27, 24:29] = ink[38:45, 31:36] = 0             # ... after a $'s holes
    >>> ink[14:17, 20:28] = ink[14:17, 32:40] = ink[49:52, 20:28] = ink[49:52, 32:40] = 0   # and bar's ends
    >>> sign = dollar_sign(ink.astype(bool))
    >>> bool((sign == ink.astype(bool))[:, :45].all()), bool(sign[:, 45:].any()), dollar_sign(ink[:, 45:].astype(bool))
    (True, False, None)
    """
    n, lab, stats, big = _tall_pieces(ink, label)
    if n < 4:
        return None
    for k, i in enumerate(big[:4]):
        x, y, w, h = (int(v) for v in stats[i, :4])
        right = [j for j in big[k + 1 :] if stats[j, cv2.CC_STAT_LEFT] > x + w // 2
                 and stats[j, cv2.CC_STAT_HEIGHT] >= 0.5 * h]
        if len(right) < 2 or any(stats[j, cv2.CC_STAT_LEFT] + stats[j, cv2.CC_STAT_WIDTH] > x for j in big[:k]):
            continue
        heights = stats[right, cv2.CC_STAT_HEIGHT]
        foot = float(np.median(stats[right, cv2.CC_STAT_TOP] + heights))
        if h < DOLLAR_TALLER * float(np.median(heights)) or y + h < foot + 1:
            continue
        if not dollar_shaped(lab[y : y + h, x : x + w] == i):
            continue
        left = np.zeros(n, bool)
        left[1:] = stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH] <= x + 1
        left[i] = True
        return label_lookup(left, lab)
    return None


def _tall_pieces(ink: np.ndarray, label=connected_components) -> tuple[int, np.ndarray, np.ndarray, list[int]]:
    """The pieces of ``ink`` (bool, ink True) as ``label`` gives them (:func:`connected_components`, or a
    :class:`LastLabelled`), and the labels of those at least 0.3 of the tallest one's height, left to
    right (``[]``: no ink).

    >>> ink = np.zeros((20, 30), bool); ink[1:18, 20:23] = ink[2:18, 5:8] = ink[16:18, 12:14] = True
    >>> _tall_pieces(ink)[3]   # the bar at the left (labelled second), then the right one; the dot is too short
    [2, 1]
    """
    n, lab, stats, _ = label(ink.astype(np.uint8))
    if n < 2:
        return n, lab, stats, []
    tallest = int(stats[1:, cv2.CC_STAT_HEIGHT].max())
    big = [int(i) for i in np.argsort(stats[1:, cv2.CC_STAT_LEFT], kind="stable") + 1
           if stats[i, cv2.CC_STAT_HEIGHT] >= 0.3 * tallest]
    return n, lab, stats, big


def dollar_shaped(mask: np.ndarray) -> bool:
    """Whether a piece (cropped) has a printed dollar sign's two holes, the upper one left of the
    lower (:data:`DOLLAR_UPPER_HOLE`, :data:`DOLLAR_LOWER_HOLE`), and its bar's narrow foot at the
    bottom (:data:`DOLLAR_FOOT_WIDTH`, near its middle). An 8's two loops are one above the other,
    or the upper one to the right as a hand slants it, and its foot is a loop's round bottom.

    >>> dollar = np.ones((40, 20), bool); dollar[8:16, 4:9] = dollar[24:32, 11:16] = False
    >>> dollar[:3, :9] = dollar[:3, 12:] = dollar[-3:, :9] = dollar[-3:, 12:] = False
    >>> eight = dollar.copy(); eight[-3:] = True                                       # a round foot
    >>> dollar_shaped(dollar), dollar_shaped(eight), dollar_shaped(dollar[:, ::-1])   # leaning back
    (True, False, False)
    """
    h, w = mask.shape
    holes = _holes(mask)
    if len(holes) != 2:
        return False
    (ux, uy), (lx, ly) = sorted(((cx / w, cy / h) for cx, cy in holes), key=lambda c: c[1])
    if not (DOLLAR_UPPER_HOLE[0] <= uy <= DOLLAR_UPPER_HOLE[1] and DOLLAR_LOWER_HOLE[0] <= ly <= DOLLAR_LOWER_HOLE[1]
            and lx > ux + 0.04):
        return False
    k = max(2, round(0.06 * h))
    top, foot = np.flatnonzero(mask[:k].any(axis=0)), np.flatnonzero(mask[-k:].any(axis=0))
    if not (foot[-1] - foot[0] + 1 <= DOLLAR_FOOT_WIDTH * w and 0.25 * w <= (foot[0] + foot[-1] + 1) / 2 <= 0.7 * w):
        return False
    # the bar: ink all the way down the line from its top's middle to its foot's, which an 8's loops cross
    rows = np.arange(h)
    xs = np.rint((top[0] + top[-1]) / 2 + ((foot[0] + foot[-1]) / 2 - (top[0] + top[-1]) / 2) * rows / max(1, h - 1)).astype(int)
    on_bar = mask[rows, np.clip(xs, 0, w - 1)] | mask[rows, np.clip(xs - 1, 0, w - 1)] | mask[rows, np.clip(xs + 1, 0, w - 1)]
    return bool(on_bar.mean() >= DOLLAR_BAR)


def usd_letters(ink: np.ndarray, label=connected_components) -> np.ndarray | None:
    """The mask of the letters ``USD`` printed left of the amount in ``ink`` (bool, ink True) and of all
    the ink wholly left of them, ``None`` when there are none (``label``: as :func:`asterisks`').

    Three pieces side by side, the first ones of the field (with at least two more right of them),
    of one height and top (within a tenth: printed capitals), the first a ``U`` (:func:`u_shaped`)
    and the third a ``D`` (:func:`d_shaped`). No digit is either, nor a handwritten one both.

    >>> import cv2
    >>> ink = np.zeros((60, 300), np.uint8)
    >>> _ = cv2.putText(ink, "USD 25", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 1, 3)
    >>> letters = usd_letters(ink.astype(bool))
    >>> bool((letters == ink.astype(bool))[:, :80].all()), bool(letters[:, 95:].any()), usd_letters(ink[:, 95:].astype(bool))
    (True, False, None)
    """
    n, lab, stats, big = _tall_pieces(ink, label)
    if len(big) < 5:
        return None
    u, _, d = big[:3]
    tops, heights = stats[big[:3], cv2.CC_STAT_TOP], stats[big[:3], cv2.CC_STAT_HEIGHT]
    tol = max(2.0, 0.1 * float(heights.max()))
    if heights.max() - heights.min() > tol or tops.max() - tops.min() > tol:
        return None
    pieces = [lab[y : y + h, x : x + w] == i for i in (u, d) for x, y, w, h in [stats[i, :4]]]
    if not (u_shaped(pieces[0]) and d_shaped(pieces[1])):
        return None
    left = np.zeros(n, bool)
    left[1:] = stats[1:, cv2.CC_STAT_LEFT] + stats[1:, cv2.CC_STAT_WIDTH] <= stats[d, cv2.CC_STAT_LEFT] + stats[d, cv2.CC_STAT_WIDTH]
    return label_lookup(left, lab)


def u_shaped(mask: np.ndarray) -> bool:
    """Whether a piece (cropped) is a ``U``: no hole, two arms apart (each row from an eighth to
    three fifths of its height two runs of ink, at least a fifth of its width between them, however
    it slants), joined at the bottom across (the ink of its lowest rows spans 0.45 of its width at
    least). An open 4's arm and stem are apart too, but its foot is the stem alone.

    >>> u = np.zeros((30, 20), bool); u[:, :4] = u[:, 16:] = u[26:] = True
    >>> four = np.zeros((30, 20), bool); four[:19, :4] = four[16:19] = four[:, 13:17] = True   # an open 4
    >>> u_shaped(u), u_shaped(four)
    (True, False)
    """
    h, w = mask.shape
    if h < 8 or w < 6 or _holes(mask):
        return False
    for row in mask[int(0.12 * h) : int(0.6 * h)]:
        runs = _bars(row)
        if len(runs) != 2 or runs[1][0] - runs[0][1] - 1 < 0.2 * w:
            return False
    foot = np.flatnonzero(mask[int(0.85 * h) :].any(axis=0))
    return bool(foot[-1] - foot[0] + 1 >= 0.45 * w)


def d_shaped(mask: np.ndarray) -> bool:
    """Whether a piece (cropped) is a ``D``: one hole, its left side a straight stroke (the left edge
    of its rows from a tenth to nine tenths of its height on a line, to ``max(1.5, 0.08 * width)``
    pixels) from which its top and bottom bars start, and those bars round off short of its right
    side (their right end at most 0.85 of its width). A 0's left side is round, its top in its middle.

    >>> d = np.zeros((30, 20), np.uint8); d[:, :3] = 1                       # a stem, then a half ring
    >>> _ = cv2.ellipse(d, (2, 14), (15, 13), 0, -90, 90, 1, 3)
    >>> zero = np.zeros((30, 20), np.uint8); _ = cv2.ellipse(zero, (10, 15), (8, 13), 0, 0, 360, 1, 3)
    >>> d, zero = d.astype(bool), zero.astype(bool)
    >>> d_shaped(d), d_shaped(zero)
    (True, False)
    """
    h, w = mask.shape
    if h < 8 or w < 6 or len(_holes(mask)) != 1:
        return False
    rows = np.arange(int(0.1 * h), int(np.ceil(0.9 * h)))
    if not mask[rows].any(axis=1).all():
        return False
    lefts = np.array([np.flatnonzero(mask[r])[0] for r in rows], float)
    line = np.polyfit(rows, lefts, 1)
    if np.abs(lefts - np.polyval(line, rows)).max() > max(1.5, 0.08 * w):
        return False
    for r in (0, h - 1):  # the top and bottom bars
        cols = np.flatnonzero(mask[r])
        if cols[0] > np.polyval(line, r) + max(2.0, 0.15 * w) or cols[-1] > 0.85 * w:
            return False
    return True


def enclosed_paper(mask: np.ndarray) -> np.ndarray:
    """The paper the ink of ``mask`` encloses (a 0, a loop), which the paper around it cannot reach
    (4-connected): ``uint8``, padded by a pixel each side, 1 there.

    >>> ring = np.ones((5, 5), bool); ring[2, 2] = False
    >>> enclosed_paper(ring)[1:-1, 1:-1].nonzero()
    (array([2]), array([2]))
    """
    paper = np.pad(~mask, 1, constant_values=True).astype(np.uint8)
    cv2.floodFill(paper, None, (0, 0), 0)
    return paper


def _holes(mask: np.ndarray) -> list[tuple[float, float]]:
    """The middle ``(x, y)`` of each patch of paper the ink of ``mask`` encloses (:func:`enclosed_paper`).

    >>> ring = np.ones((7, 7), bool); ring[2:5, 2:5] = False
    >>> _holes(ring), _holes(np.ones((7, 7), bool))
    ([(3.0, 3.0)], [])
    """
    n, _, _, cent = connected_components(enclosed_paper(mask), connectivity=4)
    return [(float(cx) - 1, float(cy) - 1) for cx, cy in cent[1:n]]


def _star_shaped(mask: np.ndarray) -> bool:
    """Whether a piece has an asterisk's spokes (:func:`spokes`): at least ``ASTERISK_MIN_SPOKES``
    on two of the circles ``ASTERISK_RADII`` and one fewer at least on the third, as many on each
    within 2."""
    counts = [spokes(mask, r) for r in ASTERISK_RADII]
    return (sum(c >= ASTERISK_MIN_SPOKES for c in counts) >= 2 and min(counts) >= ASTERISK_MIN_SPOKES - 1
            and max(counts) - min(counts) <= 2)


def _joined_parts(mask: np.ndarray) -> list[tuple[int, int, np.ndarray]]:
    """A piece cut at its thin joins (columns of at most two pixels, or a fifth of its height):
    ``(first column, end column, the part's mask)`` for each part between them, the joins spread
    over the parts on either side."""
    thin = mask.sum(axis=0) <= max(2, mask.shape[0] // 5)
    runs = [[first, last + 1] for first, last in _bars(~thin)]
    for left, right in itertools.pairwise(runs):  # a join's columns split between its two parts
        mid = (left[1] + right[0]) // 2
        left[1], right[0] = mid, mid
    if runs:
        runs[0][0], runs[-1][1] = 0, len(thin)
    return [(a, b, mask[:, a:b]) for a, b in runs]


def spokes(mask: np.ndarray, radius: float) -> int:
    """How many strokes cross the circle about the middle of ``mask`` of ``radius`` times its half
    size (the smaller side's): an asterisk's spokes.

    >>> star = np.zeros((21, 21), bool); star[10, :] = star[:, 10] = True
    >>> spokes(star, 0.8), spokes(np.ones((21, 21), bool), 0.8)
    (4, 0)
    """
    h, w = mask.shape
    angles = np.linspace(0.0, 2 * np.pi, 96, endpoint=False)
    r = radius * min(h, w) / 2
    ys = np.clip(np.round((h - 1) / 2 + r * np.sin(angles)).astype(int), 0, h - 1)
    xs = np.clip(np.round((w - 1) / 2 + r * np.cos(angles)).astype(int), 0, w - 1)
    ring = mask[ys, xs].astype(np.int8)
    return int((np.diff(np.concatenate([ring, ring[:1]])) == 1).sum())


def two_top_bars(mask: np.ndarray) -> bool:
    """Whether ``mask`` has two separate horizontal bars across most of its width in its top
    ``SIGN_BARS_TOP`` rows, the first at the very top: the printed rupee sign's, which no digit has
    (a 7 or a 5 has one; a crossed 7's bar is lower).

    >>> rupee = np.zeros((40, 24), bool); rupee[0:3] = rupee[9:12] = True; rupee[12:40, 4:7] = True
    >>> seven = np.zeros((40, 24), bool); seven[0:3] = True; seven[3:40, 12:15] = True
    >>> two_top_bars(rupee), two_top_bars(seven)
    (True, False)
    """
    h, w = mask.shape
    bar_rows = mask[: max(1, int(SIGN_BARS_TOP * h))].sum(axis=1) >= 0.6 * w
    starts = np.flatnonzero(bar_rows & ~np.r_[False, bar_rows[:-1]])
    return bool(len(starts) >= 2 and starts[0] <= 0.1 * h)


def _longest_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's longest run of ink: its length and its first column (0 where the row is empty)."""
    h, w = mask.shape
    padded = np.zeros((h, w + 2), np.int8)
    padded[:, 1:-1] = mask
    lengths, starts = np.zeros(h, int), np.zeros(h, int)
    for r, row in enumerate(np.diff(padded, axis=1)):
        begin, end = np.flatnonzero(row == 1), np.flatnonzero(row == -1)
        if len(begin):
            k = int(np.argmax(end - begin))
            lengths[r], starts[r] = end[k] - begin[k], begin[k]
    return lengths, starts


def _bars(rows: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` row of each run of True in ``rows``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(np.int8), [0]])))
    return [(int(a), int(b) - 1) for a, b in zip(edges[0::2], edges[1::2])]


def euro_bars(mask: np.ndarray) -> bool:
    """Whether ``mask`` (one piece, cropped) is a euro sign: two bars, both in its middle three fifths,
    each running from its left edge past its middle, and nothing in its right sixth from the first to
    the second (the C is open to the right, and reaches further right than the bars). No digit has
    two bars across it from the left there (a 5's top bar is at its top).

    >>> euro = np.zeros((40, 30), bool); euro[14:17, 0:20] = euro[23:26, 0:20] = True
    >>> euro[0:3, 8:30] = euro[37:40, 8:30] = euro[:, 4:7] = True
    >>> eight = np.zeros((40, 30), bool); eight[0:3] = eight[18:21] = eight[37:] = True
    >>> eight[:, :3] = eight[:, 27:] = True
    >>> euro_bars(euro), euro_bars(eight)
    (True, False)
    """
    h, w = mask.shape
    lengths, starts = _longest_runs(mask)
    bars = _bars((lengths >= 0.55 * w) & (starts <= 0.15 * w))
    if len(bars) != 2 or bars[0][0] < 0.2 * h or bars[1][1] > 0.8 * h or bars[1][0] - bars[0][1] < 2:
        return False  # (a 5's top bar and its bowl's top: the first at its top)
    return not mask[bars[0][0] : bars[1][1] + 1, int(np.ceil(0.85 * w)) :].any()


def pound_bars(mask: np.ndarray) -> bool:
    """Whether ``mask`` (one piece, cropped) is a pound sign: a foot across its width at the bottom, a
    bar across its stem in its middle, only the stem between them, and nothing in its right quarter
    from its middle to its foot. A 2 has the foot (and its stroke down the right), a crossed 7 or a 4
    the bar, no digit both.

    >>> pound = np.zeros((40, 30), bool); pound[37:40] = True; pound[20:23, 2:20] = True
    >>> pound[3:40, 8:11] = True; pound[0:3, 8:26] = True
    >>> two = np.zeros((40, 30), bool); two[37:40] = True; two[0:3, 4:28] = True; two[3:20, 26:29] = True
    >>> for r in range(20, 37): two[r, 26 - (r - 20) : 29 - (r - 20)] = True
    >>> pound_bars(pound), pound_bars(two)
    (True, False)
    """
    h, w = mask.shape
    lengths, _ = _longest_runs(mask)
    foot = lengths >= 0.7 * w
    if not foot[int(0.85 * h) :].any():
        return False
    foot_top = int(0.85 * h) + int(np.flatnonzero(foot[int(0.85 * h) :])[0])
    margin = max(1, int(0.05 * h))  # where the bar and the foot meet the stem
    above_foot = foot_top - margin
    runs = _bars(lengths[:above_foot] >= 0.5 * w)
    bars = [r for r in runs if r[0] >= 0.3 * h and r[1] <= 0.72 * h]
    # one bar across the middle; any other wide rows are the hook's, at the top (a 1's flag is wide
    # down into the middle, not apart from it)
    if len(bars) != 1 or any(r[1] >= 0.3 * h for r in runs if r not in bars):
        return False
    below = bars[0][1] + 1 + margin
    return (below < above_foot and bool((lengths[below:above_foot] <= 0.4 * w).all())
            and not mask[int(0.3 * h) : above_foot, int(np.ceil(0.75 * w)) :].any())


def ink_elongation(mask: np.ndarray) -> float:
    """Minor over major axis length of the ink in ``mask`` (0 for a thin straight stroke at any
    slant, about 1 for a blob or a ring).

    >>> round(ink_elongation(np.eye(20, dtype=bool)), 2)
    0.0
    >>> round(ink_elongation(np.ones((20, 20), bool)), 2)
    1.0
    """
    ys, xs = np.nonzero(mask)
    if len(xs) < 3:
        return 1.0
    vals = np.linalg.eigvalsh(point_cov(xs, ys))
    return float(np.sqrt(max(vals[0], 0.0) / max(vals[1], 1e-9)))


def point_cov(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``np.cov(np.vstack([xs, ys]).astype(float))``, the same numbers by the same steps without its
    argument handling (12 against 26 us for 300 points: it runs for every piece of ink).

    >>> xs, ys = np.array([0, 1, 2, 5]), np.array([1, 1, 4, 2])
    >>> bool(np.array_equal(point_cov(xs, ys), np.cov(np.vstack([xs, ys]).astype(float))))
    True
    """
    x = np.vstack([xs, ys]).astype(float)
    x -= x.mean(axis=1)[:, None]
    c = np.dot(x, x.T.conj())  # as np.cov: a product with a copy, not numpy's X @ X.T shortcut
    c *= np.true_divide(1, x.shape[1] - 1)
    return c


def split_specks(ink: np.ndarray, min_area: int, dot_min_area: int,
                 label=connected_components) -> tuple[np.ndarray, np.ndarray]:
    """``ink`` without its specks (components under ``min_area`` pixels), and those of the specks that
    are solid dots (:func:`solid_dot`) of at least ``dot_min_area`` pixels: one labelling for both
    (``label``: :func:`connected_components`, or a :class:`LastLabelled`).

    >>> ink = np.zeros((12, 30), bool); ink[2:5, 2:5] = True; ink[2, 10:16] = True; ink[6:12, 20:29] = True
    >>> kept, dots = split_specks(ink, 20, 6)
    >>> int(kept.sum()), np.argwhere(dots).min(axis=0).tolist(), int(dots.sum())
    (54, [2, 2], 9)
    """
    n, lab, stats, _ = label(ink.astype(np.uint8))
    area, w, h = stats[:, cv2.CC_STAT_AREA], stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    small = area < min_area
    small[0] = False
    dot = small & (area >= dot_min_area) & solid_dot(w, h, area)
    return ink & ~label_lookup(small, lab), label_lookup(dot, lab)


def solid_dot(w, h, area):
    """Whether ink of ``area`` pixels in a ``w`` x ``h`` box is a solid dot: as wide as tall within
    2x, filling at least half its box (numbers or arrays).

    >>> bool(solid_dot(3, 3, 9)), bool(solid_dot(6, 1, 6)), bool(solid_dot(4, 4, 6))
    (True, False, False)
    """
    return (np.maximum(w, h) <= 2 * np.minimum(w, h)) & (area >= 0.5 * w * h)


def speck_area(height: int) -> int:
    """The least area of ink that is not a speck, in a field ``height`` pixels tall.

    >>> speck_area(40), speck_area(100), speck_area(200)
    (4, 12, 48)
    """
    return max(4, int(SPECK_AREA * height * height))


def clean_field(field: Field) -> np.ndarray:
    """Binary ink of the field: ``uint8``, paper 255, ink 0, same shape as ``field.image``.

    See the module docstring for the steps.

    >>> import cv2
    >>> img = np.full((60, 200), 225, np.uint8)
    >>> _ = cv2.putText(img, "705", (30, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 50, 3)
    >>> img[52:54, :] = 110                               # a printed guide line
    >>> ink = clean_field(Field(BBox(0, 0, 200, 60), img))
    >>> ink.shape, np.unique(ink).tolist(), bool((ink[52:54] == 255).all())
    ((60, 200), [0, 255], True)
    >>> cv2.connectedComponents((ink == 0).astype(np.uint8))[0] - 1   # the three digits
    3
    """
    return clean_field_and_dots(field)[0]


def drop_beyond_box(ink: np.ndarray, box: BBox) -> np.ndarray:
    """``ink`` without the pieces wholly left or right of the printed ``box``'s sides: print around
    the box (a barcode's bars, blurred together) that the field's margins take in. Handwriting that
    spills over a side is joined to ink inside and stays.

    >>> ink = np.zeros((40, 100), bool); ink[10:30, 20:30] = True; ink[5:35, 96:99] = True
    >>> out = drop_beyond_box(ink, BBox(4, 2, 90, 36))
    >>> bool(out[10:30, 20:30].all()), bool(out[:, 94:].any())
    (True, False)
    """
    w = ink.shape[1]
    out = ink
    # a margin's piece is wholly beyond the box unless it touches ink on the box's side of the margin
    for x0, x1, edge, inside in ((0, box.x, box.x - 1, box.x), (box.x2, w, box.x2, box.x2 - 1)):
        x0, x1 = max(0, x0), min(w, x1)
        margin = ink[:, x0:x1]
        if x1 <= x0 or not margin.any():
            continue
        n, lab, _, _ = connected_components(margin.astype(np.uint8))
        beyond = np.ones(n, bool)
        beyond[0] = False
        if 0 <= inside < w:  # pieces 8-connected to the ink just inside
            across = np.convolve(ink[:, inside].astype(np.uint8), np.ones(3, np.uint8), "same") > 0
            beyond[lab[:, edge - x0][across]] = False
        if beyond.any():
            out = out.copy() if out is ink else out
            out[:, x0:x1] &= ~label_lookup(beyond, lab)
    return out


def drop_side_remnants(ink: np.ndarray, box: BBox) -> np.ndarray:
    """``ink`` without the hairlines a printed ``box``'s left and right sides leave after the lines are
    removed: pieces at most :data:`SIDE_REMNANT_WIDTH` pixels wide, lying wholly within
    :data:`SIDE_REMNANT_REACH` pixels of a side's column (read as trailing ``.`` or ``,`` before).
    A pen's stroke is wider, and one that crosses a side is joined to ink off it.

    >>> ink = np.zeros((40, 100), bool); ink[10:30, 20:30] = True; ink[5:20, 92:93] = True; ink[25:35, 60:62] = True
    >>> out = drop_side_remnants(ink, BBox(4, 2, 90, 36))
    >>> bool(out[10:30, 20:30].all()), bool(out[:, 90:].any()), bool(out[25:35, 60:62].all())
    (True, False, True)
    """
    out = ink
    for side in (box.x, box.x2 - 1):
        # only a strip round the side is labelled, a column wider each way than the reach: a piece of
        # the strip that holds none of those two columns is a piece of the whole field (8-connected)
        x0, x1 = max(0, side - SIDE_REMNANT_REACH - 1), min(ink.shape[1], side + SIDE_REMNANT_REACH + 2)
        if x1 - x0 < 1 or not ink[:, x0:x1].any():
            continue
        _, lab, stats, _ = connected_components(ink[:, x0:x1].astype(np.uint8))
        x, w = stats[:, cv2.CC_STAT_LEFT] + x0, stats[:, cv2.CC_STAT_WIDTH]
        drop = ((x >= side - SIDE_REMNANT_REACH) & (x + w - 1 <= side + SIDE_REMNANT_REACH)
                & (w <= SIDE_REMNANT_WIDTH) & (stats[:, cv2.CC_STAT_HEIGHT] > 2 * w))
        drop[0] = False
        if drop.any():
            out = out.copy() if out is ink else out
            out[:, x0:x1] &= ~label_lookup(drop, lab)
    return out


def clean_field_and_dots(field: Field, paper: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`clean_field`'s ink, and the mask of the speck-sized dots it kept for the segmenter
    (which the field reader's crop leaves out); the pixels of mask ``paper`` are paper (:func:`to_gray`).

    >>> import cv2
    >>> img = np.full((100, 300), 230, np.uint8)
    >>> _ = cv2.putText(img, "25", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.4, 40, 5)
    >>> img[78:81, 150:153] = 40                          # a fine pen's point: 9 pixels, below speck_area(100)
    >>> ink, dots = clean_field_and_dots(Field(BBox(0, 0, 300, 100), img))
    >>> int(dots.sum()), np.argwhere(dots).min(0).tolist(), int(ink[79, 151])
    (9, [78, 150], 0)
    """
    return clean_field_parts(field, paper)[:2]


def clean_field_parts(field: Field, paper: np.ndarray | None = None,
                      gray: np.ndarray | None = None, label=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`clean_field_and_dots`'s ink and dots, and the mask of the specks it dropped (a faint
    stroke that a black-and-white scan broke into pieces leaves its pieces there). ``gray``: the
    field's ``to_gray(field)`` when made already (``paper`` is then set on it); ``label``: the
    :class:`LastLabelled` the ink's pieces are labelled by (a new one when ``None``; the caller's
    labels the ink handed back once more unlabelled, when it is the last one labelled).

    >>> import cv2
    >>> img = np.full((100, 300), 230, np.uint8)
    >>> _ = cv2.putText(img, "25", (40, 80), cv2.FONT_HERSHEY_SIMPLEX, 2.4, 40, 5)
    >>> img[30, 200:202] = 40                             # a 2-pixel speck
    >>> ink, dots, specks = clean_field_parts(Field(BBox(0, 0, 300, 100), img))
    >>> np.argwhere(specks).tolist(), int(ink[30, 200]), bool(dots.any())
    ([[30, 200], [30, 201]], 255, False)
    """
    gray = to_gray(field, paper) if gray is None else with_paper(gray, paper)
    label = LastLabelled() if label is None else label
    h, w = gray.shape[:2]
    if h == 0 or w == 0:
        return np.full(gray.shape[:2], 255, np.uint8), np.zeros(gray.shape[:2], bool), np.zeros(gray.shape[:2], bool)
    levels = binarize_levels(gray)
    ink = drop_crease(binarize(gray, levels=levels), gray)
    # a deskewed black-and-white field's 1 px printed lines are half gray where they straddle two
    # rows or columns, and break into dashes at the Otsu level: its box sides and rules (and the
    # lines they end at) are looked for in all the ink a fifth as dark
    ruled = binarize(gray, otsu_bound=False, levels=levels) | ink if is_bitonal_field(gray) else None
    if field.layout != "field":
        cut = drop_currency_cell(ink, ruled, int(RULE_DASH_GAP * h) if ruled is not None else 0)
        if cut is ink and ruled is None:
            # no cell rule in the ink as binarized: light grey printed cell lines break into dashes at
            # the Otsu level (the Rs., its rule and the box side are then read as digits and widen the
            # field reader's crop), so the rule is looked for again in all the ink a fifth as dark
            cut = drop_currency_cell(ink, binarize(gray, otsu_bound=False, levels=levels) | ink)
        ink = cut
    whole = remove_lines(ink, wander=field.angle != 0 or field.layout != "field", ruled=ruled)
    ink, dots = split_specks(whole, speck_area(h), DOT_MIN_AREA, label)
    specks = whole & ~ink & ~dots
    ink = drop_microtext(ink, label)
    if field.box is not None:
        ink, dots = drop_beyond_box(ink, field.box), drop_beyond_box(dots, field.box)
        ink = drop_side_remnants(ink, field.box)
    if field.layout != "field":
        # a US cheque's box holds no rupee sign, and a bold printed 5 or 8 shows its two top bars (a
        # business cheque's printed 57937.77 lost its 5 and was auto-accepted as 7937.77)
        ink = drop_left_sign(ink, gray, rupee=field.layout != "us", label=label)
    # a fine pen's decimal point is speck-sized: solid dots stay unless they line up as micro-text
    if dots.any():
        dots &= drop_microtext(ink | dots, label)
        ink = ink | dots
    return np.where(ink, 0, 255).astype(np.uint8), dots, specks
