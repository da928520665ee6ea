"""Fine-tune the digit classifier on a reviewer's corrections: read, review, correct, read better.

For every corrected page, the pipeline's image stages are run again on the amount field
the results name (the field found again at that box, deskewed and turned upright as ``read``
read it, :func:`~cheque_reader.locate.refind_field`, read as ``layout="field"``); the
digits the pipeline chose are labelled with the corrected digit string when their
count matches it (pages where it does not are skipped: the segmentation, not the
classifier, was wrong there). The base LeNet-5 is then trained a few epochs on those
digits (small random affine distortions), with batch-norm statistics frozen and a
distillation term that keeps its outputs on the pages' other candidates (separators,
fragments: the ``not_digit`` class) close to the base model's. When enough pages are
corrected, a seeded fifth of them is held out to refit the temperature and to report
the digit accuracy before and after. Weights and a JSON sidecar are written so that
``DigitClassifier(model_path=...)`` and ``cheque-reader read --model PATH`` use them.
"""

from __future__ import annotations

import io as _io
import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .config import BACKGROUND_VALUE, FINETUNE_EPOCHS, INPUT_SIZE, ReadOptions
from .types import STATUS_OK, BBox, Page

log = logging.getLogger("cheque_reader")

#: Defaults of :func:`finetune` (its epochs: :data:`~cheque_reader.config.FINETUNE_EPOCHS`).
FINETUNE_LR = 3e-4
FINETUNE_BATCH = 64
#: Share of corrected pages held out (temperature, before/after figures) and the least
#: number of held-out digits for that to be worth it.
HOLDOUT_SHARE = 0.2
MIN_HOLDOUT_DIGITS = 40


@dataclass(frozen=True)
class CorrectionDigits:
    """Digits cut from corrected pages: normalized inputs and their corrected labels.

    ``x`` ``(N, 1, 32, 32)`` float32 and ``y`` ``(N,)`` int64 are the chosen digits;
    ``page_of`` ``(N,)`` numbers the page each came from; ``other`` holds the pages'
    remaining candidates (for distillation). ``skipped`` counts pages not used, by reason.

    >>> none = CorrectionDigits(np.zeros((0, 1, 32, 32), np.float32), np.zeros(0, np.int64), np.zeros(0, int),
    ...                         np.zeros((0, 1, 32, 32), np.float32), 0, {"no result row": 2})
    >>> none.n_pages, len(none.y), none.skipped   # what collect_digits gives when no correction could be used
    (0, 0, {'no result row': 2})
    """

    x: np.ndarray
    y: np.ndarray
    page_of: np.ndarray
    other: np.ndarray
    n_pages: int
    skipped: dict = field(default_factory=dict)
    fields: tuple = ()
    field_digits: tuple = ()


#: The results' columns of the amount field's box, which the digits are cut again from.
FIELD_BOX = ("field_x", "field_y", "field_w", "field_h")


def _key(source, page) -> tuple[str, int]:
    return str(source), int(page) if page is not None and not pd.isna(page) else 1


def collect_digits(
    corrections: pd.DataFrame,
    results: pd.DataFrame,
    *,
    classifier=None,
    image_root: str | Path | None = None,
    options: ReadOptions | None = None,
) -> CorrectionDigits:
    """Cut and label the digits of the corrected pages (see the module docstring).

    Example::

        digits = collect_digits(load_corrections("corrections.csv"), read_results("results.csv"), image_root="scans/")
        digits.x.shape, digits.skipped   # (N, 1, 32, 32), pages not used by reason
    """
    from . import io, locate, preprocess
    from .pipeline import classify_pages, finish_page, get_classifier, prepare_page

    options = (options or ReadOptions()).replace(layout="field")
    classifier = classifier or get_classifier(options)
    root = Path(image_root) if image_root is not None else Path(".")
    from .evaluate import SourceIndex

    # a correction names its page as the results do, or as a person wrote it (./a.png, an absolute path,
    # scans/a.png): found as evaluate finds a truth row's (every such correction was 'no result row')
    rows = results.reset_index(drop=True)
    index = SourceIndex(rows["source"], rows["page"] if "page" in rows.columns else None, what="correction")
    xs, ys, pages, others = [], [], [], []
    fields: list[np.ndarray] = []
    field_digits: list[str] = []
    skipped: dict[str, int] = {}
    unmatched: list[tuple[str, int]] = []
    corrected: dict[int, str] = {}  # results row -> its correction
    n_pages = 0
    scans = io.PageReader(options)

    def skip(reason: str) -> None:
        skipped[reason] = skipped.get(reason, 0) + 1

    for _, c in corrections.iterrows():
        src, page = _key(c["source"], c.get("page"))
        want = str(c["digits"])
        i = index.find(src, page)
        if i is None:
            skip("no result row")
            unmatched.append((src, page))
            continue
        if i in corrected:  # one page named two ways (a.png, ./a.png): learnt twice, perhaps as two amounts
            skip("page corrected twice")
            log.warning("finetune: %s page %d is corrected again (as %r, first as %r): the first correction is used",
                        src, page, want, corrected[i])
            continue
        corrected[i] = want
        r = rows.iloc[i]
        src = str(r["source"])  # the scan's path as `read` named it (relative to image_root)
        box = [r.get(k) for k in FIELD_BOX]
        if any(v is None or pd.isna(v) or v == "" for v in box) or not want:  # <NA> first: NA == "" is NA
            skip("no field or no digits")
            continue
        path = str(root / src)
        try:  # that page alone: a long X9.37 file is not held whole, a file cut short keeps its good pages
            scan = scans.page(path, page)
        except Exception as exc:
            log.warning("finetune: cannot load %s page %d: %s", path, page, exc)
            skip("scan not readable")
            continue
        x, y, w, h = (int(v) for v in box)
        # the field as read: an upside-down or turned page's box holds its digits upside down or aslant
        found = locate.refind_field(preprocess.descreened(scan), BBox(x, y, w, h), str(r.get("layout") or ""))
        if found is not None:
            crop = found.image
        else:  # a .toml layout's field: the box as it lies on the page
            crop = np.ascontiguousarray(scan.image[max(y, 0) : y + h, max(x, 0) : x + w])
        prepared = prepare_page(Page(src, page, crop), options)
        preds = classify_pages([prepared], classifier)[0].predictions
        if prepared.status != STATUS_OK or preds is None:
            skip("no candidates")
            continue
        if prepared.field_input is not None and want.isdigit():  # the SDNN needs no digit boxes
            fields.append(prepared.field_input)
            field_digits.append(want)
        result = finish_page(prepared, preds, classifier, options)
        boxes = [d.bbox for d in result.digit_reads]
        if len(boxes) != len(want):
            skip("digit count differs")
            continue
        used: list[int] = []
        for b in boxes:
            i = next((k for k, cand in enumerate(prepared.candidates)
                      if prepared.field.unzoomed(cand.bbox) == b and k not in used), None)
            if i is None:
                break
            used.append(i)
        if len(used) != len(want):
            skip("digit count differs")
            continue
        xs.append(prepared.tensors[used])
        ys.extend(int(ch) for ch in want)
        pages.extend([n_pages] * len(used))
        rest = [k for k in range(prepared.n_candidates) if k not in used]
        if rest:
            others.append(prepared.tensors[rest])
        n_pages += 1
    scans.close()
    if unmatched:  # the summary counted them ('no result row 158'), naming none: which results, which pages?
        src, page = unmatched[0]
        log.warning("finetune: %d corrected %s no row in the results (the first: %s page %d): corrections of "
                    "another run's results, or of pages named otherwise?", len(unmatched),
                    "page has" if len(unmatched) == 1 else "pages have", src, page)
    empty = np.zeros((0, 1, INPUT_SIZE, INPUT_SIZE), np.float32)
    return CorrectionDigits(
        x=np.concatenate(xs).astype(np.float32) if xs else empty,
        y=np.asarray(ys, np.int64),
        page_of=np.asarray(pages, np.int64),
        other=np.concatenate(others).astype(np.float32) if others else empty,
        n_pages=n_pages,
        skipped=skipped,
        fields=tuple(fields),
        field_digits=tuple(field_digits),
    )


def _augment(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Small random affine distortions (shift +-2 px, scale 0.9-1.1, rotation +-8 deg) of 32x32 inputs."""
    import cv2

    out = np.empty_like(x)
    c = (INPUT_SIZE - 1) / 2
    for i in range(len(x)):
        m = cv2.getRotationMatrix2D((c, c), rng.uniform(-8, 8), rng.uniform(0.9, 1.1))
        m[:, 2] += rng.uniform(-2, 2, 2)
        out[i, 0] = cv2.warpAffine(x[i, 0], m, (INPUT_SIZE, INPUT_SIZE), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND_VALUE)
    return out


def _train_keeping_norm_statistics(net) -> None:
    """Training mode, except batch norm: the base model's normalization statistics are kept."""
    import torch

    net.train()
    for m in net.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()


def _load_net(model_path: Path):
    import torch

    from .classify import load_metadata
    from .model import build_model

    meta, data = load_metadata(model_path)
    net = build_model(meta["architecture"])
    net.load_state_dict(torch.load(_io.BytesIO(data), map_location="cpu", weights_only=True))
    return net, meta


def _logits(net, x: np.ndarray) -> np.ndarray:
    import torch

    net.eval()
    with torch.inference_mode():
        return np.concatenate([net(torch.from_numpy(x[i : i + 1024])).numpy() for i in range(0, len(x), 1024)]) \
            if len(x) else np.zeros((0, 11), np.float32)


def finetune(
    corrections: pd.DataFrame,
    results: pd.DataFrame,
    *,
    out_path: str | Path,
    base_model: str | Path | None = None,
    epochs: int = FINETUNE_EPOCHS,
    seed: int = 0,
    image_root: str | Path | None = None,
    lr: float = FINETUNE_LR,
    batch_size: int = FINETUNE_BATCH,
    distill_weight: float = 1.0,
) -> Path:
    """Fine-tune ``base_model`` (default: the shipped one) on corrected digits; write weights + sidecar.

    ``corrections``: ``source,page,digits`` (:func:`cheque_reader.review.load_corrections`);
    ``results``: the ``results.csv`` the corrections were made on (field boxes);
    scans are found at ``image_root / source``. Returns ``out_path`` (``.pt``); the sidecar
    is ``out_path`` with suffix ``.json``. Raises ``ValueError`` when no page gives digits, or
    before any training when ``out_path`` is no ``.pt`` file (``model.json`` was overwritten by its own
    sidecar; ``model.onnx`` held torch weights), and :class:`~cheque_reader.errors.OutputError` when
    it cannot be written (checked before training too: the networks trained, then the run failed).

    Example::

        model = finetune(load_corrections("corrections.csv"), read_results("results.csv"),
                         out_path="bank_model.pt", image_root="scans/")
        read_folder(["scans/"], options=ReadOptions(model_path=model), output="again.csv")
    """
    if Path(out_path).suffix.lower() != ".pt":
        raise ValueError(f"{out_path}: the fine-tuned weights are a .pt file (their .json sidecar goes beside "
                         "it): name it model.pt, say")
    from .batch import check_writable

    check_writable(out_path)
    import torch
    import torch.nn.functional as F

    from .calibrate import fit_temperature
    from .classify import DigitClassifier, DigitPredictions, default_model_path, model_id_of

    t_start = time.time()
    missing = [c for c in ("source", *FIELD_BOX) if c not in results.columns]
    if missing:  # a digits file has a source column: each corrected page was 'no field or no digits'
        raise ValueError(f"the results have no {', '.join(missing)} column: not a results file of `read`")
    base_path = Path(base_model) if base_model else default_model_path()
    classifier = DigitClassifier(model_path=str(base_path))
    data = collect_digits(corrections, results, classifier=classifier, image_root=image_root,
                          options=ReadOptions(model_path=str(base_path)))
    if len(data.y) == 0:
        why = ", ".join(f"{reason} {n}" for reason, n in data.skipped.items()) or "no corrections given"
        where = ""
        if data.skipped.get("scan not readable"):  # as review says it: the scans' folder was not given
            root = Path(image_root) if image_root is not None else Path(".")
            where = (f"; the scans were looked for in {root.resolve()}: give the folder they were read from "
                     "(--images DIR)")
        raise ValueError(f"no usable corrected digits (pages not used: {why}){where}")
    log.info("finetune: %d digits from %d pages; skipped %s", len(data.y), data.n_pages, data.skipped)

    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    hold_pages = rng.permutation(data.n_pages)[: int(round(HOLDOUT_SHARE * data.n_pages))]
    hold = np.isin(data.page_of, hold_pages)
    if hold.sum() < MIN_HOLDOUT_DIGITS or (~hold).sum() == 0:
        hold[:] = False
    x_tr, y_tr = data.x[~hold], data.y[~hold]

    net, meta = _load_net(base_path)
    teacher, _ = _load_net(base_path)
    teacher.eval()
    other = torch.from_numpy(data.other)
    with torch.no_grad():
        teacher_other = F.log_softmax(teacher(other), dim=1) if len(other) else None
    before_hold = _logits(net, data.x[hold])

    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
    history = []
    for epoch in range(epochs):
        _train_keeping_norm_statistics(net)
        xa = torch.from_numpy(_augment(x_tr, rng))
        ya = torch.from_numpy(y_tr)
        perm = torch.from_numpy(rng.permutation(len(ya)))
        total, steps = 0.0, 0
        for b in range(0, len(perm), batch_size):
            idx = perm[b : b + batch_size]
            loss = F.cross_entropy(net(xa[idx]), ya[idx])
            if teacher_other is not None and distill_weight > 0:
                j = torch.from_numpy(rng.integers(0, len(other), min(batch_size, len(other))))
                student = F.log_softmax(net(other[j]), dim=1)
                loss = loss + distill_weight * F.kl_div(student, teacher_other[j], log_target=True,
                                                        reduction="batchmean")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += float(loss.detach())
            steps += 1
        history.append({"epoch": epoch + 1, "loss": round(total / max(steps, 1), 5)})
    net.eval()

    temperature = float(meta.get("temperature") or 1.0)
    metrics: dict = {"train_digits": int(len(y_tr)), "holdout_digits": int(hold.sum())}
    if hold.any():
        after_hold = _logits(net, data.x[hold])
        temperature = fit_temperature(after_hold, data.y[hold])
        y_h = data.y[hold]
        metrics["holdout_digit_accuracy_before"] = float(
            (DigitPredictions.from_logits(before_hold).labels == y_h).mean())
        metrics["holdout_digit_accuracy_after"] = float(
            (DigitPredictions.from_logits(after_hold).labels == y_h).mean())

    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = _io.BytesIO()
    torch.save({k: v.detach().clone().contiguous() for k, v in net.state_dict().items()}, buf)
    weights = buf.getvalue()
    import hashlib

    side = dict(meta)
    side.pop("onnx_sha256", None)
    side.update(
        name=out.stem,
        temperature=temperature,
        sha256=hashlib.sha256(weights).hexdigest(),
        base_model=model_id_of(meta),
        finetune={
            "corrected_pages": int(len(corrections)),
            "pages_used": data.n_pages,
            "pages_skipped": data.skipped,
            "digits": int(len(data.y)),
            "distillation_candidates": int(len(data.other)),
            "epochs": epochs,
            "lr": lr,
            "seed": seed,
            "seconds": round(time.time() - t_start, 1),
            "history": history,
            "metrics": metrics,
            "note": "thresholds and string_calibration are the base model's, not re-measured",
        },
    )
    from .pipeline import field_reader_path

    base_reader = field_reader_path(ReadOptions(model_path=str(base_path)))
    if data.fields and base_reader is not None:
        reader_out = out.with_name(out.stem + "_sdnn.pt")
        finetune_field_reader(list(data.fields), list(data.field_digits), base_reader, reader_out,
                              epochs=epochs, lr=lr, seed=seed)
        side["field_reader"] = reader_out.name
        side["finetune"]["field_reader_fields"] = len(data.fields)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(weights)
    tmp.replace(out)
    side_path = out.with_suffix(".json")
    side_path.write_text(json.dumps(side, indent=1) + "\n")
    return out


#: What ``finetune`` says after its :func:`summary`: the new model reads with its base model's review
#: thresholds (``--target-error``'s tables) and amount calibration, which were not measured for it.
UNMEASURED_NOTE = ("its review thresholds (--target-error) and amount confidence are the base model's, not "
                   "measured for this one: run `evaluate` on pages it did not learn from before reading with it "
                   "(--review-threshold sets a threshold of your own)")


def summary(side: dict) -> str:
    """One line on what a fine-tuning learnt from, from its sidecar's ``finetune`` entry (``side``
    is the sidecar): how many corrected pages gave digits, why the others did not, how many
    fields the field reader learnt from (it needs no cut), and the held-out digit accuracy
    before and after when pages were held out.

    >>> summary({"finetune": {"corrected_pages": 26, "pages_used": 2, "digits": 12,
    ...                       "pages_skipped": {"digit count differs": 24}, "metrics": {}}})
    'fine-tuned on 12 digits from 2 of 26 corrected pages; not used: digit count differs 24'
    >>> summary({"finetune": {"corrected_pages": 1, "pages_used": 1, "digits": 1, "field_reader_fields": 1}})
    'fine-tuned on 1 digit from 1 of 1 corrected page; the field reader on 1 field'
    """
    f = side.get("finetune", {})

    def count(n, noun):  # "1 field", "2 fields"
        return f"{n} {noun}" if n == 1 else f"{n} {noun}s"

    line = (f"fine-tuned on {count(f.get('digits', 0), 'digit')} from {f.get('pages_used', 0)} of "
            f"{count(f.get('corrected_pages', 0), 'corrected page')}")
    skipped = f.get("pages_skipped") or {}
    if skipped:
        line += "; not used: " + ", ".join(f"{why} {n}" for why, n in skipped.items())
    if f.get("field_reader_fields"):
        line += f"; the field reader on {count(f['field_reader_fields'], 'field')}"
    m = f.get("metrics") or {}
    if "holdout_digit_accuracy_after" in m:
        line += (f"; held-out digits right {100 * m['holdout_digit_accuracy_before']:.1f}% -> "
                 f"{100 * m['holdout_digit_accuracy_after']:.1f}% ({m.get('holdout_digits', 0)} digits)")
    return line


def finetune_field_reader(
    inputs: list[np.ndarray], digits: list[str], base_path: str | Path, out_path: str | Path, *,
    epochs: int = FINETUNE_EPOCHS, lr: float = FINETUNE_LR, seed: int = 0, batch_size: int = 32,
) -> Path:
    """Fine-tune every network of the SDNN field reader on corrected fields (CTC: the corrected
    string is all it needs, no digit boxes); write the weights and their sidecar.

    ``inputs`` are :func:`cheque_reader.sdnn.field_input` arrays, ``digits`` their corrected strings.
    Batch-norm statistics stay the base model's; each field is stretched 0.85-1.2x in width and
    given a little noise each epoch.

    >>> import cv2, tempfile
    >>> from cheque_reader import sdnn
    >>> img = np.full((60, 200), 255, np.uint8)
    >>> _ = cv2.putText(img, "260", (10, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.4, 0, 3)
    >>> out = Path(tempfile.mkdtemp()) / "tuned_sdnn.pt"
    >>> tuned = finetune_field_reader([sdnn.field_input(img)], ["260"], sdnn.default_sdnn_path(), out, epochs=1)
    >>> tuned == out, out.with_suffix(".json").is_file(), sdnn.FieldReader(tuned).read([sdnn.field_input(img)])[0].digits
    (True, True, '260')
    """
    import copy
    import hashlib

    import cv2
    import torch

    from . import sdnn

    t0 = time.time()
    nets, meta = sdnn._load_sdnn(Path(base_path), "cpu")
    nets = [copy.deepcopy(n) for n in nets]  # the loaded ones are shared by every reader in this process
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    ctc = torch.nn.CTCLoss(blank=sdnn.BLANK, zero_infinity=True)
    history = []
    for net in nets:
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=0.0)
        for epoch in range(epochs):
            _train_keeping_norm_statistics(net)
            order = rng.permutation(len(inputs))
            total = 0.0
            for b in range(0, len(order), batch_size):
                idx = order[b : b + batch_size]
                xs = []
                for i in idx:
                    x = inputs[i]
                    w = int(np.clip(round(x.shape[1] * rng.uniform(0.85, 1.2)), 2 * sdnn.STRIDE, sdnn.MAX_INPUT_WIDTH))
                    x = cv2.resize(x, (w, x.shape[0]), interpolation=cv2.INTER_LINEAR)
                    xs.append((x + rng.normal(0, 0.03, x.shape)).astype(np.float32))
                x, widths = sdnn.stack_inputs(xs)
                targets = torch.tensor([int(c) for i in idx for c in digits[i]], dtype=torch.long)
                loss = ctc(net(torch.from_numpy(x)).transpose(0, 1), targets,
                           torch.tensor(np.maximum(widths // sdnn.STRIDE, 1)), torch.tensor([len(digits[i]) for i in idx]))
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += float(loss.detach())
            history.append(round(total / max(1, -(-len(order) // batch_size)), 5))
        net.eval()
    out = Path(out_path)
    state = {str(i): {k: v.detach().clone() for k, v in n.state_dict().items()} for i, n in enumerate(nets)}
    if "members" not in meta.get("architecture", {}):
        state = state["0"]
    buf = _io.BytesIO()
    torch.save(state, buf)
    side = dict(meta)
    side.update(sha256=hashlib.sha256(buf.getvalue()).hexdigest(), name=out.stem,
                base_model=f"sdnn-v{meta.get('version', 1)}-{str(meta.get('sha256', ''))[:8]}",
                finetune={"fields": len(inputs), "epochs": epochs, "lr": lr, "seed": seed,
                          "seconds": round(time.time() - t0, 1), "loss_history": history,
                          "note": "amount_calibration and thresholds are the base model's, not re-measured"})
    out.write_bytes(buf.getvalue())
    out.with_suffix(".json").write_text(json.dumps(side, indent=1) + "\n")
    log.info("finetune: field reader fine-tuned on %d fields -> %s", len(inputs), out)
    return out
