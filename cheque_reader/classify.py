"""``DigitClassifier``: batched, calibrated LeNet-5 digit classification.

The weights are package data (``cheque_reader/weights/<name>.pt``) with a JSON sidecar
(``<name>.json``: architecture, classes, temperature, training data, metrics, sha256). The
weights file's sha256 is checked against the sidecar before anything is loaded. A model
is loaded once per process and shared by every ``DigitClassifier`` that asks for the
same ``(path, device, backend)``.

>>> import numpy as np
>>> clf = DigitClassifier()
>>> crop = np.full((40, 24), 255, np.uint8); crop[4:36, 10:14] = 0     # a "1"
>>> pred = clf.predict([crop])
>>> pred.probs.shape, pred.labels.shape, pred.not_digit.shape
((1, 10), (1,), (1,))
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .config import DEFAULT_BATCH_SIZE, INPUT_SIZE
from .errors import ModelError, UsageError
from .io import quiet_warnings
from .normalize import normalize_batch

log = logging.getLogger("cheque_reader")

#: The default weights inside the package.
DEFAULT_MODEL = "lenet5.pt"

BACKENDS = ("torch", "onnx")


def resolve_backend(backend: str, device: str | None = "cpu") -> str:
    """The backend ``"auto"`` stands for: on the CPU, when the ``onnx`` extra is installed, ONNX
    Runtime with the field reader's networks in 8 bits (``"onnx-int8"``; in ``scripts/bench.py``
    ``"onnx"`` ran at about 1.2x torch's pages/s with the same reads), else torch; other names pass through.
    ``device=None`` is the CPU, as :class:`DigitClassifier` takes it.

    ONNX Runtime runs here on the CPU only: ``"onnx"`` on a GPU is refused, as torch on a missing
    GPU is, rather than silently run on the CPU.

    >>> resolve_backend("torch"), resolve_backend("auto", "cuda")
    ('torch', 'torch')
    >>> resolve_backend("onnx", "cuda")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: backend 'onnx' runs on the CPU only: use backend 'torch' (or 'auto') with device 'cuda'
    """
    device = "cpu" if device is None else device  # ReadOptions(device=None) read the field on torch
    if backend.startswith("onnx") and str(device) != "cpu":
        raise UsageError(f"backend {backend!r} runs on the CPU only: use backend 'torch' (or 'auto') with device {device!r}")
    if backend != "auto":
        return backend
    if str(device) != "cpu":
        return "torch"
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return "torch"
    return "onnx-int8"


#: torch on CPU: the first batch at least this big switches to an optimized TorchScript graph.
TORCH_OPTIMIZE_MIN = 256

#: torch on CPU: batches at least this big are split over the torch thread count (one thread each);
#: smaller ones run on one thread (OpenMP barriers cost more than they save).
TORCH_SPLIT_MIN = 128

#: ONNX Runtime: batches at least this big are split over the torch thread count, in runs of
#: ``ONNX_CHUNK`` digits (small enough for a core's L2 cache: about 1.3x faster at batch 512 here).
ONNX_SPLIT_MIN = 128
ONNX_CHUNK = 64

_CACHE: dict[tuple, "_Loaded"] = {}  # (path, weights_version, device, backend) -> the loaded model
_LOCK = threading.Lock()


class _ThreadPool:
    """A ``ThreadPoolExecutor`` of ``n`` threads, made again in a forked child: a child has none of its
    parent's threads, and a ``map`` on the parent's executor waited for them for ever (a process that
    had read a folder, then forked: ``multiprocessing.Pool`` on Linux, a Celery or gunicorn worker).
    ``initializer`` runs first in each of its threads, all started with the executor (not one by one
    as tasks arrive)."""

    def __init__(self, n: int, initializer=None):
        self.n = n
        self._initializer = initializer
        self._pid = None
        self._executor = None
        self._lock = threading.Lock()

    def map(self, fn, items):
        with self._lock:
            if self._pid != os.getpid():
                self._executor, self._pid = ThreadPoolExecutor(self.n, initializer=self._initializer), os.getpid()
                if self._initializer is not None:
                    everyone = threading.Barrier(self.n)
                    list(self._executor.map(lambda _: everyone.wait(), range(self.n)))
            executor = self._executor
        return executor.map(fn, items)


#: Held while this package changes torch's thread count (:func:`set_torch_threads_here`).
_TORCH_THREADS_LOCK = threading.Lock()


def _in_new_thread(fn, *args):
    out = []
    t = threading.Thread(target=lambda: out.append(fn(*args)), name="cheque_reader-torch-threads")
    t.start()
    t.join()
    return out[0] if out else None


def set_torch_threads_here(n: int) -> int:
    """Run torch on ``n`` threads in the calling thread only; returns its count before.

    ``torch.set_num_threads`` sets the calling thread's count, and also the count that every thread
    takes when it first runs a torch operation, process-wide: a count lowered for a moment by one
    thread was taken for good by any thread starting then (the classifier lowered it to 1 for each
    small batch: other threads' classifiers and networks ran on one core). Here that process-wide
    count is read before and put back after (from a new thread: torch's API has no other way), one
    caller at a time (a module lock). A thread that runs its first torch operation in the few
    microseconds between may still take ``n``.

    >>> import torch
    >>> before = set_torch_threads_here(1)
    >>> torch.get_num_threads(), _in_new_thread(torch.get_num_threads) == before
    (1, True)
    >>> set_torch_threads_here(before)
    1
    """
    torch = sys.modules["torch"]
    with _TORCH_THREADS_LOCK:
        mine = torch.get_num_threads()
        if mine != n:
            others = _in_new_thread(torch.get_num_threads)
            torch.set_num_threads(n)
            if others != n:
                _in_new_thread(torch.set_num_threads, others)
    return mine


def _one_torch_thread_in_pool() -> None:
    set_torch_threads_here(1)


@dataclass(frozen=True)
class DigitPredictions:
    """Classifier output for ``N`` candidates.

    ``labels``: ``(N,)`` int, the most probable digit 0-9.
    ``probs``: ``(N, 10)`` float, calibrated P(digit = k | it is a digit); rows sum to 1.
    ``not_digit``: ``(N,)`` float, calibrated P(the candidate is not a single digit).

    >>> p = DigitClassifier().predict([np.full((28, 28), 255, np.uint8)] * 3)
    >>> p.labels.shape, p.probs.shape, p.not_digit.shape
    ((3,), (3, 10), (3,))
    """

    labels: np.ndarray
    probs: np.ndarray
    not_digit: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def confidence(self) -> np.ndarray:
        """``(N,)`` probability of the chosen label (given it is a digit)."""
        return self.probs.max(axis=1) if len(self) else np.zeros(0, np.float32)

    @classmethod
    def from_logits(cls, logits: np.ndarray, temperature: float = 1.0) -> "DigitPredictions":
        """Predictions from ``(N, 11)`` logits (digits 0-9 then not_digit) and a temperature.

        >>> import numpy as np
        >>> p = DigitPredictions.from_logits(np.array([[0.0] * 10 + [np.log(10.0)]]))
        >>> round(float(p.not_digit[0]), 3), round(float(p.probs.sum()), 3)
        (0.5, 1.0)
        """
        z = np.asarray(logits, dtype=np.float64) / float(temperature)
        if z.ndim != 2 or z.shape[1] not in (10, 11):
            raise ValueError(f"expected (N, 10) or (N, 11) logits, got shape {z.shape}")
        z = z - z.max(axis=1, keepdims=True) if len(z) else z
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True) if len(z) else e
        digit = p[:, :10]
        not_digit = p[:, 10] if z.shape[1] == 11 else np.zeros(len(z))
        s = digit.sum(axis=1, keepdims=True)
        probs = np.divide(digit, s, out=np.full_like(digit, 0.1), where=s > 0)
        return cls(
            labels=probs.argmax(axis=1).astype(np.int64) if len(z) else np.zeros(0, np.int64),
            probs=probs.astype(np.float32),
            not_digit=not_digit.astype(np.float32),
        )


@dataclass
class _Loaded:
    run: Any  # callable: float32 (n,1,32,32) array -> (n, C) logits array
    metadata: dict
    model_id: str
    temperature: float


class DigitClassifier:
    """Classify digit crops with LeNet-5, in batches, with calibrated probabilities.

    Parameters
    ----------
    model_path : weights file (``.pt``) with its ``.json`` sidecar beside it; ``None`` for the
        model shipped in the package.
    device : ``"cpu"`` or a torch device such as ``"cuda"`` (torch backend).
    backend : ``"torch"``, ``"onnx"`` (ONNX Runtime, the optional ``onnx`` extra) or ``"auto"``
        (:func:`resolve_backend`: ONNX Runtime on the CPU when it is installed); ``"onnx-int8"``
        is ``"onnx"`` here (only the field reader has 8-bit networks).
    batch_size : digits per forward pass.

    Raises :class:`~cheque_reader.errors.ModelError` when the weights are missing or do not
    match the sidecar's sha256, :class:`~cheque_reader.errors.UsageError` for a bad backend.

    >>> import cv2
    >>> crop = np.full((40, 30), 255, np.uint8)
    >>> _ = cv2.line(crop, (15, 5), (15, 34), 0, 3)  # a one, dark ink on light paper
    >>> int(DigitClassifier().predict([crop]).labels[0])
    1
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None, device: str | None = "cpu", backend: str = "auto",
                 batch_size: int = DEFAULT_BATCH_SIZE):
        device = "cpu" if device is None else device  # None: the default, not torch's "no device" on ONNX's CPU
        backend = resolve_backend(backend, device)
        if backend == "onnx-int8":  # 8 bits is the field reader's: LeNet-5 in int8 ran slower (README)
            backend = "onnx"
        if backend not in BACKENDS:
            raise UsageError(f"unknown classifier backend {backend!r}; choose one of auto, {', '.join(BACKENDS)}, onnx-int8")
        if batch_size < 1:
            raise UsageError("batch_size must be at least 1")
        self.backend = backend
        self.device = device
        self.batch_size = int(batch_size)
        self._loaded = _load(model_path, device, backend)
        #: The weights file given (``None``: the shipped model); the field reader fine-tuned beside it
        #: is read with it (:func:`~cheque_reader.pipeline.with_classifier_model`).
        self.model_path = str(model_path) if model_path else None

    @property
    def model_id(self) -> str:
        """Weights id for result rows, e.g. ``"lenet5-v1-1a2b3c4d"``."""
        return self._loaded.model_id

    @property
    def metadata(self) -> dict:
        """The weights' JSON sidecar."""
        return self._loaded.metadata

    @property
    def temperature(self) -> float:
        return self._loaded.temperature

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Raw ``(N, C)`` logits (before temperature) of ``(N, 1, 32, 32)`` float32 inputs."""
        x = np.ascontiguousarray(np.asarray(x, dtype=np.float32))
        if x.ndim == 3:
            x = x[:, None]
        if x.ndim != 4 or x.shape[1:] != (1, INPUT_SIZE, INPUT_SIZE):
            raise ValueError(f"expected inputs of shape (N, 1, {INPUT_SIZE}, {INPUT_SIZE}), got {x.shape}")
        n_out = len(self.metadata.get("classes") or ()) or 11
        if len(x) == 0:
            return np.zeros((0, n_out), np.float32)
        parts = [self._loaded.run(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        return np.concatenate(parts, axis=0)

    def predict_tensors(self, x: np.ndarray) -> DigitPredictions:
        """Predictions for normalized inputs (:func:`cheque_reader.normalize.normalize_batch`)."""
        return DigitPredictions.from_logits(self.logits(x), self.temperature)

    def predict(self, crops: Sequence[np.ndarray] | np.ndarray) -> DigitPredictions:
        """Predictions for digit crops (dark ink on light paper, any size), one row per crop.

        A crop is ``uint8``, or 16-bit or float, scaled as :func:`~cheque_reader.read_cheque` scales
        an image (16-bit over 0-65535, floats over 0-1 or their min-max), gray or colour. A single
        2-D array is one crop, as is a single ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)`` array (a
        gray or colour crop, as ``read_cheque`` takes an image); another 3-D array is a stack of crops. A bool crop is refused with a ``TypeError``, as
        ``read_cheque`` refuses a bool image: a mask says ink by ``True`` as often as paper (give
        ``np.where(mask, 0, 255).astype(np.uint8)`` for a mask of ink).

        >>> import numpy as np
        >>> len(DigitClassifier().predict(np.full((28, 28), 255, np.uint8)).labels)
        1
        """
        if isinstance(crops, np.ndarray) and (crops.ndim == 2 or (crops.ndim == 3 and crops.shape[2] in (1, 3, 4))):
            crops = [crops]  # a colour crop cut from a BGR page was read as H crops of W x 3 pixels
        return self.predict_tensors(normalize_batch([_crop_uint8(c) for c in crops]))


def _crop_uint8(crop) -> np.ndarray:
    """A crop in 8 bits: 16-bit and float crops scaled as the file loader scales pages (a float crop
    in 0-1 was clipped to 0-1 of 255, all ink, and read as noise: 8.5% of MNIST digits right)."""
    from .io import _to_uint8

    a = np.asarray(crop)
    if a.dtype == np.bool_:  # read as 0 ink, 1 paper, a mask of ink was read inverted
        raise TypeError("a bool crop is a mask, not an image: give uint8 (paper 255, ink 0)")
    if a.dtype.kind not in "iuf":  # predict("abc") gave a prediction a letter
        raise TypeError(f"a crop is an image array (uint8, 16-bit or float), not {type(crop).__name__} of {a.dtype}")
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (1, 3, 4))):
        raise ValueError(f"a crop is a 2-D gray or (H, W, 3|4) colour array, got shape {a.shape}")
    if a.dtype == np.uint8 or a.size == 0 or not np.isfinite(a).all():
        return a  # normalize's own handling: blanks, NaN as paper
    return _to_uint8(a)


# --------------------------------------------------------------------------- loading


def default_model_path() -> Path:
    """The shipped default weights file.

    >>> default_model_path().name
    'lenet5.pt'
    """
    return Path(str(resources.files("cheque_reader").joinpath("weights", DEFAULT_MODEL)))


def sidecar_path(model_path: str | Path) -> Path:
    """``lenet5.pt`` -> ``lenet5.json``.

    >>> sidecar_path("weights/lenet5.pt").as_posix()
    'weights/lenet5.json'
    """
    return Path(model_path).with_suffix(".json")


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's bytes.

    >>> import tempfile
    >>> with tempfile.NamedTemporaryFile() as f:
    ...     sha256_file(f.name)[:16]  # of no bytes
    'e3b0c44298fc1c14'
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_metadata(model_path: str | Path) -> tuple[dict, bytes]:
    """The sidecar and the weights' bytes, after checking the sha256 (:class:`ModelError` if not).

    >>> meta, weights = load_metadata(default_model_path())
    >>> meta["name"], len(weights) > 0
    ('lenet5', True)
    """
    path = Path(model_path)
    side = sidecar_path(path)
    if not path.is_file():
        raise ModelError(f"model weights not found: {path}")
    _check_weights_file(path)
    if not side.is_file():
        raise ModelError(f"model sidecar not found: {side}")
    try:
        meta = json.loads(side.read_text())
    except (OSError, ValueError) as exc:
        raise ModelError(f"{side}: unreadable sidecar: {exc}") from exc
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if meta.get("sha256") != digest:
        raise ModelError(f"{path}: sha256 {digest[:12]}... does not match its sidecar ({str(meta.get('sha256'))[:12]}...)")
    return meta, data


#: How a weights file begins: ``torch.save``'s zip archive, or a legacy pickle.
_WEIGHTS_MAGIC = (b"PK\x03\x04", b"\x80")


def _check_weights_file(path: Path) -> None:
    """A :class:`ModelError` that says so for a file that is no weights file (``--model truth.csv``
    said "model sidecar not found: truth.json"; ``--model lenet5.json`` or ``lenet5.onnx``, "sha256
    does not match its sidecar"). A ``.pt`` is left to the sidecar and the loader to judge."""
    if path.suffix.lower() in (".pt", ".pth"):
        return
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the model weights: {exc.strerror or exc}") from exc
    if path.suffix.lower() == ".json" and path.with_suffix(".pt").is_file():
        raise ModelError(f"{path} is a model's JSON sidecar, not its weights: give the weights, {path.with_suffix('.pt')}")
    if not head.startswith(_WEIGHTS_MAGIC):
        raise ModelError(f"{path} is not a model weights file: give a .pt file (as finetune writes it) with its "
                         f".json sidecar beside it")


def weights_version(model_path: str | Path) -> tuple:
    """The size and modification time of a weights file and of its sidecar, part of the key a loaded
    model is kept under: weights written again at the same path (``finetune`` into the same file, in
    a process that reads on) are loaded again; they were read with the first ones, and named so.

    >>> weights_version("no-such-weights.pt")
    (None, None, None, None)
    """
    version: list = []
    for path in (Path(model_path), sidecar_path(model_path)):
        try:
            st = path.stat()
            version += [st.st_size, st.st_mtime_ns]
        except OSError:
            version += [None, None]
    return tuple(version)


def model_id_of(meta: dict) -> str:
    """``"<name>-v<version>-<sha8>"``.

    >>> model_id_of({"name": "lenet5", "version": 1, "sha256": "038ad551d003e074"})
    'lenet5-v1-038ad551'
    """
    return f"{meta.get('name', 'lenet5')}-v{meta.get('version', 1)}-{str(meta.get('sha256', ''))[:8]}"


def _load(model_path: str | None, device: str, backend: str) -> _Loaded:
    path = Path(model_path).resolve() if model_path else default_model_path()
    key = (str(path), weights_version(path), str(device), backend)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            return hit
        meta, data = load_metadata(path)
        if backend == "onnx":
            run = _onnx_runner(meta, data, path)
        else:
            run = _torch_runner(_torch_model(meta, data, path), device)
        loaded = _Loaded(run=run, metadata=meta, model_id=model_id_of(meta),
                         temperature=float(meta.get("temperature") or 1.0))
        _CACHE[key] = loaded
        log.info("loaded model %s (%s, %s)", loaded.model_id, backend, device)
        return loaded


def clear_cache() -> None:
    """Forget loaded models (tests); the next classifier loads its weights again.

    >>> first = DigitClassifier(backend="torch")
    >>> clear_cache()
    >>> DigitClassifier(backend="torch")._loaded is first._loaded
    False
    """
    with _LOCK:
        _CACHE.clear()


def _torch_model(meta: dict, data: bytes, path: Path):
    import torch

    from .model import build_model

    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        net = build_model(meta["architecture"])
        net.load_state_dict(state)
    except Exception as exc:  # corrupt file, wrong architecture
        raise ModelError(f"{path}: cannot load weights: {exc}") from exc
    net.eval()
    return net


_FORK_HOOK_LOCK = threading.Lock()
_fork_hook_registered = False


def one_torch_thread_after_fork() -> None:
    """Have every process forked from this one run torch on one thread (registered once, when this
    package first loads torch networks). torch's CPU wheels run a network's operations on OpenMP
    threads, which a forked child has not: a process that had read a field on torch, then forked
    (gunicorn ``--preload``, a Celery or ``multiprocessing`` pool on Linux), hung for ever in each
    child's first field (``torch.utils.data.DataLoader`` sets its workers to one thread likewise).

    >>> one_torch_thread_after_fork(); one_torch_thread_after_fork()   # registered once, whatever the calls
    """
    global _fork_hook_registered
    with _FORK_HOOK_LOCK:
        if _fork_hook_registered or not hasattr(os, "register_at_fork"):
            return
        os.register_at_fork(after_in_child=_one_torch_thread)
        _fork_hook_registered = True


def _one_torch_thread() -> None:
    set_num_threads = getattr(sys.modules.get("torch"), "set_num_threads", None)
    if set_num_threads is not None:
        set_num_threads(1)


def _torch_runner(net, device: str):
    import torch

    one_torch_thread_after_fork()

    model = net.fused() if hasattr(net, "fused") else net
    try:
        model = model.to(device).eval()
    except (RuntimeError, AssertionError) as exc:
        raise UsageError(f"device {device!r} is not available: {exc}") from exc
    cpu = str(device) == "cpu"
    state = {"model": model, "optimized": not cpu, "pool": None}
    pool_lock = threading.Lock()

    def forward(x: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return state["model"](torch.from_numpy(x).to(device)).float().cpu().numpy()

    def run(x: np.ndarray) -> np.ndarray:
        if not state["optimized"] and len(x) >= TORCH_OPTIMIZE_MIN:
            # tracing costs about a second: only worth it once big batches arrive
            state["model"], state["optimized"] = _optimized(model, device), True
        threads = torch.get_num_threads()
        if not cpu or threads == 1:
            return forward(x)
        # Small convolutions scale badly inside one op (OpenMP barriers cost more than they save,
        # and collapse when another process holds a core): run one torch thread per chunk instead,
        # big batches split over ``threads`` concurrent chunks (the ops release the GIL). The chunks
        # run in a pool whose threads were set to one torch thread once (the caller's count, and
        # other threads', are left alone: set_torch_threads_here).
        with pool_lock:
            pool = state["pool"]
            if pool is None or pool.n != threads:
                pool = state["pool"] = _ThreadPool(threads, initializer=_one_torch_thread_in_pool)
        parts = [x] if len(x) < TORCH_SPLIT_MIN else np.array_split(x, threads)
        return np.concatenate(list(pool.map(forward, parts)), axis=0)

    return run


def _optimized(model, device: str):
    """On CPU, :func:`frozen_for_cpu` of the model, checked on batches of 1 and 3 digits."""
    if str(device) != "cpu":
        return model
    import torch

    probe = torch.linspace(-0.1, 1.175, 3 * INPUT_SIZE * INPUT_SIZE).reshape(3, 1, INPUT_SIZE, INPUT_SIZE)
    return frozen_for_cpu(model, [probe, probe[:1]])


def frozen_for_cpu(model, probes: list):
    """A frozen TorchScript graph of ``model`` with oneDNN-prepacked convolutions: about 1.5-2.5x
    faster than eager mode on CPU for these small networks. Traced on ``probes[0]`` and compared
    with the model on every probe; the eager model itself when that is unavailable or disagrees.

    >>> import torch
    >>> net = torch.nn.Conv2d(1, 2, 3).eval()
    >>> fast = frozen_for_cpu(net, [torch.zeros(2, 1, 8, 8), torch.ones(1, 1, 8, 12)])
    >>> bool(torch.allclose(fast(torch.ones(1, 1, 9, 9)), net(torch.ones(1, 1, 9, 9))))
    True
    """
    import torch

    try:
        # TorchScript is deprecated in recent torch but still the fastest CPU path for these
        # networks; without it, the eager model runs (the notices quieted as io quiets Pillow's: thread-safe)
        with torch.inference_mode(), quiet_warnings(DeprecationWarning):
            frozen = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.trace(model, probes[0])))
            for probe in probes:
                if not torch.allclose(frozen(probe), model(probe), atol=1e-4, rtol=1e-4):
                    raise RuntimeError("optimized graph disagrees with the model")
        return frozen
    except Exception as exc:  # pragma: no cover - depends on the torch build
        log.debug("TorchScript optimization unavailable (%s); using eager mode", exc)
        return model


def onnx_session(model_bytes: bytes):
    """A one-thread ONNX Runtime CPU session (graph optimizations on) for ``model_bytes``.

    Small convolutions scale poorly across threads inside one run: callers run one thread per
    run and, for big batches, several runs at a time.

    >>> import torch
    >>> session = onnx_session(onnx_bytes(torch.nn.Linear(3, 2), torch.zeros(1, 3), {}))
    >>> session.run(None, {"x": np.ones((1, 3), np.float32)})[0].shape
    (1, 2)
    """
    try:
        import onnxruntime as ort
    except ImportError as exc:
        raise UsageError("backend 'onnx' needs onnxruntime: pip install 'cheque-reader[onnx]'") from exc
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    # inputs change shape from run to run (batch, and the field reader's width): an arena and
    # memory patterns sized for each shape seen only grow the process (1.0 GB against 0.68 GB)
    opts.enable_cpu_mem_arena = False
    opts.enable_mem_pattern = False
    return ort.InferenceSession(model_bytes, opts, providers=["CPUExecutionProvider"])


def onnx_cache_dir() -> Path:
    """Where ONNX exports of weights without a shipped ``.onnx`` are kept: ``$CHEQUE_READER_CACHE``,
    else ``$XDG_CACHE_HOME/cheque_reader``, else ``~/.cache/cheque_reader``.

    >>> os.environ["CHEQUE_READER_CACHE"] = "/var/cache/cheques"
    >>> onnx_cache_dir()
    PosixPath('/var/cache/cheques')
    >>> del os.environ["CHEQUE_READER_CACHE"]
    """
    if os.environ.get("CHEQUE_READER_CACHE"):
        return Path(os.environ["CHEQUE_READER_CACHE"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "cheque_reader"
    try:
        return Path.home() / ".cache" / "cheque_reader"
    except (RuntimeError, KeyError):  # no home folder (a service account): the temporary folder
        return Path(tempfile.gettempdir()) / "cheque_reader"


def cached_onnx_session(name: str, export):
    """An :func:`onnx_session` of the ONNX bytes kept as ``name`` in :func:`onnx_cache_dir`, or of
    ``export()``'s, then kept there (written atomically; a cache entry that cannot be read, written
    or opened is replaced or skipped). ``name`` must identify the weights (their sha256), so that
    new weights never meet an old export.

    >>> import tempfile, torch
    >>> os.environ["CHEQUE_READER_CACHE"] = tempfile.mkdtemp()
    >>> export = lambda: onnx_bytes(torch.nn.Linear(3, 2), torch.zeros(1, 3), {})
    >>> _ = cached_onnx_session("linear-3x2", export)
    >>> (onnx_cache_dir() / "linear-3x2.onnx").is_file()  # kept: the next session reads it back
    True
    >>> del os.environ["CHEQUE_READER_CACHE"]
    """
    path = onnx_cache_dir() / f"{name}.onnx"
    try:
        return onnx_session(path.read_bytes())
    except UsageError:
        raise  # no onnxruntime
    except Exception as exc:  # not there yet, or unreadable: export again
        if path.exists():
            log.warning("ONNX cache entry %s is unusable (%s); exporting again", path, exc)
    data = export()
    part = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".part", delete=False) as tmp:
            part = tmp.name
            tmp.write(data)
        os.chmod(part, 0o644)  # readable by all, like an installed file (a shared cache folder)
        os.replace(part, path)
    except OSError as exc:
        log.debug("cannot keep %s in the ONNX cache: %s", name, exc)
        if part is not None:
            with contextlib.suppress(OSError):
                os.unlink(part)
    return onnx_session(data)


def _thread_limit() -> int:
    """The caller's thread limit: torch's when torch is in use, else the cores this process may use."""
    get_num_threads = getattr(sys.modules.get("torch"), "get_num_threads", None)  # None: torch still being imported
    if get_num_threads is not None:
        return max(1, get_num_threads())
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else max(1, os.cpu_count() or 1)


def _onnx_runner(meta: dict, data: bytes, path: Path):
    """ONNX Runtime inference of the weights: their shipped ``.onnx`` when its sha256 matches the
    sidecar's (no torch needed), else an export of the torch model (cached)."""
    onnx_path = path.with_suffix(".onnx")
    if onnx_path.is_file() and meta.get("onnx_sha256") == sha256_file(onnx_path):
        sess = onnx_session(onnx_path.read_bytes())
    else:
        sess = cached_onnx_session(f"{meta.get('name', 'lenet5')}-{meta['sha256'][:16]}",
                                   lambda: export_onnx(_torch_model(meta, data, path)))
    threads = _thread_limit()
    # big batches: runs of ``ONNX_CHUNK`` digits, ``threads`` at a time
    name = sess.get_inputs()[0].name
    pool = _ThreadPool(threads) if threads > 1 else None

    def one(x: np.ndarray) -> np.ndarray:
        return sess.run(None, {name: x})[0]

    def run(x: np.ndarray) -> np.ndarray:
        if pool is None or len(x) < ONNX_SPLIT_MIN:
            return one(x)
        parts = [x[i : i + ONNX_CHUNK] for i in range(0, len(x), ONNX_CHUNK)]
        return np.concatenate(list(pool.map(one, parts)), axis=0)

    return run


def export_onnx(net) -> bytes:
    """The model as ONNX bytes (batch dimension dynamic), batch norm folded.

    >>> import onnx
    >>> from cheque_reader.model import LeNet5
    >>> graph = onnx.load_from_string(export_onnx(LeNet5().eval())).graph
    >>> [i.name for i in graph.input], [o.name for o in graph.output]
    (['x'], ['logits'])
    """
    import torch

    model = net.fused() if hasattr(net, "fused") else net.eval()
    return onnx_bytes(model, torch.zeros(2, 1, INPUT_SIZE, INPUT_SIZE), {"x": {0: "n"}, "logits": {0: "n"}})


def onnx_bytes(model, example, dynamic_axes: dict) -> bytes:
    """``model`` exported to ONNX (input ``x``, output ``logits``, opset 17) from ``example``.

    >>> import onnx, torch
    >>> model = onnx.load_from_string(onnx_bytes(torch.nn.Linear(3, 2), torch.zeros(1, 3), {}))
    >>> [t.name for t in model.graph.input], [t.name for t in model.graph.output], model.opset_import[0].version
    (['x'], ['logits'], 17)
    """
    import torch

    buf = io.BytesIO()
    with quiet_warnings():  # the TorchScript exporter's deprecation notices
        torch.onnx.export(model, (example,), buf, input_names=["x"], output_names=["logits"],
                          dynamic_axes=dynamic_axes, opset_version=17, dynamo=False)
    return buf.getvalue()
