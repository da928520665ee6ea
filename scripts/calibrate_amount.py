"""Measure and calibrate the amount (whole-string) confidence on ORAND CAR-A's validation fold.

Step 1 lists the images, step 2 reads them with the CLI, step 3 measures:

    python scripts/calibrate_amount.py list --which val -o /tmp/val.txt
    python scripts/calibrate_amount.py list --which cal -o /tmp/cal.txt
    python scripts/calibrate_amount.py truth --which val --audited -o /tmp/val_truth.csv   # for `evaluate --truth` (below)
    cheque-reader read --layout field --from-list /tmp/val.txt -o /tmp/val.csv
    cheque-reader read --layout field --from-list /tmp/cal.txt -o /tmp/cal.csv
    cheque-reader evaluate /tmp/val.csv --truth /tmp/val_truth.csv --truth-source file --truth-digits amount_string
    python scripts/calibrate_amount.py measure /tmp/val.csv --fit /tmp/cal.csv [--plot /tmp/val.png] \
        [--sidecar-json /tmp/cal.json]

``cal`` is the 10% of CAR-A training-fold images that scripts/train_lenet.py holds out
for calibration (same seed), ``val`` the validation fold: neither is trained on.
``measure`` prints the figures of the confidence as it is in the results (string
accuracy, read rate at 0.1/0.5/1/2% error, ECE). With ``--fit``, it fits Platt scaling
of the string confidence and the threshold table on the calibration images and
measures them on the validation fold (honest); without, it cross-fits two halves of
the validation fold. It prints ``string_calibration`` and ``thresholds`` for the
weights sidecar. Platt scaling is monotone: it changes ECE and the thresholds, never
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

from cheque_reader.datasets import load_orand_digits, load_orand_labels, orand_dir
from cheque_reader.evaluate import (
    ERROR_TARGETS,
    apply_string_calibration,
    compose_string_calibration,
    ece_noise_floor,
    evaluate_results,
    expected_calibration_error,
    fit_string_calibration,
    match_truth,
    plot_evaluation,
    threshold_table,
    target_key,
)
from cheque_reader.report import read_results


def val_labels(audited: bool = False) -> pd.DataFrame:
    labels = load_orand_labels(audited=audited)
    return labels[labels["fold"] == "val"].reset_index(drop=True)


def cal_names(seed: int = 1998) -> set[str]:
    """The training-fold images scripts/train_lenet.py holds out for calibration (its ``--seed``)."""
    d = load_orand_digits()
    names = np.unique(d.loc[d["fold"] == "train", "file"].to_numpy())
    return set(np.random.default_rng(seed + 1).choice(names, size=max(1, len(names) // 10), replace=False))


def cal_labels(seed: int = 1998, audited: bool = False) -> pd.DataFrame:
    labels = load_orand_labels(audited=audited)
    return labels[labels["file"].isin(cal_names(seed))].reset_index(drop=True)


def half_of(name: str) -> int:
    return int(hashlib.sha1(("half:" + Path(name).name).encode()).hexdigest()[:8], 16) % 2


def chosen_labels(args) -> pd.DataFrame:
    """The labels of ``--which`` images (audited with ``--audited``, where the command has it)."""
    audited = getattr(args, "audited", False)
    return val_labels(audited) if args.which == "val" else cal_labels(args.seed, audited)


def cmd_list(args) -> None:
    images = orand_dir() / "images"
    labels = chosen_labels(args)
    paths = [str(images / f) for f in labels["file"]]
    Path(args.output).write_text("\n".join(paths) + "\n")
    print(f"{len(paths)} {args.which} images listed in {args.output}", file=sys.stderr)


def cmd_truth(args) -> None:
    labels = chosen_labels(args)
    labels[["file", "amount_string"]].to_csv(args.output, index=False)
    print(f"{len(labels)} {args.which} labels{' (audited)' if args.audited else ''} written to {args.output}",
          file=sys.stderr)


def report_thresholds(conf, ok, table) -> None:
    for key, thr in table.items():
        acc = conf >= thr
        wrong = int((acc & ~ok).sum())
        err = wrong / acc.sum() if acc.any() else 0.0
        print(f"target {100 * float(key):g}% error: threshold {thr:.4f} accepts {100 * acc.mean():.1f}% "
              f"with {100 * err:.2f}% error ({wrong}/{int(acc.sum())})")


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

    if args.fit:
        mc = match_truth(read_results(args.fit), cal_labels(args.seed), truth_source="file",
                         truth_digits="amount_string")
        cconf, cok = mc["confidence"].fillna(0.0).to_numpy(float), mc["correct"].to_numpy(bool)
        params = fit_string_calibration(cconf, cok)
        table = threshold_table(apply_string_calibration(cconf, params), cok)
        cal = apply_string_calibration(conf, params)
        print(f"\n== fitted on {len(cconf)} calibration images (string accuracy {100 * cok.mean():.1f}%), "
              f"measured on the validation fold ==")
        print(f"ECE raw {100 * expected_calibration_error(conf, ok):.2f}%  "
              f"calibrated {100 * expected_calibration_error(cal, ok):.2f}%  (n={len(conf)}; a perfectly "
              f"calibrated confidence would show {100 * ece_noise_floor(cal):.2f}% on this n by sampling noise)")
        report_thresholds(cal, ok, table)
        out = {"string_calibration": params, "thresholds": table,
               "thresholds_data": f"ORAND CAR-A calibration images (10% of train fold, n={len(cconf)}), "
                                  "string confidence after string_calibration"}
        print("\n== for the weights sidecar ==")
        print(json.dumps(out, indent=2))
        if args.sidecar_json:
            Path(args.sidecar_json).write_text(json.dumps(out, indent=2) + "\n")
        if args.update_sidecar:
            update_sidecar(Path(args.update_sidecar), out, results)
        return

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


def update_sidecar(path: Path, fitted: dict, results: pd.DataFrame) -> None:
    """Merge ``string_calibration`` and ``thresholds`` into a weights sidecar (the weights' sha256 is unchanged).

    The results were read with the sidecar's current ``string_calibration`` (if any) already
    applied, so the new fit is composed with it.
    """
    meta = json.loads(path.read_text())
    models = set(results["model"].dropna().astype(str)) if "model" in results.columns else set()
    sha = str(meta.get("sha256", ""))[:8]
    if models and not all(m.endswith(sha) for m in models):
        raise SystemExit(f"results were read with {sorted(models)}, not with {path} (sha256 {sha}...)")
    old = meta.get("string_calibration")
    meta["string_calibration"] = compose_string_calibration(old, fitted["string_calibration"])
    meta["thresholds"] = fitted["thresholds"]
    meta["thresholds_data"] = fitted["thresholds_data"]
    meta["thresholds_command"] = "python scripts/calibrate_amount.py " + " ".join(sys.argv[1:])
    path.write_text(json.dumps(meta, indent=1) + "\n")
    print(f"updated {path}: string_calibration {meta['string_calibration']} (composed with {old})", file=sys.stderr)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("list", help="write the validation-fold image paths, one per line")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--which", choices=("val", "cal"), default="val")
    p.add_argument("--seed", type=int, default=1998, help="train_lenet.py's --seed")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser("truth", help="write the labels of those images (file,amount_string), "
                                     "for `cheque-reader evaluate --truth FILE --truth-source file "
                                     "--truth-digits amount_string`")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--which", choices=("val", "cal"), default="val")
    p.add_argument("--seed", type=int, default=1998, help="train_lenet.py's --seed")
    p.add_argument("--audited", action="store_true",
                   help="with the corrections of cheque_reader.datasets.ORAND_LABEL_AUDIT "
                        "(labels that contradict their image)")
    p.set_defaults(func=cmd_truth)
    p = sub.add_parser("measure", help="measure and calibrate a results.csv of the validation fold")
    p.add_argument("results")
    p.add_argument("--fit", help="results.csv of the calibration images: fit there, measure on RESULTS")
    p.add_argument("--seed", type=int, default=1998, help="train_lenet.py's --seed")
    p.add_argument("--plot")
    p.add_argument("--sidecar-json")
    p.add_argument("--update-sidecar", help="weights sidecar (.json) to merge string_calibration and thresholds into")
    p.set_defaults(func=cmd_measure)
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
