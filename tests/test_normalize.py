"""normalize: a crop -> LeNet-5's 32x32 input (paper convention), on tiny hand-made arrays."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from cheque_reader.config import BACKGROUND_VALUE, INK_VALUE
from cheque_reader.normalize import ink_map, normalize_batch, normalize_digit

BG, INK = np.float32(BACKGROUND_VALUE), np.float32(INK_VALUE)


def blank(h, w):
    return np.full((h, w), 255, np.uint8)


def mass_centre(x):
    w = x - BG
    r, c = np.indices(x.shape)
    return float((w * r).sum() / w.sum()), float((w * c).sum() / w.sum())


def test_shape_dtype_and_range():
    crop = blank(40, 30)
    crop[5:35, 5:25] = 0
    x = normalize_digit(crop)
    assert x.shape == (32, 32) and x.dtype == np.float32
    assert x.min() == pytest.approx(BG) and x.max() == pytest.approx(INK)
    assert x[0].max() == pytest.approx(BG) and x[:, 0].max() == pytest.approx(BG)  # 2-pixel border stays paper


def test_fits_20x20_keeping_aspect():
    crop = blank(60, 60)
    crop[10:50, 25:35] = 0  # 40 tall, 10 wide -> 20 tall, 5 wide
    x = normalize_digit(crop)
    ink = x > (BG + INK) / 2
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    assert rows[-1] - rows[0] + 1 == 20
    assert cols[-1] - cols[0] + 1 == 5


def test_wide_shape_fits_width():
    crop = blank(20, 80)
    crop[8:12, 0:80] = 0  # a dash: 80 wide -> 20 wide, 1 tall
    x = normalize_digit(crop)
    ink = x > (BG + INK) / 2
    assert np.flatnonzero(ink.any(0)).size == 20
    assert np.flatnonzero(ink.any(1)).size == 1


def test_centre_of_mass_at_centre():
    crop = blank(30, 30)
    crop[2:28, 2:6] = 0      # heavy left bar
    crop[2:5, 2:28] = 0      # thin top bar: mass is left and up of the box centre
    x = normalize_digit(crop)
    r, c = mass_centre(x)
    assert abs(r - 15.5) <= 0.75 and abs(c - 15.5) <= 0.75


def test_position_in_crop_does_not_matter():
    a, b = blank(40, 40), blank(40, 40)
    a[2:20, 3:12] = 0
    b[20:38, 25:34] = 0
    np.testing.assert_allclose(normalize_digit(a), normalize_digit(b))


def test_gray_scan_is_stretched_like_black_ink():
    binary = blank(30, 20)
    binary[5:25, 8:12] = 0
    gray = np.full((30, 20), 225, np.uint8)
    gray[5:25, 8:12] = 70
    np.testing.assert_allclose(normalize_digit(gray), normalize_digit(binary), atol=1e-5)


@pytest.mark.parametrize(
    "crop",
    [
        np.zeros((0, 0), np.uint8),
        np.zeros((0, 7), np.uint8),
        np.full((1, 1), 255, np.uint8),
        np.full((13, 9), 255, np.uint8),
        np.full((13, 9), 240, np.uint8),   # gray paper, no ink
    ],
    ids=["empty", "no-rows", "one-white-pixel", "blank", "gray-paper"],
)
def test_no_ink_gives_all_background(crop):
    x = normalize_digit(crop)
    assert x.shape == (32, 32) and np.all(x == BG)


def test_one_black_pixel_and_all_ink_crop_are_finite_ink():
    for crop in (np.zeros((1, 1), np.uint8), np.zeros((12, 3), np.uint8)):
        x = normalize_digit(crop)
        assert np.isfinite(x).all() and x.max() == pytest.approx(INK)


def test_huge_and_odd_inputs():
    huge = blank(3000, 2000)
    huge[500:2500, 900:1100] = 0
    x = normalize_digit(huge)
    assert x.shape == (32, 32) and np.isfinite(x).all() and x.max() == pytest.approx(INK, abs=1e-3)
    rgb = np.stack([huge[:300, :200]] * 3, axis=2)
    assert normalize_digit(rgb).shape == (32, 32)
    assert normalize_digit(np.full((4, 4), np.nan)).shape == (32, 32)
    assert np.all(normalize_digit(np.ones((5, 5), bool)) == BG)  # True = white paper


def test_ink_map_and_batch():
    m = ink_map(np.array([[255, 0], [255, 255]], np.uint8))
    assert m.tolist() == [[0.0, 1.0], [0.0, 0.0]]
    crops = [blank(10, 10), np.zeros((3, 3), np.uint8)]
    x = normalize_batch(crops)
    assert x.shape == (2, 1, 32, 32) and x.dtype == np.float32
    assert normalize_batch([]).shape == (0, 1, 32, 32)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 120), w=st.integers(1, 120), seed=st.integers(0, 2**16),
       kind=st.sampled_from(["noise", "blank", "black", "speck"]))
def test_normalize_is_always_a_finite_32x32_input(h, w, seed, kind):
    rng = np.random.default_rng(seed)
    crop = {"noise": lambda: rng.integers(0, 256, (h, w), dtype=np.uint8),
            "blank": lambda: np.full((h, w), 255, np.uint8),
            "black": lambda: np.zeros((h, w), np.uint8),
            "speck": lambda: np.where(rng.random((h, w)) < 0.01, 0, 255).astype(np.uint8)}[kind]()
    x = normalize_digit(crop)
    assert x.shape == (32, 32) and x.dtype == np.float32
    assert np.isfinite(x).all()
    assert x.min() >= BACKGROUND_VALUE - 1e-6 and x.max() <= INK_VALUE + 1e-6


def _ink_map_by_levels(crop: np.ndarray) -> np.ndarray:
    # ink_map's arithmetic for any crop: the paper at the 2nd percentile, Otsu's floor
    import cv2

    from cheque_reader import normalize

    a = 255.0 - crop.astype(np.float32)
    k = int(0.02 * (a.size - 1))
    a -= min(float(np.partition(a.ravel(), k)[k]), normalize.MAX_PAPER_INK)
    peak = float(a.max())
    if peak < normalize.MIN_CONTRAST:
        return np.zeros(crop.shape, np.float32)
    a *= 1.0 / peak
    otsu, _ = cv2.threshold((a * 255.0).astype(np.uint8), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    a[a < max(normalize.NOISE_FLOOR, normalize.OTSU_SHARE * otsu / 255.0)] = 0.0
    return normalize._drop_specks(a)


@pytest.mark.parametrize("ink_share", [0.0, 0.05, 0.3, 0.97, 0.985, 0.99, 1.0])
def test_a_black_and_white_crop_is_mapped_as_any_crop(ink_share):
    # every candidate the reader makes is 0 and 255: its paper and Otsu's floor known, not searched
    rng = np.random.default_rng(int(ink_share * 1000))
    for h, w in ((44, 30), (7, 90), (1, 1), (60, 61)):
        crop = np.where(rng.random((h, w)) < ink_share, 0, 255).astype(np.uint8)
        expected = _ink_map_by_levels(crop)
        assert ink_map(crop).view(np.uint32).tolist() == expected.view(np.uint32).tolist()
