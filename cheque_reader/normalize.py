"""A digit crop -> LeNet-5's 32x32 input, in the paper's convention.

The ink is cropped to its bounding box, scaled to fit a 20x20 box keeping its aspect
ratio, placed so that its centre of mass sits at the centre of the 28x28 MNIST field,
and padded to 32x32. Background maps to ``BACKGROUND_VALUE`` (-0.1) and full ink to
``INK_VALUE`` (1.175), so the input has mean near 0 and variance near 1 (LeCun 1998).

Crops are ``uint8`` grayscale, dark ink on light paper, of any size. Gray scans are
contrast-stretched (paper level and ink level estimated from the crop); a crop with no
ink contrast (blank paper, an empty array) becomes an all-background input.

>>> import numpy as np
>>> crop = np.full((40, 20), 255, np.uint8); crop[5:35, 8:12] = 0   # a "1"
>>> x = normalize_digit(crop)
>>> x.shape, x.dtype, round(float(x.min()), 3), round(float(x.max()), 3)
((32, 32), dtype('float32'), -0.1, 1.175)
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from .config import BACKGROUND_VALUE, CENTER_SIZE, FIT_SIZE, INK_VALUE, INPUT_SIZE
from .preprocess import connected_components, label_lookup

#: Crops larger than this (either side) are first shrunk, keeping aspect (speed, memory).
MAX_CROP_SIDE = 256

#: Least ink contrast (gray levels, 0-255) for a crop to hold any ink at all.
MIN_CONTRAST = 40.0

#: Ink (0-1, after stretching) at least this strong counts for the bounding box.
BOX_THRESHOLD = 0.3

#: Ink weaker than this (0-1, after stretching) is taken as paper noise and dropped.
NOISE_FLOOR = 0.12

#: Ink weaker than this share of the crop's Otsu threshold is dropped as background texture.
OTSU_SHARE = 0.8

#: Connected ink pieces with less than this share of the crop's ink pixels are dropped (specks).
SPECK_SHARE = 0.03

#: The paper level is taken no darker than this many gray levels of "ink" (0-255): a crop that
#: is all dark (a tight crop of a thick stroke) stays ink instead of becoming paper.
MAX_PAPER_INK = 100.0


def ink_map(crop: np.ndarray) -> np.ndarray:
    """Ink strength in 0-1 (float32, same shape) of a dark-on-light crop, contrast-stretched.

    Paper becomes 0 and the darkest ink 1; crops without ink contrast become all 0.

    >>> import numpy as np
    >>> ink_map(np.array([[250, 250], [250, 50]], np.uint8)).tolist()
    [[0.0, 0.0], [0.0, 1.0]]
    """
    img = _as_gray_uint8(crop)
    if img.size == 0:
        return np.zeros(img.shape, np.float32)
    a = 255.0 - img.astype(np.float32)
    flat = a.ravel()
    k = int(0.02 * (flat.size - 1))
    if _black_and_white(img) and cv2.countNonZero(img) > k:
        # a cleaned candidate's 0 and 255 (every one the reader makes), paper the 2nd percentile: 0
        # ink 1 (255 * float32(1 / 255)), above every floor of Otsu's split (at most OTSU_SHARE)
        peak = float(a.max())
        if peak < MIN_CONTRAST:
            return np.zeros(img.shape, np.float32)
        a *= 1.0 / peak
        return _drop_specks(a)
    paper = min(float(np.partition(flat, k)[k]), MAX_PAPER_INK)  # 2nd percentile: the paper level
    a -= paper
    peak = float(a.max())
    if peak < MIN_CONTRAST:
        return np.zeros(img.shape, np.float32)
    a *= 1.0 / peak
    # Ink lighter than Otsu's split of this crop is background texture (security patterns,
    # scanner noise): drop it, keeping the gray levels of the ink itself.
    u8 = (a * 255.0).astype(np.uint8)
    otsu, _ = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    floor = max(NOISE_FLOOR, OTSU_SHARE * otsu / 255.0)
    a[a < floor] = 0.0
    return _drop_specks(a)


def _black_and_white(img: np.ndarray) -> bool:
    """Whether the ``uint8`` image ``img`` holds no level but 0 and 255.

    >>> _black_and_white(np.array([[0, 255]], np.uint8)), _black_and_white(np.array([[0, 254]], np.uint8))
    (True, False)
    """
    return cv2.countNonZero(cv2.inRange(img, 1, 254)) == 0


def _drop_specks(a: np.ndarray) -> np.ndarray:
    """Remove connected ink specks holding under ``SPECK_SHARE`` of the crop's ink."""
    mask = (a > 0).astype(np.uint8)
    n, labels, stats, _ = connected_components(mask)
    if n <= 2:
        return a
    areas = stats[1:, cv2.CC_STAT_AREA]
    small = np.zeros(n, bool)
    small[1:] = areas < SPECK_SHARE * areas.sum()
    if small.any():
        a[label_lookup(small, labels)] = 0.0
    return a


def normalize_digit(crop: np.ndarray) -> np.ndarray:
    """One crop (``uint8``, dark ink on light paper, any size) -> ``(32, 32)`` float32 input.

    Always returns a finite array; empty, blank or degenerate crops give all background.

    >>> import numpy as np
    >>> bool(normalize_digit(np.zeros((0, 0), np.uint8)).max() == np.float32(-0.1))
    True
    """
    img = _as_gray_uint8(crop)
    h, w = img.shape
    if max(h, w) > MAX_CROP_SIDE:
        s = MAX_CROP_SIDE / max(h, w)
        img = cv2.resize(img, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    return _place(ink_map(img))


def normalize_batch(crops: Sequence[np.ndarray]) -> np.ndarray:
    """Many crops -> ``(N, 1, 32, 32)`` float32 inputs (``N`` may be 0).

    >>> import numpy as np
    >>> normalize_batch([np.full((5, 5), 255, np.uint8)] * 3).shape
    (3, 1, 32, 32)
    """
    out = np.empty((len(crops), 1, INPUT_SIZE, INPUT_SIZE), np.float32)
    for i, c in enumerate(crops):
        out[i, 0] = normalize_digit(c)
    return out


def ink_to_input(ink: np.ndarray) -> np.ndarray:
    """Map ink strength 0-1 to the network's range (background -0.1, ink 1.175).

    >>> ink_to_input(np.array([0.0, 1.0])).tolist() == [np.float32(-0.1), np.float32(1.175)]
    True
    """
    return _ink_to_input_inplace(np.array(ink, dtype=np.float32))


def _as_gray_uint8(crop: np.ndarray) -> np.ndarray:
    img = np.asarray(crop)
    if img.ndim == 3:
        img = img[..., :3].mean(axis=2) if img.shape[2] >= 3 else img[..., 0]
    if img.ndim != 2 or img.size == 0:
        img = img.reshape(img.shape[0], -1) if img.ndim > 2 and img.size else np.zeros((0, 0), np.uint8)
    if img.dtype == bool:
        img = np.where(img, 255, 0)
    if img.dtype != np.uint8:
        img = np.clip(np.nan_to_num(img.astype(np.float64), nan=255.0), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(img)


def _place(ink: np.ndarray) -> np.ndarray:
    """Crop ``ink`` (0-1) to its box, fit 20x20, centre by mass in 28x28, pad to 32x32."""
    out = np.zeros((INPUT_SIZE, INPUT_SIZE), np.float32)
    if ink.size == 0:
        return ink_to_input(out)
    strong = ink >= BOX_THRESHOLD
    rows = np.flatnonzero(strong.any(axis=1))
    cols = np.flatnonzero(strong.any(axis=0))
    if rows.size == 0:
        return ink_to_input(out)
    box = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    h, w = box.shape
    s = FIT_SIZE / max(h, w)
    nh, nw = max(1, min(FIT_SIZE, round(h * s))), max(1, min(FIT_SIZE, round(w * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    digit = cv2.resize(box, (nw, nh), interpolation=interp)
    if interp == cv2.INTER_LINEAR:  # area averaging stays in 0-1; linear may not at the edges
        np.clip(digit, 0.0, 1.0, out=digit)
    # (not cv2.moments: it reads an (n, 2) array as a contour)
    row_mass, col_mass = digit.sum(axis=1), digit.sum(axis=0)
    mass = float(row_mass.sum())
    if mass <= 0:
        return ink_to_input(out)
    cy = float(row_mass @ np.arange(nh, dtype=np.float32)) / mass
    cx = float(col_mass @ np.arange(nw, dtype=np.float32)) / mass
    margin = (INPUT_SIZE - CENTER_SIZE) // 2
    centre = INPUT_SIZE / 2 - 0.5  # pixel-centre coordinates of the field's centre
    top = min(max(round(centre - cy), margin), margin + CENTER_SIZE - nh)
    left = min(max(round(centre - cx), margin), margin + CENTER_SIZE - nw)
    out[top : top + nh, left : left + nw] = digit
    return ink_to_input(out)


def _ink_to_input_inplace(x: np.ndarray) -> np.ndarray:
    x *= INK_VALUE - BACKGROUND_VALUE
    x += BACKGROUND_VALUE
    return x
