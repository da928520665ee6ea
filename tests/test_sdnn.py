"""sdnn: the field input, CTC decoding and probability, and the shipped field reader on rendered strings."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from cheque_reader import sdnn
from cheque_reader.config import BACKGROUND_VALUE, INK_VALUE
from conftest import load_script, needs_data


def test_field_input_crops_to_the_ink_and_keeps_the_aspect():
    gray = np.full((200, 600), 235, np.uint8)
    gray[80:120, 100:220] = 30  # ink 40 rows x 120 columns, far from the edges
    x = sdnn.field_input(gray, gray < 128)
    assert x.shape[0] == sdnn.INPUT_HEIGHT
    # cropped to the ink plus a 15% margin: aspect about 132 / 52, not the page's 3:1
    assert abs(x.shape[1] / x.shape[0] - (120 + 2 * 6) / (40 + 2 * 6)) < 0.25
    assert math.isclose(float(x.min()), BACKGROUND_VALUE, abs_tol=1e-6)
    assert math.isclose(float(x.max()), INK_VALUE, abs_tol=1e-6)


def test_field_input_of_a_blank_field_is_all_paper():
    x = sdnn.field_input(np.full((40, 100), 240, np.uint8), np.zeros((40, 100), bool))
    assert x.shape[0] == sdnn.INPUT_HEIGHT
    assert np.allclose(x, BACKGROUND_VALUE)


def test_stack_inputs_pads_with_paper_to_a_multiple_of_the_stride():
    a = np.full((sdnn.INPUT_HEIGHT, 10), 1.0, np.float32)
    b = np.full((sdnn.INPUT_HEIGHT, 17), 1.0, np.float32)
    x, widths = sdnn.stack_inputs([a, b])
    assert x.shape[:3] == (2, 1, sdnn.INPUT_HEIGHT)
    assert x.shape[3] % sdnn.STRIDE == 0 and x.shape[3] >= 17 + sdnn.PAPER_MARGIN
    assert widths.tolist() == [10, 17]
    assert np.allclose(x[0, 0, :, 10:], BACKGROUND_VALUE) and np.allclose(x[1, 0, :, :17], 1.0)
    assert np.allclose(x[1, 0, :, 17:], BACKGROUND_VALUE)


def _columns(labels: list[int], p: float = 0.9) -> np.ndarray:
    lp = np.full((len(labels), sdnn.BLANK + 1), math.log((1 - p) / sdnn.BLANK))
    for t, k in enumerate(labels):
        lp[t, k] = math.log(p)
    return lp


def test_greedy_decode_merges_repeats_and_keeps_blank_separated_doubles():
    b = sdnn.BLANK
    digits, confs, cols = sdnn.greedy_decode(_columns([b, 5, 5, b, 0, b, 0, 0, b]))
    assert digits == "500"
    assert len(confs) == 3 and all(abs(c - 0.9) < 1e-9 for c in confs)
    assert cols == ((4, 12), (16, 20), (24, 32))


def test_string_probability_sums_alignments_and_rules_out_impossible_strings():
    b = sdnn.BLANK
    lp = _columns([b, 7, b], p=0.9)
    p7 = sdnn.string_probability(lp, "7")
    p_blank = sdnn.string_probability(lp, "")
    p1 = sdnn.string_probability(lp, "1")
    # "7" is read through several alignments (blank-7-blank is the main one)
    assert p7 > 0.9 ** 3 and p7 < 1.0
    assert p7 > p1 and p7 > p_blank
    assert sdnn.string_probability(lp, "7777") == 0.0  # 3 columns cannot hold 4 digits


@pytest.fixture(scope="module")
def reader():
    if not sdnn.default_sdnn_path().is_file():
        pytest.skip("no shipped SDNN weights (cheque_reader/weights/sdnn.pt)")
    return sdnn.FieldReader()


def _strip(text: str) -> tuple[np.ndarray, np.ndarray]:
    """A handwritten-looking string drawn with OpenCV's Hershey script font."""
    import cv2

    img = np.full((70, 40 + 34 * len(text)), 235, np.uint8)
    cv2.putText(img, text, (10, 52), cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, 1.6, 20, 3, cv2.LINE_AA)
    return img, img < 128


def test_reader_reads_rendered_amounts(reader):
    truths = ["125", "3400", "90817", "62"]
    reads = reader.read([sdnn.field_input(*_strip(t)) for t in truths])
    assert len(reads) == len(truths)
    right = sum(r.digits == t for r, t in zip(reads, truths))
    assert right >= 3, [r.digits for r in reads]
    n_nets = len(reader.nets)
    at_first_width = reader.read([sdnn.field_input(*_strip(t)) for t in truths], stretches=sdnn.STRETCHES[:1])
    for r, first in zip(reads, at_first_width):
        assert 0.0 <= r.confidence <= 1.0
        assert len(r.digit_confidences) == len(r.digits) == len(r.columns)
        # every network at the first width, or at all widths when they disagreed there
        n_views = n_nets if first.views_agree == 1.0 else n_nets * len(sdnn.STRETCHES)
        assert 1 / n_views <= r.views_agree <= 1.0 and abs(r.views_agree * n_views - round(r.views_agree * n_views)) < 1e-9
        if first.views_agree == 1.0:
            assert (r.digits, r.confidence) == (first.digits, first.confidence)


def test_reader_gives_the_same_reading_alone_and_in_any_batch(reader):
    inputs = [sdnn.field_input(*_strip(t)) for t in ("7", "125", "3400", "90817", "62", "126", "3401")]
    assert any(len(b) > 1 for b in sdnn.width_batches([x.shape[1] for x in inputs], 64))  # some share a batch
    together = reader.read(inputs)
    for x, r in zip(inputs, together):
        alone = reader.read([x])[0]
        assert alone.digits == r.digits
        assert abs(alone.confidence - r.confidence) < 1e-6


def test_width_batches_hold_every_input_once_in_short_batches_of_like_widths():
    widths = np.random.default_rng(0).integers(8, sdnn.MAX_INPUT_WIDTH, 300).tolist()
    batches = sdnn.width_batches(widths, 16)
    assert sorted(i for b in batches for i in b) == list(range(300))
    for b in batches:
        w = np.array(widths)[b] + sdnn.PAPER_MARGIN
        assert 1 <= len(b) <= 16 and w.max() <= sdnn.BATCH_WIDTH_RATIO * w.min()
    # fewer, fuller batches than one input each: only a width or the size limit starts a new one
    assert len(batches) < 100


def test_reader_is_unsure_of_a_blank_field(reader):
    read = reader.read([sdnn.field_input(np.full((50, 160), 235, np.uint8), None)])[0]
    assert read.digits == "" or read.confidence < 0.5


def test_long_runs_switch_to_frozen_graphs_that_read_alike(reader, monkeypatch):
    torch = pytest.importorskip("torch")
    inputs = [sdnn.field_input(*_strip(t)) for t in ("7", "125", "3400", "90817", "62")]
    monkeypatch.setattr(sdnn, "OPTIMIZE_AFTER_FIELDS", 2 * len(inputs))
    reader = sdnn.FieldReader(reader.model_path, backend="torch")  # a fresh torch reader: nothing read yet
    eager = reader.read(inputs)
    assert reader._fast is None  # 5 fields read: still the eager networks
    frozen = reader.read(inputs)  # 10: the frozen graphs read these
    assert reader._fast is not None and len(reader._fast) == len(reader.nets)
    assert all(isinstance(net, torch.jit.ScriptModule) for net in reader._fast)
    for a, b in zip(eager, frozen):
        assert (a.digits, a.columns, a.views_agree) == (b.digits, b.columns, b.views_agree)
        assert abs(a.confidence - b.confidence) < 1e-5


def test_lakh_strips_are_round_indian_amounts_and_off_by_default():
    T = load_script("train_sdnn")
    rng0 = np.random.default_rng(0)
    x = np.zeros((50, 28, 28), np.uint8)
    for i in range(50):  # a thick blob per "digit", enough for the strip maker
        x[i, 6 + i % 5 : 22, 9 : 19 + i % 4] = 255
    y = np.arange(50) % 10
    plain = T.StripMaker(x, y)
    assert not any((plain.string(rng0), plain.lakh)[1] for _ in range(200))
    lakh = T.StripMaker(x, y, lakh_share=1.0)
    rng = np.random.default_rng(1)
    for _ in range(40):
        field, digits = lakh.sample(rng)
        assert lakh.lakh and 5 <= len(digits) <= 9 and digits[0] != "0"
        assert digits[3:] == "0" * (len(digits) - 3)     # at most three leading digits, then zeros
        assert field.shape[0] == sdnn.INPUT_HEIGHT and field.max() > 0.5  # ink on paper


def test_synthetic_cheque_fields_are_read_through_the_pipeline_and_cached(tmp_path):
    from cheque_reader import synth

    T = load_script("train_sdnn")
    x = np.zeros((50, 28, 28), np.uint8)
    for i in range(50):  # a thick blob per "digit"
        x[i, 6 + i % 5 : 22, 9 : 19 + i % 4] = 255
    y = np.arange(50) % 10
    cache = tmp_path / "fields.npz"
    fields, digits = T.synth_fields(x, y, 3, 1, cache)
    rendered = [c.digits for c in synth.render_many(synth.DigitSource.from_arrays(x, y), 3, seed=T.SYNTH_SEED)]
    assert len(fields) >= 2 and all(d in rendered for d in digits)   # the cheques' own amounts
    for f in fields:
        assert f.shape[0] == sdnn.INPUT_HEIGHT and f.shape[1] >= 8
        assert BACKGROUND_VALUE - 1e-6 <= f.min() and f.max() <= INK_VALUE + 1e-6 and f.max() > 0.5
    again, digits_again = T.synth_fields(np.zeros_like(x), y, 3, 1, cache)  # read back, not rendered again
    assert digits_again == digits and all(np.array_equal(a, b) for a, b in zip(fields, again))
    other, _ = T.synth_fields(x, y, 1, 1, cache)                            # another n: rendered afresh
    assert len(other) <= 1


def _fake_crops(T):
    """Per digit k a solid block (k + 3) wide and 12 tall, cut from a fake field by cut_crops."""
    by_class = [[] for _ in range(10)]
    g = np.full((20, 200), 230, np.uint8)
    boxes = []
    x = 2
    for k in range(10):
        g[4:16, x : x + k + 3] = 10
        boxes.append((k, x, 4, k + 3, 12))
        x += k + 8
    for k, crop in T.cut_crops(g, boxes, margin=0):
        by_class[k].append(crop)
    return by_class


def test_cut_crops_keep_the_ink_and_each_digits_size_and_drop_in_its_field():
    T = load_script("train_sdnn")
    g = np.full((30, 40), 220, np.uint8)
    g[4:24, 2:10] = 20      # a tall digit, bottom at row 24
    g[14:24, 14:20] = 20    # a small one on the same baseline
    g[6:16, 26:32] = 20     # a small one raised by 8 rows
    (k0, a), (k1, b), (k2, c) = T.cut_crops(g, [(1, 2, 4, 8, 20), (0, 14, 14, 6, 10), (5, 26, 6, 6, 10)], margin=1)
    assert (k0, k1, k2) == (1, 0, 5)
    assert a.ink.shape == (22, 10) and b.ink.shape == (12, 8)           # the box and a pixel around it
    assert a.ink[1:-1, 1:-1].min() == 1.0 and a.ink[0].max() == 0.0     # ink 1, paper 0
    assert (a.height, b.height) == (2.0, 1.0) and b.drop == 0.0 and c.drop == -0.8


def test_strings_of_real_digit_crops_hold_the_digits_placed_where_they_were_put():
    T = load_script("train_sdnn")
    by_class = _fake_crops(T)
    rng = np.random.default_rng(3)
    for digits in ["7", "105", "2468", "90000000"]:
        gray, ink, rows, placed = T.compose_crops(by_class, digits, rng)
        assert gray.shape[0] == 56 and gray.dtype == np.uint8 and ink.shape == gray.shape
        assert len(placed) == len(digits)
        xs = [p[0] for p in placed]
        assert xs == sorted(xs)                                 # left to right, in the string's order
        for (x, y, w, h), k in zip(placed, digits):
            assert 19 <= h <= 37                                # the common height (22-33) x0.9-1.1
            ratio = w / h / ((int(k) + 3) / 12)                 # the crop's own shape, x0.85-1.15
            assert 0.75 < ratio < 1.3, (k, w, h)
            assert ink[y + h // 2, x + w // 2] and gray[y + h // 2, x + w // 2] < gray.max() - 40
        assert rows == (min(p[1] for p in placed), max(p[1] + p[3] for p in placed))
        inside = np.zeros_like(ink)
        for x, y, w, h in placed:
            inside[y : y + h, x : x + w] = True
        if len(digits) < 4:                                     # no separator drawn: all the ink is the digits'
            assert not (ink & ~inside).any()


def test_composed_strings_are_network_inputs_of_amounts_and_repeat_with_the_seed():
    T = load_script("train_sdnn")
    composer = T.OrandComposer(_fake_crops(T))
    a = [composer.sample(np.random.default_rng(5)) for _ in range(2)]
    assert a[0][1] == a[1][1] and np.array_equal(a[0][0], a[1][0])
    rng = np.random.default_rng(6)
    for _ in range(30):
        x, digits = composer.sample(rng)
        assert 1 <= len(digits) <= 8 and digits.isdigit() and (digits[0] != "0")
        assert x.shape[0] == sdnn.INPUT_HEIGHT and x.dtype == np.float32 and x.max() > 0.5
    with pytest.raises(ValueError, match="digit"):
        T.OrandComposer([[]] + _fake_crops(T)[1:])


@needs_data("orand_car_a", "digits.csv")
def test_orand_crops_cut_only_the_given_fields_boxes():
    from cheque_reader import datasets

    T = load_script("train_sdnn")
    boxes = datasets.load_orand_digits(audited=True)
    files = sorted(boxes["file"].unique())[:3]
    by_class = T.orand_crops(files)
    mine = boxes[boxes["file"].isin(files)]
    assert [len(c) for c in by_class] == [int((mine["digit"] == k).sum()) for k in range(10)]


def test_a_leading_zero_is_replaced_by_the_likeliest_one_edit_amount():
    p = np.full((12, 11), 0.01)
    p[:, sdnn.BLANK] = 0.9
    p[1, [0, 1, sdnn.BLANK]] = 0.6, 0.35, 0.01   # a "1" that looks like a "0"
    p[4, [5, sdnn.BLANK]] = 0.9, 0.01
    p[8, [3, sdnn.BLANK]] = 0.9, 0.01
    read = sdnn.FieldRead("053", 0.5, (0.6, 0.9, 0.9), ((1, 2), (4, 5), (8, 9)), 1.0, (np.log(p),), ("053",))
    fixed = sdnn._without_leading_zero(read)
    assert fixed.digits == "153"
    assert fixed.columns == read.columns and fixed.digit_confidences[1:] == read.digit_confidences[1:]
    assert fixed.confidence == pytest.approx(sdnn.string_probability(np.log(p), "153"))
    assert fixed.views_agree == 0.0                # no view read it: the confidence says so
    assert fixed.confidence < read.confidence


def test_reader_never_returns_an_amount_with_a_leading_zero(reader):
    reads = reader.read([sdnn.field_input(*_strip(t)) for t in ("053", "0120", "07", "0")])
    assert [r.digits for r in reads if len(r.digits) > 1 and r.digits[0] == "0"] == []
    assert reads[-1].digits in ("0", "")                      # a lone zero stays what it is


def _ends_75_or_00(p75: float, p00: float) -> sdnn.FieldRead:
    """A read of ``1075`` whose last two digits could also be ``00``."""
    p = np.full((12, 11), 0.01)
    p[:, sdnn.BLANK] = 0.9
    p[1, [1, sdnn.BLANK]] = p[4, [0, sdnn.BLANK]] = 0.9, 0.01
    p[7, [7, 0, sdnn.BLANK]] = p[10, [5, 0, sdnn.BLANK]] = p75, p00, 0.01
    lp = np.log(p / p.sum(axis=1, keepdims=True))
    cols = ((1, 2), (4, 5), (7, 8), (10, 11))
    return sdnn.FieldRead("1075", sdnn.string_probability(lp, "1075"), (0.9, 0.9, p75, p75), cols, 1.0, (lp,), ("1075",))


def _likeliest(read: sdnn.FieldRead, zero: float = sdnn.TRAILING_ZERO_PRIOR,
               first_power: float = sdnn.FIRST_DIGIT_PRIOR_POWER) -> sdnn.FieldRead:
    return sdnn._likeliest_amounts([read], zero, first_power)[0]


def test_a_read_that_may_end_in_zeros_is_rounded_only_when_the_network_hesitates():
    unsure = _ends_75_or_00(0.5, 0.4)
    r = _likeliest(unsure)
    assert r.digits == "1000" and r.columns == unsure.columns
    assert r.confidence == pytest.approx(sdnn.string_probability(unsure.view_log_probs[0], "1000"))
    assert r.digit_confidences[:2] == (0.9, 0.9) and r.digit_confidences[2:] == (r.confidence, r.confidence)
    assert r.views_agree == 0.0
    assert _likeliest(unsure, 1.0, 0.0).digits == "1075"            # no prior: the network's best
    sure = _ends_75_or_00(0.85, 0.05)
    assert _likeliest(sure) is sure
    assert _likeliest(sure, 1e6).digits == "1000"                   # the prior decides, not a rule


def test_an_unsure_first_digit_leans_to_benfords_law():
    def read_of(p9: float, p1: float) -> sdnn.FieldRead:  # "9586" whose 9 could be a 1
        p = np.full((13, 11), 0.01)
        p[:, sdnn.BLANK] = 0.9
        p[1, [9, 1, sdnn.BLANK]] = p9, p1, 0.01
        for t, d in ((4, 5), (7, 8), (10, 6)):
            p[t, [d, sdnn.BLANK]] = 0.9, 0.01
        lp = np.log(p / p.sum(axis=1, keepdims=True))
        cols = ((1, 2), (4, 5), (7, 8), (10, 11))
        return sdnn.FieldRead("9586", sdnn.string_probability(lp, "9586"), (p9, 0.9, 0.9, 0.9), cols, 1.0, (lp,), ("9586",))

    unsure = read_of(0.5, 0.4)
    r = _likeliest(unsure)
    assert r.digits == "1586" and r.digit_confidences[0] == pytest.approx(r.confidence) and r.digit_confidences[1:] == (0.9,) * 3
    assert _likeliest(unsure, 1.0, 0.0) is unsure
    sure = read_of(0.9, 0.05)
    assert _likeliest(sure) is sure
    assert sdnn.amount_prior("1586", 1.0, 1.0) > sdnn.amount_prior("5586", 1.0, 1.0) > sdnn.amount_prior("9586", 1.0, 1.0)


def test_the_amount_prior_never_writes_a_leading_zero_and_leaves_one_digit_alone():
    for digits in ("5", "50", "500"):
        lp = np.log(np.full((8, 11), 1 / 11))
        read = sdnn.FieldRead(digits, sdnn.string_probability(lp, digits), (0.5,) * len(digits),
                              tuple((k, k + 1) for k in range(len(digits))), 1.0, (lp,), (digits,))
        out = _likeliest(read, 1e6, 0.0)
        assert out.digits[0] != "0" and out.digits.endswith(digits[1:])
    assert sdnn.amount_prior("0500", 2.0, 1.0) == 0.0


def test_the_amount_prior_scores_only_the_options_that_could_win_and_loses_nothing_by_it():
    rng, changed = np.random.default_rng(0), 0
    for _ in range(100):
        digits = str(rng.integers(10, 99999))
        p = np.full((2 * len(digits) + 1, 11), 0.0005)
        p[0::2, sdnn.BLANK] = 1.0
        unsure = int(rng.integers(0, len(digits)))  # one digit seen with a less likely rival (a 0 after the first)
        for k, ch in enumerate(digits):
            q, rival = (rng.uniform(0.5, 1.0), int(rng.integers(1, 10)) if k == 0 else 0) if k == unsure else (1.0, 0)
            p[2 * k + 1, [int(ch), rival]] += (q, 1 - q) if rival != int(ch) else (1.0, 0.0)
        lp = np.log(p / p.sum(axis=1, keepdims=True))
        read = sdnn.FieldRead(digits, sdnn.string_probability(lp, digits), (0.5,) * len(digits),
                              tuple((2 * k + 1, 2 * k + 2) for k in range(len(digits))), 1.0, (lp,), (digits,))
        zero, power = float(rng.uniform(1, 4)), float(rng.uniform(0, 1.5))
        options = [k + digits[1:] for k in "123456789"]
        nonzero = [k for k, ch in enumerate(digits) if ch != "0"]
        options += ["".join("0" if k in nonzero[-n:] else ch for k, ch in enumerate(digits))
                    for n in (1, 2) if len(nonzero) > n]
        scores = read.probabilities(options) * [sdnn.amount_prior(t, zero, power) for t in options]
        brute = options[int(np.argmax(scores))]      # every option scored
        if scores.max() <= read.confidence * sdnn.amount_prior(digits, zero, power):
            brute = digits
        assert _likeliest(read, zero, power).digits == brute
        changed += brute != digits
    assert changed >= 10                                # the prior changed some reads, not all
    assert changed <= 80


def test_reader_applies_the_amount_prior(reader, monkeypatch):
    x = sdnn.field_input(*_strip("1075"))
    assert reader.read([x])[0].digits == "1075"
    monkeypatch.setattr(sdnn, "TRAILING_ZERO_PRIOR", 1e12)         # round amounts overwhelmingly likely
    assert reader.read([x])[0].digits.endswith("0")


def test_precise_batch_norm_averages_the_statistics_over_the_batches_and_changes_nothing_else():
    import torch

    T = load_script("train_sdnn")
    torch.manual_seed(0)
    net = sdnn.build_sdnn({"c1": 4, "c3": 6, "c5": 8, "f6": 8})
    weights = {k: v.clone() for k, v in net.state_dict().items() if "running" not in k and "num_batches" not in k}
    rng = np.random.default_rng(0)
    batches = [[rng.uniform(-0.1, 1.175, (sdnn.INPUT_HEIGHT, 64)).astype(np.float32) for _ in range(3)]
               for _ in range(4)]
    first = next(m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    conv = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))  # the layer the first norm follows
    with torch.no_grad():
        means = [conv(torch.from_numpy(sdnn.stack_inputs(b)[0])).mean(dim=(0, 2, 3)) for b in batches]
    T.precise_batch_norm(net, iter(batches))
    assert torch.allclose(first.running_mean, torch.stack(means).mean(0), atol=1e-5)  # the plain average
    assert first.momentum == 0.1 and not net.training
    after = net.state_dict()
    assert all(torch.equal(after[k], v) for k, v in weights.items())


def test_string_probabilities_match_torch_ctc():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    pairs = []
    for _ in range(300):
        digits = "".join(map(str, rng.integers(0, 10, int(rng.integers(1, 8)))))
        digits = digits[:1] * len(digits) if rng.random() < 0.3 else digits  # repeats need a blank between
        # columns that favour one alignment of the digits (each 1-3 columns, blanks between), or noise
        path = [sdnn.BLANK]
        for c in digits:
            path += [int(c)] * int(rng.integers(1, 4)) + [sdnn.BLANK] * int(rng.integers(0, 3))
        path = path[: int(rng.integers(1, len(path) + 1))] if rng.random() < 0.2 else path  # too short: impossible
        z = rng.normal(0, 1, (len(path), sdnn.BLANK + 1)) + 5 * np.eye(sdnn.BLANK + 1)[path] * (rng.random() < 0.7)
        pairs.append(((z - np.log(np.exp(z).sum(1, keepdims=True))).astype(np.float32), digits))
    loss = torch.nn.functional.ctc_loss(
        torch.nn.utils.rnn.pad_sequence([torch.from_numpy(lp) for lp, _ in pairs]),
        torch.nn.utils.rnn.pad_sequence([torch.tensor([int(c) for c in d]) for _, d in pairs], batch_first=True),
        torch.tensor([len(lp) for lp, _ in pairs]), torch.tensor([len(d) for _, d in pairs]),
        blank=sdnn.BLANK, reduction="none")
    expected = torch.exp(-loss.double()).numpy()
    got = sdnn.string_probabilities(pairs)
    assert (got == 0).sum() > 10 and (got > 1e-3).sum() > 10  # impossible strings and likely ones
    assert np.allclose(got, expected, rtol=1e-4, atol=1e-30)


def _string_probabilities_stepped_to_the_end(pairs):
    # the forward algorithm as string_probabilities made it before: every pair stepped (and
    # rescaled) to the longest field's end, in the given order
    full = [k for k, (_, d) in enumerate(pairs) if d]
    out = np.zeros(len(pairs))
    n, t_len = len(full), np.array([len(pairs[k][0]) for k in full])
    s_len = np.array([len(pairs[k][1]) for k in full])
    steps, width = int(t_len.max()), 2 * int(s_len.max()) + 1
    ext = np.full((n, width), sdnn.BLANK, np.int64)
    emit = np.zeros((n, steps, width))
    for j, k in enumerate(full):
        a, d = pairs[k]
        ext[j, 1 : 2 * len(d) : 2] = [int(c) for c in d]
        emit[j, : len(a), : 2 * len(d) + 1] = np.exp(np.asarray(a, float))[:, ext[j, : 2 * len(d) + 1]]
    skip = np.zeros((n, width))
    skip[:, 2:] = (ext[:, 2:] != sdnn.BLANK) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.zeros((n, width))
    alpha[:, :2] = emit[:, 0, :2]
    log_scale = np.zeros(n)
    for t in range(steps):
        if t:
            step = alpha.copy()
            step[:, 1:] += alpha[:, :-1]
            step[:, 2:] += alpha[:, :-2] * skip[:, 2:]
            step *= emit[:, t]
            alpha = np.where((t < t_len)[:, None], step, alpha)
        total = alpha.sum(axis=1)
        scale = np.where(total > 0, total, 1.0)
        alpha /= scale[:, None]
        log_scale += np.log(scale)
    rows = np.arange(n)
    out[full] = (alpha[rows, 2 * s_len] + alpha[rows, 2 * s_len - 1]) * np.exp(log_scale)
    return out


@pytest.mark.parametrize("seed", range(4))
def test_string_probabilities_step_each_pair_to_its_own_end_with_the_same_numbers(seed):
    # fields of many lengths (a pair read to its end is only rescaled until its scale is 1): the
    # same bits as stepping every pair to the longest field's end
    rng = np.random.default_rng(seed)
    views = []
    for i in range(8):  # three short fields: strings too long for them are impossible
        z = rng.normal(0, 3, (int(rng.integers(1, 6 if i < 3 else 90)), sdnn.BLANK + 1))
        z[:, sdnn.BLANK] += rng.uniform(0, 4)
        views.append(sdnn.log_softmax(z.astype(np.float32)))
    pairs = []
    for _ in range(120):
        digits = "".join(map(str, rng.integers(0, 10, int(rng.integers(0, 12)))))
        pairs.append((views[int(rng.integers(0, len(views)))], digits[:1] * len(digits) if rng.random() < 0.2 else digits))
    pairs += [(lp, sdnn.greedy_decode(lp)[0]) for lp in views]  # each view's own reading: likely strings
    got, expected = sdnn.string_probabilities(pairs), _string_probabilities_stepped_to_the_end(pairs)
    expected[[k for k, (_, d) in enumerate(pairs) if not d]] = got[[k for k, (_, d) in enumerate(pairs) if not d]]
    assert (got > 0).sum() > 20 and (got == 0).sum() > 5  # possible strings and impossible ones
    assert got.view(np.uint64).tolist() == expected.view(np.uint64).tolist()


def test_onnx_backend_reads_like_torch(reader):
    pytest.importorskip("onnxruntime")
    fields = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817", "62", "7")]
    onnx = sdnn.FieldReader(backend="onnx")
    assert onnx._fast is not None and type(onnx._fast[0]).__name__ == "_OnnxNet"
    for a, b in zip(sdnn.FieldReader(backend="torch").read(fields), onnx.read(fields)):
        assert a.digits == b.digits and a.columns == b.columns
        assert abs(a.confidence - b.confidence) < 1e-4 and abs(a.views_agree - b.views_agree) < 1e-9


def test_the_8_bit_networks_read_like_the_float_ones():
    pytest.importorskip("onnxruntime")
    fields = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817", "62", "7", "1,500", "48,250")]
    int8 = sdnn.FieldReader(backend="onnx-int8")
    assert int8.backend == "onnx-int8" and int8.model_id.endswith("-int8")
    float_reads = sdnn.FieldReader(backend="onnx").read(fields)
    assert [r.digits for r in int8.read(fields)] == [r.digits for r in float_reads]
    for a, b in zip(float_reads, int8.read(fields)):
        assert abs(a.confidence - b.confidence) < 0.05 and a.confidence != b.confidence  # close, yet other networks



def _amounts_and_noise(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Field inputs of four drawn amounts and ``n`` of uniform noise 1-299 columns wide."""
    fields = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817", "1,500")]
    return fields + [rng.uniform(BACKGROUND_VALUE, INK_VALUE, (sdnn.INPUT_HEIGHT, int(w))).astype(np.float32)
                     for w in rng.integers(1, 300, n)]


def test_the_8_bit_networks_first_convolution_unrolled_gives_the_same_bytes():
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    import json

    from cheque_reader.classify import onnx_session

    shipped = sdnn.default_sdnn_path()
    rng = np.random.default_rng(3)
    fields = _amounts_and_noise(rng, 12)
    fields += [rng.choice(np.float32([BACKGROUND_VALUE, INK_VALUE]), (sdnn.INPUT_HEIGHT, int(w))) for w in (3, 40, 257)]
    for member in json.loads(sdnn.int8_sidecar_path(shipped).read_text())["members"]:
        data = (shipped.parent / member["file"]).read_bytes()
        unrolled = sdnn.unrolled_first_conv(data)
        first = next(n for n in onnx.load_from_string(unrolled).graph.node if n.op_type == "Conv")
        assert [list(a.ints) for a in first.attribute if a.name == "kernel_shape"] == [[1, 1]]
        a, b = onnx_session(data), onnx_session(unrolled)
        for idx in sdnn.width_batches([x.shape[1] for x in fields], 8):
            x, _ = sdnn.stack_inputs([fields[i] for i in idx])
            assert a.run(None, {"x": x})[0].tobytes() == b.run(None, {"x": x})[0].tobytes()
    float_net = sdnn.export_onnx(sdnn.build_sdnn())  # no 8-bit convolution: left as it is
    assert sdnn.unrolled_first_conv(float_net) == float_net


def test_the_8_bit_networks_merged_in_one_graph_give_the_four_networks_outputs():
    pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    import json

    from cheque_reader.classify import onnx_session

    shipped = sdnn.default_sdnn_path()
    fields = _amounts_and_noise(np.random.default_rng(5), 10)
    members = [sdnn.unrolled_first_conv((shipped.parent / m["file"]).read_bytes())
               for m in json.loads(sdnn.int8_sidecar_path(shipped).read_text())["members"]]
    merged = sdnn.merged_networks(members)
    graph = onnx.load_from_string(merged).graph
    # the field quantized and its shifted copies stacked once, not once a network
    assert len(graph.node) < sum(len(onnx.load_from_string(m).graph.node) for m in members)
    assert sum(n.op_type == "QuantizeLinear" and n.input[0] == "x" for n in graph.node) == 1
    assert sum(n.op_type == "Conv" for n in graph.node) == sum(
        n.op_type == "Conv" for m in members for n in onnx.load_from_string(m).graph.node)
    alone, together = [onnx_session(m) for m in members], sdnn._OnnxEnsemble(onnx_session(merged))
    assert together.outputs == [f"logits{i}" for i in range(len(members))]
    for idx in sdnn.width_batches([x.shape[1] for x in fields], 8):
        x, _ = sdnn.stack_inputs([fields[i] for i in idx])
        for a, b in zip(alone, together(x), strict=True):
            expected = a.run(None, {"x": x})[0]
            assert b.shape == expected.shape and np.abs(b - expected).max() <= 1e-5
        assert np.abs(sdnn._OnnxMember(together, 2)(x) - alone[2].run(None, {"x": x})[0]).max() <= 1e-5


def test_the_8_bit_reader_runs_its_networks_once_a_batch(monkeypatch):
    pytest.importorskip("onnxruntime")
    import json

    from cheque_reader.classify import onnx_session

    reader = sdnn.FieldReader(backend="onnx-int8")
    assert reader.backend == "onnx-int8" and len(reader.nets) == 4
    fields = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817", "62", "7", "1,500", "48,250")]
    runs = []
    real_call = sdnn._OnnxEnsemble.__call__
    monkeypatch.setattr(sdnn._OnnxEnsemble, "__call__", lambda self, x: runs.append(len(x)) or real_call(self, x))
    together = reader.read(fields)
    # every view of every field in one run for the four networks
    assert runs and sum(runs) * len(reader.nets) == sum(len(r.view_log_probs) for r in together)
    shipped = sdnn.default_sdnn_path()
    monkeypatch.setattr(reader, "_fast", [
        sdnn._OnnxNet(onnx_session(sdnn.unrolled_first_conv((shipped.parent / m["file"]).read_bytes())))
        for m in json.loads(sdnn.int8_sidecar_path(shipped).read_text())["members"]])
    n = len(runs)
    alone = reader.read(fields)  # the four networks one by one: the same reads
    assert len(runs) == n
    for a, b in zip(alone, together, strict=True):
        assert (a.digits, a.columns, a.views_agree, a.view_bests) == (b.digits, b.columns, b.views_agree, b.view_bests)
        assert abs(a.confidence - b.confidence) <= 1e-6
        assert all(np.abs(x - y).max() <= 1e-5 for x, y in zip(a.view_log_probs, b.view_log_probs, strict=True))


def test_the_8_bit_reader_without_the_onnx_package_runs_a_session_a_network(monkeypatch, tmp_path):
    """onnxruntime installed without onnx (merged_networks and unrolled_first_conv need it), and no
    merged graph in the cache: the four shipped files as they are, one session each, and the same reads."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    fields = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817", "1,500")]
    merged = sdnn.FieldReader(backend="onnx-int8").read(fields)
    monkeypatch.setattr(sdnn, "_ONNX", {})
    monkeypatch.setenv("CHEQUE_READER_CACHE", str(tmp_path))  # an empty cache
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    reader = sdnn.FieldReader(backend="onnx-int8")
    assert reader.backend == "onnx-int8" and all(isinstance(n, sdnn._OnnxNet) for n in reader.nets)
    for a, b in zip(reader.read(fields), merged, strict=True):
        assert a.digits == b.digits and abs(a.confidence - b.confidence) <= 1e-5


def test_the_merged_8_bit_graph_is_cached_and_read_back_without_the_onnx_package(monkeypatch, tmp_path):
    """The first reader merges the 8-bit networks (with onnx) and keeps the graph in the cache; a
    later process finds it there: one session of the four, no onnx needed, the same reads."""
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    monkeypatch.setenv("CHEQUE_READER_CACHE", str(tmp_path))
    monkeypatch.setattr(sdnn, "_ONNX", {})
    fields = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817", "1,500")]
    first = sdnn.FieldReader(backend="onnx-int8").read(fields)
    [kept] = tmp_path.glob("sdnn-int8-merged-*.onnx")
    monkeypatch.setattr(sdnn, "_ONNX", {})  # a new process
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx raises ImportError
    reader = sdnn.FieldReader(backend="onnx-int8")
    assert reader.backend == "onnx-int8" and all(isinstance(n, sdnn._OnnxMember) for n in reader.nets)
    assert len(reader.nets) == 4 and reader.nets[0].ensemble.size == 4
    for a, b in zip(reader.read(fields), first, strict=True):
        assert (a.digits, a.confidence, a.columns) == (b.digits, b.confidence, b.columns)
        assert all(np.array_equal(x, y) for x, y in zip(a.view_log_probs, b.view_log_probs, strict=True))
    kept.write_bytes(b"not a model")  # a broken entry: merged again (onnx back) and replaced
    monkeypatch.setattr(sdnn, "_ONNX", {})
    monkeypatch.undo()
    monkeypatch.setenv("CHEQUE_READER_CACHE", str(tmp_path))
    monkeypatch.setattr(sdnn, "_ONNX", {})
    assert [r.digits for r in sdnn.FieldReader(backend="onnx-int8").read(fields)] == [r.digits for r in first]
    assert kept.read_bytes() != b"not a model"


def test_the_8_bit_networks_are_used_only_with_the_weights_they_were_made_from(tmp_path):
    pytest.importorskip("onnxruntime")
    import json
    import shutil

    from cheque_reader.errors import ModelError

    shipped = sdnn.default_sdnn_path()
    weights = tmp_path / shipped.name
    for f in [shipped, shipped.with_suffix(".json")]:
        shutil.copy(f, tmp_path)
    assert sdnn.FieldReader(weights, backend="onnx-int8").backend == "onnx"  # none made: float ONNX
    made = json.loads(sdnn.int8_sidecar_path(shipped).read_text())
    for m in made["members"]:
        shutil.copy(shipped.parent / m["file"], tmp_path)
    sidecar = sdnn.int8_sidecar_path(weights)
    sidecar.write_text(json.dumps(dict(made, weights_sha256="0" * 64)))  # made from other weights
    assert sdnn.FieldReader(weights, backend="onnx-int8").backend == "onnx"
    sidecar.write_text(json.dumps(made))
    assert sdnn.int8_matches(weights)
    first = tmp_path / made["members"][0]["file"]
    first.write_bytes(first.read_bytes()[:-10])  # damaged
    with pytest.raises(ModelError, match="sha256"):
        sdnn.FieldReader(weights, backend="onnx-int8")


def test_a_field_read_scores_other_strings_over_its_views_as_it_scored_its_own(reader):
    reads = reader.read([sdnn.field_input(*_strip(t)) for t in ("4072", "815")])
    for read in reads:
        assert len(read.view_log_probs) == len(read.view_bests) >= 4      # every network, at least one width
        assert read.probabilities([read.digits])[0] == pytest.approx(read.confidence, rel=1e-6)
        assert read.share_reading(read.digits) == pytest.approx(read.views_agree)
        shorter = read.without_digit(1)
        assert shorter.digits == read.digits[0] + read.digits[2:]
        assert shorter.confidence == pytest.approx(read.probabilities([shorter.digits])[0])
        assert shorter.confidence < read.confidence                          # it read the digit it dropped
    assert sdnn.FieldRead("1", 0.5, (0.5,), ((0, 4),)).probabilities(["1", "2"]).tolist() == [0.0, 0.0]


def test_ink_bounds_are_the_inks_percentiles_with_a_margin():
    # 1st / 99th percentile of the ink's rows, 0.5th / 99.5th of its columns, each taken alone, the margin
    # around them (both ends of each now come from one call)
    rng = np.random.default_rng(3)
    for _ in range(200):
        h, w = int(rng.integers(1, 120)), int(rng.integers(1, 400))
        ink = rng.random((h, w)) < rng.random() * 0.3
        ys, xs = np.nonzero(ink)
        if len(ys) < 5:
            assert sdnn.ink_bounds(ink) is None
            continue
        top, bottom = np.percentile(ys, 1), np.percentile(ys, 99) + 1
        left, right = np.percentile(xs, 0.5), np.percentile(xs, 99.5) + 1
        m = sdnn.INK_MARGIN * max(bottom - top, 8)
        expected = (int(max(0, top - m)), int(min(h, bottom + m)), int(max(0, left - m)), int(min(w, right + m)))
        assert sdnn.ink_bounds(ink) == expected
        assert sdnn.ink_bounds(ink.astype(np.uint8) * np.uint8(255)) == expected   # a 0 / 255 mask alike


def _digits_in_child(inputs: list) -> list[str]:
    return [r.digits for r in sdnn.FieldReader(backend="torch").read(inputs)]


def test_a_forked_child_reads_fields_with_torch_after_its_parent_did():
    """A web service that read a cheque on torch (the backend where ONNX Runtime is not installed,
    ``pip install cheque-reader`` without the ``onnx`` extra), then forked its workers (gunicorn
    ``--preload``, a Celery or ``multiprocessing`` pool on Linux), hung for ever in each child's first
    field: the parent's OpenMP threads ran the networks' convolutions, and a child has none of them."""
    import multiprocessing

    torch = pytest.importorskip("torch")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    if not sdnn.default_sdnn_path().is_file():
        pytest.skip("no shipped SDNN weights (cheque_reader/weights/sdnn.pt)")
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the convolutions run on 2 OpenMP threads, on any machine
    try:
        inputs = [sdnn.field_input(*_strip(t)) for t in ("125", "3400", "90817")]
        here = [r.digits for r in sdnn.FieldReader(backend="torch").read(inputs)]
        with multiprocessing.get_context("fork").Pool(1) as pool:
            there = pool.apply_async(_digits_in_child, (inputs,)).get(timeout=60)
        assert there == here
    finally:
        torch.set_num_threads(before)


def _tiny_sdnn_training(T, monkeypatch):
    """train_sdnn.main's data made tiny (5 fake ORAND fields, 50 blob digits): a run of one step."""
    import pandas as pd

    files = [f"f{i}.png" for i in range(5)]
    labels = pd.DataFrame({"file": files, "amount_string": ["12", "7", "305", "4", "66"],
                           "fold": ["train", "train", "train", "val", "val"]})
    field = np.full((sdnn.INPUT_HEIGHT, 48), BACKGROUND_VALUE, np.float32)
    field[6:26, 10:14] = INK_VALUE
    x = np.zeros((50, 28, 28), np.uint8)
    for i in range(50):
        x[i, 6 + i % 5 : 22, 9 : 19 + i % 4] = 255
    monkeypatch.setattr(T.datasets, "load_orand_labels", lambda: labels)
    monkeypatch.setattr(T, "cal_names", lambda seed: {"f2.png"})
    monkeypatch.setattr(T, "real_inputs", lambda fs: [field.copy() for _ in fs])
    monkeypatch.setattr(T, "training_digits", lambda: (x, np.arange(50) % 10))


def test_train_sdnn_writes_outside_the_package_unless_told(tmp_path, monkeypatch):
    """A run without --out wrote its sdnn.pt and sdnn.json over the shipped reader."""
    T = load_script("train_sdnn")
    _tiny_sdnn_training(T, monkeypatch)
    package = tmp_path / "package_weights"                      # stands for cheque_reader/weights
    monkeypatch.setattr(T.sdnn, "WEIGHTS_DIR", package)
    monkeypatch.chdir(tmp_path)
    tiny = ["--epochs", "1", "--steps", "1", "--batch", "4", "--threads", "1"]
    assert T.main(tiny) == 0
    assert not package.exists()
    assert (tmp_path / "runs" / "sdnn" / "sdnn.pt").is_file() and (tmp_path / "runs" / "sdnn" / "sdnn.json").is_file()
    assert T.main([*tiny, "--out", str(package)]) == 0          # named: written there
    assert (package / "sdnn.pt").is_file() and (package / "sdnn.json").is_file()


def test_the_merged_graphs_cache_name_needs_no_source_code(monkeypatch):
    """A frozen or .pyc-only install has no source for inspect to read: the name then comes from the
    package's version, and the networks' sha256s still tell graphs apart."""
    import inspect

    def no_source(obj):
        raise OSError("could not get source code")

    monkeypatch.setattr(inspect, "getsource", no_source)
    name = sdnn.merged_int8_name(["a1", "b2"])
    assert name.startswith("sdnn-int8-merged-") and name == sdnn.merged_int8_name(["a1", "b2"])
    assert name != sdnn.merged_int8_name(["b2", "a1"])
