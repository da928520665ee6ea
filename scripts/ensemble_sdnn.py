"""Put SDNN networks trained by scripts/train_sdnn.py (different ``--model-seed``) into one weights file.

The reader averages every member's string probabilities (:class:`cheque_reader.sdnn.FieldReader`).
The members' sidecars (training commands, seeds, data, metrics) are kept in the new sidecar.

    PYTHONPATH=. python scripts/ensemble_sdnn.py /tmp/sdA1/sdnn.pt /tmp/sdA2/sdnn.pt -o cheque_reader/weights/sdnn.pt

Then fit the amount confidence for it: scripts/fit_amount_calibration.py.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import torch


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("members", nargs="+", type=Path, help="weights files with their .json sidecars")
    ap.add_argument("-o", "--output", type=Path, required=True)
    args = ap.parse_args(argv)
    states, metas = {}, []
    for i, path in enumerate(args.members):
        meta = json.loads(path.with_suffix(".json").read_text())
        if hashlib.sha256(path.read_bytes()).hexdigest() != meta["sha256"]:
            raise SystemExit(f"{path}: sha256 does not match its sidecar")
        states[str(i)] = torch.load(path, map_location="cpu", weights_only=True)
        metas.append(meta)
    torch.save(states, args.output)
    out = {
        "name": "sdnn", "version": 2, "sha256": hashlib.sha256(args.output.read_bytes()).hexdigest(),
        "architecture": {"name": "SDNN ensemble", "members": [m["architecture"]["config"] for m in metas],
                         "parameters": int(sum(m["architecture"]["parameters"] for m in metas))},
        "input": metas[0]["input"], "output": metas[0]["output"],
        "temperatures": [m["temperature"] for m in metas],
        "training": {"members": [m["training"] for m in metas],
                     "ensemble_command": "PYTHONPATH=. python scripts/ensemble_sdnn.py "
                                         + " ".join(str(p) for p in args.members) + f" -o {args.output}"},
        "data": metas[0]["data"],
        "metrics": {"members": [m["metrics"] for m in metas]},
    }
    args.output.with_suffix(".json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.output} ({len(metas)} members)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
