"""Figures on the real development data (issue 4), printed as one table.

- ORAND CAR-A validation fold (``--layout field``): digit-string accuracy; with ``--enlarged F``,
  the same fields enlarged F times and read with the default ``--layout auto`` (a high-resolution
  capture system's crops: each must be taken for the field, not searched as a cheque);
- IDRBT, all 40 whole cheques (``--layout auto``): fields found with IoU >= 0.5 against the
  labelled box, digit-string accuracy on the rows not marked uncertain;
- the most common failure kinds on both sets, with counts;
- with ``--robustness``, the IDRBT cheques with certain labels turned (+8, -13, +20, -30 and 180
  degrees), on a dark scanner bed (also turned -5 degrees), with a black pen, at the lower
  resolutions banks exchange (200 dpi black and white, 150 and 100 dpi gray JPEG), with the amount
  box moved to the top right corner (another country's layout), as a negative (white ink on
  black), under a yellow lamp, dithered black and white (a scanner's halftone mode), cropped
  through the cheque (its left third, 3% of its right), creased, in low contrast, faxed, web-sized,
  smeared by motion (sideways, up and down), vignetted, with the back's printing showing through:
  the amount right, per change; and two to an A4 page (on a dark bed, on a white lid), which must
  go to review;
- with ``--synth N``, N synthetic cheques from MNIST test digits (with ``--bitonal``, the same
  cheques again as Group 4 bitonal TIFFs, the images X9.37 cash letters carry); with ``--red N``,
  N synthetic cheques written with a red pen and the same N with a red rubber stamp across the
  amount field; with ``--on-a4 N``, N synthetic cheques turned a little on a whole A4 page (a
  flatbed's white lid, a dark bed); with ``--world N``, N synthetic cheques of other countries'
  layouts (``synth.WORLD_LAYOUTS``: European, the amount box at the top right or right middle after
  a printed euro sign, ``1.234,56``; British, a pound sign's box at the right middle, ``1234-56``);
  with ``--printed N``, N machine-printed amount fields (``--layout field``) in the TrueType fonts
  this machine has and N/2 synthetic US cheques with such an amount in their box (``--layout auto``),
  half with the check-protection asterisks cheque-writing software prints before the amount
  (``**1,234.56``), and as many fields and cheques again (their own random stream: the first ones
  draw as before) with a printed currency sign before the amount, ``$1,234.56``, ``$***1,234.56``,
  ``USD 1,234.56`` and ``US$1,234.56`` in turn (``PRINTED_SIGNS``).

Usage::

    PYTHONPATH=. python scripts/eval_real.py [--model PATH] [--annotate DIR] [--limit N]

Without weights (no model shipped yet) it still reports field location and, instead of
string accuracy, how often the segmentation finds the right number of digits.
Data is read from ``../shared/data`` or ``$CHEQUE_READER_DATA``; nothing is written into
the repository.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cheque_reader import annotate, datasets, locate, pipeline, segment  # noqa: E402
from cheque_reader.config import ReadOptions  # noqa: E402
from cheque_reader.errors import ModelError  # noqa: E402
from cheque_reader.evaluate import same_amount  # noqa: E402
from cheque_reader.types import BBox, Page  # noqa: E402


def failure_kind(read: str, truth: str) -> str:
    """A short name for how ``read`` differs from ``truth`` (both digit strings)."""
    if read == truth:
        return "ok"
    if not read:
        return "nothing read"
    if len(read) == len(truth) + 1:
        if read[:-1] == truth:
            return "extra digit at the end (tail/terminator read as a digit)"
        if read[1:] == truth:
            return "extra digit at the start (sign/mark read as a digit)"
        return "one extra digit inside (split digit or separator read as digit)"
    if len(read) + 1 == len(truth):
        return "one digit missing (merged touching digits or dropped stroke)"
    if len(read) != len(truth):
        return f"length off by {len(read) - len(truth):+d}"
    wrong = [(t, r) for t, r in zip(truth, read) if t != r]
    if len(wrong) == 1:
        return "one digit misread (right segmentation length)"
    return f"{len(wrong)} digits misread (right length)"


def confusions(read: str, truth: str) -> list[str]:
    """``"t->r"`` for each digit misread when the lengths agree."""
    if len(read) != len(truth):
        return []
    return [f"{t}->{r}" for t, r in zip(truth, read) if t != r]


def _turned(image: np.ndarray, angle: float, fill: tuple[int, int, int]) -> np.ndarray:
    """``image`` turned ``angle`` degrees counter-clockwise on a canvas that holds all of it."""
    m, w, h = locate._rotation(image.shape[1], image.shape[0], angle)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=fill)


def _on_bed(image: np.ndarray) -> np.ndarray:
    """``image`` on a dark scanner bed, with uneven margins."""
    return cv2.copyMakeBorder(image, 160, 200, 140, 220, cv2.BORDER_CONSTANT, value=(40, 40, 40))


def _on_white_page(image: np.ndarray, portrait: bool, angle: float = 0.0) -> np.ndarray:
    """``image`` scanned on a flatbed with its white lid closed: near the top left of an A4 page
    (``portrait``) or of a page as wide and twice as high as a letter's landscape half, turned ``angle``."""
    h, w = image.shape[:2]
    H, W = (int(1.35 * w), int(1.08 * w)) if portrait else (int(2.1 * h), int(1.25 * w))
    page = np.full((H, W, 3), 250, np.uint8)
    y, x = int(0.05 * H), int(0.04 * W)
    if angle:
        image = _turned(image, angle, (250, 250, 250))
        h, w = image.shape[:2]
    page[y : y + h, x : x + w] = image[: H - y, : W - x]
    return page


def _black_pen(image: np.ndarray) -> np.ndarray:
    """``image`` in gray with the ink darkened to black, as if written with a black pen: the pen
    is then as dark as the printed text (a printed currency sign is no longer darker)."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    dark = np.clip((gray - 90.0) * 255.0 / 150.0, 0, 255).astype(np.uint8)
    return cv2.cvtColor(dark, cv2.COLOR_GRAY2BGR)


def _stamped_field(image: np.ndarray, field: BBox) -> np.ndarray:
    """``image`` with a red rectangular rubber stamp ("RECEIVED") across the amount ``field``."""
    stamp, red = np.full_like(image, 255), (50, 40, 190)
    x0, y0 = int(field.x + 0.15 * field.w), int(field.y - 0.2 * field.h)
    cv2.rectangle(stamp, (x0, y0), (int(x0 + 0.7 * field.w), int(y0 + 1.2 * field.h)), red, max(3, field.h // 25))
    cv2.putText(stamp, "RECEIVED", (x0 + field.h // 6, int(y0 + 0.75 * field.h)), cv2.FONT_HERSHEY_DUPLEX,
                field.h / 60, red, max(2, field.h // 30))
    return (image.astype(np.float32) * stamp.astype(np.float32) / 255).astype(np.uint8)


def red_ink_rows(n: int, classifier) -> list[tuple[str, str, str]]:
    """Table rows for ``n`` synthetic cheques (seed 5) written with a red pen, and for the same
    cheques, as drawn, with a red stamp across the field: amount right, auto-accepted (wrong)."""
    from cheque_reader import synth

    source, rows = synth.mnist_test_digits(), []
    for name, red_pen in (("written with a red pen", True), ("a red stamp across the amount field", False)):
        ok = accepted = wrong = 0
        for i in range(n):
            rng = np.random.default_rng([5, i])
            style = synth.random_style(rng, synth.LAYOUTS, 0.5)
            if red_pen:
                style = dataclasses.replace(style, ink="red")
            ch = synth.render_cheque(source, rng, style=style)
            image = ch.image if red_pen else _stamped_field(ch.image, ch.field)
            res, _, _ = read(page_of(image, f"red{i:05d}"), "auto", classifier, None, f"red{i:05d}")
            ok += res.digits == ch.digits
            accepted += not res.needs_review
            wrong += not res.needs_review and res.digits != ch.digits
        rows.append((f"synthetic cheques ({n}, seed 5), {name}", "amount right; auto-accepted (wrong among them)",
                     f"{ok}/{n} = {ok / n:.1%}; {accepted} ({wrong})"))
    return rows


def _on_a4(image: np.ndarray, dpi: float, bed: int, angle: float) -> tuple[np.ndarray, np.ndarray]:
    """``image`` (scanned at ``dpi``) turned ``angle`` degrees on an A4 page of level ``bed`` (250: a
    flatbed's white lid, 40: a dark bed), near its top left, the page landscape when the cheque is
    too wide for portrait; and the map from ``image`` pixels to the page's."""
    H, W = int(11.69 * dpi), int(8.27 * dpi)
    if image.shape[1] > 0.9 * W:
        H, W = W, H
    m, w, h = locate._rotation(image.shape[1], image.shape[0], angle)
    turned = cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=(bed, bed, bed))
    page = np.full((H, W, 3), bed, np.uint8)
    y, x = int(0.05 * H), int(0.04 * W)
    page[y : y + h, x : x + w] = turned[: H - y, : W - x]
    m[:, 2] += (x, y)
    return page, m


def two_to_a_page_rows(images: list[tuple[str, np.ndarray]], classifier) -> list[tuple[str, str, str]]:
    """Table rows for the IDRBT ``images`` (truth, BGR) two to an A4-like page, each above the next
    one of the list, on a dark bed and on a white lid: one of the two amounts read right, and how
    many pages were auto-accepted (a page's row holds one amount: the other cheque would be lost)."""
    rows = []
    for where, bed in (("a dark bed", 40), ("a white lid", 250)):
        right = accepted = 0
        for j, (truth, a) in enumerate(images):
            truth_b, b = images[(j + 1) % len(images)]
            width = max(a.shape[1], b.shape[1]) + 200
            page = np.full((int(1.414 * width), width, 3), bed, np.uint8)
            page[80 : 80 + a.shape[0], 100 : 100 + a.shape[1]] = a
            y = 230 + a.shape[0]
            page[y : y + b.shape[0], 100 : 100 + b.shape[1]] = b
            res, _, _ = read(page_of(page, f"two{j}"), "auto", classifier, None, f"two{j}")
            right += res.digits in (truth, truth_b)
            accepted += not res.needs_review
        n = len(images)
        rows.append((f"IDRBT certain labels, two to an A4 page on {where}", "one amount of the two right; auto-accepted",
                     f"{right}/{n}; {accepted}"))
    return rows


def on_a4_rows(n: int, classifier) -> list[tuple[str, str, str]]:
    """Table rows for ``n`` synthetic cheques (seed 77, drawn straight, then turned up to 3 degrees)
    scanned on an A4 page: on a white lid, and on a dark bed; field found, amount right, accepted."""
    from cheque_reader import synth

    source, counts = synth.mnist_test_digits(), {}
    for i in range(n):
        rng = np.random.default_rng([77, i])
        style = dataclasses.replace(synth.random_style(rng, synth.LAYOUTS, 0.5), skew=0.0)
        ch = synth.render_cheque(source, rng, style=style)
        angle = float(rng.uniform(-3, 3))
        for bed in (250, 40):
            page, m = _on_a4(ch.image, ch.dpi, bed, angle)
            f = ch.field
            pts = np.array([[f.x, f.y], [f.x2, f.y], [f.x, f.y2], [f.x2, f.y2]], float) @ m[:, :2].T + m[:, 2]
            (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
            truth = BBox(int(x0), int(y0), int(x1 - x0), int(y1 - y0))
            res, prep, _ = read(page_of(page, f"a4-{i:05d}"), "auto", classifier, None, f"a4-{i:05d}")
            found = prep.field is not None and prep.field.bbox.iou(truth) >= 0.5
            c = counts.setdefault(bed, np.zeros(4, int))
            c += (found, found and res.digits == ch.digits, not res.needs_review,
                  not res.needs_review and res.digits != ch.digits)
    return [(f"synthetic cheques ({n}, seed 77) turned up to 3 degrees on an A4 page, {where}",
             "field found; amount right; auto-accepted (wrong)",
             f"{c[0]}/{n}; {c[1]}/{n} = {c[1] / n:.1%}; {c[2]} ({c[3]})")
            for where, c in (("a white lid", counts[250]), ("a dark bed", counts[40]))]


def _bitonal_200dpi(image: np.ndarray) -> np.ndarray:
    """``image`` (about 300 dpi) as the 200 dpi black-and-white image cheque clearing exchanges."""
    gray = cv2.cvtColor(cv2.resize(image, None, fx=2 / 3, fy=2 / 3, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    bw = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 15)
    return cv2.cvtColor(bw, cv2.COLOR_GRAY2BGR)


def _dithered_200dpi(image: np.ndarray) -> np.ndarray:
    """``image`` (about 300 dpi) at 200 dpi in a scanner's black-and-white "halftone" mode: its
    grays error-diffused (Floyd-Steinberg) into black dots on white."""
    from PIL import Image

    gray = cv2.cvtColor(cv2.resize(image, None, fx=2 / 3, fy=2 / 3, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    return cv2.cvtColor(np.array(Image.fromarray(gray).convert("1"), np.uint8) * 255, cv2.COLOR_GRAY2BGR)


def gray_jpeg(image: np.ndarray, factor: float, quality: int) -> np.ndarray:
    """``image`` shrunk by ``factor``, in gray, through a JPEG of ``quality``."""
    gray = cv2.cvtColor(cv2.resize(image, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2GRAY)
    _, jpeg = cv2.imencode(".jpg", gray, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.cvtColor(cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR)


def _on_a_table(image: np.ndarray) -> np.ndarray:
    """``image`` on a brown, grainy table (the background of a photographed cheque), with margins."""
    h, w = image.shape[:2]
    big_h, big_w = int(1.5 * h), int(1.3 * w)
    grain = np.random.default_rng(0).normal(0, 1, (big_h // 8, big_w // 8, 3)).astype(np.float32)
    grain = cv2.resize(grain, (big_w, big_h), interpolation=cv2.INTER_CUBIC)
    table = np.clip(np.array([70, 110, 150], np.float32) + 25 * grain, 0, 255).astype(np.uint8)
    y, x = (big_h - h) // 3, (big_w - w) // 2
    table[y : y + h, x : x + w] = image
    return table


def _photographed(image: np.ndarray) -> np.ndarray:
    """``image`` in a phone photo's perspective: its corners moved inward by up to 3% of the width
    and height, so the amount box's sides lean (the paper's white around it)."""
    h, w = image.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = np.float32([[0.03 * w, 0.02 * h], [0.98 * w, 0], [w, h], [0.01 * w, 0.97 * h]])
    return cv2.warpPerspective(image, cv2.getPerspectiveTransform(corners, moved), (w, h), borderValue=(255, 255, 255))


def _on_a_wooden_desk(image: np.ndarray) -> np.ndarray:
    """``image`` photographed on a wooden desk: a brown surface with a strong, wavy grain (its level
    swinging by 40 either way) around it, with margins."""
    h, w = image.shape[:2]
    big_h, big_w = int(1.5 * h), int(1.3 * w)
    rows = np.arange(big_h, dtype=np.float32)[:, None]
    stripes = 40 * np.sin(rows / 9.0 + 3 * np.sin(np.arange(big_w, dtype=np.float32)[None, :] / 150.0))
    grain = cv2.resize(np.random.default_rng(0).normal(0, 1, (big_h // 8, big_w // 8)).astype(np.float32), (big_w, big_h))
    desk = np.clip(np.array([40, 80, 130], np.float32) + (stripes + 20 * grain)[..., None], 0, 255).astype(np.uint8)
    y, x = (big_h - h) // 3, (big_w - w) // 2
    desk[y : y + h, x : x + w] = image
    return desk


def _photographed_aslant(image: np.ndarray, p: float = 0.08) -> np.ndarray:
    """``image`` on a grainy table, photographed from near its bottom right: the photo's top left
    corner moved in by ``p`` of the width and height, its top right and bottom left by half that."""
    table = _on_a_table(image)
    h, w = table.shape[:2]
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    moved = np.float32([[p * w, p * h], [w * (1 - p / 2), 0], [w, h], [0, h * (1 - p / 2)]])
    return cv2.warpPerspective(table, cv2.getPerspectiveTransform(corners, moved), (w, h), borderMode=cv2.BORDER_REFLECT)


def _faded(image: np.ndarray) -> np.ndarray:
    """``image`` with everything darker than the paper (its 90th percentile) kept at 45% of its
    darkness: ink faded, or a scan made too bright."""
    paper = np.percentile(image.reshape(-1, 3), 90, axis=0).astype(np.float32)
    return np.clip(paper - (paper - image.astype(np.float32)) * 0.45, 0, 255).astype(np.uint8)


def _shadowed(image: np.ndarray) -> np.ndarray:
    """``image`` lit unevenly, as a photo taken under a lamp: 55% of the light at the left edge,
    80% at the top."""
    h, w = image.shape[:2]
    light = np.linspace(0.55, 1.0, w, dtype=np.float32)[None, :, None] * np.linspace(0.8, 1.0, h, dtype=np.float32)[:, None, None]
    return np.clip(image * light, 0, 255).astype(np.uint8)


def _stamped(image: np.ndarray) -> np.ndarray:
    """``image`` with a red rubber stamp ("FOR ACME LTD" in an oval) across the amount box, its
    ink multiplying the paper's and the pen's."""
    h, w = image.shape[:2]
    stamp = np.full_like(image, 255)
    red = (60, 60, 200)
    cv2.ellipse(stamp, (int(0.82 * w), int(0.43 * h)), (int(0.12 * w), int(0.07 * h)), -8, 0, 360, red, 5)
    cv2.putText(stamp, "FOR ACME LTD", (int(0.73 * w), int(0.44 * h)), cv2.FONT_HERSHEY_SIMPLEX, 1.1, red, 3)
    return (image.astype(np.float32) * stamp.astype(np.float32) / 255).astype(np.uint8)


def _cast(image: np.ndarray, gains: tuple[float, float, float]) -> np.ndarray:
    """``image`` under a coloured light: its blue, green and red scaled by ``gains``."""
    return np.clip(image.astype(np.float32) * np.array(gains, np.float32), 0, 255).astype(np.uint8)


def _jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    _, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _creased(image: np.ndarray) -> np.ndarray:
    """``image`` folded in three and flattened again: an upright crease at 80% of the width, across
    the amount box, leaning 2% of the width top to bottom, a dark line with a lit ridge beside it."""
    h, w = image.shape[:2]
    x = np.arange(w, dtype=np.float32)[None, :] - (0.80 * w + 0.02 * w * np.arange(h, dtype=np.float32)[:, None] / h)
    shade = 1 - 0.45 * np.exp(-((x / 2.0) ** 2)) + 0.08 * np.exp(-(((x - 6) / 6.0) ** 2))
    return np.clip(image * shade[:, :, None], 0, 255).astype(np.uint8)


def _low_contrast(image: np.ndarray) -> np.ndarray:
    """``image`` in gray with its levels squeezed between 60% gray (black) and 85% (white): a dim,
    washed-out scan, the ink barely darker than the paper."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
    return cv2.cvtColor((153 + gray * (64 / 255)).astype(np.uint8), cv2.COLOR_GRAY2BGR)


def _faxed(image: np.ndarray) -> np.ndarray:
    """``image`` as an old fax: 200 dpi black and white with 0.3% of its pixels turned black and
    0.3% white (salt and pepper)."""
    bw = cv2.cvtColor(_bitonal_200dpi(image), cv2.COLOR_BGR2GRAY)
    speck = np.random.default_rng(1).random(bw.shape)
    bw[speck < 0.003], bw[speck > 0.997] = 0, 255
    return cv2.cvtColor(bw, cv2.COLOR_GRAY2BGR)


def _web_sized(image: np.ndarray) -> np.ndarray:
    """``image`` shrunk to 800 pixels wide (about 72 dpi: a picture mailed or uploaded from a web
    form) through a JPEG of quality 75 with its colour subsampled 4:2:0."""
    small = cv2.resize(image, None, fx=800 / image.shape[1], fy=800 / image.shape[1], interpolation=cv2.INTER_AREA)
    _, data = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 75,
                                           cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_420])
    return cv2.imdecode(data, cv2.IMREAD_COLOR)


def _motion_blurred(image: np.ndarray, down: bool = False) -> np.ndarray:
    """``image`` smeared 9 pixels sideways, or up and down (a phone moved while the photo was taken)."""
    kernel = np.zeros((9, 9), np.float32)
    kernel[4, :] = 1 / 9
    return cv2.filter2D(image, -1, kernel.T if down else kernel)


def _vignetted(image: np.ndarray) -> np.ndarray:
    """``image`` with a phone camera's dark corners: the light falling to 50% at them."""
    h, w = image.shape[:2]
    y = (np.arange(h, dtype=np.float32)[:, None] - h / 2) / (h / 2)
    x = (np.arange(w, dtype=np.float32)[None, :] - w / 2) / (w / 2)
    return np.clip(image * (1 - 0.25 * (x * x + y * y))[:, :, None], 0, 255).astype(np.uint8)


def _bled_through(image: np.ndarray) -> np.ndarray:
    """``image`` with its back's printing showing through the paper: the page mirrored, blurred, at
    35% of its darkness (here the cheque's own face stands for its back)."""
    back = cv2.cvtColor(cv2.GaussianBlur(cv2.flip(image, 1), (0, 0), 2.0), cv2.COLOR_BGR2GRAY).astype(np.float32)
    paper = np.percentile(back, 90)
    dark = np.clip((paper - back) / paper, 0, 1) * 0.35
    return np.clip(image * (1 - dark)[:, :, None], 0, 255).astype(np.uint8)


def box_moved_to_top_right(image: np.ndarray) -> tuple[np.ndarray, BBox]:
    """``image`` with its amount box (as ``--layout in-cts`` finds it) moved to the top right
    corner over the date, its place blanked with the paper's colour (a cheque of another layout),
    and where the box now is."""
    out = image.copy()
    h, w = out.shape[:2]
    box = locate.find_amount_field(page_of(image, "move"), "in-cts").bbox
    paper = np.median(out[int(0.3 * h) : int(0.6 * h), int(0.3 * w) : int(0.6 * w)].reshape(-1, 3), axis=0)
    out[box.y : box.y2, box.x : box.x2] = paper
    moved = BBox(w - box.w - int(0.02 * w), int(0.02 * h), box.w, box.h)
    out[moved.y : moved.y2, moved.x : moved.x2] = box.crop(image)
    return out, moved


#: How ``--robustness`` moves the IDRBT scans (colour BGR in, colour BGR out).
MOVES = {
    "as scanned": lambda c: c,
    "turned +8 degrees": lambda c: _turned(c, 8.0, (255, 255, 255)),
    "turned -13 degrees": lambda c: _turned(c, -13.0, (255, 255, 255)),
    "upside down": lambda c: cv2.rotate(c, cv2.ROTATE_180),
    "standing on its side (turned 90 degrees clockwise, no EXIF tag)": lambda c: cv2.rotate(c, cv2.ROTATE_90_CLOCKWISE),
    "standing on its other side, turned 3 degrees": lambda c: _turned(cv2.rotate(c, cv2.ROTATE_90_COUNTERCLOCKWISE), 3.0, (255, 255, 255)),
    "on a scanner bed, standing on its side": lambda c: _on_bed(cv2.rotate(c, cv2.ROTATE_90_CLOCKWISE)),
    "on a white A4 page (a flatbed scanner's white lid)": lambda c: _on_white_page(c, True),
    "on a white page, turned 4 degrees": lambda c: _on_white_page(c, False, 4.0),
    "on a scanner bed": _on_bed,
    "on a scanner bed, turned -5 degrees": lambda c: _turned(_on_bed(c), -5.0, (40, 40, 40)),
    "on a grainy table (a photo's background)": _on_a_table,
    "gray, ink darkened to black": _black_pen,
    "200 dpi black and white": _bitonal_200dpi,
    "200 dpi black and white, dithered (a scanner's halftone mode)": _dithered_200dpi,
    "150 dpi gray, JPEG quality 90": lambda c: gray_jpeg(c, 0.5, 90),
    "100 dpi gray, JPEG quality 60 (CTS-2010's gray image)": lambda c: gray_jpeg(c, 1 / 3, 60),
    "amount box moved to the top right corner": lambda c: box_moved_to_top_right(c)[0],
    "photographed (perspective: corners moved by up to 3%)": _photographed,
    "photographed aslant on a grainy table (perspective: a corner moved in by 8%)": _photographed_aslant,
    "on a wooden desk (a strong grain around it, too varied for one bed level)": _on_a_wooden_desk,
    "blurred (Gaussian, sigma 1.5 pixels)": lambda c: cv2.GaussianBlur(c, (0, 0), 1.5),
    "ink faded to 45% of its darkness": _faded,
    "lit unevenly (55% of the light at one edge)": _shadowed,
    "JPEG quality 30": lambda c: _jpeg(c, 30),
    "600 dpi (enlarged 2x)": lambda c: cv2.resize(c, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
    "a red stamp across the amount box": _stamped,
    "a negative (white ink on black paper, as some microfilm scanners write it)": lambda c: 255 - c,
    "turned +20 degrees on white (beyond the 15-degree skew search: a crooked photo)": lambda c: _turned(c, 20.0, (255, 255, 255)),
    "turned -30 degrees on white": lambda c: _turned(c, -30.0, (255, 255, 255)),
    "under a yellow lamp (blue at 45%, green at 85% of the light)": lambda c: _cast(c, (0.45, 0.85, 1.0)),
    "the left third cut off (only the cheque's right part scanned)": lambda c: np.ascontiguousarray(c[:, c.shape[1] // 3 :]),
    "cropped 3% short on the right, through the amount box (a tight auto-crop)": lambda c: np.ascontiguousarray(c[:, : int(0.97 * c.shape[1])]),
    "a fold's crease across the amount box": _creased,
    "low contrast (ink at 60% gray on paper at 85%)": _low_contrast,
    "an old fax (200 dpi black and white, 0.3% of pixels speckled each way)": _faxed,
    "web-sized (800 pixels wide, JPEG quality 75, colour 4:2:0)": _web_sized,
    "motion blur (smeared 9 pixels sideways)": _motion_blurred,
    "motion blur up and down (smeared 9 pixels)": lambda c: _motion_blurred(c, down=True),
    "a phone's vignetting (50% of the light in the corners)": _vignetted,
    "the back's printing showing through (35% of its darkness)": _bled_through,
}


def world_rows(n: int, seed: int, classifier, verbose: bool, ann: Path | None,
               kinds: collections.Counter) -> list[tuple[str, str, str]]:
    """Table rows for ``n`` synthetic cheques of ``synth.WORLD_LAYOUTS`` (seed ``seed``), read with
    ``--layout auto``: per layout, the field found, digit strings, values and reads auto-accepted."""
    from cheque_reader import synth

    source = synth.mnist_test_digits()
    tally: dict[str, np.ndarray] = {}  # found, strings, values, accepted, accepted wrong, accepted value wrong, n
    by_format: dict[str, list[int]] = {}
    for i, ch in enumerate(synth.render_many(source, n, seed=seed, layouts=synth.WORLD_LAYOUTS)):
        gray = cv2.cvtColor(ch.image, cv2.COLOR_BGR2GRAY)
        page = Page(f"world{i:05d}", 1, gray, ch.image)
        res, prep, _ = read(page, "auto", classifier, None, f"world{i:05d}")
        iou = prep.field.bbox.iou(ch.field) if prep.field is not None else 0.0
        found = iou >= 0.5
        kind = "field not found (IoU < 0.5)" if not found else failure_kind(res.digits, ch.digits)
        right, value_right, accepted = kind == "ok", bool(same_amount(res.amount, ch.amount)), not res.needs_review
        t = tally.setdefault(ch.layout, np.zeros(7, int))
        t += (found, right, value_right, accepted, accepted and not right, accepted and not value_right, 1)
        f = by_format.setdefault(ch.amount_format, [0, 0])
        f[0] += value_right
        f[1] += 1
        if not (right and value_right):
            kinds[f"world {ch.layout}: " + (kind if not right else "value wrong")] += 1
            if verbose:
                print(f"WORLD {i} {ch.layout} {ch.amount_format} truth={ch.text} read={res.text} "
                      f"field={prep.field.layout if prep.field else None} iou={iou:.2f} accepted={accepted} [{kind}]")
            if ann is not None:
                read(page, "auto", classifier, ann, f"world{i:05d}")
    rows = []
    seeded = "" if seed == 4 else f", seed {seed}"
    for layout, t in sorted(tally.items()):
        m = int(t[6])
        name = f"synthetic {layout} cheques ({m} of --world {n}{seeded}, --layout auto)"
        rows.append((name, "field found, IoU >= 0.5", f"{t[0]}/{m} = {t[0] / m:.1%}"))
        rows.append((name, "digit-string accuracy", f"{t[1]}/{m} = {t[1] / m:.1%}"))
        rows.append((name, "amount value right (cents included)", f"{t[2]}/{m} = {t[2] / m:.1%}"))
        rows.append((name, "auto-accepted (wrong string; wrong value)", f"{t[3]}/{m} = {t[3] / m:.1%} ({t[4]}; {t[5]})"))
    rows.append((f"synthetic world cheques (--world {n}{seeded})", "value right, by how the amount is written",
                 ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(by_format.items()))))
    return rows


#: The printed currency signs ``--printed`` puts before an amount, in turn (``$*``: a ``$`` then asterisks).
PRINTED_SIGNS = ("$", "$*", "USD ", "US$")


def printed_rows(n: int, seed: int, classifier, verbose: bool) -> list[tuple[str, str, str]]:
    """Table rows for ``n`` machine-printed amount fields (``--layout field``), each in one of the
    machine's TrueType fonts at 28-44 pixels, ``1,234.56`` or ``1234.56``, and for ``n // 2`` synthetic
    US cheques (``--layout auto``, MNIST test digits) whose amount box holds such a printed amount
    instead of the handwritten one (a business or payroll cheque); every other one after two to six
    check-protection asterisks: strings right and reads auto-accepted (wrong among them), with and
    without the asterisks. Then as many fields and cheques again, drawn from their own stream (the
    first ones' draws stay as they were), with a printed currency sign before the amount, each of
    :data:`PRINTED_SIGNS` in turn: ``$1,234.56``, ``$***1,234.56``, ``USD 1,234.56``, ``US$1,234.56``."""
    from PIL import Image, ImageDraw, ImageFont

    from cheque_reader import synth

    fonts = synth.truetype_fonts()
    if not fonts:
        return [("machine-printed amounts (--printed)", "not measured", "no TrueType font under " + ", ".join(synth.FONT_DIRS))]

    def amount(rng, i: int, signed: bool) -> tuple[str, str, str]:  # the digits, the amount as printed, its kind
        dollars, cents = int(rng.choice([rng.integers(1, 1000), rng.integers(1000, 100000)])), int(rng.integers(0, 100))
        text = f"{dollars:,}.{cents:02d}" if rng.random() < 0.5 else f"{dollars}.{cents:02d}"
        n_stars = int(rng.integers(2, 7))
        digits = "".join(ch for ch in text if ch.isdigit())
        if signed:
            sign = PRINTED_SIGNS[i % len(PRINTED_SIGNS)]
            return digits, sign.replace("*", "*" * n_stars) + text, f"after a printed {sign.strip().replace('*', '**')}"
        stars = i % 2 == 1
        return digits, "*" * n_stars * stars + text, "after check-protection asterisks" if stars else "plain"

    rows = []
    # the printed signs' draws have their own stream, so that the rows without a sign draw as before
    streams = {False: np.random.default_rng(seed), True: np.random.default_rng([seed, 1])}
    for signed, whole in ((False, False), (False, True), (True, False), (True, True)):
        rng = streams[signed]
        tally = {}  # kind: right, accepted, accepted wrong, n
        source = synth.mnist_test_digits() if whole else None
        for i in range(n // 2 if whole else n):
            truth, shown, kind = amount(rng, i, signed)
            font_path = fonts[int(rng.integers(len(fonts)))]
            if whole:  # a US cheque's amount box emptied to its paper, the amount printed in it
                style = dataclasses.replace(synth.random_style(rng, ("us",), 0.5), skew=0.0)
                ch = synth.render_cheque(source, rng, style=style)
                f, img = ch.field, ch.image.copy()
                inside = img[f.y + 4 : f.y2 - 4, f.x + 4 : f.x2 - 4]  # within the box's border (1-3 pixels)
                inside[:] = np.percentile(inside.reshape(-1, 3), 90, axis=0).astype(np.uint8)
                margin = max(8, int(0.05 * f.w))
                font = ImageFont.truetype(font_path, int(0.7 * f.h * rng.uniform(0.55, 0.8)))
                canvas = Image.fromarray(img[:, :, ::-1])
                width = ImageDraw.Draw(canvas).textlength(shown, font=font)
                if width > f.w - 2 * margin:
                    font = ImageFont.truetype(font_path, int(font.size * (f.w - 2 * margin) / width))
                ImageDraw.Draw(canvas).text((f.x + margin, f.y + (f.h - font.size) // 2 - 2), shown, font=font,
                                            fill=(20, 20, 20))
                color = np.ascontiguousarray(np.asarray(canvas)[:, :, ::-1])
                page = Page(f"printed_cheque{'_sign' * signed}{i:05d}", 1, cv2.cvtColor(color, cv2.COLOR_BGR2GRAY), color)
            else:
                font = ImageFont.truetype(font_path, int(rng.integers(28, 45)))
                img = Image.new("L", (460, 70), 255)
                ImageDraw.Draw(img).text((int(rng.integers(8, 30)), 12), shown, font=font, fill=int(rng.integers(0, 60)))
                page = Page(f"printed{'_sign' * signed}{i:05d}", 1, np.asarray(img))
            res, _, _ = read(page, "auto" if whole else "field", classifier, None, page.source)
            right, accepted = res.digits == truth, not res.needs_review
            tally.setdefault(kind, np.zeros(4, int))
            tally[kind] += (right, accepted, accepted and not right, 1)
            if verbose and not right:
                print(f"PRINTED {page.source} {Path(font_path).name} truth={shown} read={res.text}")
        name = (f"machine-printed amounts on US cheques ({n // 2}, seed {seed}, --layout auto)" if whole else
                f"machine-printed amounts ({n}, seed {seed}, {len(fonts)} fonts, --layout field)")
        rows += [(name, f"{label}: strings right; auto-accepted (wrong among them)",
                  f"{t[0]}/{t[3]} = {t[0] / max(1, t[3]):.1%}; {t[1]} ({t[2]})")
                 for label, t in tally.items()]
    return rows


def read_as_bitonal(ch, path: Path, classifier) -> tuple[bool, bool, bool]:
    """A synthetic cheque written as a Group 4 bitonal TIFF at ``path``, decoded and read: whether
    its field was found, its digit string read right, and the read auto-accepted."""
    from cheque_reader import io as cio
    from cheque_reader import synth

    synth.save_scan(ch.image, path, kind="tiff-g4")
    [page] = cio.load_pages(path, ReadOptions())
    res, prep, _ = read(page, "auto", classifier, None, path.stem)
    found = prep.field is not None and prep.field.bbox.iou(ch.field) >= 0.5
    return found, found and res.digits == ch.digits, not res.needs_review


def load_page(path: Path, name: str) -> Page:
    color = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if color is None:
        raise SystemExit(f"cannot read {path}")
    return page_of(color, name)


def page_of(color: np.ndarray, name: str) -> Page:
    """The page of a BGR image (no colour kept when the three channels are equal)."""
    gray = cv2.cvtColor(color, cv2.COLOR_BGR2GRAY)
    b, g, r = cv2.split(color)
    is_gray = np.array_equal(b, g) and np.array_equal(g, r)
    return Page(name, 1, gray, None if is_gray else color)


#: the networks' backend (``--backend``), as ``read --backend``
BACKEND = "auto"


def read(page: Page, layout: str, classifier, annotate_dir: Path | None, tag: str):
    """(result, chosen digits count without a model) for one page."""
    options = ReadOptions(layout=layout, backend=BACKEND)
    prepared = pipeline.prepare_page(page, options)
    if classifier is None:
        n = 0
        if prepared.candidates:
            chosen = segment.best_path(prepared.candidates)
            n = sum(prepared.candidates[i].kind == "digit" for i in chosen)
        return None, prepared, n
    reads = pipeline.classify_pages([prepared], classifier, pipeline.get_field_reader(options))[0]
    result = pipeline.finish_page(prepared, reads.predictions, classifier, options, field_read=reads.field_read)
    if annotate_dir is not None:
        chosen = ()
        if reads.predictions is not None:
            chosen = pipeline.choose_path(prepared, reads.predictions, reads.field_read)[0] or ()
        pic = annotate.annotate_page(page.color if page.color is not None else page.image, result,
                                     prepared.field, prepared.candidates, chosen)
        cv2.imwrite(str(annotate_dir / f"{tag}.png"), pic)
    return result, prepared, None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="weights file (default: the shipped model)")
    ap.add_argument("--backend", default="auto", choices=("auto", "torch", "onnx", "onnx-int8"),
                    help="the networks' backend, as read --backend (auto: onnx-int8 where ONNX Runtime is installed)")
    ap.add_argument("--annotate", type=Path, help="write annotated PNGs of failures here (e.g. /tmp/ann); a synthetic "
                    "cheque whose digits are right and value wrong as synthNNNNN_value.png")
    ap.add_argument("--limit", type=int, default=0, help="ORAND images at most (0: the whole fold)")
    ap.add_argument("--skip-orand", action="store_true")
    ap.add_argument("--skip-idrbt", action="store_true")
    ap.add_argument("--fold", default="val", choices=("val", "train", "all"))
    ap.add_argument("--verbose", action="store_true", help="print every failure: file, truth, read")
    ap.add_argument("--robustness", action="store_true",
                    help="also read the IDRBT cheques with certain labels turned and on a scanner bed (amount only)")
    ap.add_argument("--synth", type=int, default=0, metavar="N",
                    help="also read N synthetic cheques rendered from MNIST test digits (--layout auto)")
    ap.add_argument("--synth-seed", type=int, default=4, metavar="S",
                    help="the --synth cheques' seed (4, the figures' set; 5, the set that checks a change made on 4)")
    ap.add_argument("--bitonal", action="store_true",
                    help="also read the --synth cheques saved as Group 4 bitonal TIFFs and decoded again "
                         "(the image format of Check 21 and X9.37 cash letters)")
    ap.add_argument("--red", type=int, default=0, metavar="N",
                    help="also read N synthetic cheques written with a red pen, and the same N with a red "
                         "rubber stamp across the amount field (a red pen must be read, a stamp read as paper)")
    ap.add_argument("--on-a4", type=int, default=0, metavar="N",
                    help="also read N synthetic cheques turned up to 3 degrees on an A4 page, on a flatbed's "
                         "white lid and on a dark bed (the whole page scanned, as many office scanners do)")
    ap.add_argument("--enlarged", type=float, default=0, metavar="F",
                    help="also read the ORAND fold enlarged F times (bicubic: a high-resolution capture system's "
                         "crops) with the default --layout auto, which must take each for the field")
    ap.add_argument("--world", type=int, default=0, metavar="N",
                    help="also read N synthetic cheques of other countries' layouts (European with a euro sign, "
                         "British with a pound sign; seed --synth-seed) with --layout auto")
    ap.add_argument("--printed", type=int, default=0, metavar="N",
                    help="also read N machine-printed amount fields (the machine's TrueType fonts; every other "
                         "one after check-protection asterisks, **1,234.56) with --layout field, and N/2 synthetic US "
                         "cheques with such an amount in their box with --layout auto (seed --synth-seed)")
    args = ap.parse_args(argv)

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover
        pass
    global BACKEND
    BACKEND = args.backend
    try:
        classifier = pipeline.get_classifier(ReadOptions(model_path=args.model, backend=BACKEND))
        model = classifier.model_id
    except ModelError as exc:
        print(f"no classifier ({exc}): segmentation-only figures", file=sys.stderr)
        classifier, model = None, "none"
    ann = args.annotate
    if ann is not None:
        ann.mkdir(parents=True, exist_ok=True)

    rows: list[tuple[str, str, str]] = []
    kinds: collections.Counter[str] = collections.Counter()
    confused: collections.Counter[str] = collections.Counter()
    t0 = time.perf_counter()

    if not args.skip_orand:
        df = datasets.load_orand_labels()
        if args.fold != "all":
            df = df[df["fold"] == args.fold]
        if args.limit:
            df = df.head(args.limit)
        written = datasets.load_orand_labels(audited=True).set_index("file")["amount_string"]
        d = datasets.orand_dir() / "images"
        ok = ok_audited = seg_ok = 0
        for f, truth in zip(df["file"], df["amount_string"]):
            page = load_page(d / f, f)
            res, prep, n = read(page, "field", classifier, None, f)
            if res is None:
                seg_ok += n == len(truth)
                continue
            kind = failure_kind(res.digits, truth)
            ok += kind == "ok"
            ok_audited += res.digits == written[f]
            confused.update(confusions(res.digits, truth))
            if kind != "ok":
                kinds["ORAND: " + kind] += 1
                if args.verbose:
                    print(f"ORAND {f} truth={truth} read={res.digits} text={res.text} [{kind}]")
                if ann is not None:
                    read(page, "field", classifier, ann, "orand_" + Path(f).stem)
        name = f"ORAND CAR-A {args.fold} fold ({len(df)} fields, --layout field)"
        if classifier is None:
            rows.append((name, "right digit count (no model)", f"{seg_ok}/{len(df)} = {seg_ok / max(1, len(df)):.1%}"))
        else:
            rows.append((name, "digit-string accuracy", f"{ok}/{len(df)} = {ok / max(1, len(df)):.1%}"))
            rows.append((name, "the same, audited labels (datasets.ORAND_LABEL_AUDIT)",
                         f"{ok_audited}/{len(df)} = {ok_audited / max(1, len(df)):.1%}"))
        if args.enlarged and classifier is not None:
            right = as_field = 0
            for f, truth in zip(df["file"], df["amount_string"]):
                page = load_page(d / f, f)
                image = page.color if page.color is not None else page.image
                big = cv2.resize(image, None, fx=args.enlarged, fy=args.enlarged, interpolation=cv2.INTER_CUBIC)
                res, prep, _ = read(page_of(big, f) if big.ndim == 3 else Page(f, 1, big, None), "auto", classifier, None, f)
                right += res.digits == truth
                as_field += prep.field is not None and prep.field.layout == "field"
            rows.append((f"the same fields enlarged {args.enlarged:g}x ({big.shape[0]}x{big.shape[1]} the last), --layout auto",
                         "taken for the field; digit-string accuracy",
                         f"{as_field}/{len(df)}; {right}/{len(df)} = {right / max(1, len(df)):.1%}"))

    if not args.skip_idrbt:
        df = datasets.load_idrbt_labels()
        d = datasets.idrbt_dir() / "images"
        found = ok = certain = seg_ok = 0
        for _, r in df.iterrows():
            page = load_page(d / r["file"], r["file"])
            res, prep, n = read(page, "auto", classifier, None, r["file"])
            label = BBox(int(r["amount_x"]), int(r["amount_y"]), int(r["amount_w"]), int(r["amount_h"]))
            iou = prep.field.bbox.iou(label) if prep.field is not None else 0.0
            found += iou >= 0.5
            truth = str(r["amount_digits"])
            if int(r["amount_uncertain"]):
                continue
            certain += 1
            if res is None:
                seg_ok += n == len(truth)
                continue
            kind = "field not found (IoU < 0.5)" if iou < 0.5 else failure_kind(res.digits, truth)
            ok += kind == "ok"
            if iou >= 0.5:
                confused.update(confusions(res.digits, truth))
            if kind != "ok":
                kinds["IDRBT: " + kind] += 1
                if args.verbose:
                    print(f"IDRBT {r['file']} truth={truth} read={res.digits} text={res.text} [{kind}]")
                if ann is not None:
                    read(page, "auto", classifier, ann, "idrbt_" + Path(r["file"]).stem)
        rows.append(("IDRBT whole cheques (40, --layout auto)", "field found, IoU >= 0.5", f"{found}/{len(df)}"))
        if classifier is None:
            rows.append(("IDRBT, amount_uncertain == 0", "right digit count (no model)", f"{seg_ok}/{certain} = {seg_ok / max(1, certain):.1%}"))
        else:
            rows.append(("IDRBT, amount_uncertain == 0", "digit-string accuracy", f"{ok}/{certain} = {ok / max(1, certain):.1%}"))

    if args.robustness and classifier is not None:
        df = datasets.load_idrbt_labels()
        df = df[df["amount_uncertain"].astype(int) == 0]
        d = datasets.idrbt_dir() / "images"
        for name, move in MOVES.items():
            ok = accepted = accepted_wrong = 0
            for f, truth in zip(df["file"], df["amount_digits"].astype(str)):
                res, _, _ = read(page_of(move(cv2.imread(str(d / f), cv2.IMREAD_COLOR)), f), "auto", classifier, None, f)
                ok += res.digits == truth
                accepted += not res.needs_review
                accepted_wrong += not res.needs_review and res.digits != truth
            rows.append((f"IDRBT certain labels, {name}", "amount right (no IoU); auto-accepted",
                         f"{ok}/{len(df)} = {ok / len(df):.1%}; {accepted} ({accepted_wrong} wrong)"))
        images = [(t, cv2.imread(str(d / f), cv2.IMREAD_COLOR)) for f, t in zip(df["file"], df["amount_digits"].astype(str))]
        rows.extend(two_to_a_page_rows(images, classifier))

    if args.synth:
        from cheque_reader import synth

        source = synth.mnist_test_digits()
        found = ok = accepted = accepted_wrong = value_ok = accepted_value_wrong = 0
        value_by_format: dict[str, list[int]] = {}
        bitonal = np.zeros(4, int)  # found, right, accepted, accepted wrong (--bitonal)
        scratch = tempfile.TemporaryDirectory() if args.bitonal else None
        for i, ch in enumerate(synth.render_many(source, args.synth, seed=args.synth_seed)):
            if scratch is not None:
                b_found, b_right, b_accepted = read_as_bitonal(ch, Path(scratch.name) / "scan.tif", classifier)
                bitonal += (b_found, b_right, b_accepted, b_accepted and not b_right)
            gray = cv2.cvtColor(ch.image, cv2.COLOR_BGR2GRAY)
            page = Page(f"synth{i:05d}", 1, gray, ch.image)
            res, prep, n = read(page, "auto", classifier, None, f"synth{i:05d}")
            iou = prep.field.bbox.iou(ch.field) if prep.field is not None else 0.0
            found += iou >= 0.5
            if res is None:
                ok += n == len(ch.digits)
                continue
            kind = "field not found (IoU < 0.5)" if iou < 0.5 else failure_kind(res.digits, ch.digits)
            ok += kind == "ok"
            accepted += not res.needs_review
            accepted_wrong += not res.needs_review and kind != "ok"
            # the amount's value (cents included), which the digit string alone does not fix
            value_right = bool(same_amount(res.amount, ch.amount))
            value_ok += value_right
            accepted_value_wrong += not res.needs_review and not value_right
            tally = value_by_format.setdefault(ch.amount_format, [0, 0])
            tally[0] += value_right
            tally[1] += 1
            if kind == "ok" and not value_right:  # the digits right, the amount not: drawn too, named apart
                if args.verbose:
                    print(f"SYNTH {i} {ch.layout} value truth={ch.text} read={res.text} [{ch.amount_format}: value wrong]")
                if ann is not None:
                    read(page, "auto", classifier, ann, f"synth{i:05d}_value")
            if kind != "ok":
                kinds["synthetic: " + kind] += 1
                if args.verbose:
                    print(f"SYNTH {i} {ch.layout} truth={ch.digits} read={res.digits} text={res.text} iou={iou:.2f} [{kind}]")
                if ann is not None:
                    read(page, "auto", classifier, ann, f"synth{i:05d}")
        seed = "" if args.synth_seed == 4 else f", seed {args.synth_seed}"
        name = f"synthetic cheques ({args.synth}{seed}, MNIST test digits, --layout auto)"
        rows.append((name, "field found, IoU >= 0.5", f"{found}/{args.synth} = {found / args.synth:.1%}"))
        rows.append((name, "digit-string accuracy", f"{ok}/{args.synth} = {ok / args.synth:.1%}"))
        rows.append((name, "auto-accepted (wrong among them)",
                     f"{accepted}/{args.synth} = {accepted / args.synth:.1%} ({accepted_wrong})"))
        rows.append((name, "amount value right (cents included)", f"{value_ok}/{args.synth} = {value_ok / args.synth:.1%}"))
        rows.append((name, "auto-accepted with the value wrong", f"{accepted_value_wrong}/{accepted}"))
        rows.append((name, "value right, by how the amount is written",
                     ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(value_by_format.items()))))
        if scratch is not None:
            scratch.cleanup()
            name, n = f"the same {args.synth} synthetic cheques, Group 4 bitonal TIFF", args.synth
            rows.append((name, "field found, IoU >= 0.5", f"{bitonal[0]}/{n} = {bitonal[0] / n:.1%}"))
            rows.append((name, "digit-string accuracy", f"{bitonal[1]}/{n} = {bitonal[1] / n:.1%}"))
            rows.append((name, "auto-accepted (wrong among them)", f"{bitonal[2]}/{n} = {bitonal[2] / n:.1%} ({bitonal[3]})"))

    if args.red:
        rows.extend(red_ink_rows(args.red, classifier))
    if args.on_a4 and classifier is not None:
        rows.extend(on_a4_rows(args.on_a4, classifier))
    if args.world and classifier is not None:
        rows.extend(world_rows(args.world, args.synth_seed, classifier, args.verbose, ann, kinds))
    if args.printed and classifier is not None:
        rows.extend(printed_rows(args.printed, args.synth_seed, classifier, args.verbose))

    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    reader = pipeline.get_field_reader(ReadOptions(backend=BACKEND)) if classifier is not None else None
    print(f"model: {model}{'+' + reader.model_id if reader else ''}   ({time.perf_counter() - t0:.0f} s)")
    print(f"{'set':<{w0}}  {'measure':<{w1}}  value")
    for a, b, c in rows:
        print(f"{a:<{w0}}  {b:<{w1}}  {c}")
    if kinds:
        print("\ntop failure kinds:")
        for k, v in kinds.most_common(10):
            print(f"  {v:4d}  {k}")
    if confused:
        print("\nmost common digit confusions (truth->read, same-length reads):")
        print("  " + ", ".join(f"{k} x{v}" for k, v in confused.most_common(10)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
