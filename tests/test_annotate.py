"""annotate_page draws the field, the chosen digits and the read on a picture."""

from __future__ import annotations

import numpy as np

from cheque_reader import annotate
from cheque_reader.types import BBox, ChequeResult, DigitCandidate, DigitRead, Field


def test_picture_of_a_read():
    page = np.full((400, 1000), 255, np.uint8)
    fbox = BBox(700, 100, 250, 80)
    field = Field(fbox, page[100:180, 700:950].copy(), layout="us")
    img = np.zeros((30, 15), np.uint8)
    cands = (
        DigitCandidate(BBox(20, 20, 15, 30), img, "digit", 0, 1),
        DigitCandidate(BBox(40, 45, 4, 4), img[:4, :4], ".", 1, 2),
        DigitCandidate(BBox(50, 20, 15, 30), img, "digit", 2, 3),
    )
    reads = (DigitRead(1, 0.97, 7, 0.02, cands[0].bbox), DigitRead(5, 0.91, 6, 0.05, cands[2].bbox))
    result = ChequeResult("x.png", 1, "ok", digits="15", text="1.5", confidence=0.88, field=fbox,
                          digit_reads=reads, layout="us")
    pic = annotate.annotate_page(page, result, field, cands, (0, 1, 2))
    assert pic.ndim == 3 and pic.shape[2] == 3 and pic.dtype == np.uint8
    assert pic.shape[1] == annotate.OUT_WIDTH
    assert pic.shape[0] > 400 + 80      # page on top, enlarged field below it, a footer
    # the field rectangle is drawn in green on the page part
    top = pic[: 400]
    green = (top[:, :, 1] > 150) & (top[:, :, 0] < 60) & (top[:, :, 2] < 60)
    assert green[95:105, 690:960].any()
    # the field part has the blue digit boxes (BGR blue channel high, red low)
    bottom = pic[400:-annotate.FOOTER]
    blue = (bottom[:, :, 0] > 150) & (bottom[:, :, 2] < 60)
    assert blue.sum() > 100


def test_no_field():
    page = np.full((120, 300, 3), 200, np.uint8)
    res = ChequeResult("x.png", 1, "no_field", review_reasons=("no_field",))
    pic = annotate.annotate_page(page, res, None, (), ())
    assert pic.shape[1] == annotate.OUT_WIDTH
    assert pic.shape[0] == round(120 * annotate.OUT_WIDTH / 300) + annotate.FOOTER


def test_labels_of_close_boxes_go_to_two_rows_and_far_ones_stay_in_the_first():
    from cheque_reader.annotate import LABEL_STRIP, _LabelRows

    rows = _LabelRows(200)
    first = rows.place("5 0.99", 100, 0.55, 1)
    close = rows.place("0 0.06", 110, 0.55, 1)      # would run into the first label
    far = rows.place("7 0.90", 400, 0.55, 1)
    assert first[1] != close[1] and far[1] == first[1]
    assert all(200 - LABEL_STRIP < y <= 200 for _, y in (first, close, far))   # inside the strip


def test_footer_has_a_legend_of_every_colour_drawn():
    page = np.full((120, 300), 255, np.uint8)
    pic = annotate.annotate_page(page, ChequeResult("x.png", 1, "no_field"), None, (), ())
    footer = pic[-annotate.FOOTER:].reshape(-1, 3).astype(int)
    names = [words for words, _ in annotate.LEGEND]
    assert any("field" in n for n in names) and any("separator" in n for n in names) and any("cut" in n for n in names)
    for words, colour in annotate.LEGEND:  # a swatch of each colour in the footer
        assert (np.abs(footer - np.array(colour)).max(axis=1) == 0).sum() >= 100, words


def test_a_tall_narrow_page_or_field_is_drawn_narrower_not_stretched_to_the_width():
    """A 10,000 x 1 pixel scan's picture asked OpenCV for 30 GB (every part is scaled to the width):
    'cannot annotate tall.png page 1: Insufficient memory'."""
    page = np.full((10000, 1), 255, np.uint8)
    pic = annotate.annotate_page(page, ChequeResult("tall.png", 1, "error", error="x"), None, (), ())
    assert pic.shape == (annotate.MAX_PART_HEIGHT + annotate.FOOTER, annotate.OUT_WIDTH, 3)
    page = np.full((4000, 500), 255, np.uint8)  # a portrait page: scaled to the height cap, its field box drawn
    fbox = BBox(100, 3000, 300, 600)
    field = Field(fbox, np.full((3000, 40), 255, np.uint8), layout="field")  # a field far taller than wide
    res = ChequeResult("p.png", 1, "no_digits", field=fbox)
    pic = annotate.annotate_page(page, res, field, (), ())
    assert pic.shape == (2 * annotate.MAX_PART_HEIGHT + annotate.LABEL_STRIP + annotate.FOOTER, annotate.OUT_WIDTH, 3)
    top = pic[: annotate.MAX_PART_HEIGHT]
    green = (top[:, :, 1] > 150) & (top[:, :, 0] < 60) & (top[:, :, 2] < 60)
    s = annotate.MAX_PART_HEIGHT / 4000  # the box where the page is drawn, at its scale
    assert green[int(3000 * s) - 2 : int(3000 * s) + 3, int(100 * s) : int(400 * s)].any(axis=0).all()
    assert (top[:, int(500 * s) + 2 :] == 255).all()  # white beside the narrower page


def test_a_page_of_two_cheques_says_so_beside_its_reason(monkeypatch):
    """The footer said 'review: no_field' under a field drawn in green, and nothing of the second cheque."""
    said = []
    monkeypatch.setattr(annotate, "_text", lambda img, s, *a, **k: said.append(s))
    page = np.full((400, 1000), 255, np.uint8)
    fbox = BBox(700, 100, 250, 80)
    res = ChequeResult("x.png", 1, "ok", digits="15", text="15", confidence=0.99, field=fbox,
                       review_reasons=("no_field",), layout="us")
    annotate.annotate_page(page, res, Field(fbox, page[100:180, 700:950].copy(), layout="us", cheques=2), (), ())
    assert any("review: no_field  (2 cheques on the page: one read)" in s for s in said)
    said.clear()
    annotate.annotate_page(page, res, Field(fbox, page[100:180, 700:950].copy(), layout="us"), (), ())
    assert not any("cheques" in s for s in said)
