"""Review: which reads go to a person and why, the HTML review page, corrections.

Flags (used by the pipeline):

>>> review_reasons("ok", confidence=0.95, threshold=0.9)
()
>>> review_reasons("ok", confidence=0.5, threshold=0.9, grammar_ok=False)
('low_confidence', 'grammar')

The review page (:func:`write_review_page`) is one static HTML file plus PNG crops,
written only inside the folder given. Every text on it (file names are untrusted) is
escaped by Jinja2's autoescaping; the data the script needs travels as JSON in a
``<script type="application/json">`` block and is shown with ``textContent`` only.
The reviewer's corrections come back as ``corrections.csv`` (``source,page,digits``),
read by :func:`load_corrections`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import numbers
import os
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np

from . import io, locate, preprocess
from .config import DEFAULT_REVIEW_THRESHOLD, ReadOptions
from .errors import UsageError
from .types import (
    REVIEW_REASONS,
    STATUS_ERROR,
    STATUS_NO_DIGITS,
    STATUS_NO_FIELD,
    BBox,
    ChequeResult,
)

if TYPE_CHECKING:  # pandas is imported where a frame is read or made, not with the module:
    import pandas as pd  # read_cheque's pipeline imports this module for its flags (pandas took 0.27 s)

log = logging.getLogger("cheque_reader")


def resolve_threshold(options: ReadOptions, metadata: Mapping | None = None, bitonal: bool = False) -> float:
    """The confidence a read needs to skip review.

    ``options.review_threshold`` wins; else ``options.target_error`` is looked up in the
    model's ``thresholds`` table (target error -> threshold, measured on held-out real
    fields; for a ``bitonal`` page its ``thresholds_bitonal`` table, measured on the same
    fields in black and white, when it has one), taking the strictest entry whose target is
    at most the one asked for; a target stricter than every entry gets the strictest one, with a
    warning; else :data:`~cheque_reader.config.DEFAULT_REVIEW_THRESHOLD`. A ``target_error``
    outside (0, 1), or a ``review_threshold`` outside [0, 1], raises
    :class:`~cheque_reader.errors.UsageError` (:func:`check_target_error`, :func:`check_review_threshold`).

    >>> meta = {"thresholds": {"0.005": 0.97, "0.01": 0.9, "0.02": 0.8}, "thresholds_bitonal": {"0.01": 0.95}}
    >>> resolve_threshold(ReadOptions(target_error=0.01), meta), resolve_threshold(ReadOptions(target_error=0.01), meta, bitonal=True)
    (0.9, 0.95)
    >>> resolve_threshold(ReadOptions(review_threshold=0.5))
    0.5
    """
    check_target_error(options.target_error)
    check_review_threshold(options.review_threshold)
    if options.review_threshold is not None:
        return float(options.review_threshold)
    metadata = metadata or {}
    table = (bitonal and metadata.get("thresholds_bitonal")) or metadata.get("thresholds") or {}
    if options.target_error is not None and table:
        usable = {float(k): float(v) for k, v in table.items() if float(k) <= options.target_error + 1e-12}
        if usable:
            return usable[max(usable)]
        _warn_stricter(str(metadata.get("name", "")), options.target_error, min(float(k) for k in table))
        return max(float(v) for v in table.values())
    if options.target_error is not None:
        _warn_no_table(str(metadata.get("name", "")))
    return DEFAULT_REVIEW_THRESHOLD


def check_target_error(target_error: float | None) -> None:
    """Raise :class:`~cheque_reader.errors.UsageError` unless ``target_error`` is ``None`` or a rate in (0, 1).

    >>> check_target_error(0.01)
    >>> check_target_error(5)
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: target error 5 is not an error rate between 0 and 1 (0.01 means 1%)
    """
    _check_number("target error", target_error)
    if target_error is not None and not 0 < target_error < 1:  # NaN fails too
        raise UsageError(f"target error {target_error:g} is not an error rate between 0 and 1 (0.01 means 1%)")


def _check_number(what: str, value) -> None:
    """A :class:`~cheque_reader.errors.UsageError` for a ``value`` that is neither ``None`` nor a number
    (a ``"0.9"`` read from a configuration file raised a TypeError that named no option).

    >>> _check_number("review threshold", "0.9")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: review threshold must be a number, not '0.9' (str)
    """
    if value is not None and (isinstance(value, bool) or not isinstance(value, (numbers.Real, Decimal))):
        raise UsageError(f"{what} must be a number, not {value!r} ({type(value).__name__})")


def check_review_threshold(threshold: float | None) -> None:
    """Raise :class:`~cheque_reader.errors.UsageError` unless ``threshold`` is ``None`` or a confidence
    in [0, 1] (as ``--review-threshold`` takes): 95 would send every read to review, -1 none.

    >>> check_review_threshold(0.95)
    >>> check_review_threshold(95)
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: review threshold 95 is not a confidence between 0 and 1 (0.95 means 95%)
    """
    _check_number("review threshold", threshold)
    if threshold is not None and not 0 <= threshold <= 1:  # NaN fails too
        raise UsageError(f"review threshold {threshold:g} is not a confidence between 0 and 1 (0.95 means 95%)")


@functools.cache
def _warn_stricter(model: str, target: float, smallest: float) -> None:
    log.warning("target error %g is stricter than the thresholds table of model %r goes (%g): "
                "using its strictest threshold", target, model, smallest)


@functools.cache
def _warn_no_table(model: str) -> None:
    log.warning("model %r ships no thresholds table: --target-error falls back to review threshold %.2f",
                model, DEFAULT_REVIEW_THRESHOLD)


def review_reasons(
    status: str,
    *,
    confidence: float = 0.0,
    threshold: float = DEFAULT_REVIEW_THRESHOLD,
    grammar_ok: bool = True,
    segmentation_ok: bool = True,
    field_ok: bool = True,
    micr_ok: bool = True,
) -> tuple[str, ...]:
    """The review reason codes for a read; empty when it needs no review. ``field_ok`` false: a
    field was read, but whether it holds the page's one amount is uncertain (two cheques on a page;
    a field cut where its layout's printed box usually lies, no box being found). ``micr_ok`` false:
    an X9.37 item's amount read is not the amount its MICR record encodes
    (:func:`~cheque_reader.x937.micr_match` ``"false"``), an encoding error or a misread.

    >>> review_reasons("ok", confidence=0.99, threshold=0.9), review_reasons("ok", confidence=0.99, threshold=0.9, field_ok=False)
    ((), ('no_field',))
    >>> review_reasons("no_digits", field_ok=False)   # nothing read in a field cut where no box was found
    ('no_field', 'segmentation')
    >>> review_reasons("ok", confidence=0.99, threshold=0.9, micr_ok=False)
    ('micr_mismatch',)
    """
    if status == STATUS_ERROR:
        return ("error",)
    if status == STATUS_NO_FIELD:
        return ("no_field",)
    if status == STATUS_NO_DIGITS:
        return ("segmentation",) if field_ok else ("no_field", "segmentation")
    reasons = []
    if confidence < threshold:
        reasons.append("low_confidence")
    if not field_ok:
        reasons.append("no_field")
    if not segmentation_ok:
        reasons.append("segmentation")
    if not grammar_ok:
        reasons.append("grammar")
    if not micr_ok:
        reasons.append("micr_mismatch")
    return tuple(reasons)


# --------------------------------------------------------------------------- the review page

#: Columns of ``corrections.csv``.
CORRECTION_COLUMNS = ("source", "page", "digits")

#: Largest side of a whole-page thumbnail shown when a page has no amount field.
THUMBNAIL_MAX = 1000

#: Digit-box colours by confidence: (lowest confidence, colour), checked in order.
BOX_COLOURS = ((0.9, "#1a7f37"), (0.5, "#d97706"), (0.0, "#d1242f"))


def _box_colour(confidence: float) -> str:
    for lo, colour in BOX_COLOURS:
        if confidence >= lo:
            return colour
    return BOX_COLOURS[-1][1]


def _box_legend() -> list[tuple[str, str]]:
    """The review page's legend of :data:`BOX_COLOURS`: ``(words, colour)``, surest first.

    >>> _box_legend()
    [('0.90 or more', '#1a7f37'), ('0.50 to 0.90', '#d97706'), ('below 0.50', '#d1242f')]
    """
    out, above = [], None
    for lo, colour in BOX_COLOURS:
        if above is None:
            words = f"{lo:.2f} or more"
        elif lo > 0:
            words = f"{lo:.2f} to {above:.2f}"
        else:
            words = f"below {above:.2f}"
        out.append((words, colour))
        above = lo
    return out


def _truthy(value) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return str(value).strip().lower() in ("true", "1", "yes")


def _text(value) -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value)


def _int_or_none(value) -> int | None:
    import pandas as pd

    try:
        if value is None or value is pd.NA or value == "" or pd.isna(value):
            return None
        return int(value)
    except (TypeError, ValueError):
        return None


def review_items(results: pd.DataFrame, *, digits: pd.DataFrame | None = None, everything: bool = False) -> list[dict]:
    """The reads to review, worst first (lowest confidence, then input order).

    Each item is a plain dict: ``source, page, status, digits, text, confidence,
    reasons`` (list), ``field`` (``[x, y, w, h]`` page pixels or ``None``), ``error``, an X9.37
    item's ``micr_amount`` and ``micr_match`` (empty for other pages) and ``boxes``: the digit boxes of ``digits`` (a ``digits.csv`` frame) for that page,
    as dicts ``label, confidence, x, y, w, h`` in field pixels.

    >>> import pandas as pd
    >>> df = pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["12", "7"],
    ...                    "confidence": [0.95, 0.2], "needs_review": ["false", "true"],
    ...                    "review_reasons": ["", "low_confidence"]})
    >>> [(i["source"], i["reasons"]) for i in review_items(df)]
    [('b.png', ['low_confidence'])]
    """
    import pandas as pd

    boxes: dict[tuple[str, int], list[dict]] = {}
    if digits is not None and len(digits):
        for _, d in digits.sort_values(["index"] if "index" in digits.columns else []).iterrows():
            key = (_text(d["source"]), _int_or_none(d.get("page")) or 1)
            boxes.setdefault(key, []).append(
                {
                    "label": _text(d.get("label")),
                    "confidence": float(d["confidence"]) if not pd.isna(d.get("confidence")) else 0.0,
                    **{k: float(d[k]) for k in ("x", "y", "w", "h")},
                }
            )
    items = []
    for order, (_, r) in enumerate(results.iterrows()):
        if not everything and not _truthy(r.get("needs_review", True)):
            continue
        source, page = _text(r.get("source")), _int_or_none(r.get("page")) or 1
        conf = r.get("confidence")
        conf = float(conf) if conf is not None and conf != "" and not pd.isna(conf) else 0.0
        fbox = [_int_or_none(r.get(c)) for c in ("field_x", "field_y", "field_w", "field_h")]
        reasons = [x for x in _text(r.get("review_reasons")).split(";") if x]
        items.append(
            {
                "order": order,
                "source": source,
                "page": page,
                "status": _text(r.get("status")),
                "digits": _text(r.get("digits")),
                "text": _text(r.get("text")),
                "confidence": conf,
                "reasons": reasons,
                "needs_review": _truthy(r.get("needs_review", True)),
                "field": fbox if all(v is not None for v in fbox) and fbox[2] > 0 and fbox[3] > 0 else None,
                "error": _text(r.get("error")),
                "layout": _text(r.get("layout")),
                "micr_amount": _text(r.get("micr_amount")),  # an X9.37 item's encoded amount: a hint, not the truth
                "micr_match": _text(r.get("micr_match")),
                "boxes": boxes.get((source, page), []),
                "note": "",
            }
        )
    if boxes and not any(it["boxes"] for it in items) and not any(
            (_text(r.get("source")), _int_or_none(r.get("page")) or 1) in boxes for _, r in results.iterrows()):
        # a digits file of another run: its boxes were left out without a word
        log.warning("review: no page of the digits file (%d read) is a page of the results: a digits file of "
                    "another run? No digit boxes are drawn", len(boxes))
    items.sort(key=lambda it: (it["confidence"], it["order"]))
    return items


def _load_page(path: Path, page: int, pages: io.PageReader, warned: set):
    """Page ``page`` of ``path`` (a :class:`~cheque_reader.types.Page`) through :mod:`cheque_reader.io`,
    ``None`` if unreadable (that page only: the good pages of a file cut short still load); each
    file that cannot be read, and each page, is warned about once (in ``warned``)."""
    try:
        return pages.page(path, page)
    except Exception as exc:  # an unreadable scan still gets its row on the page
        whole = pages.doc is None
        key = str(path) if whole else (str(path), page)
        if key not in warned:
            warned.add(key)
            log.warning("review: cannot load %s%s: %s", path, "" if whole else f" page {page}", exc)
        return None


def _write_png(path: Path, image: np.ndarray) -> None:
    import cv2

    ok, buf = cv2.imencode(".png", image)
    if not ok:
        raise ValueError("cannot encode PNG")
    path.write_bytes(buf.tobytes())


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _check_out_dir(results: pd.DataFrame, out: Path, root: Path) -> None:
    """A :class:`~cheque_reader.errors.UsageError` when the review folder ``out`` holds a scan of
    ``results`` (``review --out scans`` or ``--out .`` above them): its marker made a later ``read`` of
    the folder above leave the scans out, and ``read scans`` read the crops as cheques."""
    if "source" not in results.columns:
        return
    folder = Path(os.path.abspath(out))
    for source in results["source"].dropna().unique():
        if source and Path(os.path.abspath(root / str(source))).is_relative_to(folder):
            raise UsageError(f"the review folder {out} holds the scan {source}: give the page a folder of its "
                             "own (its crops would be read as cheques, and the scans left out of a later read)")


def write_review_page(
    results: pd.DataFrame | Sequence[ChequeResult],
    out_dir: str | Path,
    *,
    digits: pd.DataFrame | None = None,
    image_root: str | Path | None = None,
    everything: bool = False,
    title: str = "cheque-reader review",
) -> Path:
    """Write a static HTML review page of the reads that need review; return its path.

    ``results``: a results frame (``read_folder``'s, :func:`~cheque_reader.report.read_results`'), or
    the :class:`~cheque_reader.types.ChequeResult` objects of ``read_cheque`` calls (their digit reads
    give the boxes when ``digits`` is not given).

    ``out_dir/index.html`` holds the page and ``out_dir/crops/item-NNNNN.png`` the
    amount-field crops (generated names: the user's file names never become paths).
    Nothing is written outside ``out_dir``. Scans are found at ``image_root / source``
    (``source`` as in the results; ``image_root`` defaults to the current folder): for
    ``read_folder``'s frame of a folder, that folder, whose files its sources are relative to. A
    read of bytes, a file object or an array names no file: it is listed without its crop.
    Digit boxes from ``digits`` (``digits.csv``) are in the pixels of the field as read:
    deskewed and turned upright (:func:`~cheque_reader.locate.refind_field`), which is what
    the crop shows; a ``.toml`` layout's field, not found again, is shown as it lies on
    the page. A read with no field, or one cheque's of two on the page (reason ``no_field``),
    shows the whole page, scaled down. The page works offline from ``file://``: Enter accepts the typed digits and
    moves on, Tab moves on, and "Export" downloads ``corrections.csv``. When not one of the scans to review loads (other than those
    ``read`` could not open either), :class:`~cheque_reader.errors.UsageError` is raised
    and no page is written (an earlier page in ``out_dir`` is kept whole, its crops with it):
    ``image_root`` is most likely not the folder they were read from.

    Example::

        results = read_folder("scans/", output="results.csv", digits_output="digits.csv")
        page = write_review_page(results, "review/", digits=load_digits("digits.csv"), image_root="scans/")
        # open review/index.html, correct, Export -> corrections.csv (load_corrections)
    """
    results, digits = _results_and_digits(results, digits)
    out = Path(out_dir)
    root = Path(image_root) if image_root is not None else Path(".")
    _check_out_dir(results, out, root)
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    io.mark_output_folder(out, "A review page and its crops (cheque-reader review)")
    # the crops are written aside and take the place of an earlier page's only once this page is made: a
    # run that failed (the wrong --images) had deleted them, leaving the earlier index.html without pictures
    staging = Path(tempfile.mkdtemp(prefix=".crops-", dir=out))
    try:
        return _write_review_page(results, out, staging, root, digits, everything, title)
    except BaseException:
        if created:  # nothing of a failed run is left behind (an empty crops folder was)
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _results_and_digits(results, digits: pd.DataFrame | None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """``results`` as a frame: a DataFrame as it is (``read_folder``'s, :func:`~cheque_reader.report.read_results`'),
    or the :class:`~cheque_reader.types.ChequeResult` objects of ``read_cheque`` calls, whose own digit
    reads give the boxes when ``digits`` is ``None``; anything else raises ``TypeError`` saying what is
    taken (a list of dicts raised ``AttributeError: 'list' object has no attribute 'columns'``).

    >>> from cheque_reader.types import DigitRead
    >>> r = ChequeResult("a.png", 1, "ok", digits="7", digit_reads=(DigitRead(7, 0.9, 1, 0.05, BBox(3, 4, 10, 20)),))
    >>> frame, digits = _results_and_digits([r], None)
    >>> frame["source"].tolist(), digits[["label", "x", "w"]].values.tolist()
    (['a.png'], [[7, 3, 10]])
    >>> _results_and_digits([{"source": "a.png"}], None)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    TypeError: results is a DataFrame (read_folder's, report.read_results') or a list of ChequeResult (read_cheque's), not a list of dict
    """
    import pandas as pd

    from .report import DIGIT_COLUMNS, as_results_frame, digit_rows

    frame = as_results_frame(results)
    if frame is results:
        return results, digits
    if digits is None:
        digits = pd.DataFrame([d for r in results for d in digit_rows(r)], columns=list(DIGIT_COLUMNS))
    return frame, digits


def _uncertain_field_note(status: str) -> str:
    """What a card says of a field read with the reason ``no_field``: the field was cut where the
    layout's printed box usually lies, no box being found there (``pipeline.guessed_field``), or it is
    one of two cheques' on the page; a row cannot tell which, so the note names both.

    >>> _uncertain_field_note("no_digits")[:40]
    'no digit was found in the boxed area: no'
    """
    why = ("no printed amount box was found there (it lies where the layout's box usually does), or there is "
           "more than one cheque on this page (the row holds one amount)")
    if status == STATUS_NO_DIGITS:
        return f"no digit was found in the boxed area: {why}; type the amount from the page"
    return f"the amount read (boxed) may not be this page's: {why}; check it against the page"


def _write_review_page(results, out: Path, staging: Path, root: Path, digits, everything: bool, title: str) -> Path:
    """:func:`write_review_page`'s work, its crops written into ``staging`` until the page is made."""
    import jinja2

    items = review_items(results, digits=digits, everything=everything)
    pages, warned = io.PageReader(), set()
    tried, loaded = [], 0  # scans that `read` could open (not its error rows), and how many load here
    for n, it in enumerate(items, 1):
        it["id"] = n
        it["crop"] = None
        page = _load_page(root / it["source"], it["page"], pages, warned) if it["source"] else None
        if it["source"] and it["status"] != STATUS_ERROR:
            tried.append(it["source"])
            loaded += page is not None
        if page is None:
            continue
        image, zoom = page.image, 1.0
        if it["field"] is not None and "no_field" not in it["reasons"]:
            # the field as read (upright, deskewed): the digit boxes are in its pixels
            field = locate.refind_field(preprocess.descreened(page), BBox(*it["field"]), it["layout"])
            if field is not None:
                crop, zoom = field.image, field.zoom
            else:  # a .toml layout's field: the box as it lies on the page
                x, y, w, h = it["field"]
                crop = image[max(y, 0) : y + h, max(x, 0) : x + w]
        else:  # no field, or one of two cheques' (reason no_field): the whole page, scaled down
            import cv2

            crop = image
            scale = min(1.0, THUMBNAIL_MAX / max(image.shape))
            if scale < 1.0:
                crop = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)),
                                  interpolation=cv2.INTER_AREA)
            it["boxes"] = []
            if it["field"] is not None:  # a field whose amount may not be the page's: where it lies
                x, y, w, h = it["field"]
                it["boxes"] = [{"label": "amount read", "confidence": it["confidence"], "x": x, "y": y, "w": w, "h": h}]
                zoom = scale
                it["note"] = _uncertain_field_note(it["status"])
        if crop.size == 0:
            continue
        name = f"item-{n:05d}.png"
        _write_png(staging / name, np.ascontiguousarray(crop))
        ch, cw = crop.shape[:2]
        it["crop"] = f"crops/{name}"
        it["crop_w"], it["crop_h"] = cw, ch
        # display width: small fields are enlarged for reading, large ones shrunk
        it["display_w"] = int(min(760, max(360, 2.5 * cw)))
        it["box_css"] = [
            {
                "label": b["label"],
                "confidence": b["confidence"],
                "colour": _box_colour(b["confidence"]),
                "left": round(100 * zoom * b["x"] / cw, 3),
                "top": round(100 * zoom * b["y"] / ch, 3),
                "width": round(100 * zoom * b["w"] / cw, 3),
                "height": round(100 * zoom * b["h"] / ch, 3),
            }
            for b in it["boxes"]
        ]
    pages.close()
    if tried and not loaded:
        raise UsageError(f"none of the {len(tried)} scans to review could be loaded from {root.resolve()} "
                         f"(the first: {tried[0]}): give the folder they were read from (image_root; --images DIR on the command line)")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("cheque_reader", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    reasons_present = [r for r in REVIEW_REASONS if any(r in it["reasons"] for it in items)]
    reasons_present += sorted({r for it in items for r in it["reasons"]} - set(reasons_present))
    data = [
        {"id": it["id"], "source": it["source"], "page": it["page"], "digits": it["digits"], "reasons": it["reasons"]}
        for it in items
    ]
    html = env.get_template("review.html.j2").render(
        title=title,
        items=items,
        data=data,
        reasons=reasons_present,
        n_results=len(results),
        everything=everything,
        legend=_box_legend() if any(it.get("box_css") for it in items) else (),
        store_key="cheque-reader-review:" + hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16],
    )
    page = out / "index.html"
    if not _inside(page, out):
        raise OSError(f"{page} leads outside {out}; refusing to write there")
    crops = out / "crops"
    crops.mkdir(exist_ok=True)
    if not _inside(crops, out):
        raise OSError(f"{crops} leads outside {out}; refusing to write there")
    for old in crops.glob("item-*.png"):  # crops of an earlier page in this folder
        old.unlink()
    for made in staging.iterdir():
        os.replace(made, crops / made.name)
    page.write_text(html, encoding="utf-8")
    return page


#: Columns of ``digits.csv`` (``read --digits-out``) the review page draws its boxes from.
DIGIT_BOX_COLUMNS = ("source", "page", "label", "confidence", "x", "y", "w", "h")


def load_digits(path: str | Path) -> pd.DataFrame:
    """Read ``digits.csv`` (``read --digits-out``) for :func:`write_review_page`'s ``digits``, in the
    format ``read`` wrote it by its suffix (``.csv``, ``.jsonl`` or ``.parquet``, as ``-o``).

    A file without its columns (a results file given by mistake), or that cannot be parsed, raises
    :class:`~cheque_reader.errors.UsageError` naming what is wrong.

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "digits.csv"
    >>> _ = path.write_text("source,page,index,label,confidence,alt_label,alt_confidence,x,y,w,h\\n"
    ...                     "a.png,1,0,7,0.9,1,0.05,3,4,10,20\\n")
    >>> load_digits(path)[["source", "label", "w"]].values.tolist()
    [['a.png', 7, 10]]
    """
    import pandas as pd

    from .report import _without_cut_last_row, results_format

    fmt = results_format(path)
    # a run stopped while writing a row leaves it cut off: its blank box raised "could not convert string
    # to float: ''", a traceback from `review --digits`
    source = path if fmt == "parquet" else _without_cut_last_row(path, fmt)
    try:
        if fmt == "parquet":
            df = pd.read_parquet(path)
        elif fmt == "jsonl" and not Path(path).stat().st_size:  # a run that read no digit wrote no line
            df = pd.DataFrame(columns=list(DIGIT_BOX_COLUMNS))
        elif fmt == "jsonl":
            df = pd.read_json(source, lines=True, dtype={"source": str})
        else:
            df = pd.read_csv(source, dtype={"source": str}, keep_default_na=False, encoding_errors="surrogateescape")
    except ImportError as exc:
        raise UsageError("reading Parquet needs pyarrow: pip install 'cheque-reader[parquet]'") from exc
    except ValueError as exc:  # pandas' and pyarrow's parse errors are ValueErrors
        raise UsageError(f"{path}: not a digits file from read --digits-out ({fmt} that cannot be read: {exc})") from exc
    missing = [c for c in DIGIT_BOX_COLUMNS if c not in df.columns]
    if missing:
        raise UsageError(f"{path}: not a digits file from read --digits-out (missing columns {', '.join(missing)})")
    for col in ("x", "y", "w", "h"):  # a box the page cannot draw: say which row, not a traceback
        bad = pd.to_numeric(df[col], errors="coerce").isna()
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise UsageError(f"{path}: {col} {df[col].iloc[row]!r} of the digit on row {row + 1} is not a number")
    return df


#: The review page's export puts a ``'`` before a cell that begins with ``= + - @``, a tab or a return
#: (a spreadsheet would run it as a formula: file names are untrusted input; OWASP's advice on CSV
#: injection), or with ``'`` itself; :func:`load_corrections` takes it off again.
FORMULA_ESCAPE = r"^'(?=[=+\-@\t\r'])"


def load_corrections(path: str | Path) -> pd.DataFrame:
    """Read ``corrections.csv`` (``source,page,digits``) from the review page.

    Digits stay text (leading zeros kept); ``page`` is a whole number from 1 (default 1; ``2.0`` is 2); the
    separators a reviewer may type (``, . - / space``) are dropped; a row whose digits
    hold anything else raises ``ValueError``, as do two different corrections of one page (a row
    repeated as it is is kept once).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "corrections.csv"
    >>> _ = path.write_text('source,page,digits\\na.png,1,"1,250.00"\\nb.png,,0075\\n')
    >>> load_corrections(path).values.tolist()
    [['a.png', 1, '125000'], ['b.png', 1, '0075']]
    >>> _ = path.write_text("source,page,digits\\n'=1+2.png,1,7\\n")   # the export's escape taken off
    >>> load_corrections(path)["source"].tolist()
    ['=1+2.png']
    """
    from .report import read_text_csv

    df = read_text_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in ("source", "digits") if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: corrections need columns source,page,digits (missing {', '.join(missing)})")
    if {"status", "needs_review"} <= set(df.columns):  # a results file has source,page,digits too: every read,
        # right or wrong, reviewed or not, was learnt as a correction (finetune --corrections results.csv)
        raise ValueError(f"{path}: a results file of `read` (it has status and needs_review columns), not "
                         "corrections: give the review page's export (corrections.csv), or keep only the "
                         "source, page and digits of the pages a person checked")
    for col in ("source", "digits"):  # the review page's escape of a cell a spreadsheet would run as a formula
        df[col] = df[col].str.replace(FORMULA_ESCAPE, "", regex=True)
    if "page" not in df.columns:
        df["page"] = "1"
    page = df["page"].str.strip().replace("", "1")
    bad = df[~page.str.fullmatch(r"0*[1-9]\d*(\.0*)?")]  # 2 or 2.0 (a page column saved as floats); page 0 is none
    if len(bad):  # pandas said only "Failed to parse string: 'abc' as a scalar of type int64"
        raise ValueError(f"{path}: page must be a whole number, got {bad['page'].iloc[0]!r} for {bad['source'].iloc[0]!r} "
                         "(pages count from 1)")
    df["page"] = page.str.replace(r"\.0*$", "", regex=True).astype("Int64")
    df["digits"] = df["digits"].str.replace(r"[\s,.\-/]", "", regex=True)
    bad = df[~df["digits"].str.fullmatch(r"\d*")]
    if len(bad):
        raise ValueError(f"{path}: digits must be digits, got {bad['digits'].iloc[0]!r} for {bad['source'].iloc[0]!r}")
    df = df.drop_duplicates(subset=["source", "page", "digits"])  # two exports of one review put together
    twice = df[df.duplicated(subset=["source", "page"], keep=False)]
    if len(twice):  # both were learnt, one of them wrong
        first = twice.iloc[0]
        other = twice[(twice["source"] == first["source"]) & (twice["page"] == first["page"])]["digits"].tolist()
        raise ValueError(f"{path}: {first['source']!r} page {first['page']} is corrected to "
                         f"{' and '.join(map(repr, other))}: keep one correction a page")
    return df[list(CORRECTION_COLUMNS)].astype({"source": "string", "digits": "string"}).reset_index(drop=True)
