"""segment on tiny hand-made ink arrays (paper 255, ink 0) and best_path with hand-made predictions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from cheque_reader import segment
from cheque_reader.classify import DigitPredictions
from cheque_reader.types import BBox, DigitCandidate


def blank(h: int = 40, w: int = 120) -> np.ndarray:
    return np.full((h, w), 255, np.uint8)


def ring(img: np.ndarray, cx: int, cy: int = 20, rx: int = 7, ry: int = 13) -> None:
    cv2.ellipse(img, (cx, cy), (rx, ry), 0, 0, 360, 0, 3)


def kinds(cands) -> list[str]:
    return [c.kind for c in cands]


def test_empty_and_blank():
    assert segment.segment_field(blank()) == ()
    assert segment.best_path(()) == ()


def test_two_blobs_two_candidates():
    ink = blank()
    ring(ink, 20)
    ring(ink, 60)
    cands = segment.segment_field(ink)
    assert kinds(cands) == ["digit", "digit"]
    assert cands[0].bbox.x < cands[1].bbox.x
    assert [(c.start, c.end) for c in cands] == [(0, 1), (1, 2)]
    assert cands[0].image.dtype == np.uint8 and (cands[0].image == 0).any()


def test_dot_below_baseline_is_separator():
    ink = blank()
    ring(ink, 20)
    ink[31:35, 34:38] = 0            # a dot at the baseline
    ring(ink, 55)
    ring(ink, 80)
    assert kinds(segment.segment_field(ink)) == ["digit", ".", "digit", "digit"]


def test_a_thick_pens_round_point_is_a_separator_and_a_small_ring_is_not():
    # the digits are 27 rows tall: a filled dot 9 across (a third of them) is a thick pen's point
    for fill, kind in ((-1, "."), (2, "digit")):
        ink = blank()
        ring(ink, 20)
        cv2.circle(ink, (39, 29), 4, 0, fill)
        ring(ink, 58)
        ring(ink, 83)
        assert kinds(segment.segment_field(ink))[:3] == ["digit", kind, "digit"]


def test_a_point_too_big_for_a_separator_is_never_one_digit_with_the_digit_beside_it():
    # digits 31 rows tall: a filled dot 13 across (0.42 of them) at their feet, close after a "1", is a
    # thick pen's point: a digit candidate of its own (for the path to leave out), never one digit with the "1"
    def field(dot_row: int) -> np.ndarray:
        ink = blank()
        ring(ink, 20)
        ring(ink, 46)
        ink[7:34, 62:66] = 0
        cv2.circle(ink, (76, dot_row), 6, 0, -1)
        ring(ink, 102)
        return ink

    cands = segment.segment_field(field(28))
    assert kinds(cands) == ["digit"] * 5 and all(c.end == c.start + 1 for c in cands)
    assert 11 <= cands[3].bbox.w <= 14
    # the same dot high in the band is no point: it may be one digit with the stroke before it
    assert any(c.end > c.start + 1 for c in segment.segment_field(field(12)))


@pytest.mark.parametrize(
    "rows, cols",
    [
        ((39, 43), (19, 23)),   # right under the first ring: the foot of a digit, a line remnant
        ((45, 49), (34, 38)),   # in the gap but well below the baseline: a scrap of the guide line
    ],
)
def test_a_scrap_is_no_point(rows, cols):
    ink = blank(56)
    ring(ink, 20)
    ink[rows[0] : rows[1], cols[0] : cols[1]] = 0
    ring(ink, 55)
    ink[31:35, 68:72] = 0            # a point in the gap at the baseline: kept
    ring(ink, 85)
    assert kinds(segment.segment_field(ink)) == ["digit", "digit", ".", "digit"]


def test_the_bar_across_a_digit_is_no_dash():
    ink = blank(46)
    cv2.line(ink, (12, 8), (28, 8), 0, 3)     # a 7 whose bar (below) did not touch its stroke
    cv2.line(ink, (28, 8), (18, 34), 0, 3)
    ink[20:23, 8:18] = 0
    ring(ink, 55)
    ink[19:22, 68:82] = 0                     # a dash between the digits: kept
    ring(ink, 97)
    cands = segment.segment_field(ink)
    assert [c.kind for c in cands if c.end == c.start + 1] == ["digit", "digit", "-", "digit"]


def test_a_one_leaning_flatter_than_upright_before_the_last_digit_is_a_digit_not_a_dash():
    """A 1 leaning over 50 degrees (separator_kind takes such a thin stroke for a dash or a tail) as
    tall as the digits and before the last one is a digit (``91394,14`` had been read ``9-1394,14``)."""
    ink = np.full((46, 170), 255, np.uint8)
    for cx in (20, 55, 140):
        ring(ink, cx, 22)
    cv2.line(ink, (76, 34), (112, 10), 0, 3)   # 56 degrees off upright
    cands = [c for c in segment.segment_field(ink) if c.end == c.start + 1]
    assert kinds(cands) == ["digit"] * 4
    flat = np.full((46, 170), 255, np.uint8)    # the same stroke flatter, a third as tall: a dash
    for cx in (20, 55, 140):
        ring(flat, cx, 22)
    cv2.line(flat, (76, 25), (112, 17), 0, 3)
    assert kinds([c for c in segment.segment_field(flat) if c.end == c.start + 1]) == ["digit", "digit", "-", "digit"]


def test_a_low_stroke_between_digits_is_no_dash():
    ink = blank(46)
    ring(ink, 20)
    ink[32:35, 31:44] = 0                     # a joining stroke or tail at the digits' feet
    ring(ink, 55)
    ring(ink, 90)
    ink[31:34, 100:114] = 0                   # the same after the last digit: a closing dash
    cands = segment.segment_field(ink)
    assert [c.kind for c in cands if c.end == c.start + 1] == ["digit", "digit", "digit", "-"]


def _zeros_with_a_joined_dash() -> np.ndarray:
    """"00-00" (digits 57 rows tall) whose dash, at mid-height, is drawn on from the 0 before it."""
    ink = np.full((90, 240), 255, np.uint8)
    for cx in (30, 70, 140, 180):
        cv2.ellipse(ink, (cx, 40), (14, 26), 0, 0, 360, 0, 4, cv2.LINE_AA)
    cv2.line(ink, (84, 42), (108, 40), 0, 6)
    return ink


def test_a_dash_drawn_on_from_a_digit_is_cut_off_as_a_dash_where_asked():
    """British pence after a dash (``60-00``): a dash joined to the digit before it was cut off as a
    digit piece, which the path dropped; with ``joined_dashes`` (a field whose convention is known) it
    is a ``-``, and the 0 keeps its ink."""
    ink = _zeros_with_a_joined_dash()
    assert cv2.connectedComponents((ink < 128).astype(np.uint8))[0] - 1 == 4   # the dash is joined to a 0
    cands = [c for c in segment.segment_field(ink, joined_dashes=True) if c.end == c.start + 1]
    assert "-" in kinds(cands)
    dash = cands[kinds(cands).index("-")].bbox
    assert 84 <= dash.x and dash.x2 <= 112 and 34 <= dash.y and dash.y2 <= 48
    assert [c for c in cands if c.kind == "digit" and c.bbox.x2 <= dash.x + 1 and c.bbox.x >= 50]   # the 0 before it
    assert "-" not in kinds(segment.segment_field(ink))   # a field of unknown convention: a 7's bar looks the same


@pytest.mark.parametrize("y", [26, 62])
def test_a_stroke_cut_off_a_digit_high_or_low_is_no_joined_dash(y):
    """A bar cut off a digit's end near its top (a 7's, a 5's) or its foot (a joining stroke) is no dash."""
    ink = np.full((90, 240), 255, np.uint8)
    for cx in (30, 70, 140, 180):
        cv2.ellipse(ink, (cx, 40), (14, 26), 0, 0, 360, 0, 4, cv2.LINE_AA)
    cv2.line(ink, (84, y), (108, y), 0, 6)
    assert "-" not in kinds(segment.segment_field(ink, joined_dashes=True))


def test_comma_hanging_below_is_separator():
    ink = blank(50)
    ring(ink, 20)
    cv2.line(ink, (36, 28), (32, 41), 0, 2)   # a comma: short thin stroke reaching below the digits
    ring(ink, 55)
    ring(ink, 80)
    assert kinds(segment.segment_field(ink)) == ["digit", ",", "digit", "digit"]


def test_a_fine_pens_point_smaller_than_a_speck_is_kept_on_the_baseline_between_digits():
    # digits 56 rows tall: specks are under 12 pixels, the 3x3 point is one
    def field(dot_rows: tuple[int, int], dot_cols: tuple[int, int]) -> np.ndarray:
        ink = blank(90, 200)
        for cx in (30, 75, 120):
            cv2.ellipse(ink, (cx, 40), (14, 26), 0, 0, 360, 0, 4)
        ink[dot_rows[0] : dot_rows[1], dot_cols[0] : dot_cols[1]] = 0
        return ink

    assert kinds(segment.segment_field(field((65, 68), (51, 54))))[:3] == ["digit", ".", "digit"]
    assert "." not in kinds(segment.segment_field(field((38, 41), (51, 54))))   # in the middle of the band
    assert "." not in kinds(segment.segment_field(field((65, 68), (150, 153))))  # after the last digit
    # before the thin '/' of a closing '/-' (a turned scan leaves such specks): no point either
    ink = field((65, 68), (140, 143))
    cv2.line(ink, (160, 70), (172, 10), 0, 4)
    ink[40:44, 178:196] = 0
    assert "." not in kinds(segment.segment_field(ink))


def _zeros_with_a_point_touching(after: bool) -> np.ndarray:
    """"00.00" (digits 57 rows tall) whose point touches the digit before it (``after``) or after it,
    joined by a thin stroke, as a pen dragged from the digit to the point leaves."""
    ink = np.full((90, 240), 255, np.uint8)
    for cx in (30, 70, 130, 170):
        cv2.ellipse(ink, (cx, 40), (14, 26), 0, 0, 360, 0, 4, cv2.LINE_AA)
    if after:
        cv2.line(ink, (78, 63), (92, 63), 0, 2)
        cv2.circle(ink, (95, 61), 6, 0, -1, cv2.LINE_AA)
    else:
        cv2.circle(ink, (105, 61), 6, 0, -1, cv2.LINE_AA)
        cv2.line(ink, (108, 63), (122, 63), 0, 2)
    return ink


@pytest.mark.parametrize("after", [True, False])
def test_a_point_touching_a_digit_is_cut_off_as_a_point(after):
    ink = _zeros_with_a_point_touching(after)
    assert cv2.connectedComponents((ink < 128).astype(np.uint8))[0] - 1 == 4   # the point is joined to a digit
    cands = [c for c in segment.segment_field(ink) if c.end == c.start + 1]
    assert kinds(cands) == ["digit", "digit", ".", "digit", "digit"]
    point = cands[2].bbox
    assert 88 <= point.x and point.x2 <= 103 if after else 98 <= point.x and point.x2 <= 112
    assert 50 <= point.y and point.y2 <= 69   # the dot, not the stroke to it
    digit = cands[1 if after else 3].bbox
    assert digit.h >= 50 and (digit.x2 <= point.x + 1 if after else digit.x >= point.x2 - 1)


def test_a_thick_pens_big_point_on_a_digits_foot_is_cut_off_as_a_point():
    # "00.00", digits 57 rows tall: a point 19 rows across joined to the foot of the 0 before it by a
    # thick run, 0.79 of the point thick (TOUCHING_POINT_NECK_BIG: a big point lies over the foot)
    ink = np.full((90, 240), 255, np.uint8)
    for cx in (30, 70, 140, 180):
        cv2.ellipse(ink, (cx, 40), (14, 26), 0, 0, 360, 0, 4, cv2.LINE_AA)
    cv2.line(ink, (74, 63), (88, 63), 0, 8, cv2.LINE_AA)
    cv2.circle(ink, (95, 59), 9, 0, -1, cv2.LINE_AA)
    cands = [c for c in segment.segment_field(ink) if c.end == c.start + 1]
    assert kinds(cands) == ["digit", "digit", ".", "digit", "digit"]
    assert cands[2].bbox.x >= 86 and cands[2].bbox.h <= 20


def _zero_two_zero_zero(thick: int, rise: int, blob: int) -> np.ndarray:
    """"0200" with the 2's foot drawn ``thick``, its end ``rise`` rows up and thickened into a blob."""
    ink = np.full((90, 220), 255, np.uint8)
    aa = cv2.LINE_AA
    for cx in (30, 130, 170):
        cv2.ellipse(ink, (cx, 40), (14, 26), 0, 0, 360, 0, 4, aa)
    cv2.ellipse(ink, (70, 26), (13, 13), 0, 160, 380, 0, thick, aa)
    cv2.line(ink, (82, 31), (57, 64), 0, thick, aa)
    cv2.line(ink, (57, 64), (96, 64 - rise), 0, thick, aa)
    cv2.circle(ink, (96, 64 - rise), blob, 0, -1, aa)
    return ink


@pytest.mark.parametrize("thick, rise", [(4, 6), (8, 0)])
def test_the_thickened_end_of_a_twos_foot_is_no_point(thick, rise):
    # the end of the foot rising off the line (as ORAND 2s are written), or a thick pen's foot whose
    # end is a little wider than the stroke: not round enough (TOUCHING_POINT_RAISED, _ROUND)
    ink = _zero_two_zero_zero(thick, rise, 6)
    assert "." not in kinds(segment.segment_field(ink))


def test_the_line_under_superscript_cents_is_taken_off_them():
    def field(line_row: int) -> np.ndarray:
        ink = blank(44, 130)
        ring(ink, 20)
        ring(ink, 55)
        for cx in (86, 104):                                 # the cents: small, raised
            cv2.ellipse(ink, (cx, line_row - 9), (5, 7), 0, 0, 360, 0, 3)
        ink[line_row : line_row + 3, 74:120] = 0             # the line drawn under them, touching them
        return ink

    prims = [c for c in segment.segment_field(field(19)) if c.end == c.start + 1]
    assert len(prims) == 4 and all(c.bbox.y2 <= 19 for c in prims[2:])   # two cents, the line gone
    # the same line at the digits' feet is no superscript cents' line: it stays with the ink above it
    low = [c for c in segment.segment_field(field(32)) if c.end == c.start + 1]
    assert sum(c.bbox.y2 >= 34 for c in low[2:]) >= 2


def test_a_thick_pens_comma_is_a_separator_and_a_flat_scrap_below_is_not():
    ink = blank(50)
    ring(ink, 20)
    cv2.ellipse(ink, (39, 36), (3, 6), 10, 0, 360, 0, -1)   # a solid comma hanging below the feet
    ring(ink, 58)
    ring(ink, 83)
    assert kinds(segment.segment_field(ink)) == ["digit", ",", "digit", "digit"]
    scrap = blank(50)
    ring(scrap, 20)
    cv2.ellipse(scrap, (39, 38), (6, 3), 0, 0, 360, 0, -1)  # as solid, but flat: a scrap of a line
    ring(scrap, 58)
    assert "," not in kinds(segment.segment_field(scrap))


def test_small_zero_stays_a_digit():
    ink = blank(50)
    ring(ink, 20)
    ring(ink, 45, cy=25, rx=5, ry=7)   # a small 0 (Indian amounts often have them)
    ring(ink, 70)
    assert kinds(segment.segment_field(ink)) == ["digit", "digit", "digit"]


def test_terminator_slash_dash():
    ink = blank(60, 160)
    for cx in (20, 45, 70):
        ring(ink, cx, cy=30)
    cv2.line(ink, (100, 50), (115, 5), 0, 2)    # '/' taller than the digits, leaning right
    cv2.line(ink, (118, 30), (140, 30), 0, 3)   # '-'
    assert kinds(segment.segment_field(ink)) == ["digit", "digit", "digit", "/", "-"]


def test_upright_one_at_the_end_stays_a_digit():
    ink = blank(50, 120)
    ring(ink, 20, cy=25)
    ring(ink, 45, cy=25)
    cv2.line(ink, (70, 12), (69, 38), 0, 3)     # a final "1"
    assert kinds(segment.segment_field(ink)) == ["digit", "digit", "digit"]


def test_broken_five_is_merged():
    ink = blank(50, 80)
    cv2.line(ink, (14, 10), (30, 10), 0, 3)          # the hat of a 5, not touching the body
    cv2.line(ink, (14, 14), (13, 24), 0, 3)
    cv2.ellipse(ink, (20, 31), (8, 8), 0, -120, 150, 0, 3)
    ring(ink, 55, cy=25)
    cands = segment.segment_field(ink)
    assert kinds(cands) == ["digit", "digit"]
    assert cands[0].bbox.y <= 10 and cands[0].bbox.y2 >= 38


def test_touching_digits_get_cut_candidates():
    ink = blank(40, 90)
    ring(ink, 13)
    ring(ink, 37)          # touches the next one
    ring(ink, 55)
    cands = segment.segment_field(ink)
    digits = [c for c in cands if c.kind == "digit"]
    spans = {(c.start, c.end) for c in digits}
    # the pieces of the wide component are covered both singly and together
    assert any(e - s >= 2 for s, e in spans)
    widths = sorted(c.bbox.w for c in digits)
    assert any(abs(w - 17) <= 3 for w in widths), widths   # one whole ring among the candidates


def _cand(x: int, w: int, start: int, end: int, kind: str = "digit", h: int = 30) -> DigitCandidate:
    return DigitCandidate(BBox(x, 0, w, h), np.zeros((h, w), np.uint8), kind, start, end)


def _preds(rows: list[tuple[int, float, float]]) -> DigitPredictions:
    """(label, P(label), P(not digit)) per candidate."""
    probs = np.full((len(rows), 10), 0.0, np.float32)
    for i, (lab, p, _) in enumerate(rows):
        probs[i] = (1 - p) / 9
        probs[i, lab] = p
    return DigitPredictions(
        labels=np.array([r[0] for r in rows]),
        probs=probs,
        not_digit=np.array([r[2] for r in rows], np.float32),
    )


def test_best_path_prefers_right_cut():
    # primitives 0,1,2: the truth is "0" = 0+1 and "7" = 2
    cands = [
        _cand(0, 8, 0, 1), _cand(0, 16, 0, 2), _cand(8, 8, 1, 2), _cand(8, 16, 1, 3), _cand(16, 10, 2, 3),
    ]
    preds = _preds([(1, 0.6, 0.7), (0, 0.99, 0.02), (1, 0.6, 0.7), (0, 0.5, 0.9), (7, 0.97, 0.03)])
    assert segment.best_path(cands, preds) == (1, 4)


def test_best_path_keeps_separators_and_drops_noise():
    cands = [_cand(0, 15, 0, 1), _cand(16, 3, 1, 2, ",", h=8), _cand(20, 3, 2, 3, h=5), _cand(25, 15, 3, 4)]
    preds = _preds([(2, 0.98, 0.01), (1, 0.5, 0.9), (4, 0.4, 0.8), (5, 0.97, 0.02)])
    assert segment.best_path(cands, preds) == (0, 1, 3)   # the tiny scrap (2) is dropped as noise


def test_best_path_without_predictions_takes_whole_pieces():
    cands = [_cand(0, 8, 0, 1), _cand(8, 8, 1, 2), _cand(0, 16, 0, 2)]
    assert segment.best_path(cands) == (2,)


def test_superscript_cents_get_a_point():
    ink = blank(70, 200)
    for cx in (20, 50, 80):
        ring(ink, cx, cy=45, rx=9, ry=15)
    ring(ink, 108, cy=14, rx=5, ry=8)      # raised cents, wholly above the digits
    ring(ink, 126, cy=14, rx=5, ry=8)
    cands = segment.segment_field(ink)
    assert kinds(cands) == ["digit", "digit", "digit", ".", "digit", "digit"]


def test_fraction_slash_before_small_denominator():
    ink = blank(70, 260)
    for cx in (20, 48, 76, 104):
        ring(ink, cx, cy=35, rx=9, ry=15)
    cv2.line(ink, (125, 58), (145, 8), 0, 3)          # the '/' of 56/100, taller than the 100
    cv2.line(ink, (160, 40), (160, 58), 0, 3)         # small "1"
    ring(ink, 180, cy=49, rx=6, ry=9)
    ring(ink, 200, cy=49, rx=6, ry=9)
    ks = [c.kind for c in segment.segment_field(ink) if c.end == c.start + 1]   # the primitives
    assert ks[:4] == ["digit"] * 4 and ks[4] == "/" and ks[5:] == ["digit"] * 3, ks


def test_small_cents_at_the_top_after_a_slanted_one_are_no_fraction():
    ink = blank(70, 260)
    for cx in (20, 48, 76, 104):
        ring(ink, cx, cy=35, rx=9, ry=15)
    cv2.line(ink, (125, 50), (140, 20), 0, 3)         # a slanted final "1" of the digits' height
    ring(ink, 158, cy=29, rx=6, ry=9)                 # cents "00" level with the digits' tops
    ring(ink, 178, cy=29, rx=6, ry=9)
    ks = [c.kind for c in segment.segment_field(ink) if c.end == c.start + 1]
    assert "/" not in ks and ks.count("digit") == 7, ks


def test_unread_height_measures_specks_on_the_band_outside_the_candidates():
    # a field's cleaning dropped the pieces of a faint digit left of two read ones, and a speck under one
    ink = np.full((80, 160), 255, np.uint8)
    ink[10:50, 70:76] = 0
    ink[10:50, 110:116] = 0
    cands = segment.segment_field(ink)
    specks = np.zeros(ink.shape, bool)
    for y in range(12, 48, 6):           # the faint digit: 2x2 pieces 6 rows apart, x 20-30
        specks[y : y + 2, 20 + (48 - y) // 4 : 22 + (48 - y) // 4] = True
    specks[30:32, 72:74] = True          # a speck in a read digit's columns
    assert 0.8 <= segment.unread_height(specks, cands) <= 1.1
    specks[:, :60] = False
    assert segment.unread_height(specks, cands) == 0.0
    far = np.zeros(ink.shape, bool)
    far[64:76:2, 20:22] = True           # below the digit band
    assert segment.unread_height(far, cands) == 0.0


def _cents_on_a_line(line_row: int = 24, thick: int = 4, x0: int = 74, x1: int = 118) -> np.ndarray:
    """Two tall digits, then two small raised ones ("1" and "8") with a line drawn under them, touching them."""
    ink = blank(48, 140)
    ring(ink, 20, cy=26, ry=14)
    ring(ink, 55, cy=26, ry=14)
    cv2.line(ink, (84, line_row - 1), (88, line_row - 18), 0, 3)             # a small "1" standing on the line
    cv2.ellipse(ink, (104, line_row - 6), (5, 5), 0, 0, 360, 0, 3)           # a small "8" too
    cv2.ellipse(ink, (104, line_row - 15), (4, 4), 0, 0, 360, 0, 3)
    cv2.line(ink, (x0, line_row + thick // 2), (x1, line_row + thick // 2), 0, thick)
    return ink


@pytest.mark.parametrize("thick, x0, x1", [(3, 78, 112), (4, 74, 118), (6, 80, 110), (4, 70, 135)])
def test_superscript_underline_finds_a_line_touching_the_cents(thick, x0, x1):
    # thin or thick, no longer than the cents or running on as a closing dash: the line, and only it
    ink = _cents_on_a_line(thick=thick, x0=x0, x1=x1)
    line = segment.superscript_underline(ink)
    ys, xs = np.nonzero(line)
    assert ys.min() >= 22 and ys.max() <= 24 + thick + 2                     # the line's rows
    assert xs.min() <= x0 + 2 and xs.max() >= x1 - 2                         # all of its length
    assert line[:, : x0 - 3].sum() == 0 and not line[:21].any()             # the digits' ink stays
    prims = [c for c in segment.segment_field(np.where(line, 255, ink)) if c.end == c.start + 1]
    assert kinds(prims) == ["digit"] * 4 and all(c.bbox.y2 <= 24 for c in prims[2:])   # the cents alone


def test_a_line_sagging_under_a_cent_is_no_stroke_crossing_it():
    # a pen's line is not straight: two rows of it sag under the "1" that stands on it; that is the
    # line's own ink, not a stroke going through it, and goes with the line (the "1" alone stays)
    ink = _cents_on_a_line()
    ink[29:31, 82:90] = 0
    line = segment.superscript_underline(ink)
    assert all(line[22:28, c].any() for c in range(80, 92))                 # every column under the "1"
    prims = [c for c in segment.segment_field(np.where(line, 255, ink)) if c.end == c.start + 1]
    assert kinds(prims) == ["digit"] * 4 and all(c.bbox.y2 <= 24 for c in prims[2:])


def test_superscript_underline_leaves_other_lines_alone():
    def amount() -> np.ndarray:
        ink = blank(48, 150)
        for cx in (20, 50, 80):
            ring(ink, cx, cy=26, ry=14)
        return ink

    under = amount()
    under[41:45, 8:95] = 0                                                    # a line under the whole amount
    seven = amount()
    seven[12:16, 95:125] = 0                                                  # a "7": long bar, its stem under it
    cv2.line(seven, (122, 14), (108, 40), 0, 3)
    dash = amount()
    dash[24:28, 98:130] = 0                                                   # a closing dash
    slash_dash = amount()
    cv2.line(slash_dash, (96, 42), (110, 10), 0, 3)                           # a closing "/-"
    slash_dash[24:28, 108:135] = 0
    two = amount()
    cv2.ellipse(two, (110, 18), (8, 7), 0, 180, 360, 0, 3)                    # a "2" whose base runs on
    cv2.line(two, (118, 18), (100, 38), 0, 3)
    two[37:41, 100:140] = 0
    zeros = amount()
    for cx in (104, 124):                                                     # small final zeros, a little high,
        cv2.ellipse(zeros, (cx, 24), (7, 9), 0, 0, 360, 0, 3)
    zeros[31:35, 104:125] = 0                                                 # their bottoms joined flat
    for ink in (under, seven, dash, slash_dash, two, zeros):
        assert not segment.superscript_underline(ink).any()
    assert not segment.superscript_underline(blank()).any()


def test_a_digit_written_into_the_closing_slash_is_no_slash():
    """A last 0 whose loop touches the '/' of '/-' makes one piece: the '/' test must not take the 0 with it."""
    band = segment.Band(top=10, bottom=40, height=30, digit_width=18)
    stroke = np.zeros((70, 36), np.uint8)
    cv2.line(stroke, (34, 1), (10, 68), 1, 2)                   # a '/' twice the digits' height
    slash = segment._Piece(stroke.astype(bool), 0, 0)
    with_zero = stroke.copy()
    cv2.ellipse(with_zero, (9, 50), (6, 10), 0, 0, 360, 1, 2)   # a 0 written into its foot
    zero_slash = segment._Piece(with_zero.astype(bool), 0, 0)
    assert segment._elongation(zero_slash) < segment.SLASH_MAX_ELONGATION   # thin enough to pass for a stroke
    assert segment.is_terminator_slash(slash, band, True)
    assert not segment.is_terminator_slash(zero_slash, band, True)


def test_a_digit_sized_piece_is_no_separator_without_its_elongation(monkeypatch):
    # the ink's covariance is made only for the shapes and places whose test needs it
    band = segment.Band(top=10, bottom=40, height=30, digit_width=18)
    made = []
    elongation = segment._elongation
    monkeypatch.setattr(segment, "_elongation", lambda p: made.append(p) or elongation(p))
    digit = np.zeros((30, 16), bool)
    digit[:, 6:10] = True
    assert segment.separator_kind(segment._Piece(digit, 0, 10), band) is None and made == []
    comma = np.eye(14, 5, dtype=bool)
    comma[:, 2] = True    # a short thin stroke low in the band, reaching below the baseline
    assert segment.separator_kind(segment._Piece(comma, 0, 30), band) == "," and len(made) == 1
