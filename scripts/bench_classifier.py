#!/usr/bin/env python
"""Benchmark DigitClassifier: digits/s at batch 1, 64 and 512 for each backend, and peak memory.

Times ``predict_tensors`` on already-normalized inputs (the classifier stage of the
pipeline: calibrated probabilities included), after a warm-up, taking the best of
``--repeats`` timed runs of about ``--seconds`` each. Peak memory is the process's
maximum resident set size (``resource.getrusage``) after each backend's runs.

The load average before and after is printed with the results: on a shared machine the
figures are only as good as the quiet moment they were taken in.

Example::

    PYTHONPATH=. python scripts/bench_classifier.py --threads 2
    PYTHONPATH=. python scripts/bench_classifier.py --device cuda --backends torch
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def peak_rss_mb() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 1024 if sys.platform != "darwin" else r / 2**20


def bench(clf, x: np.ndarray, batch: int, seconds: float, repeats: int) -> float:
    xb = x[:batch] if batch <= len(x) else np.resize(x, (batch,) + x.shape[1:])
    for _ in range(3):
        clf.predict_tensors(xb)
    best = 0.0
    for _ in range(repeats):
        n, t0 = 0, time.perf_counter()
        while True:
            clf.predict_tensors(xb)
            n += batch
            dt = time.perf_counter() - t0
            if dt >= seconds:
                break
        best = max(best, n / dt)
    return best


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="torch / ONNX Runtime intra-op threads")
    ap.add_argument("--backends", default="torch,onnx")
    ap.add_argument("--batches", default="1,64,512")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model-path", default=None)
    ap.add_argument("--seconds", type=float, default=1.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write the results here")
    args = ap.parse_args(argv)

    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    import torch

    torch.set_num_threads(args.threads)
    from cheque_reader.classify import DigitClassifier
    from cheque_reader.normalize import normalize_batch

    rng = np.random.default_rng(0)
    crops = []
    for _ in range(512):  # stroke-like random crops, normalized as the pipeline does
        img = np.full((40, 28), 255, np.uint8)
        for _ in range(3):
            p0 = tuple(int(v) for v in rng.integers(2, 26, 2))
            p1 = tuple(int(v) for v in rng.integers(2, 38, 2))
            cv2.line(img, p0, p1, 0, 3)
        crops.append(img)
    x = normalize_batch(crops)
    t0 = time.perf_counter()
    normalize_batch(crops)
    norm_rate = len(crops) / (time.perf_counter() - t0)

    results = {"machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
               "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
               "threads": args.threads, "device": args.device, "torch": torch.__version__,
               "load_average_before": [round(v, 2) for v in os.getloadavg()],
               "normalize_digits_per_s": round(norm_rate)}
    for backend in args.backends.split(","):
        try:
            clf = DigitClassifier(model_path=args.model_path, device=args.device, backend=backend,
                                  batch_size=max(512, *(int(v) for v in args.batches.split(","))))
        except Exception as exc:  # optional backend missing
            results[backend] = {"error": str(exc)}
            continue
        rates = {}
        for b in (int(v) for v in args.batches.split(",")):
            rates[f"batch_{b}"] = round(bench(clf, x, b, args.seconds, args.repeats))
        rates["peak_rss_mb"] = round(peak_rss_mb(), 1)
        results[backend] = rates
        print(backend, rates, flush=True)
    results["load_average_after"] = [round(v, 2) for v in os.getloadavg()]
    print(json.dumps(results, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
