"""Measure and calibrate the amount (whole-string) confidence on ORAND CAR-A's validation fold.

Step 1 lists the validation images, step 2 reads them with the CLI, step 3 measures:

    python scripts/calibrate_amount.py list -o /tmp/val.txt
    cheque-reader read --layout field --from-list /tmp/val.txt -o /tmp/val.csv --digits-out /tmp/val_digits.csv
    python scripts/calibrate_amount.py measure /tmp/val.csv [--plot /tmp/val.png] [--sidecar-json /tmp/cal.json]

``measure`` prints the figures of the confidence as it is in the results (string
accuracy, read rate at 0.1/0.5/1/2% error, ECE), then a two-fold cross-fit inside the
fold (fit Platt scaling and thresholds on one half by file-name hash, measure on the
other, and the reverse) so the calibrated figures are honest, and finally the
parameters fitted on the whole fold: ``string_calibration`` and ``thresholds`` for the
weights sidecar. Platt scaling is monotone, so it changes ECE and thresholds but never
the read rate at a given error.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cheque_reader.datasets import load_orand_labels, orand_dir
from cheque_reader.evaluate import (
    ERROR_TARGETS,
    apply_string_calibration,
    evaluate_results,
    expected_calibration_error,
    fit_string_calibration,
    match_truth,
    plot_evaluation,
    threshold_table,
    target_key,
)
from cheque_reader.report import read_results


def val_labels() -> pd.DataFrame:
    labels = load_orand_labels()
    return labels[labels["fold"] == "val"].reset_index(drop=True)


def half_of(name: str) -> int:
    return int(hashlib.sha1(("half:" + Path(name).name).encode()).hexdigest()[:8], 16) % 2


def cmd_list(args) -> None:
    images = orand_dir() / "images"
    paths = [str(images / f) for f in val_labels()["file"]]
    Path(args.output).write_text("\n".join(paths) + "\n")
    print(f"{len(paths)} validation images listed in {args.output}", file=sys.stderr)


def cmd_measure(args) -> None:
    truth = val_labels()
    results = read_results(args.results)
    kw = dict(truth_source="file", truth_digits="amount_string")
    rep = evaluate_results(results, truth, **kw)
    print("== confidence as in the results ==")
    print(rep.format())
    if args.plot:
        plot_evaluation(rep, args.plot, title=f"ORAND CAR-A val (n={rep.n}), confidence as read")

    m = match_truth(results, truth, truth_source="file", truth_digits="amount_string")
    conf = m["confidence"].fillna(0.0).to_numpy(float)
    ok = m["correct"].to_numpy(bool)
    half = np.array([half_of(s) for s in m["source"]])

    # two-fold cross-fit: calibration and thresholds from one half, measured on the other
    cal = np.empty_like(conf)
    accepted_err = {target_key(t): [0, 0] for t in ERROR_TARGETS}  # wrong, accepted (pooled)
    for h in (0, 1):
        fit, test = half != h, half == h
        params = fit_string_calibration(conf[fit], ok[fit])
        cal[test] = apply_string_calibration(conf[test], params)
        table = threshold_table(apply_string_calibration(conf[fit], params), ok[fit])
        for key, thr in table.items():
            acc = test & (cal >= thr)
            accepted_err[key][0] += int((acc & ~ok).sum())
            accepted_err[key][1] += int(acc.sum())
    print("\n== two-fold cross-fit inside the fold (honest) ==")
    print(f"ECE raw {100 * expected_calibration_error(conf, ok):.2f}%  "
          f"calibrated {100 * expected_calibration_error(cal, ok):.2f}%  (n={len(conf)})")
    for key, (wrong, acc) in accepted_err.items():
        err = wrong / acc if acc else 0.0
        print(f"target {100 * float(key):g}% error: threshold from the other half accepts "
              f"{100 * acc / len(conf):.1f}% with {100 * err:.2f}% error ({wrong}/{acc})")

    params = fit_string_calibration(conf, ok)
    table = threshold_table(apply_string_calibration(conf, params), ok)
    out = {"string_calibration": params, "thresholds": table,
           "thresholds_data": f"ORAND CAR-A val fold, n={len(conf)}, string confidence after string_calibration"}
    print("\n== for the weights sidecar (fitted on the whole fold) ==")
    print(json.dumps(out, indent=2))
    if args.sidecar_json:
        Path(args.sidecar_json).write_text(json.dumps(out, indent=2) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list", help="write the validation-fold image paths, one per line")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("measure", help="measure and calibrate a results.csv of the validation fold")
    p.add_argument("results")
    p.add_argument("--plot")
    p.add_argument("--sidecar-json")
    p.set_defaults(func=cmd_measure)
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
