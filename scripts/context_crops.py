#!/usr/bin/env python
"""In-context LeNet-5 training inputs: the segmenter's own cuts of real fields (LeCun et al. 1998, "rubbish").

For every ORAND CAR-A training-fold field that is not a calibration image (the seeded 10% that
``scripts/train_lenet.py`` holds out, :func:`calibrate_amount.cal_names`; the validation fold is never
read), the pipeline prepares the field as ``read --layout field`` does (:func:`cheque_reader.pipeline.prepare_page`)
and the classifier scores its candidates (:func:`cheque_reader.pipeline.classify_pages`). The cut path
that spells the field's TRUE digits (:func:`cheque_reader.segment.best_path_for`) then labels the cuts
(:func:`context_examples`):

- its digit candidates are positives, labelled with their true digit;
- digit candidates off that path that are fragments of a path digit or join path digits' ink (halves
  of split digits, merged pairs, a digit with its neighbour's stroke) are negatives (``not_digit``);
  a cut that is mostly one path digit (a speck or flourish more or less) is left out, and so are the
  path's separators.

Fields with no spelling path are skipped. The inputs are the candidates' tensors as the pipeline feeds
the classifier (``normalize_batch`` of their images). The file is cut from ../shared data: write it to
scratch space, never into the repository::

    PYTHONPATH=. python scripts/context_crops.py -o /tmp/ctx/context_crops.npz
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from calibrate_amount import cal_names

from cheque_reader import pipeline, segment
from cheque_reader.config import ReadOptions
from cheque_reader.datasets import load_orand_labels, orand_dir
from cheque_reader.model import NOT_DIGIT
from cheque_reader.types import Page

log = logging.getLogger("context_crops")

#: a cut whose ink is at least this share one path digit's is "mostly that digit" ...
MOSTLY_ONE = 0.7
#: ... and a negative (a fragment of it) when it holds at most this share of the digit's ink; else left out
FRAGMENT = 0.6
#: a cut of two or more digits' ink is a negative when at least this share of its ink is on path
#: digits, or it holds at least this share of one path digit
OVERLAP = 0.5


def _ink(img: np.ndarray) -> int:
    return int((np.asarray(img) < 255).sum())  # the stroke mask (paper is 255 around it)


def context_examples(candidates: Sequence, path: Sequence[int], digits: str) -> tuple[list[int], list[int], int]:
    """Candidate indices and labels of one field's in-context examples, and the cuts left out as ambiguous.

    ``path`` is the cover that spells ``digits`` (:func:`~cheque_reader.segment.best_path_for`): its
    ``j``-th digit candidate is labelled ``digits[j]``. Ink is counted over primitives (each one's
    from its single-primitive candidate). A digit candidate off the path whose ink is mostly
    (:data:`MOSTLY_ONE`) one path digit's is ``NOT_DIGIT`` when it holds at most :data:`FRAGMENT` of
    that digit (half of a split digit) and left out otherwise (the digit, a speck or flourish more or
    less: counted in the third value); one that is not mostly one digit's is ``NOT_DIGIT`` when
    :data:`OVERLAP` of its ink is on path digits or it holds that share of one (merged digits, a
    digit with a large scrap). Separators and scraps apart from the digits are never examples.

    >>> from cheque_reader.types import BBox, DigitCandidate
    >>> ring = np.full((10, 6), 255, np.uint8); ring[2:8, 1:5] = 0
    >>> c = [DigitCandidate(BBox(0, 0, 6, 10), ring, "digit", 0, 1),
    ...      DigitCandidate(BBox(7, 0, 6, 10), ring, "digit", 1, 2),
    ...      DigitCandidate(BBox(0, 0, 13, 10), ring, "digit", 0, 2)]
    >>> context_examples(c, (0, 1), "38")
    ([0, 1, 2], [3, 8, 10], 0)
    """
    cands = list(candidates)
    path = list(path)
    on_path = [i for i in path if cands[i].kind == "digit"]
    if len(on_path) != len(digits):
        raise ValueError(f"the path has {len(on_path)} digits, the string {len(digits)}")
    prim_ink: dict[int, int] = {}
    for c in cands:
        if c.kind == "digit" and c.end == c.start + 1:
            prim_ink[c.start] = _ink(c.image)

    def prims(c) -> set[int]:
        return set(range(c.start, c.end))

    def ink_of(ps: set[int]) -> int:
        return sum(prim_ink.get(p, 0) for p in ps)

    idx, labels = list(on_path), [int(ch) for ch in digits]
    ambiguous = 0
    chosen = set(on_path)
    for i, c in enumerate(cands):
        if c.kind != "digit" or i in chosen:
            continue
        own = ink_of(prims(c))
        if own <= 0:
            continue
        shared = [(ink_of(prims(c) & prims(cands[k])), max(ink_of(prims(cands[k])), 1)) for k in on_path]
        most, theirs = max(shared)
        if most == 0:
            continue  # a scrap the path drops, apart from every digit
        if most >= MOSTLY_ONE * own:  # mostly one path digit: a fragment of it, or that digit itself
            if most <= FRAGMENT * theirs:
                idx.append(i)
                labels.append(NOT_DIGIT)
            else:
                ambiguous += 1
        elif sum(s for s, _ in shared) >= OVERLAP * own or any(s >= OVERLAP * t for s, t in shared):
            idx.append(i)  # two digits' ink together, or a digit with much more
            labels.append(NOT_DIGIT)
    return idx, labels, ambiguous


def field_examples(path: Path, truth: str, classifier, options: ReadOptions):
    """(inputs, labels, status) of one field image: status ``ok``, ``no_path`` or the page status."""
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        return None, None, "unreadable"
    page = Page(path.name, 1, cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), img)
    prep = pipeline.prepare_page(page, options)
    if prep.status != pipeline.STATUS_OK or not prep.n_candidates:
        return None, None, prep.status
    pred = pipeline.classify_pages([prep], classifier, None)[0].predictions
    spelled = segment.best_path_for(prep.candidates, pred, truth)
    if spelled is None:
        return None, None, "no_path"
    idx, labels, ambiguous = context_examples(prep.candidates, spelled, truth)
    return prep.tensors[idx], np.asarray(labels, np.int64), ("ok", ambiguous)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-o", "--out", required=True, help=".npz to write (scratch space: it is cut from ../shared data)")
    ap.add_argument("--seed", type=int, default=1998, help="train_lenet.py's --seed (the calibration images held out)")
    ap.add_argument("--limit", type=int, default=0, help="only the first N fields (smoke runs)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    t0 = time.time()
    options = ReadOptions(layout="field")
    classifier = pipeline.get_classifier(options)
    labels = load_orand_labels()
    held_out = cal_names(args.seed)
    train = labels[(labels["fold"] == "train") & ~labels["file"].isin(held_out)].sort_values("file")
    if args.limit:
        train = train.head(args.limit)
    root = orand_dir() / "images"
    xs, ys, files = [], [], []
    counts = {"fields": len(train), "used": 0, "no_path": 0, "other_status": 0, "ambiguous_left_out": 0}
    for r in train.itertuples():
        truth = "".join(ch for ch in str(r.amount_string) if ch.isdigit())
        x, y, status = field_examples(root / r.file, truth, classifier, options)
        if x is None:
            counts["no_path" if status == "no_path" else "other_status"] += 1
            continue
        counts["used"] += 1
        counts["ambiguous_left_out"] += status[1]
        xs.append(x)
        ys.append(y)
        files.extend([r.file] * len(y))
    x = np.concatenate(xs).astype(np.float32)
    y = np.concatenate(ys)
    counts["positives"] = int((y != NOT_DIGIT).sum())
    counts["negatives"] = int((y == NOT_DIGIT).sum())
    command = "PYTHONPATH=. python scripts/context_crops.py " + " ".join(
        shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, x=x, y=y, files=np.asarray(files), command=command, model=classifier.model_id,
                        seed=args.seed)
    sha = hashlib.sha256(out.read_bytes()).hexdigest()
    log.info("counts %s; classifier %s; wrote %s (sha256 %s, %.0f s)", counts, classifier.model_id, out, sha,
             time.time() - t0)
    print({**counts, "sha256": sha, "x_sha256": hashlib.sha256(x.tobytes()).hexdigest()})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
