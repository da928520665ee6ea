"""Which amount confidence ranks reads best? A study on ORAND CAR-A held-out fields.

For each field (the validation fold plus train_lenet's calibration images: neither is
trained on), the pipeline runs as ``read --layout field`` does, and several string
confidences are computed from the same candidates and predictions:

- ``product``: the pipeline's (product over chosen digits of ``max P(k) * (1 - P(not digit))``);
- ``product_dropped``: times ``P(not digit)`` of every piece the path dropped as noise;
- ``path_posterior``: ``exp(best path score - log sum over all covers)`` with segment.best_path's
  own scores (the forward algorithm instead of Viterbi): how much the chosen cut wins over
  the competing ones;
- ``product_x_posterior``: ``product_dropped * path_posterior``.

Ranking quality is the read rate at 1% / 2% / 5% error and the area under the risk-coverage
curve (AURC, lower is better). No parameter is fitted, so both sets are pooled.

    PYTHONPATH=. python scripts/confidence_study.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate_amount import cal_labels, val_labels  # noqa: E402

from cheque_reader import io, segment  # noqa: E402
from cheque_reader.config import ReadOptions  # noqa: E402
from cheque_reader.datasets import orand_dir  # noqa: E402
from cheque_reader.evaluate import expected_calibration_error, read_rates, risk_coverage  # noqa: E402
from cheque_reader.pipeline import classify_pages, finish_page, get_classifier, prepare_page  # noqa: E402


def path_scores(cands, preds):
    """Viterbi best score and forward log-partition over covers, with best_path's scores."""
    n = max(c.end for c in cands)
    is_digit = np.array([c.kind == "digit" for c in cands])
    nd = np.clip(np.asarray(preds.not_digit, float), 1e-6, 1 - 1e-6)
    digit, noise = segment.candidate_scores(cands, preds)
    score = np.where(is_digit, digit, 0.0)
    best = np.full(n + 1, -np.inf)
    logz = np.full(n + 1, -np.inf)
    best[0] = logz[0] = 0.0
    for s in range(n):
        for i, c in enumerate(cands):
            if c.start != s:
                continue
            opts = [score[i]] + ([noise[i]] if is_digit[i] and c.end == s + 1 else [])
            for sc in opts:
                best[c.end] = max(best[c.end], best[s] + sc)
                logz[c.end] = np.logaddexp(logz[c.end], logz[s] + sc)
    return best[n], logz[n], nd


def aurc(conf, ok) -> float:
    curve = risk_coverage(conf, ok)
    cov = np.r_[0.0, curve["coverage"].to_numpy()]
    risk = curve["risk"].to_numpy()
    return float(np.sum(np.diff(cov) * risk))


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    torch.set_num_threads(1)
    labels = pd.concat([val_labels().assign(set="val"), cal_labels().assign(set="cal")], ignore_index=True)
    images = orand_dir() / "images"
    options = ReadOptions(layout="field")
    clf = get_classifier(options)
    rows = []
    for r in labels.itertuples():
        page = io.load_pages(str(images / r.file), options)[0]
        prep = prepare_page(page, options)
        preds = classify_pages([prep], clf)[0].predictions
        res = finish_page(prep, preds, clf, options)
        row = {"file": r.file, "set": r.set, "ok": res.digits == r.amount_string, "product": res.confidence,
               "grammar_flag": "grammar" in res.review_reasons}
        if preds is None or not res.digits:
            row.update(product_dropped=0.0, path_posterior=0.0, product_x_posterior=0.0)
        else:
            chosen = set(segment.best_path(prep.candidates, preds))
            best, logz, nd = path_scores(prep.candidates, preds)
            covered = set()
            for i in chosen:
                covered.update(range(prep.candidates[i].start, prep.candidates[i].end))
            dropped = [i for i, c in enumerate(prep.candidates)
                       if c.end == c.start + 1 and c.start not in covered and c.kind == "digit"]
            pd_ = res.confidence * float(np.prod(nd[dropped])) if dropped else res.confidence
            post = float(np.exp(best - logz))
            row.update(product_dropped=pd_, path_posterior=post, product_x_posterior=pd_ * post)
        rows.append(row)
    df = pd.DataFrame(rows)
    ok = df["ok"].to_numpy()
    print(f"n={len(df)} (val {int((df.set == 'val').sum())}, cal {int((df.set == 'cal').sum())}), "
          f"string accuracy {100 * ok.mean():.1f}%")
    for name in ("product", "product_dropped", "path_posterior", "product_x_posterior"):
        for flag in (False, True):
            conf = df[name].to_numpy(float)
            if flag:
                conf = np.where(df["grammar_flag"], 0.0, conf)
            rates = read_rates(conf, ok, targets=(0.01, 0.02, 0.05))
            print(f"{name + (' +grammar' if flag else ''):28s} AURC {aurc(conf, ok):.4f}  "
                  + "  ".join(f"read@{100 * float(k):g}% {100 * v:5.1f}%" for k, v in rates.items())
                  + f"  ECE {100 * expected_calibration_error(conf, ok):.1f}%")


if __name__ == "__main__":
    main()
