"""scripts/train_lenet.py: the in-context cuts (``--context-crops``) mixed into each epoch."""

from __future__ import annotations

import numpy as np
import pytest

from cheque_reader.model import NOT_DIGIT
from tests.conftest import load_script


def _context(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    x = np.full((n, 1, 32, 32), -0.1, np.float32)
    x[:, :, 8:24, 14:18] = 1.175
    x[:, 0, 0, 0] = np.arange(n)  # each row recognisable
    return x, np.array([3, 7, NOT_DIGIT, NOT_DIGIT, 1][:n], np.int64)


def test_context_cuts_are_mixed_into_every_epoch():
    T = load_script("train_lenet")
    rng = np.random.default_rng(0)
    mnist = np.zeros((12, 28, 28), np.uint8)
    mnist[:, 6:22, 12:16] = 255
    cx, cy = _context()
    train = T.TrainingSet.build(rng, mnist, np.arange(12) % 10, [], np.zeros(0, np.int64), scan_pool=0,
                                crop_strength=0.0, orand_variants=1, neg_pool=0, context=(cx, cy))
    rows = train.groups["context"]
    assert len(rows) == 5
    np.testing.assert_array_equal(train.x[rows], cx)  # as given: already the classifier's inputs
    np.testing.assert_array_equal(train.y[rows], cy)
    kw = {"scan_share": 0.0, "orand_repeat": 0, "n_neg": 0}
    epoch = train.epoch(np.random.default_rng(1), context_repeat=3, **kw)
    assert len(epoch) == 12 + 3 * 5
    counts = np.bincount(epoch, minlength=len(train.y))
    assert (counts[rows] == 3).all() and (counts[train.groups["mnist"]] == 1).all()
    assert not np.isin(train.epoch(np.random.default_rng(1), **kw), rows).any()  # repeat 0: left out


def test_context_cuts_must_be_classifier_inputs(tmp_path):
    T = load_script("train_lenet")
    cx, cy = _context()
    with pytest.raises(ValueError):
        T.TrainingSet.build(np.random.default_rng(0), np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.int64), [],
                            np.zeros(0, np.int64), scan_pool=0, crop_strength=0.0, orand_variants=1, neg_pool=0,
                            context=(cx[:, :, :28, :28], cy))
    path = tmp_path / "ctx.npz"
    np.savez_compressed(path, x=cx, y=cy, command="PYTHONPATH=. python scripts/context_crops.py -o ctx.npz",
                        model="lenet5-v1-test", seed=1998)
    x, y, info = T.load_context_crops(str(path))
    np.testing.assert_array_equal(x, cx)
    np.testing.assert_array_equal(y, cy)
    assert (info["n"], info["positives"], info["negatives"]) == (5, 3, 2)
    assert info["command"].startswith("PYTHONPATH=. python scripts/context_crops.py") and info["seed"] == 1998
    assert len(info["sha256"]) == 64


def test_printed_digits_are_cut_to_their_ink_and_mixed_into_epochs_at_their_share():
    T = load_script("train_lenet")
    crops, labels = T.printed_digits(20, np.random.default_rng(0))
    assert labels.tolist() == list(range(10)) * 2
    for crop in crops[::2]:  # as rendered: dark ink on light paper, cut to the ink on all four sides
        assert crop.dtype == np.uint8 and crop.max() > 200
        assert min(crop[0].min(), crop[-1].min(), crop[:, 0].min(), crop[:, -1].min()) < 170
    mnist = np.zeros((12, 28, 28), np.uint8)
    mnist[:, 6:22, 12:16] = 255
    train = T.TrainingSet.build(np.random.default_rng(0), mnist, np.arange(12) % 10, [], np.zeros(0, np.int64),
                                scan_pool=0, crop_strength=0.0, orand_variants=1, neg_pool=0, printed=30)
    rows = train.groups["printed"]
    assert len(rows) == 30 and train.y[rows].tolist() == list(range(10)) * 3
    assert train.x[rows].shape == (30, 1, 32, 32)   # normalized as every other input
    kw = {"scan_share": 0.0, "orand_repeat": 0, "n_neg": 0}
    epoch = train.epoch(np.random.default_rng(1), printed_share=0.5, **kw)
    counts = np.bincount(epoch, minlength=len(train.y))
    assert len(epoch) == 12 + 6 and counts[rows].sum() == 6 and counts[rows].max() == 1
    assert not np.isin(train.epoch(np.random.default_rng(1), **kw), rows).any()  # share 0: left out


def test_training_writes_outside_the_package_unless_told(tmp_path, monkeypatch):
    """A run without --out-dir wrote lenet5.pt, .onnx and .json over the shipped classifier."""
    T = load_script("train_lenet")
    x = np.zeros((60, 28, 28), np.uint8)
    for i in range(60):  # a thick blob per "digit"
        x[i, 6 + i % 5 : 22, 9 : 19 + i % 4] = 255
    y = np.arange(60, dtype=np.int64) % 10
    monkeypatch.setattr(T, "load_mnist_split", lambda seed, n_val: ((x, y), (x[:20], y[:20]), (x[:20], y[:20]), 0))
    package = tmp_path / "package_weights"                      # stands for cheque_reader/weights
    monkeypatch.setattr(T, "WEIGHTS", package)
    monkeypatch.chdir(tmp_path)
    tiny = ["--epochs", "1", "--no-orand", "--batch-size", "16", "--scan-pool", "20", "--neg-pool", "20", "--threads", "1"]
    assert T.main(tiny) == 0
    assert not package.exists()
    assert sorted(p.name for p in (tmp_path / "runs" / "lenet5").iterdir()) == ["lenet5.json", "lenet5.onnx", "lenet5.pt"]
    assert T.main([*tiny, "--out-dir", str(package)]) == 0      # named: written there
    assert sorted(p.name for p in package.iterdir()) == ["lenet5.json", "lenet5.onnx", "lenet5.pt"]
