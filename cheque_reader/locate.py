"""Find the cheque on a page and its courtesy-amount field.

A layout gives a prior rectangle for the field, relative to the cheque (fractions of
its width and height). The page is searched for the cheque (a scanner bed around it is
cropped away), deskewed, and tried upright and upside down (a page taller than wide, a cheque
standing on its side, also turned a quarter either way); near the prior the printed
box is looked for (long horizontal and vertical lines forming a rectangle). When no box
is found the prior rectangle itself is returned with a low score.

A negative (light ink on dark paper, :func:`is_negative`) is read as its positive.

All of this runs on the page shrunk by a whole factor to at most :data:`WORK_MAX_SIDE`
pixels (about 100 dpi); only the field is cut, and turned, from the full-resolution page.

Built-in layouts: ``us`` (ANSI X9.7-like personal/business cheques: courtesy box at the
right, after the ``$``), ``in-cts`` (India CTS-2010: boxed field after the rupee sign,
right side, upper-middle band), ``top-right`` (the amount box in the top right corner, as on
French, Spanish and many Latin American cheques), ``field`` (the input already is the field)
and ``auto`` (try the cheque layouts, keep the best score; when ``us`` and ``in-cts`` find the
same box, a ``$`` printed just left of it names the cheque ``us``; a small page, or one without a
clear box whose ink stands tall, is taken for a field crop: :data:`AUTO_FIELD_MAX_SIDE`,
:data:`AUTO_FIELD_INK_HEIGHT`). A printed box split into cells
(a row of date boxes) is never taken for the amount box. A path to a ``.toml`` file names a user
layout::

    name = "my-bank"
    [field]            # the field rectangle, fractions of the cheque width / height
    x = 0.70
    y = 0.33
    w = 0.27
    h = 0.14
    aspect = 2.3       # optional: the cheque's width / height

The file is checked when it is loaded: known keys only, ``x``, ``y``, ``w``, ``h`` fractions of
the cheque between 0 and 1 with ``x + w`` and ``y + h`` at most 1, ``w`` and ``h`` at least
:data:`MIN_LAYOUT_FRACTION`, ``aspect`` above 0, and a non-empty ``name`` (default: the file's
stem) that is not a built-in layout's.

``Field.bbox`` is always in the pixels of the page as given; ``Field.image`` is the
deskewed (and, if needed, turned) crop, enlarged to :data:`MIN_FIELD_HEIGHT` rows when the
scan's resolution is low.

>>> import numpy as np
>>> from cheque_reader.types import Page
>>> f = find_amount_field(Page("x", 1, np.full((40, 120), 255, np.uint8)), "field")
>>> (f.bbox.w, f.bbox.h, f.layout)
(120, 40, 'field')
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .config import BUILTIN_LAYOUTS
from .errors import LayoutError
from .preprocess import connected_components, two_top_bars
from .types import BBox, Field, Page

log = logging.getLogger("cheque_reader")


@dataclass(frozen=True)
class Layout:
    """A field rectangle relative to the cheque: ``(x, y, w, h)`` as fractions of its size.

    >>> LAYOUTS["us"].rect(2400, 1100)  # the prior of a US cheque's courtesy box at 300 dpi
    BBox(x=1788, y=330, w=540, h=154)
    """

    name: str
    x: float
    y: float
    w: float
    h: float
    #: typical cheque width / height (used only to sanity-check a found cheque)
    aspect: float = 2.3

    def rect(self, width: int, height: int) -> BBox:
        """The prior rectangle on a cheque of ``width`` x ``height`` pixels."""
        return BBox(round(self.x * width), round(self.y * height), round(self.w * width), round(self.h * height))


#: Built-in cheque layouts (``field`` and ``auto`` are handled apart).
LAYOUTS: dict[str, Layout] = {
    # India CTS-2010 (measured on the printed boxes of three banks' cheques)
    "in-cts": Layout("in-cts", 0.705, 0.345, 0.255, 0.125, aspect=2.17),
    # US personal / business cheques (ANSI X9.7): courtesy box right-middle after the "$"
    "us": Layout("us", 0.745, 0.30, 0.225, 0.14, aspect=2.4),
    # the amount box in the top right corner (French, Spanish, Brazilian, Chilean, Uruguayan cheques)
    "top-right": Layout("top-right", 0.70, 0.06, 0.27, 0.15, aspect=2.2),
}

#: The layouts ``auto`` tries on a whole cheque, in order.
AUTO_LAYOUTS = ("in-cts", "us")

#: The layouts ``auto`` tries next when none of :data:`AUTO_LAYOUTS` finds a box scoring
#: :data:`AUTO_CLEAR_SCORE`. Measured best scores of ``in-cts``/``us``: IDRBT cheques 0.61 or more;
#: the same cheques with the amount box moved to the top right corner 0.40 or less; 45 of 300
#: synthetic cheques below 0.40, which the extra search then costs about 5 ms each.
AUTO_MORE_LAYOUTS = ("top-right",)
AUTO_CLEAR_SCORE = 0.5

#: When ``in-cts`` and ``us`` find the same printed box, ``auto`` names the cheque by what is printed
#: just left of it, not by which prior lies nearer: a US cheque prints its ``$`` there, a CTS-2010
#: cheque its rupee sign inside the box. A sign is an ink piece, within DOLLAR_MAX_GAP box heights
#: of the box, at least DOLLAR_MIN_HEIGHT of its height tall, DOLLAR_ASPECT (width / height) wide
#: and without a rupee sign's two top bars. Measured at the search's scale: on 40 synthetic cheques
#: the 22 US ones' ``$`` 0.43-0.50 of the box tall, 0.64-0.79 wide, 0.07-0.12 away; on the 40
#: IDRBT cheques the nearest tall piece there (printed Hindi, handwriting) 1.21 wide or wider.
DOLLAR_MIN_HEIGHT = 0.38
DOLLAR_ASPECT = (0.4, 1.0)
DOLLAR_MAX_GAP = 0.5

#: Pages whose smaller side is below this many pixels are taken as a field crop by ``auto``.
AUTO_FIELD_MAX_SIDE = 260

#: A larger page on which no layout finds its printed box clearly (:data:`AUTO_CLEAR_SCORE`) is
#: taken as a field crop by ``auto`` when its ink stands this tall: the area-weighted median height
#: of its ink pieces (:func:`ink_height`), as a share of the page's height. Measured on the page
#: shrunk for the search: whole cheques 0.02-0.13 without a clear box (1,569: the 40 IDRBT scans
#: and their robustness moves, turned, on a scanner bed, 600 dpi...; 800 synthetic cheques in colour
#: and black and white; the samples); one IDRBT cheque turned +8 degrees measures 0.50, its box
#: found clearly. Amount-field crops, on which no box is found: ORAND CAR-A fields enlarged 6 or 10
#: times 0.2 or more for 85-87% of them, with their ink faded to 45% 89%, with a paper margin a
#: third of their height 81%; IDRBT amount boxes enlarged 95%. The rest, specks of a security
#: pattern outweighing the digits, are searched as a cheque, as every large page was before.
AUTO_FIELD_INK_HEIGHT = 0.2

#: :func:`ink_height` looks at the page shrunk to at most this many pixels on its longer side.
INK_HEIGHT_SIDE = 400

#: A uniform page border at least this light (0-255) may be a scanner's white lid around a cheque
#: whose paper is as light as it: when no outline stands out from it, the cheque is found by its
#: content (:func:`_content_on_light_bed`), grown by LIGHT_BED_GROW of its size on each side to the
#: paper's edge, when that covers a share of the page within LIGHT_BED_SHARE. Measured on the page
#: shrunk for the search: the 40 IDRBT cheques on a white A4 or letter page 0.28-0.35 (a US
#: personal cheque on A4 about 0.17); cheques scanned alone 0.51 or more (IDRBT as scanned, turned,
#: faded, 600 dpi, black and white; 300 synthetic cheques; the samples); the IDRBT content 0.92 of
#: the cheque (median). Grown by 0.06 instead, 200 synthetic cheques (seed 77, turned up to 3
#: degrees) on a white A4 page read 183 right, 198 named by their own layout (0.02: 181, 195), but
#: the IDRBT cheques on a white page turned 4 degrees 27 of 37 (28) and turned -30 degrees 29 (30).
LIGHT_BED = 160
LIGHT_BED_SHARE = (0.1, 0.42)
LIGHT_BED_GROW = 0.02
#: The printed lines of a cheque on a white lid are searched within this many degrees of its
#: content's smallest rectangle (a long signature leans it 2-8 degrees off the printed lines;
#: the IDRBT cheques turned -30 degrees on white are found at -30 by it)
CONTENT_SKEW_SEARCH = 10.0

#: A page is read as its negative (white ink on black paper: some microfilm readers and scanners
#: write them) when its paper, the median of the page shrunk for the search, is darker than
#: NEGATIVE_MAX_PAPER; pixels NEGATIVE_CONTRAST levels lighter than it cover at least NEGATIVE_MIN_INK
#: of the page and outnumber those as much darker NEGATIVE_RATIO times; and less than NEGATIVE_MAX_SOLID
#: of them survive an opening NEGATIVE_SOLID_SIDE of the page's smaller side wide (light strokes, not
#: the light paper of a cheque on a dark scanner bed or table). Measured on the shrunk pages: no page
#: of the 40 IDRBT scans, 12 of them under each eval_real robustness move, 200 synthetic cheques
#: (seed 4) in colour and 100 in black and white, and the IDRBT cheques covering 0.15-0.5 of a dark bed
#: passes (their median 143 or more but on a bed, whose light paper stays 0.79 or more solid); their
#: negatives: IDRBT 12 of 12 under every move but those on a bed or table, a grainy photo or uneven
#: light, synthetic 185 of 200 and 94 of 100 (black and white; the rest keep a dark band solid).
#: A field crop (``--layout field``) lies on no bed: the solid test is left out and its paper may be
#: as light as NEGATIVE_MAX_PAPER_CROP (ORAND CAR-A's gray fields, median 126-207): of the 1,080
#: ORAND fields none passes, their negatives 1,030.
NEGATIVE_MAX_PAPER = 100
NEGATIVE_MAX_PAPER_CROP = 128
NEGATIVE_CONTRAST = 60
NEGATIVE_MIN_INK = 0.005
NEGATIVE_RATIO = 10.0
NEGATIVE_MAX_SOLID = 0.5
NEGATIVE_SOLID_SIDE = 0.04

#: A cheque found on a scanner bed (by its outline, or by its content on a white lid) once the
#: first is covered, at least this share of the first's area, is a second cheque on the same page:
#: the first one's field is read and the page goes to review (``Field.cheques``), for one row cannot
#: hold two amounts. The 37 IDRBT cheques with certain labels two to an A4 page (each with the next
#: below it): on a dark bed the lower one was read, 11 auto-accepted (the upper one lost unseen); on a
#: white lid neither was found, 1 read auto-accepted, wrong. Now all 74 pages go to review, one
#: amount of the two read right on 30 and 28.
OTHER_CHEQUE_AREA = 0.5

#: A cheque's outline on a bed whose opposite sides differ in length by more than this share of the
#: longer is seen in perspective (a photo taken aslant): the cheque is warped flat before its field
#: is searched (a turned cheque's outline, a rectangle, differs by 0.01 or less).
PERSPECTIVE_MIN = 0.04

#: An outline is a quadrilateral of its own (in perspective) only when four lines fitted to its sides
#: lie, on average, at most this share as far from its points as its smallest rectangle's sides.
QUAD_BETTER = 0.5

#: A page whose shorter side, shrunk for the search, is fewer pixels than this holds no cheque's
#: layout (a 10 x 10,000 strip): no field is found on it (a built-in layout's prior box had no rows).
MIN_SEARCH_SIDE = 8

#: Largest skew searched, degrees.
MAX_SKEW = 15.0

#: A page on no bed whose skew, searched up to :data:`MAX_SKEW`, lies within a degree of that edge,
#: or on which no printed box is found clearly (:data:`AUTO_CLEAR_SCORE`), has its skew searched
#: again up to WIDE_SKEW degrees either way (in the second case the cheque is then viewed at that
#: angle too, when it differs from the first by more than a degree): a photo taken aslant, a cheque
#: laid crooked on a white scanner lid, which gives no outline (a page turned further than 45 degrees
#: is taller than wide, and its quarter-turned view covers it). The IDRBT cheques turned 20 and -30
#: degrees on white: the 15-degree search ends at its edge (16.2 degrees) or at a wrong peak (-13.85
#: for one turned 20), the box is not found and the prior rectangle is read (13 and 15 of 37 right,
#: one accepted wrong); the wide search finds 19.75-20.05 and 29.95-30.45. Ordinary scans: 17 of 140
#: (100 synthetic cheques, the 40 IDRBT scans) find no box clearly and pay 1.5 ms (CPU) for the
#: second search, which gives them no other angle; the rest pay nothing.
WIDE_SKEW = 45.0

#: A found printed box is grown by these fractions of its width and height on each side:
#: handwriting often spills over the box.
FIELD_PAD_X = 0.02
FIELD_PAD_TOP = 0.15
FIELD_PAD_BOTTOM = 0.35

#: Skew below this many degrees is left alone.
MIN_DESKEW = 0.3

#: On a scanner bed the cheque's outline gives its angle; the printed lines inside it then correct
#: that angle by up to this many degrees.
BED_SKEW_REFINE = 2.0

#: A skew is taken only when its row profile is this much sharper than the upright one's
#: (measured: rendered scans skewed 0.3 degrees or more score at least 1.13).
SKEW_MIN_GAIN = 1.03

#: A field cut from a whole cheque shorter than this many pixels is cut enlarged to this height
#: (bicubic, at most :data:`MAX_FIELD_ZOOM` times). Cleaning and segmenting were tuned on fields
#: of 130-190 pixels (200-300 dpi); at 100-150 dpi (CTS-2010's gray image is 100 dpi) pen strokes
#: broke apart. The IDRBT cheques with certain labels, shrunk to 100 dpi (gray, JPEG quality 60):
#: 18/37 amounts right at their own size, 25/37 enlarged; at 150 dpi 26 -> 27.
MIN_FIELD_HEIGHT = 96

#: The same for a field given as the whole image (``field``; ``auto`` on a small page), whose
#: ink fills more of its height. ORAND CAR-A validation fields (33-108 rows, median 53; the
#: amount confidence was fitted on them): 172/193 right at their own size and enlarged to 40
#: (2 texts change); shrunk to half size, 154 at that size and 168 enlarged to 40 (169 to 48,
#: which changes 25 reads at full size, 4 of them accepted ones, for one string more).
MIN_CROP_HEIGHT = 40

#: The largest enlargement :data:`MIN_FIELD_HEIGHT` and :data:`MIN_CROP_HEIGHT` apply.
MAX_FIELD_ZOOM = 4.0

#: A printed box with more upright lines across it than this is a row of cells (the date's), not
#: the amount box; one is the divider after a printed currency sign (CTS-2010).
MAX_BOX_DIVIDERS = 1

#: A box cut open by the page's right edge (a scan cropped through it: its top and bottom lines run
#: into the edge, its right side is missing) is found with the edge as that side on the upright
#: views, its score times this: a whole box found in the same search wins.
OPEN_BOX_SCORE = 0.8

#: When no view shows a box within half the prior's width of it, the upright views are searched this
#: far (in prior widths) to its left: a cheque cropped through its left side moves its box that much
#: off the prior (IDRBT with the left third cut off: 0.26 of its width left of it).
WIDE_REACH = 1.0

#: Score given to a prior rectangle used without a printed box found.
PRIOR_SCORE = 0.05

#: The box search keeps structure at least this much darker than the paper (0-255 levels):
#: security patterns and tints are lighter.
BOX_LINE_DARKNESS = 40

#: Faint printed lines are at least this much darker. They count as a box's dividers; and when
#: the search finds no box on the upright cheque, it looks again for lines this dark: thin
#: light-grey printed lines break up into dashes at :data:`BOX_LINE_DARKNESS`, and
#: the upside-down view's box (an ``A/c No.`` cell) was taken instead. On 2,000 synthetic cheques
#: (``eval_real.py --synth``, seeds 4 and 5) fields found 1,990 -> 2,000; no IDRBT read changed.
FAINT_BOX_LINE_DARKNESS = 25

#: A box whose thin printed lines a black-and-white scan broke into dashes (a Group 4 or X9.37
#: image of a turned cheque: a 1-pixel grey line straddling two rows is black where it is dark
#: enough, white elsewhere) is looked for last, when no other search shows a box on the upright
#: cheque, with gaps this long (full-resolution pixels) bridged along its lines and
#: :data:`DASHED_BOX_SIDE_GAP` along its sides; such a box is as wide as the prior to within
#: :data:`DASHED_BOX_MIN_SIZE` (the longer bridges make sides of digit strokes too). 1,000
#: synthetic cheques as Group 4 TIFFs (``eval_real.py --synth 1000 --bitonal``): the prior rectangle
#: taken 28 -> 22 times; fields found 996 -> 998, strings 905 -> 908, accepted 541 -> 544 (5 wrong
#: both); seed 5: found 995 -> 997, strings 907 -> 908, accepted 550 (5 -> 4 wrong). In colour and
#: on ORAND nothing changed; IDRBT ``--robustness`` on a scanner bed turned -5 degrees 30 -> 31
#: right, 13 -> 14 accepted (0 wrong). Searched before the wide search (:data:`WIDE_REACH`), it
#: took a box near the prior of IDRBT cheques cut through their left third (28 -> 25 right, 1
#: accepted wrong). Gaps 45 along the lines, 21 or 31 along the sides, or no size bound: 898-907
#: strings, false boxes (date cells, digit strokes) taken. Its height must be the prior's to within
#: :data:`DASHED_BOX_MIN_HEIGHT`: without that bound, a US cheque in colour on an A4 page (``--on-a4
#: 200``, white lid) took the date's underline and the box's bottom for one (1.9 times the prior's
#: height) and read the date (found 200 -> 199, right 184 -> 183); the IDRBT box found so is 0.69.
DASHED_BOX_LINE_GAP = 31
DASHED_BOX_SIDE_GAP = 15
DASHED_BOX_MIN_SIZE = 0.8
DASHED_BOX_MIN_HEIGHT = 0.6

#: The cheque, its skew and the printed box are searched on a view of the page shrunk by a
#: whole factor (OpenCV's fast area averaging) to at most this many pixels on its longer side;
#: only the field is cropped (and turned) from the full-resolution page.
WORK_MAX_SIDE = 800
#: arrays of at least this many pixels have their median searched by counts, smaller ones from a
#: histogram (:func:`_median_u8`; both exact)
MEDIAN_SEARCH_MIN_SIZE = 4096


#: A user layout's field is at least this share of the cheque's width and of its height: the
#: built-in fields are 0.125-0.27 of it, and a rectangle a few pixels wide holds no amount.
MIN_LAYOUT_FRACTION = 0.02

_LAYOUT_KEYS = ("name", "aspect", "field")
_FIELD_KEYS = ("x", "y", "w", "h")


def load_layout(path: str | Path) -> Layout:
    """A user layout from a TOML file (see the module docstring), checked: a mistake raises
    :class:`~cheque_reader.errors.LayoutError` naming the key and the rule.

    >>> import pathlib, tempfile
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "bank.toml"
    >>> _ = p.write_text("[field]\\nx = 0.7\\ny = 0.3\\nw = 0.25\\nhieght = 0.1\\n")
    >>> load_layout(p)
    Traceback (most recent call last):
    ...
    cheque_reader.errors.LayoutError: layout file ...bank.toml: unknown key 'hieght' in [field]: use x, y, w and h
    """
    p = Path(path)

    def bad(message: str) -> LayoutError:
        return LayoutError(f"layout file {path}: {message}")

    try:
        with open(p, "rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise bad(f"cannot read the layout file ({exc.strerror or exc})") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise bad(f"not a TOML file ({exc})") from exc
    for key in data:
        if key not in _LAYOUT_KEYS:
            raise bad(f"unknown key {key!r}: a layout file holds name, aspect and a [field] table")
    field = data.get("field")
    if not isinstance(field, dict):
        raise bad("needs a [field] table with x, y, w and h (fractions of the cheque)")
    for key in field:
        if key not in _FIELD_KEYS:
            raise bad(f"unknown key {key!r} in [field]: use x, y, w and h")
    missing = [k for k in _FIELD_KEYS if k not in field]
    if missing:
        raise bad(f"[field] is missing {', '.join(missing)}")
    v = {k: _number(field[k], f"[field] {k}", bad) for k in _FIELD_KEYS}
    for k in _FIELD_KEYS:
        if not 0 <= v[k] <= 1:
            raise bad(f"[field] {k} = {field[k]} is outside 0-1: the field is given in fractions of the cheque")
    for pos, size in (("x", "w"), ("y", "h")):
        if v[pos] + v[size] > 1 + 1e-9:
            raise bad(f"[field] {pos} + {size} = {v[pos] + v[size]:g} is over 1: the field must lie within the cheque")
        if v[size] < MIN_LAYOUT_FRACTION:
            raise bad(f"[field] {size} = {field[size]} is too small: a field is at least {MIN_LAYOUT_FRACTION} of the cheque")
    aspect = _number(data.get("aspect", Layout.aspect), "aspect", bad)
    if not 0 < aspect < float("inf"):
        raise bad(f"aspect = {data['aspect']} must be above 0 (the cheque's width / height)")
    name = data.get("name", p.stem)
    if not isinstance(name, str) or not name.strip():
        raise bad(f"name = {name!r} must be a non-empty string (it fills the results' layout column)")
    if name in BUILTIN_LAYOUTS:
        raise bad(f"name = {name!r} is a built-in layout's: give the file's layout a name of its own")
    return Layout(name, v["x"], v["y"], v["w"], v["h"], aspect)


def _number(value, what: str, bad) -> float:
    """``value`` as a float, or ``bad``'s error when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad(f"{what} must be a number, not {value!r}")
    return float(value)


def resolve_layout(layout: str | os.PathLike) -> Layout | str:
    """A :class:`Layout` for a cheque layout name or TOML path (a ``str`` or a ``pathlib.Path``);
    ``"field"``/``"auto"`` as is.

    >>> resolve_layout("field")
    'field'
    >>> resolve_layout(None)
    Traceback (most recent call last):
    ...
    cheque_reader.errors.LayoutError: a layout is a name (auto, us, in-cts, top-right, field) or the path of a .toml file, not NoneType
    """
    if isinstance(layout, os.PathLike):
        layout = os.fspath(layout)
    if not isinstance(layout, str):
        raise LayoutError("a layout is a name (auto, us, in-cts, top-right, field) or the path of a .toml file, "
                          f"not {type(layout).__name__}")
    if layout in ("field", "auto"):
        return layout
    if layout in LAYOUTS:
        return LAYOUTS[layout]
    if layout.lower().endswith(".toml"):
        return load_layout(layout)
    raise LayoutError(f"unknown layout {layout!r}: use auto, us, in-cts, top-right, field or a .toml file")


# ---------------------------------------------------------------------------------------------
# geometry helpers


def _rotation(width: int, height: int, angle: float) -> tuple[np.ndarray, int, int]:
    """Affine matrix rotating an image by ``angle`` degrees (counter-clockwise) into an expanded canvas."""
    m = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
    c, s = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(round(height * s + width * c)), int(round(height * c + width * s))
    m[0, 2] += nw / 2.0 - width / 2.0
    m[1, 2] += nh / 2.0 - height / 2.0
    return m, nw, nh


def _warp(image: np.ndarray, m: np.ndarray, size: tuple[int, int], interpolation: int = cv2.INTER_LINEAR) -> np.ndarray:
    border = 255 if image.ndim == 2 else (255, 255, 255)
    return cv2.warpAffine(image, m, size, flags=interpolation, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def _map_box_back(box: BBox, m_total: np.ndarray, page_w: int, page_h: int) -> BBox:
    """The page-pixel bounding box of ``box`` given in the transformed frame of ``m_total`` (page -> frame)."""
    inv = cv2.invertAffineTransform(m_total)
    pts = np.array([[box.x, box.y], [box.x2, box.y], [box.x, box.y2], [box.x2, box.y2]], np.float64)
    back = pts @ inv[:, :2].T + inv[:, 2]
    x0, y0 = np.floor(back.min(axis=0)).astype(int)
    x1, y1 = np.ceil(back.max(axis=0)).astype(int)
    return BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0)).clip(page_w, page_h)


def _median_u8(a: np.ndarray) -> float:
    """``np.median`` of a ``uint8`` array, searched by counts of pixels at most a level (OpenCV's
    threshold and count, 0.02 ms a step on an 800 x 367 page against 0.43 ms for its histogram):
    one step when more than half the pixels are white, as on most pages; small arrays (and
    empty ones) from a histogram.

    >>> _median_u8(np.array([[1, 9], [3, 4]], np.uint8)), _median_u8(np.array([5, 1, 7], np.uint8))
    (3.5, 5.0)
    >>> a = np.arange(100_000, dtype=np.int64).reshape(200, 500) % 251
    >>> bool(_median_u8(a.astype(np.uint8)) == np.median(a)), _median_u8(np.full((300, 300), 255, np.uint8))
    (True, 255.0)
    """
    n = a.size
    if n < MEDIAN_SEARCH_MIN_SIZE:
        # float32 counts, exact below 2**24 pixels
        counts = cv2.calcHist([np.ascontiguousarray(a)], [0], None, [256], [0, 256]).ravel().astype(np.int64)
        cum = np.cumsum(counts)
        n = int(cum[-1])
        lo = int(np.searchsorted(cum, (n - 1) // 2 + 1))  # the value at 0-based rank (n - 1) // 2
        hi = int(np.searchsorted(cum, n // 2 + 1))  # ... and at rank n // 2
        return (lo + hi) / 2.0
    if a.ndim != 2 or a.strides[1] != 1 or a.strides[0] < a.shape[1]:
        a = np.ascontiguousarray(a)  # OpenCV takes a crop's rows as they are

    def at_most(v: int) -> int:  # pixels at most v
        return n - cv2.countNonZero(cv2.threshold(a, v, 255, cv2.THRESH_BINARY)[1].reshape(-1))

    def value_at(rank: int, lo: int = 0) -> int:  # the least v with more than ``rank`` pixels at most v
        hi = 255
        while lo < hi:
            mid = (lo + hi) // 2
            if at_most(mid) > rank:
                hi = mid
            else:
                lo = mid + 1
        return lo

    low = 255 if at_most(254) <= (n - 1) // 2 else value_at((n - 1) // 2)
    high = low if low == 255 or at_most(low) > n // 2 else value_at(n // 2, low + 1)
    return (low + high) / 2.0


def _nonzero(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a 2-D ``uint8`` mask, in the same order, by OpenCV (0.16 against 0.63 ms on
    an 800 x 367 page).

    >>> m = np.zeros((3, 4), np.uint8); m[0, 3] = m[2, 1] = 255
    >>> [v.tolist() for v in _nonzero(m)], [v.tolist() for v in np.nonzero(m)]
    ([[0, 2], [3, 1]], [[0, 2], [3, 1]])
    """
    points = cv2.findNonZero(mask)
    if points is None:
        return np.zeros(0, np.intp), np.zeros(0, np.intp)
    points = points.reshape(-1, 2)
    return points[:, 1], points[:, 0]


def _ink_mask(gray: np.ndarray, block: int) -> np.ndarray:
    """Dark structures (255) on light paper (0), by a local mean threshold."""
    block = max(3, block | 1)
    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 12)


def _profile_sharpness(xs: np.ndarray, ys: np.ndarray, angles: np.ndarray, pad: int, height: int) -> np.ndarray:
    """Sum of squared row counts of the points ``(xs, ys)`` projected along each angle (degrees)."""
    nb = height + 2 * pad
    t = np.tan(np.radians(angles)).astype(np.float32)
    rows = xs[None, :] * t[:, None]
    np.subtract(ys[None, :], rows, out=rows)
    np.rint(rows, out=rows)
    # clipped before the shift to each angle's bins, in float32 (whole numbers, exact below 2**24)
    np.clip(rows, -pad, nb - 1 - pad, out=rows)
    rows += (np.arange(len(angles), dtype=np.float32) * nb + pad)[:, None]
    m = nb * len(angles)
    if m <= 1 << 16:  # OpenCV's histogram of 16-bit bins (float32 counts, exact below 2**24 points): 3x np.bincount's speed
        counts = cv2.calcHist([rows.astype(np.uint16).reshape(1, -1)], [0], None, [m], [0, m]).astype(np.float64)
    else:
        counts = np.bincount(rows.astype(np.intp).ravel(), minlength=m).astype(np.float64)
    counts = counts.reshape(len(angles), nb)
    return np.einsum("ij,ij->i", counts, counts)


def _skew_points(small: np.ndarray, paper: float | None = None) -> tuple[np.ndarray, ...]:
    """The points :func:`_skew_small` lines up on the shrunk page ``small``: the columns (from the
    middle) and rows of its dark structure, float32; ``()`` when there are too few (``paper``:
    ``_median_u8(small)`` when known already).

    >>> page = np.full((100, 300), 255, np.uint8); page[50, 20:280] = 0   # a printed rule
    >>> xs, ys = _skew_points(page)
    >>> len(xs), float(xs.min()), float(xs.max()), set(ys.tolist()), _skew_points(np.full((100, 300), 255, np.uint8))
    (260, -130.0, 129.0, {50.0}, ())
    """
    ink = _ink_mask(small, 15)
    w = ink.shape[1]
    paper = _median_u8(small) if paper is None else paper
    # printed rules and text are dark; tints and security patterns are not (OpenCV's threshold:
    # a uint8 page against a float cut is a float64 comparison in numpy, 10x slower)
    dark = cv2.bitwise_and(ink, cv2.threshold(small, paper - 40, 255, cv2.THRESH_BINARY_INV)[1])
    ys, xs = _nonzero(dark)
    if len(xs) < 0.6 * w:
        # no dark structure: horizontal structure of any ink (text rows), blobs dropped
        ink = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _rect(5, 1))
        ys, xs = _nonzero(ink)
        if len(xs) < 10:
            return ()
    return xs.astype(np.float32) - w / 2.0, ys.astype(np.float32)


def _skew_small(small: np.ndarray, max_angle: float, around: float = 0.0, paper: float | None = None,
                points: tuple[np.ndarray, ...] | None = None) -> float:
    """:func:`estimate_skew` on an already shrunk page, searched within ``max_angle`` of ``around``
    (``paper``: ``_median_u8(small)``, ``points``: ``_skew_points(small, paper)``, when known already)."""
    points = _skew_points(small, paper) if points is None else points
    if not points:
        return 0.0
    xs, ys = points
    h, w = small.shape
    pad = int(w * np.tan(np.radians(abs(around) + max_angle)) / 2.0) + 2
    # coarse to fine: 1 degree steps on a quarter of the points in 3-pixel rows, then 0.2 and
    # 0.05 degree steps around the best (measured on 80 rendered scans: 0.04 degree mean error)
    coarse = np.arange(around - max_angle, around + max_angle + 1e-6, 1.0)
    best = coarse[int(np.argmax(_profile_sharpness(xs[::4] / 3, ys[::4] / 3, coarse, pad // 3 + 1, h // 3 + 1)))]
    mid = np.arange(best - 1.0, best + 1.0 + 1e-6, 0.2)
    best = mid[int(np.argmax(_profile_sharpness(xs[::2], ys[::2], mid, pad, h)))]
    fine = np.arange(best - 0.2, best + 0.2 + 1e-6, 0.05)
    upright = 0.0 if abs(around) <= max_angle else around
    sharp = _profile_sharpness(xs, ys, np.append(fine, upright), pad, h)
    if sharp[:-1].max() < SKEW_MIN_GAIN * sharp[-1]:
        return upright  # no angle lines the ink up clearly better than upright (a few glyphs, no rules)
    # the angle whose projection lines the points up with the rows straightens the page
    return float(round(fine[int(np.argmax(sharp[:-1]))], 2))


def estimate_skew(gray: np.ndarray, max_angle: float = MAX_SKEW) -> float:
    """Skew in degrees (rotate by it to straighten), from the sharpness of the row projection
    profile of dark structure (printed rules, text), searched coarse to fine.

    >>> img = np.full((200, 400), 255, np.uint8)
    >>> img[60:63, 40:360] = 0; img[140:143, 40:360] = 0
    >>> abs(estimate_skew(img)) < 0.5
    True
    """
    small, _ = _shrink(gray)
    return _skew_small(small, max_angle)


def _work_factor(shape: tuple[int, ...], max_side: int = WORK_MAX_SIDE) -> int:
    """The whole factor that brings the longer side of an image of ``shape`` to ``max_side`` or less."""
    return max(1, -(-max(shape[:2]) // max_side))


def _shrink(gray: np.ndarray, darkest: bool = False, max_side: int = WORK_MAX_SIDE) -> tuple[np.ndarray, int]:
    """``gray`` shrunk by :func:`_work_factor` (the last ``k - 1`` rows/columns dropped): each
    ``k`` x ``k`` block by its mean, or with ``darkest`` by its darkest pixel (thin printed
    lines keep their darkness)."""
    k = _work_factor(gray.shape, max_side)
    if k == 1:
        return gray, 1
    # a strip thinner than k (a 10 x 10,000 scan) keeps one row or column, not none
    h, w = max(1, gray.shape[0] // k), max(1, gray.shape[1] // k)
    if darkest:  # each block's minimum, pairwise over its k x k pixels taken at a step of k (the same as an
        # erosion of the whole page sampled at every k-th pixel: 0.24 against 0.75 ms on a 1600 x 734 page)
        block = gray[: h * k, : w * k]
        rows = block[::k]
        for i in range(1, min(k, block.shape[0])):  # (a strip thinner than k: the rows it has)
            rows = np.minimum(rows, block[i::k])
        small = rows[:, ::k]
        for j in range(1, min(k, block.shape[1])):
            small = np.minimum(small, rows[:, j::k])
        return np.ascontiguousarray(small), k
    return cv2.resize(gray[: h * k, : w * k], (w, h), interpolation=cv2.INTER_AREA), k


def find_cheque(gray: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The cheque on a scanner bed: its 4 corners (page pixels) and angle, or ``None`` when the page is the cheque.

    A bed is recognised when the page border is uniform and a rectangular region of a
    cheque-like aspect, not touching the border, differs from it; or, when the border is varied
    but darker than paper (a wooden desk under a photo), when such a region is lighter than it.

    >>> import cv2
    >>> bed = np.full((1200, 1600), 40, np.uint8)
    >>> _ = cv2.rectangle(bed, (200, 300), (1400, 900), 235, -1)  # a cheque on a dark bed
    >>> corners, angle = find_cheque(bed)
    >>> np.round(corners).astype(int).tolist(), angle
    ([[1402, 902], [198, 902], [198, 298], [1402, 298]], 0.0)
    >>> find_cheque(np.full((600, 1400), 235, np.uint8)) is None  # the page is the cheque
    True
    """
    small, k = _shrink(gray)
    found = _cheque_small(small, k)
    return None if found is None else (found.corners, found.angle)


@dataclass(frozen=True)
class _OnBed:
    """A cheque found on a bed: its rectangle's ``corners`` (page pixels) and ``angle`` (degrees,
    see :func:`find_cheque`), its ``outline``'s four corners (page pixels: a quadrilateral in
    perspective on a photo), and how many ``cheques`` lie on the bed (see :data:`OTHER_CHEQUE_AREA`)."""

    corners: np.ndarray
    angle: float
    outline: np.ndarray
    cheques: int = 1


def _cheque_small(small: np.ndarray, k: int) -> _OnBed | None:
    """:func:`find_cheque` on the page shrunk by ``k``."""
    small = cv2.GaussianBlur(small, (5, 5), 0)
    sh, sw = small.shape
    bw = max(2, int(0.01 * min(sh, sw)))
    frame = np.concatenate([small[:bw].ravel(), small[-bw:].ravel(), small[:, :bw].ravel(), small[:, -bw:].ravel()])
    textured = frame.std() > 18
    bed = float(np.median(frame))
    if textured and bed >= LIGHT_BED:
        return None  # a light, varied border: the cheque's own paper and print, scanned alone
    found = _paper_on_texture(small) if textured else _cheque_on_bed(small, bed)
    if found is None:
        return None
    rect, outline = found
    # another cheque on the bed: found the same way once this one is covered with the bed's level
    grown = cv2.boxPoints((rect[0], (1.04 * rect[1][0], 1.04 * rect[1][1]), rect[2]))
    rest = cv2.fillPoly(small.copy(), [np.intp(grown)], bed)
    other = _paper_on_texture(rest) if textured else _cheque_on_bed(rest, bed, among_others=True)
    cheques = 1 + (other is not None and np.prod(other[0][1]) >= OTHER_CHEQUE_AREA * np.prod(rect[1]))
    corners = cv2.boxPoints(rect) * k
    # beyond 45 degrees either way: the cheque stands on its side
    return _OnBed(corners, _long_side_angle(corners), outline * k, cheques)


def _cheque_on_bed(small: np.ndarray, bed: float, among_others: bool = False):
    """The rectangle (``cv2.minAreaRect``'s form) of the cheque on a bed of level ``bed``, by its
    outline or, on a white lid, by its content (see :func:`_content_on_light_bed` for ``among_others``);
    ``None`` when no cheque stands out from the bed. With the rectangle, its corners (see
    :func:`_outline_on_bed`)."""
    found = _outline_on_bed(small, bed)
    if found is None and bed >= LIGHT_BED:
        rect = _content_on_light_bed(small, bed, among_others)
        found = None if rect is None else (rect, cv2.boxPoints(rect))
    return found


def _long_side_angle(corners: np.ndarray) -> float:
    """The angle in degrees, within (-90, 90], of the longer side of the rectangle ``corners``
    (image coordinates, y down): rotating by it lays that side level."""
    edges = [corners[(i + 1) % 4] - corners[i] for i in range(4)]
    dx, dy = max(edges, key=lambda v: float(np.hypot(*v)))
    angle = float(np.degrees(np.arctan2(dy, dx)))
    while angle > 90:
        angle -= 180
    while angle <= -90:
        angle += 180
    return angle


def _outline_on_bed(small: np.ndarray, bed: float):
    """``(rect, corners)``: the ``cv2.minAreaRect`` of the largest region that differs from the
    ``bed`` level around it, when it is cheque-shaped and does not touch the page's border, and its
    four corners: those of its outline when that is a quadrilateral (a cheque photographed aslant
    is one in perspective), else the rectangle's; or ``None``."""
    # |level - bed| > 25 by OpenCV's threshold (whole levels: above floor(bed + 25), below ceil(bed - 25)):
    # 0.03 against 1.7 ms in float64 numpy on an 800 x 367 page
    above = cv2.threshold(small, math.floor(bed + 25), 255, cv2.THRESH_BINARY)[1]
    below = cv2.threshold(small, math.ceil(bed - 25) - 1, 255, cv2.THRESH_BINARY_INV)[1]
    mask = cv2.bitwise_or(above, below)
    return _cheque_region(cv2.morphologyEx(mask, cv2.MORPH_CLOSE, _rect(15, 15)))


def _paper_on_texture(small: np.ndarray):
    """:func:`_outline_on_bed` for a cheque photographed on a textured surface (a wooden desk's
    grain), whose level varies too much to be one bed's: the paper is the light side of the page's
    Otsu threshold, the texture's light streaks opened away."""
    _, light = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    light = cv2.morphologyEx(cv2.morphologyEx(light, cv2.MORPH_CLOSE, _rect(15, 15)), cv2.MORPH_OPEN, _rect(9, 9))
    return _cheque_region(light)


def _cheque_region(mask: np.ndarray):
    """:func:`_outline_on_bed`'s answer for the largest region of ``mask`` (255: not the bed)."""
    sh, sw = mask.shape
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    c = max(contours, key=cv2.contourArea)
    area = cv2.contourArea(c)
    if area < 0.15 * sh * sw:
        return None
    x, y, cw, ch = cv2.boundingRect(c)
    margin = 0.01 * min(sh, sw)
    if x < margin or y < margin or x + cw > sw - margin or y + ch > sh - margin:
        return None
    rect = cv2.minAreaRect(c)
    (rw, rh) = rect[1]
    quad = _quadrilateral(c, rect) if area >= 0.7 * rw * rh else None  # else no outline of a cheque's paper
    # filled: most of its rectangle, or of its quadrilateral (seen in perspective, it fills less of the rectangle)
    filled = rw * rh if quad is None else min(rw * rh, cv2.contourArea(quad))
    if filled <= 0 or area / filled < 0.85:
        return None
    aspect = max(rw, rh) / max(1e-6, min(rw, rh))
    if not 1.6 <= aspect <= 3.5:
        return None
    return rect, cv2.boxPoints(rect) if quad is None else quad


def _quadrilateral(c: np.ndarray, rect) -> np.ndarray | None:
    """The four corners of the outline ``c``, in the order of ``cv2.boxPoints(rect)`` (``rect`` its
    ``cv2.minAreaRect``): where lines fitted to the points along each side of the rectangle meet
    (fitted twice, the points far off the first line dropped: a ragged edge, a table's grain along
    it, moves them little); ``None`` when a side has too few points to fit or the four lines are no
    better an outline than the rectangle."""
    box = cv2.boxPoints(rect)
    # the outline's points every pixel or so along its straight runs (of which the contour keeps the ends)
    ends_c = c.reshape(-1, 2).astype(np.float32)
    steps = np.maximum(1, np.ceil(np.abs(np.roll(ends_c, -1, axis=0) - ends_c).max(axis=1))).astype(int)
    at = np.repeat(np.arange(len(ends_c)), steps)
    frac = np.arange(len(at)) - np.repeat(np.cumsum(steps) - steps, steps)
    pts = ends_c[at] + (np.roll(ends_c, -1, axis=0) - ends_c)[at] * (frac / steps[at])[:, None]
    ends = np.roll(box, -1, axis=0)
    lengths = np.hypot(*(ends - box).T)
    along = (ends - box) / np.maximum(lengths, 1e-6)[:, None]
    normal = np.stack([-along[:, 1], along[:, 0]], axis=1)
    dist = np.abs(pts @ normal.T - (box * normal).sum(axis=1))          # to each side's line
    t = (pts @ along.T - (box * along).sum(axis=1)) / np.maximum(lengths, 1e-6)
    side = np.argmin(dist, axis=1)
    lines = []
    for i in range(4):
        mine = pts[(side == i) & (t[:, i] > 0.1) & (t[:, i] < 0.9)]  # the side's middle, clear of the corners
        for _ in range(2):
            if len(mine) < 5:
                return None
            mid = mine.mean(axis=0)
            u = np.linalg.svd(mine - mid, full_matrices=False)[2][0]  # the line's direction
            off = np.abs((mine - mid) @ np.array([-u[1], u[0]]))
            mine = mine[off <= max(2.0 * float(np.median(off)), 1.0)]
        lines.append((mid, u))
    corners = []
    for i in range(4):  # corner i joins the sides i - 1 and i
        (p, u), (q, v) = lines[i - 1], lines[i]
        det = u[0] * -v[1] + v[0] * u[1]
        if abs(det) < 1e-6:
            return None
        corners.append(p + ((q - p)[0] * -v[1] + v[0] * (q - p)[1]) / det * u)
    quad = np.float32(corners)
    # a quadrilateral of its own only when convex, its sides near the rectangle's lengths, and they
    # fit the outline clearly better than the rectangle's (a cheque's paper only partly set off from
    # the bed gives sides that meet far from its corners; a turned one's rectangle fits as well)
    q_ends = np.roll(quad, -1, axis=0)
    q_lengths = np.hypot(*(q_ends - quad).T)
    if not cv2.isContourConvex(quad) or np.any(q_lengths < 0.8 * lengths):
        return None
    q_normal = np.stack([-(q_ends - quad)[:, 1], (q_ends - quad)[:, 0]], axis=1) / q_lengths[:, None]
    q_dist = np.abs(pts @ q_normal.T - (quad * q_normal).sum(axis=1))
    if q_dist.min(axis=1).mean() > QUAD_BETTER * dist.min(axis=1).mean():
        return None
    return quad


def _content_on_light_bed(small: np.ndarray, bed: float, among_others: bool = False):
    """The rectangle (as ``cv2.minAreaRect`` gives one) of a cheque on a scanner's white lid, as
    light as its paper: the printed and written content merged into one region, its rectangle laid
    along the printed lines and grown by :data:`LIGHT_BED_GROW` of its size to the paper's edge;
    ``None`` unless the content is cheque-shaped and covers a share of the page within
    :data:`LIGHT_BED_SHARE` (a cheque scanned alone fills more, a few words on a blank page less).
    When it is not, but two of its regions are (two cheques on the lid), the largest is taken;
    with ``among_others``, also when one is (a second cheque beside what is left of the first)."""
    sh, sw = small.shape
    ink = (small < bed - BOX_LINE_DARKNESS).astype(np.uint8) * 255
    size = max(3, int(0.06 * min(sh, sw))) | 1
    merged = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _rect(size, size))
    contours, _ = cv2.findContours(merged, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    contours = [c for c in contours if cv2.contourArea(c) >= 0.002 * sh * sw]  # specks and dust left out
    if not contours:
        return None
    points = np.concatenate(contours)
    rect = cv2.minAreaRect(points)
    if not _lid_cheque_shaped(rect, sh, sw):
        # two cheques on the lid (or more), one above the other or side by side: together not of a
        # cheque's proportions (a cheque scanned alone is, only too large a share of the page, and
        # its content may fall into cheque-shaped parts), each one's content a cheque-shaped region
        together = max(rect[1]) / max(1e-6, min(rect[1]))
        if not among_others and 1.6 <= together <= 3.5:
            return None
        shaped = [c for c in sorted(contours, key=cv2.contourArea, reverse=True)
                  if _lid_cheque_shaped(cv2.minAreaRect(c), sh, sw)]
        if len(shaped) < (1 if among_others else 2):
            return None
        points, rect = shaped[0], cv2.minAreaRect(shaped[0])
    rw, rh = rect[1]
    # the content's smallest rectangle leans with a long signature or line of writing (2-8 degrees
    # off): the rectangle is laid along the printed lines instead, searched near its long side
    # (a cheque standing on its side keeps it: its lines stand upright)
    leaning = _long_side_angle(cv2.boxPoints(rect))
    if abs(leaning) > 45.0:
        return rect[0], (rw * (1 + 2 * LIGHT_BED_GROW), rh * (1 + 2 * LIGHT_BED_GROW)), rect[2]
    t = np.radians(_skew_small(small, CONTENT_SKEW_SEARCH, around=leaning))
    points = points.reshape(-1, 2).astype(np.float64)
    along, across = points @ [np.cos(t), np.sin(t)], points @ [-np.sin(t), np.cos(t)]
    rw, rh = float(np.ptp(along)), float(np.ptp(across))
    mid_along, mid_across = (along.max() + along.min()) / 2, (across.max() + across.min()) / 2
    cx, cy = mid_along * np.cos(t) - mid_across * np.sin(t), mid_along * np.sin(t) + mid_across * np.cos(t)
    return (cx, cy), (rw * (1 + 2 * LIGHT_BED_GROW), rh * (1 + 2 * LIGHT_BED_GROW)), float(np.degrees(t))


def _lid_cheque_shaped(rect, sh: int, sw: int) -> bool:
    """Whether the content rectangle ``rect`` (``cv2.minAreaRect``'s form) on a ``sh`` x ``sw``
    page is a cheque's: of its proportions, covering a share of the page within :data:`LIGHT_BED_SHARE`."""
    rw, rh = rect[1]
    aspect = max(rw, rh) / max(1e-6, min(rw, rh))
    return LIGHT_BED_SHARE[0] * sh * sw <= rw * rh <= LIGHT_BED_SHARE[1] * sh * sw and 1.6 <= aspect <= 3.5


# ---------------------------------------------------------------------------------------------
# box search


@dataclass(frozen=True)
class _Found:
    box: BBox  # in the cheque frame
    score: float


def _rect(w: int, h: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (w, h))


def _find_box(gray: np.ndarray, prior: BBox, k: int = 1, darkness: int = BOX_LINE_DARKNESS,
              reach: float = 0.5, open_right: bool = False, smeared: bool = False,
              dashed: bool = False) -> _Found | None:
    """The printed rectangle nearest the prior on an upright cheque image ``gray``
    (a page shrunk ``k`` times: the pixel sizes below are for full resolution), drawn in lines
    at least ``darkness`` levels darker than the paper, searched up to ``reach`` of the prior's
    width beside it; with ``open_right``, a box cut open by the image's right edge too
    (:data:`OPEN_BOX_SCORE`); with ``smeared``, a box whose upright sides a smear has faded and
    run into a barcode or bar beside them; with ``dashed``, a box whose lines a black-and-white scan
    broke into dashes, about as wide as the prior (:data:`DASHED_BOX_LINE_GAP`)."""

    def px(n: int) -> int:  # odd, so that a structuring element does not shift what it dilates
        return max(1, int(round(n / k))) | 1

    H, W = gray.shape
    mx, my = int(reach * prior.w), int(1.2 * prior.h)
    region = BBox(prior.x - mx, prior.y - my, prior.w + 2 * mx, prior.h + 2 * my).clip(W, H)
    if region.area == 0:
        return None
    # one copy of a crop of an upside-down view (its strides negative), which each OpenCV call below copied again
    sub = np.ascontiguousarray(region.crop(gray))
    # security patterns and tints are light: keep clearly dark structures only (at most
    # paper - darkness: OpenCV's threshold, whole levels)
    paper = int(_median_u8(sub))
    dark = cv2.threshold(sub, paper - darkness, 255, cv2.THRESH_BINARY_INV)[1]
    ink = cv2.bitwise_and(_ink_mask(sub, max(px(15), prior.h // 4)), dark)
    darker = sub < paper - FAINT_BOX_LINE_DARKNESS  # faint printed lines too
    hk = max(px(15), int(0.25 * prior.w))
    vk = max(px(9), int(0.45 * prior.h))
    # thin grey printed lines come out dotted and slightly slanted: bridge gaps first
    gap_h, gap_v = (DASHED_BOX_LINE_GAP, DASHED_BOX_SIDE_GAP) if dashed else (15, 9)
    hink = cv2.dilate(cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _rect(px(gap_h), 1)), _rect(1, px(3)))
    vink = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, _rect(1, px(gap_v)))
    hor = cv2.morphologyEx(hink, cv2.MORPH_OPEN, _rect(hk, 1))
    ver = cv2.morphologyEx(vink, cv2.MORPH_OPEN, _rect(1, vk))
    hor_d = cv2.dilate(hor, _rect(1, px(5))) > 0
    # each row's count of line pixels left of a column, for the few columns the sides stand at
    # (OpenCV's integral image: 20x a row-wise np.cumsum's speed)
    integral = cv2.integral(hor_d.view(np.uint8))
    left_of: dict[int, np.ndarray] = {}

    def csum(x: int) -> np.ndarray:
        if x not in left_of:
            left_of[x] = integral[1:, x] - integral[:-1, x]
        return left_of[x]

    pieces = _piece_boxes(ver)
    # (centre column, top, bottom, the image's right edge, the edge of a wider piece), sorted below
    sides = [(x + w // 2, y, y + h, False, False) for x, y, w, h in pieces]
    beyond = px(3)  # how far beyond the sides' ends their box's lines are looked for
    if smeared:
        # a smear (a phone moved sideways) thins the sides where they meet the lines and runs them
        # into a barcode or bar beside them: each edge of an upright piece wider than a line
        # stands for a side too (as tall as the side facing it), and the lines are looked for
        # further beyond the sides' ends
        sides += [(e, y, y + h, False, True) for x, y, w, h in pieces if px(15) < w <= px(75)
                  for e in (x + 1, x + w - 2)]
        beyond = px(24)
    sides.sort()
    # the page's right edge stands for the side of a box cut open by it, when lines run into it:
    # a right side as tall as each left one
    open_edge = open_right and region.x2 >= W and bool(hor_d[:, -3:].all(axis=1).any())
    best: _Found | None = None
    for i, (xl, tl0, bl0, _, edge_l) in enumerate(sides):
        for xr, tr, br, open_r, edge_r in sides[i + 1 :] + ([(sub.shape[1] - 1, tl0, bl0, True, False)] if open_edge else []):
            w = xr - xl
            if not 0.4 * prior.w <= w <= 1.8 * prior.w or (edge_l and edge_r):
                continue
            if dashed and min(w / prior.w, prior.w / w) < DASHED_BOX_MIN_SIZE:
                continue
            if open_r and best is not None and best.score >= OPEN_BOX_SCORE:
                continue  # scores are at most 1: an open box cannot win
            tl, bl = (max(tl0, tr), min(bl0, br)) if edge_l else (tl0, bl0)
            if edge_r:
                tr, br = max(tr, tl), min(br, bl)
            overlap = min(bl, br) - max(tl, tr)
            if overlap < 0.6 * max(bl - tl, br - tr):
                continue
            # the top and bottom lines: best-covered rows near the sides' ends
            cover = (csum(xr + 1) - csum(xl)) / float(w + 1)
            t0, t1 = max(min(tl, tr) - beyond, 0), min(max(tl, tr) + px(12), len(cover))
            b0, b1 = max(min(bl, br) - px(12), 0), min(max(bl, br) + beyond, len(cover))
            if t1 <= t0 or b1 <= b0:
                continue
            top = t0 + int(np.argmax(cover[t0:t1]))
            bot = b0 + int(np.argmax(cover[b0:b1]))
            cov_top, cov_bot = float(cover[top]), float(cover[bot])
            h = bot - top
            if not 0.45 * prior.h <= h <= 2.2 * prior.h:
                continue
            if dashed and min(h / prior.h, prior.h / h) < DASHED_BOX_MIN_HEIGHT:
                continue
            if min(cov_top, cov_bot) < 0.4 or cov_top + cov_bot < 1.4:
                continue
            if open_r and not (hor_d[top, xr - 2 : xr + 1].all() and hor_d[bot, xr - 2 : xr + 1].all()):
                continue  # lines that stop short of the edge: no box cut open by it
            if _dividers(darker, xl, xr, top, bot, px(5), px(15)) > MAX_BOX_DIVIDERS:  # a row of date boxes
                continue
            drawn = 0.5 * (cov_top + cov_bot)
            box = BBox(xl + region.x, top + region.y, w + 1, h + 1)
            closeness = box.iou(prior)
            size = min(w / prior.w, prior.w / w) * min(h / prior.h, prior.h / h)
            score = drawn * (0.4 + 0.6 * closeness) * (0.5 + 0.5 * size) * (OPEN_BOX_SCORE if open_r else 1.0)
            log.debug("box candidate %s top=%.2f bottom=%.2f score=%.3f", box, cov_top, cov_bot, score)
            if best is None or score > best.score:
                best = _Found(box, float(score))
    return best


def _piece_boxes(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """The boxes ``(x, y, w, h)`` of the 8-connected pieces of the ``uint8`` ``mask``, in no set order:
    those of the outer contours of its pieces (OpenCV's contours of two levels, a piece inside
    another's hole among the outer ones), the boxes ``connected_components``' stats give, 2.5x as
    fast on a sparse mask (a box search's upright lines: 0.35 against 0.14 ms a Group 4 page, the
    boxes listed).

    >>> m = np.zeros((9, 12), np.uint8); m[1:8, 1:8] = 255; m[3:6, 3:6] = 0; m[4, 4] = 255; m[2:5, 10] = 1
    >>> sorted(_piece_boxes(m))
    [(1, 1, 7, 7), (4, 4, 1, 1), (10, 2, 1, 3)]
    """
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return []
    return [cv2.boundingRect(c) for c, (_, _, _, parent) in zip(contours, hierarchy[0]) if parent < 0]


def _dividers(darker: np.ndarray, x0: int, x1: int, top: int, bottom: int, line: int, side: int) -> int:
    """Thin upright lines across the whole inside of the box ``x0..x1`` x ``top..bottom``
    (its lines ``line`` pixels wide, its sides up to ``side``): runs of at most ``side`` columns
    ``darker`` than the paper in nine rows out of ten (handwriting and a printed currency sign
    are not that tall; a tint is wider).

    >>> cells = np.zeros((40, 200), bool); cells[5, :] = cells[35, :] = True
    >>> cells[5:36, ::40] = True; cells[5:36, 199] = True   # a row of five cells
    >>> _dividers(cells, 0, 199, 5, 35, 1, 3)
    4
    >>> cells[8:33, 90:115] = True   # a tinted patch is no divider
    >>> _dividers(cells, 0, 199, 5, 35, 1, 3)
    4
    """
    inside = darker[top + line : bottom - line + 1, x0 + side : x1 - side + 1]
    if inside.size == 0:
        return 0
    full = inside.mean(axis=0) >= 0.9
    edges = np.flatnonzero(np.diff(np.concatenate([[0], full.astype(np.int8), [0]])))
    return int(np.count_nonzero(edges[1::2] - edges[0::2] <= side))


def _quantiles_from_counts(counts: np.ndarray, qs) -> np.ndarray:
    """``np.quantile`` of the positions ``i`` repeated ``counts[i]`` times (linear interpolation).

    >>> _quantiles_from_counts(np.array([2, 0, 1, 3]), (0.0, 0.5, 1.0)).tolist()
    [0.0, 2.5, 3.0]
    """
    cum = np.cumsum(counts)
    pos = np.asarray(qs, float) * (cum[-1] - 1)
    i0 = np.floor(pos).astype(np.int64)
    lo = np.searchsorted(cum, i0, side="right")
    hi = np.searchsorted(cum, np.minimum(i0 + 1, cum[-1] - 1), side="right")
    return lo + (pos - i0) * (hi - lo)


def _content_box(gray: np.ndarray) -> BBox:
    """The box holding nearly all dark structure of ``gray`` (robust to specks)."""
    small, k = _shrink(gray)
    ink = _ink_mask(small, 15) > 0
    if np.count_nonzero(ink) < 50:
        return BBox(0, 0, gray.shape[1], gray.shape[0])
    x0, x1 = _quantiles_from_counts(ink.sum(axis=0), (0.002, 0.998)) * k
    y0, y1 = _quantiles_from_counts(ink.sum(axis=1), (0.002, 0.998)) * k
    return BBox(int(x0), int(y0), int(x1 - x0) + 1, int(y1 - y0) + 1).clip(gray.shape[1], gray.shape[0])


@dataclass(frozen=True)
class _View:
    """The cheque deskewed (and maybe turned), shrunk by ``k``: ``m`` maps the shrunk page onto
    ``image``; the same view at full resolution is ``m`` with its shift times ``k``."""

    image: np.ndarray
    m: np.ndarray
    k: int
    angle: float
    flipped: bool
    #: the angle comes from the cheque's outline on a bed
    outline: bool = False
    #: cheques seen on the bed (this view shows the largest)
    cheques: int = 1

    @property
    def m_full(self) -> np.ndarray:
        """The full-resolution page -> full-resolution view map (pixel centres: a shrunk pixel
        ``i`` is the block ``k i .. k i + k - 1``, centred at ``k i + (k - 1) / 2``)."""
        c = (self.k - 1) / 2.0
        full = self.m.copy()
        full[:, 2] = self.k * self.m[:, 2] + c - self.m[:, :2] @ np.array([c, c])
        return full


def _cheque_views(page: Page, shrunk: tuple[np.ndarray, int], on_bed: _OnBed | None,
                  paper: float | None = None, known: dict | None = None) -> list[_View]:
    """Deskewed upright and upside-down views of the cheque, shrunk (see :data:`WORK_MAX_SIDE`).
    ``shrunk`` is ``_shrink(page.image)`` (``paper``: its ``_median_u8``, when known already),
    ``on_bed`` the cheque found on a bed there, if any; ``known`` keeps what :func:`_wide_views`
    searches again (see :func:`_darkest`, :func:`_page_skew`). A
    page taller than wide (a cheque standing on its side, with no EXIF orientation to say so) is
    also viewed turned a quarter, both ways.

    Only the shrunk page is ever resampled: the field alone is cropped at full resolution.
    """
    mean, k = shrunk  # block means: the cheque's outline and the skew
    small = _darkest(page, shrunk, known)  # block minima: thin printed lines stay dark
    H, W = small.shape
    if on_bed is not None:
        corners, angle, cheques = on_bed.corners / k, on_bed.angle, on_bed.cheques
        # the outline's angle is as good as the bed's edge; the printed lines inside finish it
        # (a textured bed, a table under a photo, tilts the outline by up to a degree)
        m, nw, nh = _rotation(W, H, angle)
        inside = _outline_box(corners, m, nw, nh)
        shift = np.array([[1.0, 0.0, -inside.x], [0.0, 1.0, -inside.y]])
        rest = _skew_small(_warp(mean, _compose(shift, m), (inside.w, inside.h)), BED_SKEW_REFINE)
        if abs(rest) >= MIN_DESKEW:
            angle += rest
        return [dataclasses.replace(v, outline=True, cheques=cheques) for v in _views_at(small, k, angle, corners)]
    views = _views_at(small, k, _page_skew(mean, 0.0, paper=paper, known=known), None)
    if H > W:
        views += _views_at(small, k, _page_skew(mean, 90.0, paper=paper, known=known), None)
    return views


def _darkest(page: Page, shrunk: tuple[np.ndarray, int], known: dict | None = None) -> np.ndarray:
    """``page`` shrunk as ``shrunk`` is, each block by its darkest pixel (``shrunk`` itself when not
    shrunk); kept in ``known`` (and taken from it) when given."""
    mean, k = shrunk
    if k == 1:
        return mean
    if known is not None and "darkest" in known:
        return known["darkest"]
    small = _shrink(page.image, darkest=True)[0]
    if known is not None:
        known["darkest"] = small
    return small


def _page_skew(mean: np.ndarray, turn: float, max_skew: float = MAX_SKEW, paper: float | None = None,
               known: dict | None = None) -> float:
    """The angle that straightens the page ``mean`` once turned ``turn`` degrees (0 or 90,
    anticlockwise): ``turn`` plus its skew (up to ``max_skew``), when that is worth resampling for
    (``paper``: ``_median_u8(mean)``, when known already: a turned page has the same). ``known``
    keeps the points of each turn and the skew of each search (and takes them from there), for
    more searches of the same page with the same ``paper``.

    >>> page = np.full((300, 800), 255, np.uint8); _ = cv2.line(page, (50, 100), (750, 160), 0, 2)
    >>> known = {}
    >>> angle = _page_skew(page, 0.0, known=known)
    >>> 4.0 < angle < 5.5, sorted(k[:2] for k in known), _page_skew(page, 0.0, known=known) == angle
    (True, [('points', 0.0), ('skew', 0.0)], True)
    """
    known = {} if known is None else known
    view = np.ascontiguousarray(np.rot90(mean)) if turn else mean
    paper = _median_u8(view) if paper is None else paper

    def skew_within(max_angle: float) -> float:
        if ("skew", turn, max_angle) not in known:
            if ("points", turn) not in known:
                known[("points", turn)] = _skew_points(view, paper)
            known[("skew", turn, max_angle)] = _skew_small(view, max_angle, paper=paper, points=known[("points", turn)])
        return known[("skew", turn, max_angle)]

    skew = skew_within(max_skew)
    if max_skew < WIDE_SKEW and abs(skew) >= max_skew - 1.0:  # at the edge: the cheque may be turned further
        skew = skew_within(WIDE_SKEW)
    return turn + (skew if abs(skew) >= MIN_DESKEW else 0.0)


def _wide_views(page: Page, shrunk: tuple[np.ndarray, int], views: list[_View],
                paper: float | None = None, known: dict | None = None) -> list[_View]:
    """More views of the cheque, at the skew searched up to :data:`WIDE_SKEW` degrees, where that
    differs from the angles of ``views`` by more than a degree; none for a cheque on a bed
    (``paper``: the shrunk page's ``_median_u8``, when known already; ``known``: what
    :func:`_cheque_views` kept, with the same ``paper``)."""
    if any(v.outline for v in views):
        return []
    mean, k = shrunk
    H, W = mean.shape
    more: list[_View] = []
    for turn in (0.0, 90.0) if H > W else (0.0,):
        angle = _page_skew(mean, turn, WIDE_SKEW, paper, known)
        if all(abs(angle - v.angle) > 1.0 for v in views + more):
            more += _views_at(_darkest(page, shrunk, known), k, angle, None)
    return more


def _views_at(small: np.ndarray, k: int, angle: float, corners: np.ndarray | None) -> list[_View]:
    """The upright and upside-down views of ``small`` turned ``angle`` degrees, cropped to the
    cheque's ``corners`` (shrunk pixels) when it lies on a bed, else to the printed content."""
    H, W = small.shape
    m, nw, nh = _rotation(W, H, angle)
    crop = BBox(0, 0, nw, nh)
    rotated = None
    if corners is not None:
        crop = _outline_box(corners, m, nw, nh)
    elif abs(angle) > 0.5:
        # the rotated canvas is larger than the cheque: crop it to the printed content
        rotated = _warp(small, m, (nw, nh))
        content = _content_box(rotated)
        tw, th = (H, W) if abs(angle) > 45 else (W, H)
        if abs(abs(angle) - (90 if abs(angle) > 45 else 0)) <= MAX_SKEW:
            dense = content.w >= 0.5 * tw and content.h >= 0.5 * th
        else:  # a cheque turned further fills less of its page's width and height: a share of its area
            dense = content.w * content.h >= 0.25 * tw * th
        if dense:  # a sparse page keeps the whole canvas
            crop = content
    m_view = m.copy()
    m_view[:, 2] -= (crop.x, crop.y)
    if rotated is not None:
        view = rotated[crop.y : crop.y2, crop.x : crop.x2]
    elif abs(angle) > 0.05 or corners is not None:
        view = _warp(small, m_view, (crop.w, crop.h))
    else:
        view = small
    flip = np.array([[-1.0, 0.0, crop.w], [0.0, -1.0, crop.h]])
    return [_View(view, m_view, k, angle, False), _View(view[::-1, ::-1], _compose(flip, m_view), k, angle, True)]


def _outline_box(corners: np.ndarray, m: np.ndarray, w: int, h: int) -> BBox:
    """The box around the cheque's ``corners`` once ``m`` has turned them, on a ``w`` x ``h`` canvas."""
    pts = corners @ m[:, :2].T + m[:, 2]
    x0, y0 = np.floor(pts.min(axis=0)).astype(int)
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int)
    return BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0)).clip(w, h)


def _compose(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The affine map ``a o b`` (apply ``b`` first)."""
    a3 = np.vstack([a, [0, 0, 1]])
    b3 = np.vstack([b, [0, 0, 1]])
    return (a3 @ b3)[:2]


def _field_from(page: Page, box: BBox, m: np.ndarray, layout: str, score: float, angle: float,
                flipped: bool, printed: BBox | None = None) -> Field:
    """The field at ``box`` of the view that ``m`` maps the page onto (``printed``: the printed box
    inside it, in the same pixels)."""
    H, W = page.image.shape
    bbox = _map_box_back(box, m, W, H)
    zoom = _zoom_for(box.h, MIN_FIELD_HEIGHT)  # a low-resolution scan's field is cut enlarged
    if zoom == 1.0 and np.allclose(m, [[1, 0, 0], [0, 1, 0]]):
        image = box.crop(page.image).copy()
        color = box.crop(page.color).copy() if page.color is not None else None
    else:
        mc = m * zoom
        shift = 0.5 * (zoom - 1)  # pixel centres as cv2.resize puts them
        mc[:, 2] -= (box.x * zoom - shift, box.y * zoom - shift)
        size = (round(box.w * zoom), round(box.h * zoom))
        how = cv2.INTER_CUBIC if zoom > 1.0 else cv2.INTER_LINEAR
        image = _warp(page.image, mc, size, how)
        color = _warp(page.color, mc, size, how) if page.color is not None else None
    zoom = image.shape[0] / box.h if zoom > 1.0 else 1.0
    inner = None
    if printed is not None:
        x, y = round((printed.x - box.x) * zoom), round((printed.y - box.y) * zoom)
        inner = BBox(x, y, round(printed.x2 * zoom - box.x * zoom) - x, round(printed.y2 * zoom - box.y * zoom) - y)
    return Field(bbox=bbox, image=image, color=color, layout=layout, score=score, angle=angle, upside_down=flipped,
                 zoom=zoom, box=inner)


def _zoom_for(height: int, min_height: int) -> float:
    """How many times a field ``height`` pixels high is enlarged (1.0: not at all)."""
    return max(1.0, min(MAX_FIELD_ZOOM, min_height / max(1, height)))


def _best_box(page: Page, lay: Layout, views: list[_View]) -> tuple[float, BBox, _View]:
    """The field for ``lay``: ``(score, box in the view, view)``, the prior rectangle when no box is found."""
    results = []
    for v in views:
        prior = lay.rect(v.image.shape[1], v.image.shape[0])
        # a page upside down must clearly beat it upright; a cheque standing on its side (turned
        # a quarter) stands either way alike
        unlikely = v.flipped and abs(v.angle) <= 45
        found = _find_box(v.image, prior, v.k, open_right=not unlikely)
        if found is None and not unlikely:
            found = _find_box(v.image, prior, v.k, FAINT_BOX_LINE_DARKNESS)
        if found is not None:
            score = found.score * (0.8 if unlikely else 1.0)
            results.append((score, found.box, v, unlikely))
    if results and all(r[3] for r in results):
        # only the upside-down view shows a box (an ``A/c No.`` cell): the upright one's may be smeared
        for v in views:
            if not (v.flipped and abs(v.angle) <= 45):
                prior = lay.rect(v.image.shape[1], v.image.shape[0])
                found = _find_box(v.image, prior, v.k, FAINT_BOX_LINE_DARKNESS, smeared=True)
                if found is not None:
                    results.append((found.score, found.box, v, False))
    if not results:  # a cheque cropped through its left side moves the box left, off the search
        for v in views:
            if v.flipped or abs(v.angle) > MAX_SKEW:
                continue
            prior = lay.rect(v.image.shape[1], v.image.shape[0])
            found = _find_box(v.image, prior, v.k, reach=WIDE_REACH)
            if found is not None and found.box.x < prior.x - 0.5 * prior.w:
                results.append((found.score, found.box, v, False))
    if all(r[3] for r in results):  # last, with no upright box: thin lines a black-and-white scan broke into dashes
        for v in views:
            if not (v.flipped and abs(v.angle) <= 45):
                found = _find_box(v.image, lay.rect(v.image.shape[1], v.image.shape[0]), v.k, dashed=True)
                if found is not None:
                    results.append((found.score, found.box, v, False))
    if results:
        return max(results, key=lambda r: r[0])[:3]
    v = views[0]
    log.debug("%s: no printed box for layout %s, using the prior rectangle", page.source, lay.name)
    return PRIOR_SCORE, lay.rect(v.image.shape[1], v.image.shape[0]), v


def _crop_field(page: Page, lay: Layout, found: tuple[float, BBox, _View]) -> Field:
    """The field :func:`_best_box` found, cropped (and turned) from the full-resolution page.

    A printed box found on the shrunk view runs between the centres of its lines there: the same
    centres at full resolution, then the margins for handwriting spilling over it, in full pixels.
    """
    score, box, v = found
    k, vw, vh = v.k, v.image.shape[1] * v.k, v.image.shape[0] * v.k
    if score == PRIOR_SCORE:
        full = BBox(box.x * k, box.y * k, box.w * k, box.h * k)
        field = _field_from(page, full, v.m_full, lay.name, score, v.angle, v.flipped)
    else:
        c = (k - 1) // 2
        b = BBox(box.x * k + c, box.y * k + c, (box.w - 1) * k + 1, (box.h - 1) * k + 1)
        px, pt, pb = round(FIELD_PAD_X * b.w), round(FIELD_PAD_TOP * b.h), round(FIELD_PAD_BOTTOM * b.h)
        full = BBox(b.x - px, b.y - pt, b.w + 2 * px, b.h + pt + pb).clip(vw, vh)
        field = _field_from(page, full, v.m_full, lay.name, score, v.angle, v.flipped, printed=b)
    return dataclasses.replace(field, cheques=v.cheques) if v.cheques > 1 else field


def ink_height(gray: np.ndarray) -> float:
    """How tall the ink stands on ``gray`` (paper light): the area-weighted median height of its
    ink pieces, as a share of the page's height. Pieces more than 3 times as wide as tall, sparser
    than 5% of their box, or as wide as half the page or as tall as all of it (rules, box sides,
    a cheque's edge on a scanner bed) are left out; 0.0 when nothing is left.

    Handwritten digits filling an amount-field crop stand 0.2 or more; the printed text and
    handwriting of a whole cheque about 0.13 or less (:data:`AUTO_FIELD_INK_HEIGHT`).

    >>> field = np.full((300, 900), 255, np.uint8)
    >>> for x in (100, 300, 500):
    ...     _ = cv2.putText(field, "7", (x, 230), cv2.FONT_HERSHEY_SIMPLEX, 6, 0, 18)
    >>> round(ink_height(field), 2)   # the 7s stand 121 of 300 rows
    0.41
    >>> cheque = np.full((1100, 2400), 255, np.uint8)
    >>> for y in range(100, 1000, 60):
    ...     _ = cv2.putText(cheque, "PAY TO THE ORDER OF 0123", (100, y), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 2)
    >>> ink_height(cheque) < 0.05
    True
    """
    small = _shrink(gray, max_side=INK_HEIGHT_SIDE)[0]
    sh, sw = small.shape
    ink = _ink_mask(small, sh // 8)
    _, _, stats, _ = connected_components(ink)
    _, _, pw, ph, area = stats[1:].T
    keep = (area >= 4) & (ph >= 3) & (pw <= 3 * ph) & (area >= 0.05 * pw * ph) & (ph < 0.98 * sh) & (pw < 0.5 * sw)
    if not keep.any():
        return 0.0
    order = np.argsort(ph[keep], kind="stable")
    heights, cum = ph[keep][order], np.cumsum(area[keep][order])
    return float(heights[np.searchsorted(cum, 0.5 * cum[-1])]) / sh


def is_negative(gray: np.ndarray, crop: bool = False, paper: float | None = None) -> bool:
    """Whether ``gray`` is a negative, light ink on dark paper (see :data:`NEGATIVE_MAX_PAPER`); a
    whole page is given shrunk for the search (:func:`_shrink`), a field crop (``crop``) as it is.
    ``paper``: ``_median_u8(gray)``, when known already.

    >>> page = np.full((300, 700), 20, np.uint8)                  # black paper
    >>> _ = cv2.putText(page, "PAY 1,234", (40, 150), cv2.FONT_HERSHEY_SIMPLEX, 3, 235, 6)
    >>> is_negative(page), is_negative(255 - page)
    (True, False)
    >>> bed = np.full((300, 700), 35, np.uint8); bed[40:200, 60:460] = 230   # a cheque on a dark bed
    >>> is_negative(bed), is_negative(bed, crop=True)
    (False, True)
    """
    paper = _median_u8(gray) if paper is None else paper
    if paper >= (NEGATIVE_MAX_PAPER_CROP if crop else NEGATIVE_MAX_PAPER):
        return False  # every ordinary page: one histogram
    light = cv2.threshold(gray, paper + NEGATIVE_CONTRAST, 255, cv2.THRESH_BINARY)[1]
    n_light = cv2.countNonZero(light)
    n_dark = cv2.countNonZero(cv2.threshold(gray, paper - NEGATIVE_CONTRAST - 1, 255, cv2.THRESH_BINARY_INV)[1])
    if n_light < NEGATIVE_MIN_INK * gray.size or n_light < NEGATIVE_RATIO * n_dark:
        return False
    if crop:
        return True
    # measured on what is half as much lighter: a dim cheque's paper on a dark table, only a little
    # lighter than the table, stays whole there
    lighter = cv2.threshold(gray, paper + NEGATIVE_CONTRAST // 2, 255, cv2.THRESH_BINARY)[1]
    side = max(3, int(NEGATIVE_SOLID_SIDE * min(gray.shape))) | 1
    solid = cv2.countNonZero(cv2.morphologyEx(lighter, cv2.MORPH_OPEN, _rect(side, side)))
    return solid < NEGATIVE_MAX_SOLID * cv2.countNonZero(lighter)


def _inverted(page: Page) -> Page:
    """``page`` as its positive: dark ink on light paper."""
    color = 255 - page.color if page.color is not None else None
    return dataclasses.replace(page, image=255 - page.image, color=color)


def whole_field(page: Page) -> Field:
    """The whole page as the field (layout ``field``), enlarged to :data:`MIN_CROP_HEIGHT` rows if lower.

    >>> f = whole_field(Page("x", 1, np.full((20, 100), 255, np.uint8)))
    >>> f.bbox, f.image.shape, f.zoom
    (BBox(x=0, y=0, w=100, h=20), (40, 200), 2.0)
    """
    h, w = page.image.shape
    zoom = _zoom_for(h, MIN_CROP_HEIGHT)
    image, color = page.image, page.color
    if zoom > 1.0:
        size = (round(w * zoom), round(h * zoom))
        image = cv2.resize(image, size, interpolation=cv2.INTER_CUBIC)
        color = cv2.resize(color, size, interpolation=cv2.INTER_CUBIC) if color is not None else None
        zoom = image.shape[0] / h
    return Field(BBox(0, 0, w, h), image, color, layout="field", score=1.0, zoom=zoom)


def find_amount_field(page: Page, layout: str = "auto") -> Field | None:
    """The courtesy-amount field of ``page`` for ``layout`` (``auto``, ``us``, ``in-cts``, ``field``, a ``.toml``).

    Returns ``None`` when the page is empty.

    >>> import numpy as np
    >>> from cheque_reader.types import Page
    >>> page = np.full((460, 1000), 255, np.uint8)
    >>> page[150:210, 730:960] = 0; page[154:206, 734:956] = 255   # a printed box
    >>> f = find_amount_field(Page("p", 1, page), "us")
    >>> b = f.bbox   # the printed box, grown a little to catch handwriting spilling over it
    >>> b.x <= 730 and b.y <= 150 and b.x2 >= 960 and b.y2 >= 210 and b.iou(BBox(730, 150, 230, 60)) > 0.6
    True
    """
    return _find_field(page, layout, flatten=True)


def _find_field(page: Page, layout: str, flatten: bool) -> Field | None:
    """:func:`find_amount_field`; with ``flatten``, a cheque photographed aslant on a bed is first
    warped flat (:func:`_field_flattened`)."""
    if page.image is None or page.image.size == 0:
        return None
    lay = resolve_layout(layout)
    if lay == "field":
        return whole_field(_inverted(page) if is_negative(page.image, crop=True) else page)
    if lay == "auto" and min(page.image.shape) < AUTO_FIELD_MAX_SIDE:
        return whole_field(_inverted(page) if is_negative(_shrink(page.image)[0]) else page)
    shrunk = _shrink(page.image)
    if min(shrunk[0].shape) < MIN_SEARCH_SIDE:
        log.debug("%s: a strip %s pixels, too thin for a cheque's layout", page.source, page.image.shape)
        return None
    # the shrunk page's median: the paper's level for the negative's test and the skew's (0.16 ms a
    # colour JPEG page, searched once, not twice)
    paper: float | None = _median_u8(shrunk[0])
    if is_negative(shrunk[0], paper=paper):
        log.debug("%s: a negative (light ink on dark paper), read inverted", page.source)
        page, shrunk, paper = _inverted(page), (255 - shrunk[0], shrunk[1]), None
    on_bed = _cheque_small(*shrunk)
    if flatten and on_bed is not None and _in_perspective(on_bed.outline):
        return _field_flattened(page, layout, on_bed)
    known: dict = {}  # the searches _wide_views would make again: the skew's points, the darkest shrink
    views = _cheque_views(page, shrunk, on_bed, paper, known)
    layouts = [lay] if isinstance(lay, Layout) else [LAYOUTS[name] for name in AUTO_LAYOUTS]
    # every layout is searched, only the best one's field is cropped
    found = [(each, _best_box(page, each, views)) for each in layouts]
    if max(f[1][0] for f in found) < AUTO_CLEAR_SCORE:
        more = _wide_views(page, shrunk, views, paper, known)  # turned further than MAX_SKEW?
        if more:
            views = views + more
            found = [(each, max(f, _best_box(page, each, more), key=lambda r: r[0])) for each, f in found]
    if isinstance(lay, Layout):
        return _crop_field(page, lay, found[0][1])
    if max(f[1][0] for f in found) < AUTO_CLEAR_SCORE:
        h, w = page.image.shape
        if h <= w and ink_height(shrunk[0]) >= AUTO_FIELD_INK_HEIGHT:
            # no printed box, and the ink fills the page: a field crop (a page standing on its
            # side is a cheque turned a quarter: its lines of writing stand tall)
            return whole_field(page)
        found += [(LAYOUTS[name], _best_box(page, LAYOUTS[name], views)) for name in AUTO_MORE_LAYOUTS]
    best, box = max(found, key=lambda f: f[1][0])
    if best.name in ("in-cts", "us"):
        best = _named_by_sign(dict((lay.name, f) for lay, f in found), best)
    return _crop_field(page, best, box)


def _in_perspective(outline: np.ndarray) -> bool:
    """Whether the quadrilateral ``outline`` (four corners in order) has opposite sides that differ
    in length by more than :data:`PERSPECTIVE_MIN` of the longer."""
    sides = np.hypot(*(np.roll(outline, -1, axis=0) - outline).T)
    return bool(max(abs(sides[0] - sides[2]) / max(sides[0], sides[2]),
                    abs(sides[1] - sides[3]) / max(sides[1], sides[3])) > PERSPECTIVE_MIN)


def _field_flattened(page: Page, layout: str, on_bed: _OnBed) -> Field | None:
    """The field of a cheque whose outline on the bed is in perspective (a photo taken aslant),
    found on the cheque warped flat into a page of its own; its ``bbox`` the box around it on ``page``."""
    outline = on_bed.outline.astype(np.float32)
    centre = outline.mean(axis=0)
    # top left, top right, bottom right, bottom left (y down: the angle grows clockwise)
    tl, tr, br, bl = outline[np.argsort(np.arctan2(outline[:, 1] - centre[1], outline[:, 0] - centre[0]))]
    w = round((np.hypot(*(tr - tl)) + np.hypot(*(br - bl))) / 2)
    h = round((np.hypot(*(bl - tl)) + np.hypot(*(br - tr))) / 2)
    to_flat = cv2.getPerspectiveTransform(np.float32([tl, tr, br, bl]), np.float32([[0, 0], [w, 0], [w, h], [0, h]]))

    def flat(image: np.ndarray | None) -> np.ndarray | None:
        if image is None:
            return None
        return cv2.warpPerspective(image, to_flat, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

    field = _find_field(Page(page.source, page.page, flat(page.image), flat(page.color), page.dpi, page.extra),
                        layout, flatten=False)
    if field is None:
        return None
    b = field.bbox
    corners = np.float32([[b.x, b.y], [b.x2, b.y], [b.x2, b.y2], [b.x, b.y2]]).reshape(-1, 1, 2)
    back = cv2.perspectiveTransform(corners, np.linalg.inv(to_flat)).reshape(-1, 2)
    (x0, y0), (x1, y1) = np.floor(back.min(axis=0)).astype(int), np.ceil(back.max(axis=0)).astype(int)
    H, W = page.image.shape
    bbox = BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0)).clip(W, H)
    # the turn that lays the cheque's top edge level, then the flat page's own
    angle = float(np.degrees(np.arctan2(*(tr - tl)[::-1]))) + field.angle
    return dataclasses.replace(field, bbox=bbox, angle=round(angle, 2), cheques=max(field.cheques, on_bed.cheques))


def _named_by_sign(found: dict, best: Layout) -> Layout:
    """``best``, or the other of ``in-cts`` and ``us`` when both found the same printed box and the
    sign left of it says so (see :data:`DOLLAR_MIN_HEIGHT`)."""
    (s1, b1, v1), (s2, b2, v2) = found["in-cts"], found["us"]
    if PRIOR_SCORE in (s1, s2) or v1 is not v2 or b1.iou(b2) < 0.7:
        return best
    return LAYOUTS["us" if _dollar_left_of(v1.image, b1) else "in-cts"]


def _dollar_left_of(gray: np.ndarray, box: BBox) -> bool:
    """Whether a printed ``$`` (not a rupee sign) stands just left of ``box`` on ``gray`` (paper light).

    >>> page = np.full((120, 400), 255, np.uint8)
    >>> page[30:90, 200:380] = 0; page[32:88, 202:378] = 255            # the box
    >>> box = BBox(200, 30, 180, 60)
    >>> _dollar_left_of(page, box)
    False
    >>> _ = cv2.putText(page, "$", (170, 80), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 0, 3)
    >>> _dollar_left_of(page, box)
    True
    """
    h, w = gray.shape
    x0, x1 = max(0, int(box.x - (DOLLAR_MAX_GAP + DOLLAR_ASPECT[1]) * box.h)), box.x - 1
    y0, y1 = max(0, box.y - box.h // 4), min(h, box.y2 + box.h // 4)
    if x1 - x0 < 3 or y1 <= y0:
        return False
    paper = float(np.median(gray[box.y : box.y2, max(0, box.x - 3 * box.h) : box.x]))
    ink = (gray[y0:y1, x0:x1] < paper - 60).astype(np.uint8)
    n, labels, stats, _ = connected_components(ink)
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        if (DOLLAR_MIN_HEIGHT * box.h <= ch <= 1.1 * box.h and DOLLAR_ASPECT[0] <= cw / ch <= DOLLAR_ASPECT[1]
                and x1 - (x0 + x + cw) <= DOLLAR_MAX_GAP * box.h
                and not two_top_bars(labels[y : y + ch, x : x + cw] == i)):
            return True
    return False


def refind_field(page: Page, box: BBox, layout: str = "") -> Field | None:
    """The field ``read`` found at ``box`` (page pixels) on ``page``, as it read it: deskewed, turned
    upright and enlarged as then. The digit boxes of ``digits.csv`` are in its pixels (unzoomed), so
    the review page shows it and ``finetune`` cuts it; the raw ``box`` of an upside-down or turned
    page holds the digits upside down or aslant, elsewhere than those boxes say.

    Found again with ``layout`` (a result's ``layout`` column), then with ``auto``; ``None`` when
    neither finds exactly ``box`` (a ``.toml`` layout's field, or not the page that was read).

    >>> page = np.full((460, 1000), 255, np.uint8)
    >>> page[150:210, 730:960] = 0; page[154:206, 734:956] = 255   # a printed box
    >>> f = find_amount_field(Page("p", 1, page[::-1, ::-1]), "us")  # the page upside down
    >>> g = refind_field(Page("p", 1, page[::-1, ::-1]), f.bbox, "us")
    >>> g.upside_down, g.bbox == f.bbox
    (True, True)
    >>> refind_field(Page("p", 1, page), BBox(0, 0, 10, 10), "us") is None
    True
    """
    tried = []
    for name in (layout, "auto"):
        if name in tried or not (name in LAYOUTS or name in ("field", "auto")):
            continue
        tried.append(name)
        try:
            field = find_amount_field(page, name)
        except Exception as exc:  # a page the reader could read once; say why, show the raw box
            log.debug("%s: field not found again with layout %s: %s", page.source, name, exc)
            continue
        if field is not None and field.bbox == box:
            return field
    return None
