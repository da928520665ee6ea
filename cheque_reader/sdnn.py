"""LeNet-5 swept along the whole amount field: the paper's Space Displacement Neural Network.

LeCun et al. (1998, section VII) replicate the convolutional network over a field so that it
reads a string without cutting it into characters first; each position of the sweep outputs
the class under it. Here the sweep's columns output P(digit k) or P(nothing here) ("blank"),
and connectionist temporal classification (CTC; Graves et al. 2006) turns the columns into
a digit string and its probability. Separators (``, . - /``) are read as blank: the reader
gives the digits. It complements the cut-then-classify path of :mod:`cheque_reader.segment`
on touching and broken handwriting, and the two readers agreeing is strong evidence.

The input is the field's gray image cropped to its ink (the rows and columns the cleaned
ink occupies, with a margin; the pipeline keeps to the rows of the digit candidates and
stops before a closing ``/-``), scaled to :data:`INPUT_HEIGHT` rows, paper -0.1, ink 1.175 as
in the paper.

>>> import numpy as np
>>> gray = np.full((50, 150), 230, np.uint8); gray[15:35, 20:30] = 20
>>> x = field_input(gray, gray < 128)
>>> x.shape[0], round(float(x.min()), 3), round(float(x.max()), 3)
(32, -0.1, 1.175)
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from .config import BACKGROUND_VALUE, INK_VALUE
from .types import BBox

log = logging.getLogger("cheque_reader")

#: Rows of the network's input; the width follows the field's aspect ratio.
INPUT_HEIGHT = 32

#: Widest input (columns): longer fields are squeezed to this.
MAX_INPUT_WIDTH = 32 * 16

#: CPU: once a reader has read this many fields, it switches to frozen TorchScript graphs of its
#: networks (about 1.9x faster; making them costs about 2 s, repaid after some 250 fields).
OPTIMIZE_AFTER_FIELDS = 64

#: Margin kept around the ink, as a fraction of the ink's height.
INK_MARGIN = 0.15

#: Widths (relative) each field is read at; the strings' probabilities are averaged over them.
STRETCHES = (1.0, 0.85, 1.2)

#: The amount prior (see :func:`amount_prior`): each trailing zero multiplies a string's score by
#: this (e^0.5), and its first digit d by Benford's P(d) = log10(1 + 1/d) to the power
#: :data:`FIRST_DIGIT_PRIOR_POWER`. The network scores every string as if all were equally likely.
TRAILING_ZERO_PRIOR = 1.6487
FIRST_DIGIT_PRIOR_POWER = 0.75

#: Output class of "nothing here" (digits are 0-9).
BLANK = 10

#: Input columns per output column (two 2x2 poolings).
STRIDE = 4

#: Paper columns after each input in a batch: more than an output column's reach (about 20).
PAPER_MARGIN = 24

#: A batch holds inputs (sorted by width) up to this many times as wide as its narrowest, margins
#: included: every input is padded to the batch's widest. One batch of all the fields of 80 Group 4
#: cheques (41-273 columns) cost 3.3-3.5 ms a field and network on one CPU thread, against 1.2-1.3
#: ms in batches within 1.1 of their narrowest (ONNX Runtime; frozen TorchScript: 3.5 against 1.5).
BATCH_WIDTH_RATIO = 1.1

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


def default_sdnn_path() -> Path:
    """The shipped SDNN weights.

    >>> default_sdnn_path().name, default_sdnn_path().parent.name, default_sdnn_path().is_file()
    ('sdnn.pt', 'weights', True)
    """
    return WEIGHTS_DIR / "sdnn.pt"


def ink_bounds(ink: np.ndarray) -> tuple[int, int, int, int] | None:
    """``(top, bottom, left, right)`` of the ink with a margin, robust to stray specks; ``None`` if no ink.

    >>> ink = np.zeros((60, 200), bool); ink[20:40, 50:90] = True
    >>> ink[5, 190] = True                                  # a stray speck: left out
    >>> ink_bounds(ink), ink_bounds(np.zeros((5, 5), bool))
    ((17, 43, 47, 93), None)
    """
    # the ink's rows and columns, sorted, from its counts a row and a column (OpenCV's sums): the same
    # numbers np.nonzero gives, sorted, for the percentiles (0.30 against 0.76 ms a JPEG field of the bench)
    u8 = np.ascontiguousarray(ink.view(np.uint8) if ink.dtype == bool else (ink != 0).astype(np.uint8))
    per_row = cv2.reduce(u8, 1, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel()
    if int(per_row.sum()) < 5:
        return None
    h, w = ink.shape
    ys = np.repeat(np.arange(h), per_row)
    xs = np.repeat(np.arange(w), cv2.reduce(u8, 0, cv2.REDUCE_SUM, dtype=cv2.CV_32S).ravel())
    # both ends of each in one call (one partition; the same numbers as a call for each: 0.16 against 0.28 ms)
    top, bottom = np.percentile(ys, (1, 99))
    left, right = np.percentile(xs, (0.5, 99.5))
    bottom, right = bottom + 1, right + 1
    m = INK_MARGIN * max(bottom - top, 8)
    return (int(max(0, top - m)), int(min(h, bottom + m)), int(max(0, left - m)), int(min(w, right + m)))


def field_input(gray: np.ndarray, ink: np.ndarray | None = None) -> np.ndarray:
    """The network's input for a field: ``float32 (INPUT_HEIGHT, W)``, paper -0.1, ink 1.175.

    ``gray``: the field, ``uint8`` paper light; ``ink``: a boolean (or ``uint8`` paper 255 /
    ink 0) mask of its cleaned ink, used to crop; without it the whole field is used.

    >>> import cv2
    >>> gray = np.full((60, 200), 230, np.uint8)
    >>> _ = cv2.putText(gray, "42", (60, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 30, 3)
    >>> whole, cropped = field_input(gray), field_input(gray, gray < 128)
    >>> whole.shape, cropped.shape[0], cropped.shape[1] < whole.shape[1]   # 32 rows; the crop is the ink's
    ((32, 107), 32, True)
    """
    return field_input_with_box(gray, ink)[0]


def field_input_with_box(
    gray: np.ndarray, ink: np.ndarray | None = None, rows: tuple[int, int] | None = None, end: int | None = None
) -> tuple[np.ndarray, BBox]:
    """:func:`field_input` and the box of the field it was cut from (to map columns back to pixels).

    ``rows`` (``top, bottom``: the rows of the digits the segmenter found, say) limits the ink
    that sets the crop, so that printed text above or below the amount is left out; ``end``
    (the first column of a closing ``/-``, say) cuts the crop there.

    >>> gray = np.full((60, 200), 230, np.uint8)
    >>> gray[2:6, :] = 20                                   # printed text along the top ...
    >>> gray[20:40, 50:90] = 20                             # ... and the amount
    >>> x, box = field_input_with_box(gray, gray < 128, rows=(15, 45))
    >>> x.shape, box
    ((32, 57), BBox(x=47, y=17, w=46, h=26))
    >>> field_input_with_box(gray, gray < 128, rows=(15, 45), end=70)[1]   # cut at column 70
    BBox(x=47, y=17, w=23, h=26)
    """
    gray = np.asarray(gray, np.uint8)
    h, w = gray.shape
    box = BBox(0, 0, w, h)
    if ink is not None:
        mask = ink if ink.dtype == bool else ink < 128
        if rows is not None:
            keep = np.zeros(h, bool)
            keep[max(0, rows[0]) : max(0, rows[1])] = True
            mask = mask & keep[:, None]
        if end is not None:
            mask = mask.copy()
            mask[:, max(0, end) :] = False
        b = ink_bounds(mask)
        if b is not None:
            right = b[3] if end is None else max(b[2] + 1, min(b[3], end))
            box = BBox(b[2], b[0], right - b[2], b[1] - b[0])
            gray = gray[b[0] : b[1], b[2] : right]
    h, w = gray.shape
    width = int(np.clip(round(INPUT_HEIGHT * w / max(h, 1)), STRIDE * 2, MAX_INPUT_WIDTH))
    g = cv2.resize(gray, (width, INPUT_HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32)
    paper = float(np.percentile(g, 80))
    ink_level = float(g.min())
    v = np.clip((paper - g) / max(paper - ink_level, 24.0), 0.0, 1.0)
    return (BACKGROUND_VALUE + (INK_VALUE - BACKGROUND_VALUE) * v).astype(np.float32), box


def stack_inputs(inputs: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pad inputs to one width with paper: ``(N, 1, H, W)`` and the widths.

    Every input gets at least :data:`PAPER_MARGIN` columns of paper on its right, wider than
    the network's reach, so its output columns are the same alone or in any batch.

    >>> batch, widths = stack_inputs([np.zeros((32, 40), np.float32), np.zeros((32, 64), np.float32)])
    >>> batch.shape, widths.tolist(), round(float(batch[0, 0, 0, 40]), 3)   # paper past the widest, to a multiple of 4
    ((2, 1, 32, 88), [40, 64], -0.1)
    """
    widths = np.array([x.shape[1] for x in inputs], int)
    wmax = int(-(-(max(widths) + PAPER_MARGIN) // STRIDE) * STRIDE)
    out = np.full((len(inputs), 1, INPUT_HEIGHT, wmax), BACKGROUND_VALUE, np.float32)
    for i, x in enumerate(inputs):
        out[i, 0, :, : x.shape[1]] = x
    return out, widths


def build_sdnn(config: dict | None = None):
    """The network (torch imported here): C1-S2-C3-S4 as LeNet-5, C5 spanning the height, F6 over 3 columns.

    >>> import torch
    >>> net = build_sdnn().eval()
    >>> tuple(net(torch.zeros(2, 1, INPUT_HEIGHT, 64)).shape)   # a column every 4 pixels: 10 digits and the blank
    (2, 16, 11)
    """
    import torch
    from torch import nn

    cfg = {"c1": 8, "c3": 16, "c5": 120, "f6": 84, "dropout": 0.2, **(config or {})}

    class SDNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = cfg
            self.features = nn.Sequential(
                nn.Conv2d(1, cfg["c1"], 5, padding=2), nn.BatchNorm2d(cfg["c1"]), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(cfg["c1"], cfg["c3"], 5, padding=2), nn.BatchNorm2d(cfg["c3"]), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(cfg["c3"], cfg["c5"], (INPUT_HEIGHT // 4, 3), padding=(0, 1)),
                nn.BatchNorm2d(cfg["c5"]), nn.ReLU(),
            )
            self.head = nn.Sequential(
                nn.Dropout(cfg["dropout"]),
                nn.Conv1d(cfg["c5"], cfg["f6"], 3, padding=1), nn.ReLU(),
                nn.Conv1d(cfg["f6"], BLANK + 1, 1),
            )

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            """``(N, 1, 32, W)`` -> log probabilities ``(N, W // 4, 11)``."""
            f = self.features(x).squeeze(2)
            return torch.log_softmax(self.head(f), dim=1).transpose(1, 2)

    return SDNN()


@dataclass(frozen=True)
class FieldRead:
    """The SDNN's reading of one field.

    ``columns``: for each digit, the input columns ``(start, end)`` where it was read;
    ``views_agree``: the share of views (networks x widths) whose own best reading is ``digits``;
    ``view_log_probs`` and ``view_bests``: each view's calibrated per-column log probabilities and
    its own best reading, so that other strings can be scored as ``digits`` was.

    >>> p = np.full((6, 11), 0.01); p[:, BLANK] = 0.9
    >>> p[1, [4, BLANK]] = p[4, [2, BLANK]] = 0.9, 0.01       # a "4", then a "2"
    >>> read = FieldRead("42", 0.55, (0.9, 0.9), ((1, 2), (4, 5)), 1.0, (np.log(p),), ("42",))
    >>> read.probabilities(["42", "4"]).round(3).tolist(), read.share_reading("42")
    ([0.556, 0.006], 1.0)
    """

    digits: str
    confidence: float
    digit_confidences: tuple[float, ...]
    columns: tuple[tuple[int, int], ...]
    views_agree: float = 1.0
    view_log_probs: tuple[np.ndarray, ...] = field(default=(), compare=False, repr=False)
    view_bests: tuple[str, ...] = field(default=(), compare=False, repr=False)

    def probabilities(self, strings: Sequence[str]) -> np.ndarray:
        """Each string's CTC probability averaged over the field's views, as ``confidence`` is
        ``digits``'s (zeros without views)."""
        if not self.view_log_probs or not strings:
            return np.zeros(len(strings))
        probs = string_probabilities([(lp, text) for text in strings for lp in self.view_log_probs])
        return probs.reshape(len(strings), len(self.view_log_probs)).mean(axis=1)

    def share_reading(self, digits: str) -> float:
        """The share of the field's views whose own best reading is ``digits``."""
        return sum(v == digits for v in self.view_bests) / len(self.view_bests) if self.view_bests else 0.0

    def without_digit(self, k: int) -> "FieldRead":
        """This read with its ``k``-th digit dropped, scored over the field's views.

        >>> p = np.full((9, 11), 0.01); p[:, BLANK] = 0.9; p[1, [5, BLANK]] = p[5, [0, BLANK]] = 0.9, 0.01
        >>> p[3, [0, BLANK]] = 0.3, 0.6        # a faint "0" between "5" and "0"
        >>> read = FieldRead("500", 0.2, (0.9, 0.3, 0.9), ((4, 8), (12, 16), (20, 24)), 1.0, (np.log(p),), ("500",))
        >>> r = read.without_digit(1); r.digits, r.columns, r.views_agree, bool(r.confidence > read.confidence)
        ('50', ((4, 8), (20, 24)), 0.0, True)
        """
        digits = self.digits[:k] + self.digits[k + 1 :]
        return dataclasses.replace(
            self, digits=digits, confidence=float(self.probabilities([digits])[0]),
            digit_confidences=self.digit_confidences[:k] + self.digit_confidences[k + 1 :],
            columns=self.columns[:k] + self.columns[k + 1 :], views_agree=self.share_reading(digits))

    def with_digit_doubled(self, k: int) -> "FieldRead":
        """This read with its ``k``-th digit written twice (a repeat CTC merged), scored over the
        field's views; the digit's columns are shared between the two halves.

        >>> p = np.full((9, 11), 0.01); p[:, BLANK] = 0.9; p[1, [5, BLANK]] = p[4, [0, BLANK]] = 0.9, 0.01
        >>> p[5, [0, BLANK]] = 0.6, 0.3        # the "0" goes on: maybe a second one without a gap
        >>> read = FieldRead("50", 0.4, (0.9, 0.9), ((4, 8), (16, 24)), 1.0, (np.log(p),), ("50",))
        >>> r = read.with_digit_doubled(1); r.digits, r.columns, r.digit_confidences
        ('500', ((4, 8), (16, 20), (20, 24)), (0.9, 0.9, 0.9))
        """
        digits = self.digits[: k + 1] + self.digits[k:]
        (a, b), mid = self.columns[k], (self.columns[k][0] + self.columns[k][1]) // 2
        return dataclasses.replace(
            self, digits=digits, confidence=float(self.probabilities([digits])[0]),
            digit_confidences=self.digit_confidences[: k + 1] + self.digit_confidences[k:],
            columns=self.columns[:k] + ((a, mid), (mid, b)) + self.columns[k + 1 :],
            views_agree=self.share_reading(digits))


def greedy_decode(log_probs: np.ndarray) -> tuple[str, tuple[float, ...], tuple[tuple[int, int], ...]]:
    """Best class per column, repeats merged, blanks dropped: the digits, their peak probabilities and columns.

    >>> lp = np.log(np.full((5, 11), 1e-4)); lp[[0, 3, 4], 10] = 0; lp[1, 7] = lp[2, 7] = 0
    >>> greedy_decode(lp)
    ('7', (1.0,), ((4, 12),))
    """
    best = log_probs.argmax(axis=1)
    digits, confs, cols = [], [], []
    t = 0
    while t < len(best):
        k = int(best[t])
        end = t
        while end + 1 < len(best) and best[end + 1] == k:
            end += 1
        if k != BLANK:
            digits.append(str(k))
            confs.append(float(np.exp(log_probs[t : end + 1, k].max())))
            cols.append((t * STRIDE, (end + 1) * STRIDE))
        t = end + 1
    return "".join(digits), tuple(confs), tuple(cols)


_LOCK = threading.RLock()  # re-entered: an ONNX export loads the torch networks
# The keys hold classify.weights_version: weights written again at the same path are loaded again.
_CACHE: dict[tuple, tuple] = {}  # (weights path, version, device) -> its networks and the sidecar
_FAST: dict[tuple, list] = {}  # (weights path, its networks' ids) -> those networks as frozen TorchScript graphs
_ONNX: dict[str, tuple[list, dict]] = {}  # "weights path|version|float" or "|int8" -> its networks as ONNX Runtime sessions, and the sidecar


class FieldReader:
    """Reads whole fields with the shipped SDNN (one model per process); ``backend="onnx"`` runs
    the networks on ONNX Runtime (CPU; exported once and cached, see :func:`_onnx_sdnn`), and
    ``"onnx-int8"`` (what ``"auto"`` picks there) their 8-bit versions shipped beside the weights
    (:func:`int8_matches`; the float ones when there are none, as for a fine-tuned model).

    >>> import cv2
    >>> gray = np.full((60, 200), 255, np.uint8)
    >>> _ = cv2.putText(gray, "1500", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    >>> FieldReader().read([field_input(gray)])[0].digits
    '1500'
    """

    def __init__(self, model_path: str | Path | None = None, device: str | None = "cpu", backend: str = "auto") -> None:
        from .classify import resolve_backend

        device = "cpu" if device is None else device  # as DigitClassifier
        backend = resolve_backend(backend, device)
        self.model_path = Path(model_path) if model_path else default_sdnn_path()
        self.device = device
        self.backend = backend
        self._fast: list | None = None  # the torch nets as frozen TorchScript graphs, after OPTIMIZE_AFTER_FIELDS
        if backend == "onnx-int8" and not int8_matches(self.model_path):
            log.info("%s: no 8-bit networks made for these weights (scripts/quantize_sdnn.py): float ONNX", self.model_path.name)
            self.backend = backend = "onnx"
        if backend in ("onnx", "onnx-int8"):  # ONNX Runtime sessions on the CPU (as the classifier's)
            self.nets, self.metadata = _onnx_sdnn(self.model_path, int8=backend == "onnx-int8")
            self._fast = self.nets
        else:
            self.nets, self.metadata = _load_sdnn(self.model_path, device)
        self._fields_read = 0

    @property
    def model_id(self) -> str:
        """``"sdnn-v1-f55fbe18"``, with ``"-int8"`` after it when the 8-bit networks read."""
        int8 = "-int8" if self.backend == "onnx-int8" else ""
        return f"sdnn-v{self.metadata.get('version', 1)}-{str(self.metadata.get('sha256', ''))[:8]}{int8}"

    def read(self, inputs: list[np.ndarray], batch_size: int = 64, stretches: tuple[float, ...] = STRETCHES) -> list[FieldRead]:
        """One :class:`FieldRead` per input of :func:`field_input`.

        Every network reads each field at the first width of ``stretches``; the fields they do
        not all read alike are read again at the other widths (handwriting is wider or narrower
        than the training fields): on the ORAND fields this changed no string and skipped the
        other widths for about half the fields. Every string decoded in some view is scored by its CTC probability
        (summed over alignments, temperature-calibrated) averaged over the field's views, and the
        best one is kept with that average as its confidence.
        """
        if not inputs:
            return []
        temperatures = self.metadata.get("temperatures") or [self.metadata.get("temperature") or 1.0]
        self._fields_read += len(inputs)
        if self._fast is None and self._fields_read >= OPTIMIZE_AFTER_FIELDS and str(self.device) == "cpu":
            self._fast = _frozen_sdnn(self.model_path, self.nets)
        nets = list(zip(self._fast or self.nets, (float(t) for t in temperatures)))
        # per field, its views: (width factor, log probabilities, greedy decoding)
        views: list[list[tuple[float, np.ndarray, tuple]]] = [[] for _ in inputs]
        todo = list(range(len(inputs)))
        for k, f in enumerate(stretches):
            if k == 1:
                todo = [i for i in todo if len({d[0] for _, _, d in views[i]}) > 1]
            if not todo:
                break
            batch = [_stretch(inputs[i], f) for i in todo]
            for per_net in self._log_probs(nets, batch, batch_size):
                for i, lp in zip(todo, per_net):
                    views[i].append((f, lp, greedy_decode(lp)))
        pairs, keys = [], []
        for i, vs in enumerate(views):
            for text in dict.fromkeys(d[0] for _, _, d in vs):
                for _, lp, _ in vs:
                    pairs.append((lp, text))
                    keys.append((i, text))
        probs = string_probabilities(pairs)
        totals: list[dict[str, list[float]]] = [{} for _ in inputs]
        for (i, text), p in zip(keys, probs):
            totals[i].setdefault(text, []).append(float(p))
        out = []
        for i, vs in enumerate(views):
            scores = {text: float(np.mean(v)) for text, v in totals[i].items()}
            best = max(scores, key=scores.get)
            f, _, d = next(v for v in vs if v[2][0] == best)
            cols = tuple((int(a / f), int(b / f)) for a, b in d[2])
            bests = tuple(v[2][0] for v in vs)
            read = FieldRead(best, scores[best], d[1], cols, sum(b == best for b in bests) / len(vs),
                             tuple(lp for _, lp, _ in vs), bests)
            if len(best) > 1 and best[0] == "0":
                read = _without_leading_zero(read)
            out.append(read)
        return _likeliest_amounts(out, TRAILING_ZERO_PRIOR, FIRST_DIGIT_PRIOR_POWER)

    def _log_probs(self, nets: list[tuple], inputs: list[np.ndarray], batch_size: int) -> list[list[np.ndarray]]:
        """Per network of ``nets`` (``(network, temperature)`` pairs), the calibrated per-column
        log probabilities ``(T, 11)`` of each input."""
        out: list[list[np.ndarray]] = [[None] * len(inputs) for _ in nets]  # type: ignore[list-item]
        # on a GPU padding is cheap and launches are not: batches as full as the size allows (not measured)
        ratio = BATCH_WIDTH_RATIO if str(self.device) == "cpu" else float("inf")
        for idx in width_batches([x.shape[1] for x in inputs], batch_size, ratio):
            x, widths = stack_inputs([inputs[i] for i in idx])
            for k, ((_, temperature), logits) in enumerate(zip(nets, self._logits([net for net, _ in nets], x))):
                lp = log_softmax(logits / np.float32(temperature))
                for j, i in enumerate(idx):
                    out[k][int(i)] = lp[j, : max(1, int(widths[j]) // STRIDE)]
        return out

    def _logits(self, nets: list, x: np.ndarray) -> list[np.ndarray]:
        """Each network's logits for the batch ``x``: the members of one :class:`_OnnxEnsemble`, all
        of them in order, in one run of its session."""
        ensemble = getattr(nets[0], "ensemble", None)
        if ensemble is not None and [getattr(n, "ensemble", None) for n in nets] == [ensemble] * len(nets) \
                and [n.index for n in nets] == list(range(ensemble.size)):
            return ensemble(x)
        out = []
        for net in nets:
            if isinstance(net, (_OnnxNet, _OnnxMember)):
                out.append(net(x))
            else:
                import torch

                with torch.inference_mode():
                    out.append(net(torch.from_numpy(x).to(self.device)).float().cpu().numpy())
        return out


def log_softmax(z: np.ndarray) -> np.ndarray:
    """Log-softmax over the last axis.

    >>> np.exp(log_softmax(np.array([[0.0, np.log(3.0)]]))).round(3).tolist()
    [[0.25, 0.75]]
    """
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def width_batches(widths: Sequence[int], batch_size: int, ratio: float = BATCH_WIDTH_RATIO) -> list[list[int]]:
    """Indices of inputs of these widths in batches of similar widths (see :data:`BATCH_WIDTH_RATIO`),
    each at most ``batch_size`` long, narrowest first.

    >>> width_batches([100, 300, 104, 310, 98], 64)
    [[4, 0, 2], [1, 3]]
    >>> width_batches([100, 100, 100], 2)
    [[0, 1], [2]]
    """
    batches: list[list[int]] = []
    first = 0
    for i in (int(k) for k in np.argsort(widths, kind="stable")):
        if not batches or len(batches[-1]) >= batch_size or widths[i] + PAPER_MARGIN > ratio * (first + PAPER_MARGIN):
            batches.append([])
            first = widths[i]
        batches[-1].append(i)
    return batches


def _without_leading_zero(read: FieldRead) -> FieldRead:
    """An amount of two or more digits never starts with 0 (no cheque is written for less than one
    unit): the most probable string one edit of the first digit away (0 replaced by 1-9, dropped,
    or a digit put before it), scored like any other over the field's views; ``read`` when none
    of them fits at all. The changed digit's confidence is the new string's probability, its
    columns those of the digit it replaces (or the first digit's).

    >>> p = np.full((12, 11), 0.01); p[:, BLANK] = 0.9; p[4, [5, BLANK]] = p[8, [3, BLANK]] = 0.9, 0.01
    >>> p[1, [0, BLANK, 1]] = 0.6, 0.3, 0.05    # a faint "0", most likely a stray mark, before "53"
    >>> read = FieldRead("053", 0.5, (0.6, 0.9, 0.9), ((1, 2), (4, 5), (8, 9)), 1.0, (np.log(p),), ("053",))
    >>> _without_leading_zero(read).digits
    '53'
    """
    rest = read.digits[1:]
    options = [k + rest for k in "123456789"] + [k + read.digits for k in "123456789"]
    if rest[0] != "0":
        options.append(rest)
    mean = read.probabilities(options)
    k = int(np.argmax(mean))
    if mean[k] <= 0:
        return read
    text, p = options[k], float(mean[k])
    share = read.share_reading(text)
    if len(text) == len(read.digits):  # the 0 replaced
        return dataclasses.replace(read, digits=text, confidence=p, digit_confidences=(p,) + read.digit_confidences[1:],
                                   views_agree=share)
    if len(text) < len(read.digits):  # the 0 dropped
        return read.without_digit(0)
    return dataclasses.replace(read, digits=text, confidence=p, digit_confidences=(p,) + read.digit_confidences,
                               columns=read.columns[:1] + read.columns, views_agree=share)


def amount_prior(digits: str, zero: float, first_power: float) -> float:
    """How likely an amount of ``digits`` is written, up to a constant: ``zero`` to the power of its
    trailing zeros, times Benford's probability of its first digit to ``first_power``.

    People write ``10,000`` far more often than ``10,075``, and amounts spread over orders of
    magnitude start with a 1 six times as often as with a 9 (Benford's law; ORAND's training
    labels: 34% against 4%).

    >>> round(amount_prior("10000", 2.0, 1.0) / amount_prior("10075", 2.0, 1.0), 3)   # 2^4
    16.0
    >>> round(amount_prior("1586", 1.0, 1.0) / amount_prior("9586", 1.0, 1.0), 2)     # log10(2) / log10(10/9)
    6.58
    """
    first = int(digits[0])
    benford = np.log10(1 + 1 / first) if first else 0.0
    return float(zero ** (len(digits) - len(digits.rstrip("0"))) * benford**first_power)


def _likeliest_amounts(reads: Sequence[FieldRead], zero: float, first_power: float) -> list[FieldRead]:
    """Each read's best string under :func:`amount_prior`: among the read, the read with its first
    digit changed, and the read with its last one or two nonzero digits written as 0, the one
    with the highest probability (over the field's views) times its prior (see
    :func:`_amount_options` for the ones scored). Changed digits take the new string's
    probability as their confidence. Reads of one digit are left as they are. The options of all
    the reads are scored in one pass (:func:`string_probabilities`).

    On the 281 held-out ORAND fields and the 37 IDRBT cheques this put 7 reads right (audited
    labels) and none wrong (moved about, one IDRBT cheque was lost: ``71,00,000`` read
    ``11,00,000``); on 2,000 synthetic cheques 6 right and 2 wrong (``9,900,000`` read
    ``9,000,000``: their amounts are less round than real ones).

    >>> p = np.full((12, 11), 0.01); p[:, BLANK] = 0.9
    >>> p[1, [1, BLANK]] = p[4, [0, BLANK]] = 0.9, 0.01
    >>> p[7, [0, 7, BLANK]] = p[10, [0, 5, BLANK]] = 0.4, 0.5, 0.01   # "75" or "00" at the end?
    >>> read = FieldRead("1075", 0.2, (0.9, 0.9, 0.5, 0.5), ((1, 2), (4, 5), (7, 8), (10, 11)), 1.0, (np.log(p),), ("1075",))
    >>> [r] = _likeliest_amounts([read], TRAILING_ZERO_PRIOR, FIRST_DIGIT_PRIOR_POWER)
    >>> r.digits, r.digit_confidences == (0.9, 0.9, r.confidence, r.confidence)
    ('1000', True)
    >>> _likeliest_amounts([read], 1.0, 0.0)[0].digits   # no prior: the network's best
    '1075'
    """
    kept = [_amount_options(read, zero, first_power) for read in reads]
    pairs = [(lp, text) for read, options in zip(reads, kept) for text, _, _ in options for lp in read.view_log_probs]
    probs = iter(string_probabilities(pairs)) if pairs else iter(())
    out = []
    for read, options in zip(reads, kept):
        if not options:  # one digit or none, or nothing the prior could make win
            out.append(read)
            continue
        best, best_score = read, read.confidence * amount_prior(read.digits, zero, first_power)
        for text, changed, prior in options:
            p = float(np.mean([next(probs) for _ in read.view_log_probs]))
            if p * prior > best_score:
                confidences = tuple(p if k in changed else c for k, c in enumerate(read.digit_confidences))
                best, best_score = dataclasses.replace(read, digits=text, confidence=p, digit_confidences=confidences,
                                                       views_agree=read.share_reading(text)), p * prior
        out.append(best)
    return out


def _amount_options(read: FieldRead, zero: float, first_power: float) -> list[tuple[str, tuple[int, ...], float]]:
    """``(digits, changed positions, prior)`` of the strings :func:`_likeliest_amounts` weighs against
    ``read``: those the prior favours over it, less those it could not make win (another string's
    probability is at most 1 - the read's). The read is the best of the strings the views decoded,
    so a string the prior favours less is taken as less probable too, and not scored (on the held-out
    ORAND fields one of 281 has a neighbour one edit away more probable than its read)."""
    digits = read.digits
    if len(digits) < 2 or not read.view_log_probs:
        return []
    options = [(k + digits[1:], (0,)) for k in "123456789" if k != digits[0]]
    nonzero = [k for k, ch in enumerate(digits) if ch != "0"]
    for n in (1, 2):
        if len(nonzero) <= n:  # an amount needs a nonzero first digit
            break
        ks = tuple(nonzero[-n:])
        options.append(("".join("0" if k in ks else ch for k, ch in enumerate(digits)), ks))
    own = amount_prior(digits, zero, first_power)
    priors = [amount_prior(t, zero, first_power) for t, _ in options]
    return [(t, ks, prior) for (t, ks), prior in zip(options, priors)
            if prior > own and (1.0 - read.confidence) * prior > read.confidence * own]


def _stretch(x: np.ndarray, factor: float) -> np.ndarray:
    if factor == 1.0:
        return x
    width = int(np.clip(round(x.shape[1] * factor), STRIDE * 2, MAX_INPUT_WIDTH))
    return cv2.resize(x, (width, x.shape[0]), interpolation=cv2.INTER_LINEAR)


def string_probabilities(pairs: list[tuple[np.ndarray, str]]) -> np.ndarray:
    """:func:`string_probability` of many ``(log_probs, digits)`` pairs: the CTC forward algorithm
    (Graves et al. 2006), all pairs at once, in probabilities rescaled at every step (Rabiner 1989;
    about 2x faster than in log space, and as exact).

    The pairs are stepped longest first, each step over those whose field is still being read: a
    pair read to its end is only rescaled on at each step, as before, until its scale is exactly 1
    (from then on a rescaling changes nothing): the same numbers as stepping every pair to the
    longest field's end (a row's sum is the same in any block of rows), 0.7x the time on the bench's
    fields.

    >>> lp = np.log(np.full((4, 11), 0.01)); lp[:, 10] = np.log(0.5); lp[1, 3] = np.log(0.89)
    >>> p = string_probabilities([(lp, "3"), (lp, "33333"), (lp, "")])
    >>> bool(p[0] > p[2] > 0), float(p[1])
    (True, 0.0)
    """
    out = np.zeros(len(pairs))
    full = [k for k, (_, d) in enumerate(pairs) if d]
    for k, (lp, d) in enumerate(pairs):
        if not d:
            out[k] = float(np.exp(np.asarray(lp, float)[:, BLANK].sum()))
    if not full:
        return out
    full.sort(key=lambda k: -len(pairs[k][0]))  # longest fields first: the pairs still read at a step lead
    n = len(full)
    t_len = np.array([len(pairs[k][0]) for k in full])
    s_len = np.array([len(pairs[k][1]) for k in full])
    steps, width = int(t_len[0]), 2 * int(s_len.max()) + 1
    ext = np.full((n, width), BLANK, np.int64)  # each string with a blank around every digit
    emit = np.zeros((n, steps, width))  # P(the s-th symbol of the string at step t): 0 beyond the string or the field
    views: dict[int, np.ndarray] = {}  # each view's probabilities once (it is paired with several strings)
    for j, k in enumerate(full):
        a, d = pairs[k]
        ext[j, 1 : 2 * len(d) : 2] = [int(c) for c in d]
        if id(a) not in views:
            views[id(a)] = np.exp(np.asarray(a, float))
        emit[j, : len(a), : 2 * len(d) + 1] = views[id(a)][:, ext[j, : 2 * len(d) + 1]]
    # a digit may follow the one two back (over a blank) unless it repeats it
    skip = np.zeros((n, width))
    skip[:, 2:] = (ext[:, 2:] != BLANK) & (ext[:, 2:] != ext[:, :-2])
    alpha = np.zeros((n, width))
    alpha[:, :2] = emit[:, 0, :2]
    log_scale = np.zeros(n)
    step = np.empty_like(alpha)
    reading = np.searchsorted(-t_len, -np.arange(steps), side="left")  # at step t: the first reading[t] pairs (t_len > t)
    ended = np.zeros(0, np.intp)  # pairs read to their end whose scale is not yet exactly 1
    for t in range(steps):
        m = int(reading[t])
        if t:
            a, st = alpha[:m], step[:m]
            np.copyto(st, a)
            st[:, 1:] += a[:, :-1]
            st[:, 2:] += a[:, :-2] * skip[:m, 2:]
            st *= emit[:m, t]
            a[...] = st
            if m < reading[t - 1]:
                ended = np.concatenate([ended, np.arange(m, int(reading[t - 1]))])
        for rows in (slice(0, m), ended) if len(ended) else (slice(0, m),):
            a = alpha[rows]  # (a view of the pairs being read, a copy of those that ended)
            total = a.sum(axis=1)
            scale = np.where(total > 0, total, 1.0)
            a /= scale[:, None]
            log_scale[rows] += np.log(scale)
            if rows is ended:
                alpha[ended] = a
                ended = ended[scale != 1.0]
    rows = np.arange(n)
    out[full] = (alpha[rows, 2 * s_len] + alpha[rows, 2 * s_len - 1]) * np.exp(log_scale)  # impossible: 0
    return out


def string_probability(log_probs, digits: str) -> float:
    """P(digits | field) under the network: the CTC sum over every alignment of the string (0 when none fits).

    >>> lp = np.log(np.full((4, 11), 0.01)); lp[:, BLANK] = np.log(0.9)
    >>> lp[1, [7, BLANK]] = np.log(0.9), np.log(0.01)         # one column reads "7"
    >>> round(string_probability(lp, "7"), 3), round(string_probability(lp, "77"), 3), string_probability(lp, "77777")
    (0.671, 0.007, 0.0)
    """
    return float(string_probabilities([(np.asarray(log_probs, np.float32), digits)])[0])


def _frozen_sdnn(path: Path, nets: list) -> list:
    """The CPU networks of ``path`` as frozen TorchScript graphs (:func:`classify.frozen_for_cpu`),
    made once per process."""
    import torch

    from .classify import frozen_for_cpu

    key = (str(path.resolve()), tuple(map(id, nets)))  # these networks (weights written again are others)
    with _LOCK:
        if key not in _FAST:
            probe = torch.linspace(-0.1, 1.175, 3 * INPUT_HEIGHT * 96).reshape(3, 1, INPUT_HEIGHT, 96)
            other = torch.linspace(1.175, -0.1, INPUT_HEIGHT * 140).reshape(1, 1, INPUT_HEIGHT, 140)
            _FAST[key] = [frozen_for_cpu(net, [probe, other]) for net in nets]
        return _FAST[key]


def export_onnx(net) -> bytes:
    """One SDNN network as ONNX bytes, batch and width dynamic.

    >>> import onnxruntime as ort
    >>> session = ort.InferenceSession(export_onnx(build_sdnn()), providers=["CPUExecutionProvider"])
    >>> session.run(None, {"x": np.zeros((3, 1, INPUT_HEIGHT, 48), np.float32)})[0].shape   # any batch and width
    (3, 12, 11)
    """
    import torch

    from .classify import onnx_bytes

    return onnx_bytes(net.eval(), torch.zeros(2, 1, INPUT_HEIGHT, 64),
                      {"x": {0: "n", 3: "w"}, "logits": {0: "n", 1: "t"}})


class _OnnxNet:
    """An ONNX Runtime session of one network: ``(N, 1, H, W)`` float32 inputs in, logits out (numpy)."""

    def __init__(self, session) -> None:
        self.session = session

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"x": x})[0]


class _OnnxEnsemble:
    """One ONNX Runtime session of several networks made one graph (:func:`merged_networks`): the
    batch in, each network's logits out, in one run (a run's fixed cost once, not once a network)."""

    def __init__(self, session) -> None:
        self.session = session
        self.outputs = [o.name for o in session.get_outputs()]
        self.size = len(self.outputs)

    def __call__(self, x: np.ndarray) -> list[np.ndarray]:
        return self.session.run(self.outputs, {"x": x})


class _OnnxMember:
    """Network ``index`` of an :class:`_OnnxEnsemble`, run alone (:meth:`FieldReader._logits` runs
    all the members of one ensemble together)."""

    def __init__(self, ensemble: _OnnxEnsemble, index: int) -> None:
        self.ensemble, self.index = ensemble, index

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.ensemble.session.run([self.ensemble.outputs[self.index]], {"x": x})[0]


def merged_networks(models: Sequence[bytes]) -> bytes:
    """The ONNX networks ``models`` (one input each, of the same name) as one graph: that input in,
    network ``i``'s output out as ``logits{i}``. A node of a later network that is the first one's
    (the same operator, attributes and inputs: the graph's input, equal constants, or such nodes'
    outputs) is kept once: the 8-bit networks quantize the field alike and :func:`unrolled_first_conv`
    stacks its shifted copies alike, once for all four. The same operators on the same values: the
    same bytes out as the networks run one by one.

    >>> import onnxruntime as ort
    >>> from onnx import helper, TensorProto
    >>> def scaled(k):   # y = x * k
    ...     g = helper.make_graph([helper.make_node("Mul", ["x", "k"], ["y"])], "s",
    ...                           [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None])],
    ...                           [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None])],
    ...                           [helper.make_tensor("k", TensorProto.FLOAT, [1], [k])])
    ...     return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()
    >>> session = ort.InferenceSession(merged_networks([scaled(2.0), scaled(3.0)]), providers=["CPUExecutionProvider"])
    >>> [o.name for o in session.get_outputs()], session.run(None, {"x": np.ones(2, np.float32)})
    (['logits0', 'logits1'], [array([2., 2.], dtype=float32), array([3., 3.], dtype=float32)])
    """
    import onnx
    from onnx import helper, numpy_helper

    graphs = [onnx.load_from_string(m) for m in models]
    first = graphs[0].graph
    if any(len(m.graph.input) != 1 or m.graph.input[0].name != first.input[0].name for m in graphs):
        raise ValueError("the networks to merge must have one input of the same name")
    x = first.input[0].name
    first_values = {t.name: t for t in first.initializer}
    first_nodes = {tuple(n.output): n for n in first.node}

    def same_constant(t) -> bool:
        f = first_values.get(t.name)
        if f is None or f.data_type != t.data_type or list(f.dims) != list(t.dims):
            return False
        return numpy_helper.to_array(f).tobytes() == numpy_helper.to_array(t).tobytes()

    nodes, values, outputs = [], [], []
    for i, m in enumerate(graphs):
        g = m.graph
        shared = {x}  # names whose values are the first network's of the same name
        rename = {x: x}
        for t in g.initializer:
            if i == 0 or same_constant(t):
                shared.add(t.name)
                rename[t.name] = t.name
                if i == 0:
                    values.append(t)
            else:
                rename[t.name] = f"m{i}/{t.name}"
                copy = onnx.TensorProto()
                copy.CopyFrom(t)
                copy.name = rename[t.name]
                values.append(copy)
        ends = {o.name: f"logits{i}" for o in g.output}
        for n in g.node:
            twin = first_nodes.get(tuple(n.output))
            if (i > 0 and twin is not None and twin.op_type == n.op_type and twin.domain == n.domain
                    and list(twin.input) == list(n.input) and list(twin.attribute) == list(n.attribute)
                    and all(name in shared for name in n.input if name) and not set(n.output) & set(ends)):
                shared.update(n.output)  # the first network's node computes it already
                continue
            copy = onnx.NodeProto()
            copy.CopyFrom(n)
            for o in n.output:
                rename[o] = ends.get(o) or (o if i == 0 else f"m{i}/{o}")
            if i > 0 and n.name:
                copy.name = f"m{i}/{n.name}"
            copy.input[:] = [rename.get(name, name) if name else name for name in n.input]
            copy.output[:] = [rename[o] for o in n.output]
            nodes.append(copy)
        for o in g.output:
            out = onnx.ValueInfoProto()
            out.CopyFrom(o)
            out.name = ends[o.name]
            outputs.append(out)
    graph = helper.make_graph(nodes, "ensemble", [first.input[0]], outputs, values)
    return helper.make_model(graph, opset_imports=graphs[0].opset_import, ir_version=graphs[0].ir_version).SerializeToString()


def unrolled_first_conv(model: bytes) -> bytes:
    """``model`` (an 8-bit QDQ network of ``scripts/quantize_sdnn.py``) with its first convolution,
    one input channel ``kh`` x ``kw``, made a 1 x 1 convolution over ``kh * kw`` channels: the
    quantized input's shifted copies (padded with its zero point, as the convolution pads), cut
    and stacked in the graph, ``kx`` then ``ky``. ONNX Runtime convolves one channel by gathering
    each output pixel's ``kh * kw`` values apart; over the stacked channels the 1 x 1 convolution
    is one matrix product. The same integer sums and requantization: the same bytes out. ``model``
    itself when it holds no such convolution; ImportError without the ``onnx`` package (the reader
    then runs the shipped files as they are, :func:`_onnx_sdnn`).

    >>> unrolled_first_conv(b"not a model") == b"not a model"
    True
    """
    import onnx
    from google.protobuf.message import DecodeError
    from onnx import helper, numpy_helper

    try:
        m = onnx.load_from_string(model)
    except DecodeError:  # not a model: ONNX Runtime says what is wrong with it
        return model
    g = m.graph
    users: dict[str, list] = {}
    for n in g.node:
        for name in n.input:
            users.setdefault(name, []).append(n)
    inits = {i.name: i for i in g.initializer}
    makers = {o: n for n in g.node for o in n.output}
    if len(g.input) != 1 or len(users.get(g.input[0].name, [])) != 1:
        return model
    quant = users[g.input[0].name][0]
    if quant.op_type != "QuantizeLinear" or len(quant.input) != 3 or len(users.get(quant.output[0], [])) != 1:
        return model
    dequant = users[quant.output[0]][0]
    if dequant.op_type != "DequantizeLinear" or len(users.get(dequant.output[0], [])) != 1:
        return model
    conv = users[dequant.output[0]][0]
    weight = makers.get(conv.input[1]) if conv.op_type == "Conv" and len(conv.input) > 1 else None
    if weight is None or weight.op_type != "DequantizeLinear" or weight.input[0] not in inits:
        return model
    w = numpy_helper.to_array(inits[weight.input[0]])
    attrs = {a.name: helper.get_attribute_value(a) for a in conv.attribute}
    if w.ndim != 4 or w.shape[1] != 1 or any(len(users.get(n, [])) != 1 for n in (conv.input[1], weight.input[0])):
        return model
    kh, kw = w.shape[2:]
    if (attrs.get("group", 1) != 1 or set(attrs.get("strides", [1])) != {1} or set(attrs.get("dilations", [1])) != {1}
            or kh % 2 == 0 or kw % 2 == 0 or list(attrs.get("pads", [0] * 4)) != [kh // 2, kw // 2] * 2
            or attrs.get("auto_pad", b"NOTSET") != b"NOTSET"):
        return model
    inits[weight.input[0]].CopyFrom(numpy_helper.from_array(w.reshape(len(w), kh * kw, 1, 1), weight.input[0]))
    for a in conv.attribute:
        if a.name == "kernel_shape":
            a.ints[:] = [1, 1]
        elif a.name == "pads":
            a.ints[:] = [0, 0, 0, 0]

    def const(name: str, values) -> str:
        g.initializer.append(numpy_helper.from_array(np.array(values, np.int64), name))
        return name

    def cut(src: str, axis: int, size: int, prefix: str) -> list[str]:  # the ``size`` shifts of ``src`` along ``axis``
        names = []
        for i in range(size):
            # ends counted from the end: the input's width is whatever the field's
            ends = const(f"{prefix}{i}_end", [-(size - 1 - i) or np.iinfo(np.int64).max])
            nodes.append(helper.make_node("Slice", [src, const(f"{prefix}{i}_start", [i]), ends,
                                                    const(f"{prefix}{i}_axis", [axis])], [f"{prefix}{i}"]))
            names.append(f"{prefix}{i}")
        return names

    pads = const("unrolled_pads", [0, 0, kh // 2, kw // 2, 0, 0, kh // 2, kw // 2])
    nodes = [helper.make_node("Pad", [quant.output[0], pads, quant.input[2]], ["unrolled_padded"], mode="constant")]
    # the kw shifts along the rows first (channel kx), then the kh shifts of those down the columns
    nodes.append(helper.make_node("Concat", cut("unrolled_padded", 3, kw, "unrolled_x"), ["unrolled_rows"], axis=1))
    nodes.append(helper.make_node("Concat", cut("unrolled_rows", 2, kh, "unrolled_y"), ["unrolled_columns"], axis=1))
    dequant.input[0] = "unrolled_columns"
    at = list(g.node).index(quant) + 1
    order = list(g.node[:at]) + nodes + list(g.node[at:])
    del g.node[:]
    g.node.extend(order)
    return m.SerializeToString()


def int8_path(weights: Path, member: int) -> Path:
    """The 8-bit ONNX file of network ``member`` of ``weights`` (``scripts/quantize_sdnn.py`` writes it).

    >>> int8_path(Path("weights/sdnn.pt"), 2).as_posix()
    'weights/sdnn-int8-2.onnx'
    """
    return weights.with_name(f"{weights.stem}-int8-{member}.onnx")


def int8_sidecar_path(weights: Path) -> Path:
    """The sidecar of the 8-bit networks of ``weights``: the weights' sha256, the files', how they were made.

    >>> int8_sidecar_path(Path("weights/sdnn.pt")).as_posix()
    'weights/sdnn-int8.json'
    """
    return weights.with_name(f"{weights.stem}-int8.json")


def int8_matches(weights: Path) -> bool:
    """Whether 8-bit networks made from exactly these ``weights`` lie beside them.

    >>> int8_matches(Path("/nonexistent/sdnn.pt"))
    False
    """
    import json

    from .classify import sidecar_path

    made, own = int8_sidecar_path(weights), sidecar_path(weights)
    if not made.is_file() or not own.is_file():
        return False
    made = json.loads(made.read_text())  # the weights' bytes are checked against their own sidecar when loaded
    return made.get("weights_sha256") == json.loads(own.read_text()).get("sha256") and all(
        (weights.parent / m["file"]).is_file() for m in made.get("members", []))


def merged_int8_name(sha256s: Sequence[str]) -> str:
    """The :func:`classify.onnx_cache_dir` name of the 8-bit networks of these sha256s merged in one
    graph (:func:`merged_networks` of each's :func:`unrolled_first_conv`): from their sha256s and the
    two rewrites' source, so that other networks or a changed rewrite never meet an old graph.

    >>> merged_int8_name(["a1", "b2"]) == merged_int8_name(["a1", "b2"]) != merged_int8_name(["b2", "a1"])
    True
    """
    import hashlib
    import inspect

    from . import __version__

    h = hashlib.sha256()
    for f in (unrolled_first_conv, merged_networks):
        try:
            h.update(inspect.getsource(f).encode())
        except (OSError, TypeError):  # no source shipped (a frozen or .pyc-only install): the version
            h.update(__version__.encode())
    h.update(repr(list(sha256s)).encode())
    return f"sdnn-int8-merged-{h.hexdigest()[:16]}"


def _onnx_sdnn(path: Path, int8: bool = False) -> tuple[list, dict]:
    """The networks of ``path`` as ONNX Runtime sessions and the sidecar, made once per process.
    Their ONNX exports are kept in :func:`classify.onnx_cache_dir`, named by the weights' sha256:
    a process that finds them there never imports torch (about 2 s at start). With ``int8``, the
    8-bit networks beside the weights (:func:`int8_matches`) instead, each checked against its sha256,
    merged in one graph that is kept there too (:func:`merged_int8_name`)."""
    import hashlib
    import json

    from .classify import (
        cached_onnx_session,
        load_metadata,
        onnx_session,
        weights_version,
    )
    from .errors import ModelError

    key = f"{path.resolve()}|{weights_version(path)}|{'int8' if int8 else 'float'}"
    with _LOCK:
        if key in _ONNX:
            return _ONNX[key]
        meta, _ = load_metadata(path)
        if int8:
            members, sha256s = [], []
            for member in json.loads(int8_sidecar_path(path).read_text())["members"]:
                data = (path.parent / member["file"]).read_bytes()
                if hashlib.sha256(data).hexdigest() != member["sha256"]:
                    raise ModelError(f"{member['file']}: sha256 does not match {int8_sidecar_path(path).name}")
                members.append(data)
                sha256s.append(member["sha256"])

            def merge() -> bytes:  # ImportError without the onnx package
                return merged_networks([unrolled_first_conv(data) for data in members])

            try:
                # one session for all the networks: one run a batch (0.3 ms a Group 4 page less than four);
                # the merged graph is kept in the cache: a later process needs no onnx (0.1 s, 12 MB)
                ensemble = _OnnxEnsemble(cached_onnx_session(merged_int8_name(sha256s), merge))
            except ImportError:  # onnxruntime alone: a session a network
                _ONNX[key] = ([_OnnxNet(onnx_session(data)) for data in members], meta)
                return _ONNX[key]
            _ONNX[key] = ([_OnnxMember(ensemble, i) for i in range(ensemble.size)], meta)
        else:
            n = len(meta.get("architecture", {}).get("members") or [None])
            torch_nets: list = []

            def export(i: int) -> bytes:
                if not torch_nets:
                    torch_nets.extend(_load_sdnn(path, "cpu")[0])
                return export_onnx(torch_nets[i])

            _ONNX[key] = ([_OnnxNet(cached_onnx_session(f"sdnn-{meta['sha256'][:16]}-{i}", lambda i=i: export(i)))
                           for i in range(n)], meta)
        return _ONNX[key]


def _load_sdnn(path: Path, device: str):
    """The networks of a weights file (one, or an ensemble saved as ``{"0": state, "1": state, ...}``)."""
    import io as _io

    import torch

    from .classify import load_metadata, one_torch_thread_after_fork, weights_version
    from .errors import ModelError

    one_torch_thread_after_fork()  # a forked child's first field hung on the parent's OpenMP threads
    key = (str(path.resolve()), weights_version(path), str(device))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
        meta, data = load_metadata(path)
        arch = meta.get("architecture", {})
        try:
            state = torch.load(_io.BytesIO(data), map_location="cpu", weights_only=True)
            if "members" in arch:
                nets = [build_sdnn(cfg) for cfg in arch["members"]]
                for i, net in enumerate(nets):
                    net.load_state_dict(state[str(i)])
            else:
                nets = [build_sdnn(arch.get("config"))]
                nets[0].load_state_dict(state)
        except Exception as exc:
            raise ModelError(f"{path}: cannot load SDNN weights: {exc}") from exc
        nets = [net.eval().to(device) for net in nets]
        _CACHE[key] = (nets, meta)
        log.info("loaded SDNN %s (%d network%s)", path.name, len(nets), "s" * (len(nets) > 1))
        return nets, meta
