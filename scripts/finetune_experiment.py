"""Does fine-tuning on corrections help? Corrections for one half of ORAND CAR-A's validation
fold, string accuracy measured on the other half, before and after.

The fold is split in two by a hash of the file name (``calibrate_amount.half_of``). Half A's
true digit strings play the reviewer's corrections; the base model reads both halves, the
model is fine-tuned on half A (:func:`cheque_reader.finetune.finetune`), and half B is read
again with the fine-tuned model. Hyper-parameters may only be chosen on the fine-tune's own
hold-out (a fifth of half A's pages, reported in the sidecar), never on half B.

    PYTHONPATH=. python scripts/finetune_experiment.py --out /tmp/ft [--epochs 10 --lr 3e-4]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate_amount import half_of, val_labels  # noqa: E402

from cheque_reader.batch import read_folder  # noqa: E402
from cheque_reader.config import ReadOptions  # noqa: E402
from cheque_reader.datasets import orand_dir  # noqa: E402
from cheque_reader.evaluate import evaluate_results  # noqa: E402
from cheque_reader.finetune import finetune  # noqa: E402


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="/tmp/finetune_experiment")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    labels = val_labels()
    images = orand_dir() / "images"
    labels["source"] = [str(images / f) for f in labels["file"]]
    labels["half"] = labels["file"].map(half_of)
    a, b = labels[labels["half"] == 0], labels[labels["half"] == 1]
    kw = dict(truth_source="source", truth_digits="amount_string")

    base_opts = ReadOptions(layout="field", workers=1)
    res_a = read_folder(list(a["source"]), options=base_opts, output=out / "base_a.csv")
    res_b = read_folder(list(b["source"]), options=base_opts, output=out / "base_b.csv")
    before = evaluate_results(res_b, b, **kw)

    corrections = pd.DataFrame({"source": a["source"], "page": 1, "digits": a["amount_string"]})
    model = finetune(corrections, res_a, out_path=out / "finetuned.pt", epochs=args.epochs, lr=args.lr,
                     seed=args.seed)
    side = json.loads(model.with_suffix(".json").read_text())["finetune"]

    res_b2 = read_folder(list(b["source"]), options=base_opts.replace(model_path=str(model)),
                         output=out / "finetuned_b.csv")
    after = evaluate_results(res_b2, b, **kw)
    summary = {
        "half_a_pages": len(a), "half_b_pages": len(b),
        "corrections_used_pages": side["pages_used"], "pages_skipped": side["pages_skipped"],
        "digits": side["digits"], "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
        "finetune_holdout": side["metrics"],
        "half_b_string_accuracy_before": before.string_accuracy,
        "half_b_string_accuracy_after": after.string_accuracy,
        "half_b_digit_accuracy_before": before.digit_accuracy,
        "half_b_digit_accuracy_after": after.digit_accuracy,
    }
    print(json.dumps(summary, indent=1))
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
