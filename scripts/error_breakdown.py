"""Where do the amount errors on ORAND CAR-A's validation fold come from: segmentation or classification?

Given a results.csv of the fold (``cheque-reader read --layout field``), prints

- the pipeline's string accuracy, and its errors split into wrong digit count (segmentation)
  and right count but wrong digits (classification, or a wrong cut of the right count);
- the string accuracy with oracle segmentation: the labelled per-digit boxes cut from the
  images and classified by the shipped model (``DigitClassifier``), digits left to right.

    PYTHONPATH=. python scripts/error_breakdown.py /tmp/val.csv
"""

from __future__ import annotations

import argparse

import cv2
import numpy as np

from cheque_reader.classify import DigitClassifier
from cheque_reader.datasets import load_orand_digits, load_orand_labels, orand_dir
from cheque_reader.evaluate import match_truth
from cheque_reader.report import read_results


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results")
    ap.add_argument("--model", default=None)
    args = ap.parse_args(argv)

    labels = load_orand_labels()
    val = labels[labels["fold"] == "val"]
    m = match_truth(read_results(args.results), val, truth_source="file", truth_digits="amount_string")
    m = m[m["matched"]]
    same = m["digits"].str.len() == m["truth"].str.len()
    print(f"pipeline: n={len(m)}, string accuracy {100 * m['correct'].mean():.1f}%; errors: "
          f"{int((~same).sum())} wrong digit count, {int((same & ~m['correct']).sum())} right count, wrong digits")

    digits = load_orand_digits()
    digits = digits[digits["file"].isin(set(m["source"].map(lambda s: s.split("/")[-1])))]
    clf = DigitClassifier(model_path=args.model)
    crops, keys = [], []
    for name, g in digits.groupby("file"):
        img = cv2.imread(str(orand_dir() / "images" / name), cv2.IMREAD_GRAYSCALE)
        for r in g.sort_values("x").itertuples():
            crops.append(img[int(r.y) : int(r.y + r.h), int(r.x) : int(r.x + r.w)])
            keys.append((name, int(r.digit)))
    pred = clf.predict(crops).labels
    per_file: dict[str, tuple[list, list]] = {}
    for (name, truth), p in zip(keys, pred):
        per_file.setdefault(name, ([], []))
        per_file[name][0].append(truth)
        per_file[name][1].append(int(p))
    ok = [t == p for t, p in per_file.values()]
    digit_ok = np.mean([a == b for t, p in per_file.values() for a, b in zip(t, p)])
    print(f"oracle segmentation (labelled boxes + classifier): n={len(ok)} fields, string accuracy "
          f"{100 * np.mean(ok):.1f}%, digit accuracy {100 * digit_ok:.1f}%")


if __name__ == "__main__":
    main()
