"""Metrics of a run against ground truth: accuracy, field IoU, risk–coverage, calibration.

A truth table has one row per page with the source file, an optional page number
(default 1) and the digit string; other column names can be given (ORAND CAR-A's
``labels.csv`` uses ``file`` and ``amount_string``). Truth rows are matched to result
rows by exact path first, then by path suffix, then by file name when that is unique.
A truth row without a result counts as a wrong read that was never accepted.

Definitions (all over the matched truth rows unless said otherwise):

- string accuracy: share of rows whose ``digits`` equal the truth exactly;
- digit accuracy: ``1 - sum(edit distance) / sum(len(truth digits))`` (Levenshtein
  distance between digit strings, pooled over rows, floored at 0) — a character
  accuracy, so a dropped or extra digit costs one;
- field IoU: where the truth has ``field_x, field_y, field_w, field_h``;
- read rate at error ``e``: the largest share of all truth rows that can be accepted
  by a confidence threshold (accept ``confidence >= t``) while the accepted reads have
  at most error ``e`` (the risk–coverage curve);
- ECE: expected calibration error of ``confidence`` against exact-string correctness,
  15 equal-width bins, weighted by bin size; with its noise floor, the ECE a perfectly
  calibrated confidence would show on this many reads (small sets read high);
- auto error: error rate among the reads the run did not flag (``needs_review`` false);
- amount accuracy, where the truth has an ``amount`` column (a decimal value, ``1234.56``): the
  share of those rows whose ``amount`` has the same value, cents included (right digits with a
  missed decimal point are a wrong amount); and the share of the unflagged reads among them whose
  value is wrong;
- layout accuracy, where the truth and the results have a ``layout`` column: the share of those
  rows whose layout (what ``--layout auto`` chose) is the truth's.

>>> import pandas as pd
>>> res = pd.DataFrame({"source": ["d/a.png", "d/b.png"], "page": [1, 1], "digits": ["12", "70"],
...                     "confidence": [0.9, 0.4], "needs_review": ["false", "true"]})
>>> truth = pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["12", "71"]})
>>> rep = evaluate_results(res, truth)
>>> rep.n, rep.string_accuracy, rep.digit_accuracy
(2, 0.5, 0.75)
>>> rep.read_rate["0.01"]
0.5
"""

from __future__ import annotations

import logging
import math
import os
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path, PurePosixPath
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .calibrate import calibration_error, reliability
from .report import as_results_frame
from .types import ChequeResult

log = logging.getLogger("cheque_reader")

#: Error targets of the read-rate table (0.1%, 0.5%, 1%, 2%).
ERROR_TARGETS = (0.001, 0.005, 0.01, 0.02)

#: Bins of the reliability diagram and ECE.
ECE_BINS = 15

FIELD_COLUMNS = ("field_x", "field_y", "field_w", "field_h")


def target_key(target: float) -> str:
    """The text key of an error target in tables (``0.01 -> "0.01"``).

    >>> target_key(0.001), target_key(0.02)
    ('0.001', '0.02')
    """
    return f"{float(target):g}"


@dataclass(frozen=True)
class EvaluationReport:
    """What :func:`evaluate_results` measured.

    ``confidence`` and ``correct`` hold one entry per truth row (``nan`` / ``False``
    where no result matched) so that curves can be drawn again from the report.

    >>> report = evaluate_results(pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["0125", "30"],
    ...                     "confidence": [0.99, 0.6], "needs_review": ["false", "true"]}),
    ...                           pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["0125", "300"]}))
    >>> report.n, report.string_accuracy, report.auto_rate, report.auto_error, report.correct
    (2, 0.5, 0.5, 0.0, (True, False))
    """

    n: int
    n_matched: int
    n_missing: int
    n_extra_results: int
    string_accuracy: float
    digit_accuracy: float
    n_field: int = 0
    field_iou_mean: float | None = None
    field_iou_share_050: float | None = None
    read_rate: Mapping[str, float] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    ece: float | None = None
    ece_noise_floor: float | None = None
    auto_rate: float | None = None
    auto_error: float | None = None
    n_amount: int = 0
    amount_accuracy: float | None = None
    auto_amount_error: float | None = None
    n_layout: int = 0
    layout_accuracy: float | None = None
    confidence: tuple[float, ...] = ()
    correct: tuple[bool, ...] = ()

    def summary(self) -> dict:
        """The scalar figures as a plain dict (no per-row arrays)."""
        d = asdict(self)
        d.pop("confidence")
        d.pop("correct")
        return d

    def format(self) -> str:
        """A short human-readable table of the figures."""

        def pct(v: float | None) -> str:
            return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.2f}%"

        lines = [
            f"pages evaluated     {self.n} (matched {self.n_matched}, missing {self.n_missing}, "
            f"results without truth {self.n_extra_results})",
            f"string accuracy     {pct(self.string_accuracy)}",
            f"digit accuracy      {pct(self.digit_accuracy)}",
        ]
        if self.n_field:
            lines.append(
                f"field IoU           mean {self.field_iou_mean:.3f}, IoU>=0.5 {pct(self.field_iou_share_050)} "
                f"of {self.n_field}"
            )
        for key, rate in self.read_rate.items():
            thr = self.thresholds.get(key)
            thr_txt = "" if thr is None or thr > 1 else f" (threshold {thr:.4f})"
            lines.append(f"read @ {100 * float(key):g}% error".ljust(20) + f"{pct(rate)}{thr_txt}")
        floor = "" if self.ece_noise_floor is None else (
            f" (a perfectly calibrated confidence would show about {pct(self.ece_noise_floor)} on this many reads)")
        lines.append(f"ECE                 {pct(self.ece)}{floor}")
        if self.auto_rate is not None:
            lines.append(f"auto-accepted       {pct(self.auto_rate)}, their error {pct(self.auto_error)}")
        if self.n_amount:
            auto = "" if self.auto_amount_error is None else f"; accepted with the value wrong {pct(self.auto_amount_error)}"
            lines.append(f"amount value right  {pct(self.amount_accuracy)} of {self.n_amount} (cents included){auto}")
        if self.n_layout:
            lines.append(f"layout right        {pct(self.layout_accuracy)} of {self.n_layout}")
        return "\n".join(lines)


# --------------------------------------------------------------------------- strings


def clean_digits(value) -> str:
    """The digits of a truth or result value as text; missing values give ``""``.

    >>> clean_digits("0,120.50"), clean_digits(None), clean_digits(float("nan"))
    ('012050', '', '')
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return re.sub(r"\D", "", str(value))


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute each cost 1).

    >>> edit_distance("1234", "1204"), edit_distance("", "12"), edit_distance("123", "13")
    (1, 2, 1)
    """
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _norm_path(value) -> str:
    s = "" if value is None or value is pd.NA else str(value)
    s = s.replace("\\", "/")
    while s.startswith("./"):
        s = s[2:]
    return s


def _as_bool(value) -> bool | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    s = str(value).strip().lower()
    if s in ("true", "1", "yes"):
        return True
    if s in ("false", "0", "no"):
        return False
    return None


# --------------------------------------------------------------------------- matching


def load_truth(path: str | Path, *, truth_source: str = "source", truth_digits: str = "digits") -> pd.DataFrame:
    """Read a truth CSV keeping the source, digit and amount columns as text (leading zeros kept); one
    that is not UTF-8 raises ``ValueError`` (:func:`~cheque_reader.report.read_text_csv`).

    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "truth.csv"
    >>> _ = path.write_text("source,digits\\na.png,0125\\n")
    >>> load_truth(path)["digits"].tolist()  # not 125
    ['0125']
    """
    from .report import read_text_csv

    return read_text_csv(path, dtype={truth_source: str, truth_digits: str, "amount": str}, keep_default_na=False)


#: A truth amount written with thousands separators: US (``1,234,567.89``) or Indian (``12,34,567.89``)
#: grouping; its commas are dropped before it is read as a decimal.
GROUPED_AMOUNT = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d{1,2}(?:,\d{2})+,\d{3})(?:\.\d*)?")


def truth_amount(value) -> Decimal | None:
    """A truth ``amount`` as a decimal: ``None`` when blank; thousands separators (US or Indian
    grouping) are dropped; anything else that is no decimal value raises ``ValueError`` (it was
    left out of the amount figures silently: ``1,234.56`` counted as no amount).

    >>> truth_amount("1,234.56"), truth_amount("25,00,000"), truth_amount(" 72.00 "), truth_amount("")
    (Decimal('1234.56'), Decimal('2500000'), Decimal('72.00'), None)
    >>> truth_amount("1.234,56")
    Traceback (most recent call last):
    ...
    ValueError: truth amount '1.234,56' is not a decimal value (write it as 1234.56)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    s = str(value).strip()
    if not s:
        return None
    if GROUPED_AMOUNT.fullmatch(s):
        s = s.replace(",", "")
    try:
        d = Decimal(s)
    except InvalidOperation:
        d = None
    if d is None or not d.is_finite():
        raise ValueError(f"truth amount {str(value)!r} is not a decimal value (write it as 1234.56)")
    return d


def same_amount(a, b) -> bool | None:
    """Whether two amount values are equal as decimals; ``None`` when ``b`` (the truth) is blank.
    ``b`` is read by :func:`truth_amount` (a truth amount that is no decimal raises ``ValueError``).

    >>> same_amount("1234.5", "1234.50"), same_amount("123450.00", "1234.50"), same_amount("", "7.00")
    (True, False, False)
    >>> same_amount("1234.56", "1,234.56")
    True
    """
    def value(v):
        if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
            return None
        try:
            return Decimal(str(v).strip())
        except InvalidOperation:
            return None

    want = truth_amount(b)
    return None if want is None else value(a) == want


class SourceIndex:
    """The rows of a results frame by page, found as :func:`match_truth` finds a truth row's (and
    :func:`~cheque_reader.finetune.collect_digits` a correction's): by the path as written (``./`` and
    backslashes aside), then by a path one of the two ends with, then by the file name alone when
    one page of the results has it.

    >>> index = SourceIndex(["scans/a.png", "scans/b.png", "old/b.png"], [1, 1, 1])
    >>> index.find("./scans/a.png", 1), index.find("/data/scans/a.png", 1), index.find("a.png", 1), index.find("a.png", 2)
    (0, 0, 0, None)
    >>> index.find("b.png", 1) is None, index.find("old/b.png", 1)  # two results named b.png: not by name
    (True, 2)
    """

    def __init__(self, sources: Iterable, pages: Iterable | None = None, *, what: str = "truth"):
        self.what = what
        self.sources = [_norm_path(s) for s in sources]
        pages = [1] * len(self.sources) if pages is None else list(pages)
        self.pages = [_page_number(p, s, "results") if _given(p) else 1 for p, s in zip(pages, self.sources)]
        self.exact: dict[tuple[str, int], int] = {}
        self.by_name: dict[tuple[str, int], list[int]] = {}
        self.twice = 0  # rows of a page already indexed (the first is found)
        for i, (s, p) in enumerate(zip(self.sources, self.pages)):
            if (s, p) in self.exact:
                self.twice += 1
                continue
            self.exact[(s, p)] = i
            self.by_name.setdefault((PurePosixPath(s).name, p), []).append(i)

    def find(self, src: str, page: int) -> int | None:
        """The row of ``src`` (a path as a person wrote it) page ``page``; ``None`` when none, or when its
        name is more than one result's and no path tells them apart (a warning)."""
        src = _norm_path(src)
        if (src, page) in self.exact:
            return self.exact[(src, page)]
        names = self.by_name.get((PurePosixPath(src).name, page), [])
        res_src = self.sources
        suffix = [i for i in names if res_src[i].endswith("/" + src) or src.endswith("/" + res_src[i])]
        if len(suffix) == 1:
            return suffix[0]
        if len(names) == 1:
            return names[0]
        if len(names) > 1:
            log.warning("%s %s page %d matches %d results by file name; not matched", self.what, src, page, len(names))
        return None


def match_truth(
    results: pd.DataFrame,
    truth: pd.DataFrame,
    *,
    truth_source: str = "source",
    truth_page: str | None = None,
    truth_digits: str = "digits",
) -> pd.DataFrame:
    """One row per truth row with the matched result beside it.

    ``truth_page`` names the truth's page column; ``None``: ``page`` when the truth has one, else
    page 1 for every row. A column named that the truth lacks raises ``KeyError``, as do results
    without ``source`` and ``digits`` (a digits file of ``read --digits-out``); two truth rows for one (source, page) raise ``ValueError`` (they may contradict each other,
    and both would be counted).

    Columns: ``source, page, truth, digits, confidence, needs_review, matched, correct,
    distance``, ``iou`` (``nan`` where the truth or the result has no field box),
    ``amount_right`` (``None`` where the truth or the results have no amount) and ``layout_right``
    (``None`` where the truth or the results have no layout).

    >>> m = match_truth(pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["0125", "30"],
    ...                     "confidence": [0.99, 0.6], "needs_review": ["false", "true"]}),
    ...                 pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["0125", "300"]}))
    >>> m[["source", "truth", "digits", "correct", "distance"]].values.tolist()
    [['a.png', '0125', '0125', True, 0], ['b.png', '300', '30', False, 1]]
    """
    if truth_page is None:
        truth_page = "page" if "page" in truth.columns else None
    named = [truth_source, truth_digits] + ([truth_page] if truth_page is not None else [])
    for col in named:
        if col not in truth.columns:
            raise KeyError(f"truth has no column {col!r} (columns: {', '.join(map(str, truth.columns))})")
    for col in ("source", "digits"):  # a digits file has a source column: every read was counted wrong
        if col not in results.columns:
            raise KeyError(f"results have no column {col!r}: not a results file of `read` "
                           f"(columns: {', '.join(map(str, results.columns))})")
    res = results.reset_index(drop=True)
    index = SourceIndex(res["source"], res["page"] if "page" in res.columns else None)
    if index.twice:  # two runs put together, or a file given twice: the other rows were counted as extra, silently
        log.warning("the results hold %d %s of pages already in them (two runs put together?): the first row "
                    "of each page is evaluated", index.twice, "row" if index.twice == 1 else "rows")
    find = index.find

    has_layouts = "layout" in truth.columns and "layout" in res.columns
    # results without a column measure nothing of it (they counted as every amount wrong, every field
    # missed: 0.00% figures for what was not measured)
    has_amounts = "amount" in truth.columns and "amount" in res.columns
    has_truth_box = all(c in truth.columns for c in FIELD_COLUMNS) and all(c in res.columns for c in FIELD_COLUMNS)
    rows = []
    used: set[int] = set()
    seen: set[tuple[str, int]] = set()
    for _, t in truth.iterrows():
        src = _norm_path(t[truth_source])
        given = truth_page is not None and _given(t[truth_page])
        page = _page_number(t[truth_page], src, "truth") if given else 1
        if (src, page) in seen:
            why = ("keep one per page" if given else
                   "the truth has no page column, so each of its rows is page 1: give a file of several pages a "
                   "page column (1, 2, ...)" if truth_page is None else
                   "a blank page cell is page 1: fill in the pages (1, 2, ...)")
            raise ValueError(f"the truth has more than one row for {src} page {page}: {why}")
        seen.add((src, page))
        want = clean_digits(t[truth_digits])
        if "amount" in truth.columns:
            try:
                truth_amount(t["amount"])
            except ValueError as exc:
                raise ValueError(f"{exc}, for {src} page {page}") from None
        i = find(src, page)
        row = {"source": src, "page": page, "truth": want, "digits": "", "confidence": np.nan,
               "needs_review": None, "matched": i is not None, "iou": np.nan,
               "amount_right": same_amount(None, t["amount"]) if has_amounts else None,
               "layout_right": False if has_layouts and isinstance(t["layout"], str) and t["layout"] else None}
        if i is not None:
            used.add(i)
            r = res.iloc[i]
            row["digits"] = clean_digits(r.get("digits"))
            if has_amounts:
                row["amount_right"] = same_amount(r.get("amount"), t["amount"])
            if row["layout_right"] is not None:
                row["layout_right"] = r["layout"] == t["layout"]
            conf = r.get("confidence")
            row["confidence"] = float(conf) if conf is not None and not pd.isna(conf) and conf != "" else np.nan
            row["needs_review"] = _as_bool(r.get("needs_review"))
            if has_truth_box:
                tb = [t[c] for c in FIELD_COLUMNS]
                if all(_given(v) for v in tb):
                    rb = [r[c] for c in FIELD_COLUMNS]
                    if all(_given(v) for v in rb):
                        row["iou"] = _iou([float(v) for v in tb], [float(v) for v in rb])
                    else:
                        row["iou"] = 0.0
        row["correct"] = bool(i is not None and row["digits"] == want)
        row["distance"] = edit_distance(row["digits"], want)
        rows.append(row)
    out = pd.DataFrame(rows, columns=["source", "page", "truth", "digits", "confidence", "needs_review",
                                      "matched", "correct", "distance", "iou", "amount_right", "layout_right"])
    out.attrs["n_extra_results"] = len(res) - len(used)
    return out


def _given(value) -> bool:
    """Whether a cell holds a value: not ``None``, ``NaN``, ``pd.NA`` or blank text (``pd.NA`` is tested
    first: ``pd.NA != ""`` is ``pd.NA``, whose truth raised "boolean value of NA is ambiguous" for a
    results row without a field box, read back by :func:`~cheque_reader.report.read_results`).

    >>> _given(3), _given(pd.NA), _given(float("nan")), _given(" "), _given(None)
    (True, False, False, False, False)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return False
    return not (isinstance(value, str) and not value.strip())


def _page_number(value, source: str, where: str) -> int:
    """A page number of the truth or the results as an ``int``; ``ValueError`` naming the row when it is none.

    >>> _page_number("2", "a.png", "truth"), _page_number(3.0, "a.png", "truth")
    (2, 3)
    >>> _page_number("one", "a.png", "truth")
    Traceback (most recent call last):
    ...
    ValueError: the truth's page 'one' for a.png is not a page number (1, 2, ...)
    """
    try:
        number = float(value)
        if number.is_integer():
            return int(number)
    except (TypeError, ValueError):
        pass
    whose = "the results'" if where == "results" else f"the {where}'s"
    raise ValueError(f"{whose} page {value!r} for {source} is not a page number (1, 2, ...)")


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = max(aw, 0) * max(ah, 0) + max(bw, 0) * max(bh, 0) - inter
    return inter / union if union > 0 else 0.0


# --------------------------------------------------------------------------- risk–coverage and calibration


def risk_coverage(confidence: Iterable[float], correct: Iterable[bool]) -> pd.DataFrame:
    """The risk–coverage curve: one row per distinct confidence threshold, highest first.

    Each row accepts the reads with ``confidence >= threshold``: ``accepted`` reads,
    ``coverage`` (accepted / all, ``nan`` confidences never accepted) and ``risk``
    (their error rate).

    >>> risk_coverage([0.9, 0.8, 0.8, 0.3], [True, True, False, True]).round(3).values.tolist()
    [[0.9, 1.0, 0.25, 0.0], [0.8, 3.0, 0.75, 0.333], [0.3, 4.0, 1.0, 0.25]]
    """
    conf = np.asarray(list(confidence), dtype=float)
    ok = np.asarray(list(correct), dtype=bool)
    n = len(conf)
    keep = ~np.isnan(conf)
    conf, ok = conf[keep], ok[keep]
    if len(conf) == 0:
        return pd.DataFrame(columns=["threshold", "accepted", "coverage", "risk"], dtype=float)
    order = np.argsort(-conf, kind="stable")
    conf, ok = conf[order], ok[order]
    wrong = np.cumsum(~ok)
    accepted = np.arange(1, len(conf) + 1)
    last = np.r_[conf[1:] != conf[:-1], True]  # the last row of each tie group
    return pd.DataFrame(
        {
            "threshold": conf[last],
            "accepted": accepted[last].astype(float),
            "coverage": accepted[last] / n,
            "risk": wrong[last] / accepted[last],
        }
    )


#: A threshold no confidence reaches: accept nothing.
REJECT_ALL = float(np.nextafter(1.0, 2.0))


def threshold_table(
    confidence: Iterable[float], correct: Iterable[bool], targets: Sequence[float] = ERROR_TARGETS
) -> dict[str, float]:
    """For each target error, the lowest threshold whose accepted reads stay within it.

    Reads with ``confidence >= threshold`` are accepted. Where no threshold works
    (the most confident read is already wrong), the table holds :data:`REJECT_ALL`.
    Measure it on held-out real fields; the model's sidecar ships it.

    >>> conf = [0.99, 0.98, 0.97, 0.96, 0.9, 0.8, 0.7, 0.6]
    >>> ok = [True, True, True, True, False, True, True, False]
    >>> threshold_table(conf, ok, targets=(0.0, 0.2, 0.5))
    {'0': 0.96, '0.2': 0.7, '0.5': 0.6}
    """
    curve = risk_coverage(confidence, correct)
    table = {}
    for t in targets:
        fit = curve[curve["risk"] <= t + 1e-12]
        table[target_key(t)] = float(fit["threshold"].min()) if len(fit) else REJECT_ALL
    return table


def read_rates(
    confidence: Iterable[float], correct: Iterable[bool], targets: Sequence[float] = ERROR_TARGETS
) -> dict[str, float]:
    """Coverage (share of all reads accepted) at each target error.

    >>> read_rates([0.99, 0.9, 0.8, 0.7], [True, True, False, True], targets=(0.0, 0.3))
    {'0': 0.5, '0.3': 1.0}
    """
    curve = risk_coverage(confidence, correct)
    out = {}
    for t in targets:
        fit = curve[curve["risk"] <= t + 1e-12]
        out[target_key(t)] = float(fit["coverage"].max()) if len(fit) else 0.0
    return out


def expected_calibration_error(confidence: Iterable[float], correct: Iterable[bool], n_bins: int = ECE_BINS) -> float:
    """ECE of the string confidence (:func:`cheque_reader.calibrate.calibration_error`).

    >>> expected_calibration_error([0.9, 0.9, 0.1, 0.1], [True, False, False, False], n_bins=10)
    0.25
    """
    return calibration_error(confidence, correct, n_bins)


def ece_noise_floor(confidence: Iterable[float], n_bins: int = ECE_BINS, n_sim: int = 200, seed: int = 0) -> float:
    """The ECE a perfectly calibrated confidence would show on this many reads (mean over simulations).

    Outcomes are drawn as ``Bernoulli(confidence)``; on small sets the ECE estimate is biased
    upwards by sampling noise, so compare a measured ECE with this floor.

    >>> round(ece_noise_floor([0.5] * 10000), 2) < 0.02 < round(ece_noise_floor([0.5] * 50), 2)
    True
    """
    conf = np.asarray(list(confidence), dtype=float)
    conf = np.clip(conf[~np.isnan(conf)], 0.0, 1.0)
    if len(conf) == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    return float(np.mean([expected_calibration_error(conf, rng.uniform(size=len(conf)) < conf, n_bins)
                          for _ in range(n_sim)]))


# --------------------------------------------------------------------------- string-confidence calibration


def fit_string_calibration(confidence: Iterable[float], correct: Iterable[bool]) -> dict:
    """Fit Platt scaling on the logit of the string confidence: ``p' = sigmoid(a * logit(p) + b)``.

    Returns ``{"method": "platt_logit", "a": ..., "b": ...}`` for the weights sidecar;
    :func:`apply_string_calibration` applies it. ``a < 1`` softens over-confident scores.

    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.5, 1.0, 4000)
    >>> ok = rng.uniform(size=4000) < p ** 3  # true probability p**3: over-confident
    >>> params = fit_string_calibration(p, ok)
    >>> ece_before = expected_calibration_error(p, ok)
    >>> ece_after = expected_calibration_error(apply_string_calibration(p, params), ok)
    >>> bool(ece_after < ece_before / 2)
    True
    """
    conf = np.asarray(list(confidence), dtype=float)
    ok = np.asarray(list(correct), dtype=float)
    keep = ~np.isnan(conf)
    X = np.column_stack([_logit(conf[keep]), np.ones(int(keep.sum()))])
    y = ok[keep]
    theta = np.array([1.0, 0.0])
    ridge = 1e-6 * np.eye(2)  # keeps the Newton step defined when the data separate perfectly
    for _ in range(100):  # Newton's method on the logistic log-likelihood (2 parameters)
        p = 1.0 / (1.0 + np.exp(-(X @ theta)))
        grad = X.T @ (p - y) + ridge @ theta
        hess = (X * (p * (1 - p))[:, None]).T @ X + ridge
        step = np.linalg.solve(hess, grad)
        theta = theta - np.clip(step, -5, 5)
        if np.abs(step).max() < 1e-9:
            break
    a, b = (float(v) for v in theta)
    return {"method": "platt_logit", "a": round(a, 6), "b": round(b, 6), "n": int(keep.sum())}


def apply_string_calibration(confidence, params: Mapping | None):
    """Apply :func:`fit_string_calibration`'s parameters (``None`` leaves values as they are).

    >>> float(apply_string_calibration(0.8, {"method": "platt_logit", "a": 1.0, "b": 0.0}))
    0.8
    """
    conf = np.asarray(confidence, dtype=float)
    if not params:
        return conf
    if params.get("method") != "platt_logit":
        raise ValueError(f"unknown string calibration method {params.get('method')!r}")
    s = float(params["a"]) * _logit(conf) + float(params["b"])
    return 1.0 / (1.0 + np.exp(-s))


def compose_string_calibration(inner: Mapping | None, outer: Mapping) -> dict:
    """The one Platt scaling equal to applying ``inner`` then ``outer``.

    Use it when ``outer`` was fitted on confidences that ``inner`` had already calibrated.

    >>> compose_string_calibration({"method": "platt_logit", "a": 2.0, "b": 1.0},
    ...                            {"method": "platt_logit", "a": 0.5, "b": -1.0, "n": 10})
    {'method': 'platt_logit', 'a': 1.0, 'b': -0.5, 'n': 10}
    """
    if not inner:
        return dict(outer)
    for params in (inner, outer):
        if params.get("method") != "platt_logit":
            raise ValueError(f"unknown string calibration method {params.get('method')!r}")
    a1, b1, a2, b2 = (float(inner["a"]), float(inner["b"]), float(outer["a"]), float(outer["b"]))
    out = dict(outer)
    out.update(a=round(a2 * a1, 6), b=round(a2 * b1 + b2, 6))
    return out


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=float), 1e-9, 1 - 1e-9)
    return np.log(p) - np.log1p(-p)


# --------------------------------------------------------------------------- the report


#: With ``ignore_missing``, a warning is logged when fewer than this share of the results match a truth row.
MIN_MATCHED_SHARE = 0.5


def evaluate_results(
    results: pd.DataFrame | Sequence[ChequeResult],
    truth: pd.DataFrame,
    *,
    truth_source: str = "source",
    truth_page: str | None = None,
    truth_digits: str = "digits",
    targets: Sequence[float] = ERROR_TARGETS,
    ignore_missing: bool = False,
) -> EvaluationReport:
    """Measure a run (``results.csv`` as a DataFrame, ``read_folder``'s frame, or the
    :class:`~cheque_reader.types.ChequeResult` objects of ``read_cheque`` calls) against ground truth.

    ``truth_*`` name the truth columns (:func:`match_truth`); read truth digits as text (:func:`load_truth`)
    so that leading zeros survive. Truth rows without a result count as wrong reads,
    or are left out with ``ignore_missing`` (when only part of a truth set was read;
    ``n_missing`` still counts them). Truth rows that match no result are logged as a warning
    (how many of how many: a wrong truth source column matches none); with ``ignore_missing`` (a part
    of the truth set read: the rest is missing by design) the results that match no truth row are,
    when they are more than :data:`MIN_MATCHED_SHARE` of them; none matching with ``ignore_missing`` raises
    ``ValueError``, as does an empty truth table or two truth rows for one page (:func:`match_truth`).
    See the module docstring for the definitions.

    >>> report = evaluate_results(pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["0125", "30"],
    ...                     "confidence": [0.99, 0.6], "needs_review": ["false", "true"]}),
    ...                           pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["0125", "300"]}))
    >>> report.string_accuracy, round(report.digit_accuracy, 3), report.read_rate["0.01"]
    (0.5, 0.857, 0.5)
    """
    results = as_results_frame(results)  # a list of read_cheque's results: 'list' object has no attribute 'columns'
    if len(truth) == 0:
        raise ValueError("the truth table has no rows")
    lacking = [c for c in ("confidence", "needs_review", "amount", *FIELD_COLUMNS)
               if c not in results.columns and (c != "amount" or "amount" in truth.columns)
               and (c not in FIELD_COLUMNS or all(f in truth.columns for f in FIELD_COLUMNS))]
    if lacking:  # a results file cut down, or made by another tool: its figures are left out, not 0%
        log.warning("the results have no %s %s: what needs %s is not measured", ", ".join(lacking),
                    "column" if len(lacking) == 1 else "columns", "it" if len(lacking) == 1 else "them")
    m = match_truth(results, truth, truth_source=truth_source, truth_page=truth_page, truth_digits=truth_digits)
    n_missing = int((~m["matched"]).sum())
    n_matched = len(m) - n_missing
    if ignore_missing and n_matched == 0:
        raise ValueError(f"none of the {len(m)} truth rows matches a result, and all were left out as missing: "
                         "check the truth's source and page columns")
    n_extra = int(m.attrs.get("n_extra_results", 0))
    if n_missing and not ignore_missing:
        log.warning("only %d of %d truth rows match a result (the others count as wrong reads): check the truth's "
                    "source and page columns", n_matched, len(m))
    elif ignore_missing and n_extra and n_matched < MIN_MATCHED_SHARE * (n_matched + n_extra):
        # a part of the truth set read: its other rows are missing by design, but results without a truth
        # row say the truth's columns name the pages otherwise
        log.warning("only %d of %d results match a truth row: check the truth's source and page columns",
                    n_matched, n_matched + n_extra)
    if ignore_missing:
        extra = m.attrs.get("n_extra_results", 0)
        m = m[m["matched"]].reset_index(drop=True)
        m.attrs["n_extra_results"] = extra
    n = len(m)
    correct = m["correct"].to_numpy(bool)
    total_len = int(m["truth"].str.len().sum())
    digit_acc = max(0.0, 1.0 - m["distance"].sum() / total_len) if total_len else float(correct.mean())
    iou = m["iou"].dropna()
    conf = m["confidence"].to_numpy(float)
    flagged = m["needs_review"]
    auto = m[m["matched"] & (flagged == False)]  # noqa: E712 (object column holding bools / None)
    has_flags = m["matched"].any() and flagged[m["matched"]].notna().any()
    valued = m[m["amount_right"].notna()]
    auto_valued = valued[valued["matched"] & (valued["needs_review"] == False)]  # noqa: E712
    laid = m["layout_right"].dropna()
    return EvaluationReport(
        n=n,
        n_matched=int(m["matched"].sum()),
        n_missing=n_missing,
        n_extra_results=int(m.attrs.get("n_extra_results", 0)),
        string_accuracy=float(correct.mean()),
        digit_accuracy=float(digit_acc),
        n_field=len(iou),
        field_iou_mean=float(iou.mean()) if len(iou) else None,
        field_iou_share_050=float((iou >= 0.5).mean()) if len(iou) else None,
        read_rate=read_rates(conf, correct, targets) if "confidence" in results.columns else {},
        thresholds=threshold_table(conf, correct, targets) if "confidence" in results.columns else {},
        ece=expected_calibration_error(conf, correct) if np.isfinite(conf).any() else None,
        ece_noise_floor=ece_noise_floor(conf) if np.isfinite(conf).any() else None,
        auto_rate=float(len(auto) / n) if has_flags else None,
        auto_error=float((~auto["correct"]).mean()) if has_flags and len(auto) else None,
        n_amount=len(valued),
        amount_accuracy=float(valued["amount_right"].astype(bool).mean()) if len(valued) else None,
        auto_amount_error=(float((~auto_valued["amount_right"].astype(bool)).mean())
                           if has_flags and len(auto_valued) else None),
        n_layout=len(laid),
        layout_accuracy=float(laid.astype(bool).mean()) if len(laid) else None,
        confidence=tuple(float(c) for c in conf),
        correct=tuple(bool(c) for c in correct),
    )


def plot_format(path: str | Path) -> str:
    """The picture format ``path``'s suffix names (``png`` without one); a suffix matplotlib cannot
    write raises ``ValueError`` (a PNG was written under any name: ``risk.svg`` or ``risk.pdf`` held
    PNG bytes that no viewer opened).

    >>> plot_format("risk.PDF"), plot_format("risk")
    ('pdf', 'png')
    >>> plot_format("risk.txt")
    Traceback (most recent call last):
    ...
    ValueError: cannot write a plot as .txt: name it .png, .pdf, .svg, .jpg, .tif or .webp
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    name = os.fspath(path)
    if name.endswith(("/", os.sep)) or os.path.isdir(name):  # Path() drops the slash: a file named 'out'
        raise ValueError(f"{name} is a folder: give the plot a file name ({os.path.join(name, 'risk.png')})")
    fmt = Path(path).suffix.lower().lstrip(".") or "png"
    if fmt not in FigureCanvasAgg.get_supported_filetypes():
        raise ValueError(f"cannot write a plot as .{fmt}: name it .png, .pdf, .svg, .jpg, .tif or .webp")
    return fmt


def plot_evaluation(report: EvaluationReport, path: str | Path, *, title: str | None = None) -> Path:
    """Write a picture of the risk–coverage curve and the reliability diagram of ``report``: a PNG,
    or the format the suffix names (:func:`plot_format`: ``.pdf``, ``.svg``, ...).

    >>> import tempfile
    >>> report = evaluate_results(pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["0125", "30"],
    ...                     "confidence": [0.99, 0.6], "needs_review": ["false", "true"]}),
    ...                           pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["0125", "300"]}))
    >>> path = plot_evaluation(report, Path(tempfile.mkdtemp()) / "risk.png")
    >>> path.read_bytes()[:4]
    b'\\x89PNG'
    """
    path = Path(path)
    fmt = plot_format(path)
    fig = evaluation_figure(report, title=title)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt)
    return path


def evaluation_figure(report: EvaluationReport, *, title: str | None = None):
    """The figure :func:`plot_evaluation` writes (a matplotlib ``Figure`` on the Agg canvas).

    The shares read at each error target are written under the risk–coverage plot and the
    reliability diagram's legend sits in headroom above its bars: neither covers the data.

    >>> report = evaluate_results(pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1], "digits": ["0125", "30"],
    ...                     "confidence": [0.99, 0.6], "needs_review": ["false", "true"]}),
    ...                           pd.DataFrame({"source": ["a.png", "b.png"], "digits": ["0125", "300"]}))
    >>> len(evaluation_figure(report).axes)  # risk-coverage, reliability
    2
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4.6), dpi=110)
    FigureCanvasAgg(fig)
    ax1, ax2 = fig.subplots(1, 2)

    curve = risk_coverage(report.confidence, report.correct)
    if len(curve):
        ax1.plot(np.r_[0.0, curve["coverage"]], 100 * np.r_[curve["risk"].iloc[0], curve["risk"]],
                 drawstyle="steps-post", color="tab:blue")
    shares = []
    for key, rate in report.read_rate.items():
        ax1.axhline(100 * float(key), color="0.85", lw=0.8, ls="--")
        ax1.plot([rate], [100 * float(key)], "o", color="tab:red", ms=4)
        shares.append(f"{100 * rate:.1f}% at {100 * float(key):g}%")
    ax1.set_xlim(0, 1)
    ax1.set_ylim(0, max(5.0, 100 * (1 - report.string_accuracy) * 1.1))
    ax1.set_xlabel("coverage (share read automatically)")
    ax1.set_ylabel("error among accepted reads (%)")
    ax1.set_title("risk–coverage")
    ax1.grid(alpha=0.3)
    if shares:  # under the axes, where no curve can run
        half = (len(shares) + 1) // 2
        ax1.annotate("read automatically (red dots) at each error:\n" + ", ".join(shares[:half])
                     + (",\n" + ", ".join(shares[half:]) if shares[half:] else ""),
                     (0, 0), xycoords="axes fraction", xytext=(0, -32), textcoords="offset points",
                     va="top", ha="left", fontsize=8, family="monospace")

    table = reliability(report.confidence, report.correct)
    used = table[table["count"] > 0]
    width = 1.0 / len(table)
    ax2.bar(used["lo"] + width / 2, used["accuracy"], width=width * 0.9, color="tab:blue", alpha=0.7,
            label="accuracy")
    ax2.plot([0, 1], [0, 1], color="0.4", ls="--", lw=1, label="perfect calibration")
    ax2.plot(used["confidence"], used["accuracy"], "o", color="tab:orange", ms=3, label="mean confidence")
    for _, r in used.iterrows():
        ax2.annotate(str(int(r["count"])), (r["lo"] + width / 2, r["accuracy"]), ha="center",
                     textcoords="offset points", xytext=(0, 2), fontsize=6)
    ece = "n/a" if report.ece is None else f"{100 * report.ece:.2f}%"
    floor = "" if report.ece_noise_floor is None else f"; {100 * report.ece_noise_floor:.1f}% if perfectly calibrated"
    ax2.set_title(f"reliability (ECE {ece}{floor})")
    ax2.set_xlabel("confidence")
    ax2.set_ylabel("share exactly right")
    ax2.set_xlim(0, 1)
    ax2.set_ylim(0, 1.22)  # headroom over the bars (at most 1) and their counts, for the legend
    ax2.set_yticks(np.linspace(0, 1, 6))
    ax2.legend(fontsize=7, loc="upper center", ncol=3, frameon=False)
    fig.suptitle(title or f"n={report.n}, string accuracy {100 * report.string_accuracy:.1f}%", fontsize=10)
    fig.tight_layout()
    return fig
