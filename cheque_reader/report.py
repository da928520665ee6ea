"""The result schema (a contract: other tools parse it) and row conversion.

>>> from cheque_reader.types import ChequeResult
>>> row = result_row(ChequeResult(source="a.png", page=1, status="error", error="bad file"))
>>> list(row) == list(RESULT_COLUMNS)
True
>>> row["needs_review"], row["review_reasons"]
('true', '')
"""

from __future__ import annotations

import collections
import csv
import io
import json
import logging
import math
import os

import numpy as np
import pandas as pd

from .errors import OutputError, UsageError
from .types import ChequeResult
from .x937 import micr_match

log = logging.getLogger("cheque_reader")

#: Columns of ``results.csv``, in order (DESIGN.md).
RESULT_COLUMNS = (
    "source",
    "page",
    "status",
    "digits",
    "text",
    "amount",
    "confidence",
    "needs_review",
    "review_reasons",
    "field_x",
    "field_y",
    "field_w",
    "field_h",
    "n_digits",
    "model",
    "elapsed_ms",
    "error",
    "layout",  # after DESIGN.md's columns: the layout that found the field (what ``auto`` chose)
)

#: Columns of the optional ``digits.csv``.
DIGIT_COLUMNS = ("source", "page", "index", "label", "confidence", "alt_label", "alt_confidence", "x", "y", "w", "h")

#: pandas dtypes to read ``results.csv`` back without losing leading zeros.
RESULT_DTYPES = {
    "source": "string",
    "page": "Int64",
    "status": "string",
    "digits": "string",
    "text": "string",
    "amount": "string",
    "confidence": "float64",
    "needs_review": "string",
    "review_reasons": "string",
    "field_x": "Int64",
    "field_y": "Int64",
    "field_w": "Int64",
    "field_h": "Int64",
    "n_digits": "Int64",
    "model": "string",
    "elapsed_ms": "float64",
    "error": "string",
    "layout": "string",
}

#: Columns holding a yes or no: ``true``/``false`` text in a CSV and in the frames the library returns
#: (the CSV's values), booleans in JSONL and Parquet, whose consumers test them as such
#: (``if row["needs_review"]:`` was true for the text ``"false"``). :func:`typed_row` and
#: :func:`typed_frame` give a row or frame those types; :func:`read_results` reads them back as text.
BOOL_COLUMNS = ("needs_review",)


def result_row(result: ChequeResult) -> dict:
    """One ``results.csv`` row (plain Python values, CSV-ready) for ``result``.

    Extra per-item columns (``result.extra``, e.g. X9.37 item sequence) follow the schema columns; an
    X9.37 item's ``micr_match`` is worked out here (:func:`~cheque_reader.x937.micr_match`).

    >>> row = result_row(ChequeResult("a.png", 1, "ok", digits="125", text="1.25", amount="1.25",
    ...                               confidence=0.99, needs_review=False))
    >>> row["amount"], row["needs_review"], row["field_x"], tuple(row) == RESULT_COLUMNS
    ('1.25', 'false', None, True)
    """
    f = result.field
    row = {
        "source": result.source,
        "page": int(result.page),
        "status": result.status,
        "digits": result.digits,
        "text": result.text,
        "amount": result.amount or "",
        "confidence": round(float(result.confidence), 6),
        "needs_review": "true" if result.needs_review else "false",
        "review_reasons": ";".join(result.review_reasons),
        "field_x": f.x if f else None,
        "field_y": f.y if f else None,
        "field_w": f.w if f else None,
        "field_h": f.h if f else None,
        "n_digits": int(result.n_digits),
        "model": result.model,
        "elapsed_ms": round(float(result.elapsed_ms), 2),
        "error": _one_line(result.error),
        "layout": result.layout,
    }
    row.update({k: v for k, v in result.extra.items() if k not in row})
    if "micr_amount" in row:  # an X9.37 item: the amount read against its record's
        row["micr_match"] = micr_match(row["amount"], row["micr_amount"])
    return row


def _one_line(message: str) -> str:
    """``message`` on one line: OpenCV's errors end in a newline, which split a CSV row over two
    lines for line-based tools (``grep``, ``wc -l``, a spreadsheet's import).

    >>> _one_line("internal error: error: OpenCV(5.0.0) resize.cpp:4217: error: (-215)\\n  in 'resize'\\n")
    "internal error: error: OpenCV(5.0.0) resize.cpp:4217: error: (-215) in 'resize'"
    """
    return " ".join(line.strip() for line in message.splitlines() if line.strip()) if message else message


def digit_rows(result: ChequeResult) -> list[dict]:
    """``digits.csv`` rows for ``result``: one per digit read, boxes in field pixels.

    >>> from cheque_reader.types import BBox, DigitRead
    >>> r = ChequeResult("a.png", 1, "ok", digits="7", digit_reads=(DigitRead(7, 0.9, 1, 0.05, BBox(3, 4, 10, 20)),))
    >>> [(d["index"], d["label"], d["x"], d["h"]) for d in digit_rows(r)]
    [(0, 7, 3, 20)]
    """
    return [
        {
            "source": result.source,
            "page": int(result.page),
            "index": i,
            "label": d.label,
            "confidence": round(float(d.confidence), 6),
            "alt_label": d.alt_label,
            "alt_confidence": round(float(d.alt_confidence), 6),
            "x": d.bbox.x,
            "y": d.bbox.y,
            "w": d.bbox.w,
            "h": d.bbox.h,
        }
        for i, d in enumerate(result.digit_reads)
    ]


def results_frame(results: list[ChequeResult]) -> pd.DataFrame:
    """A DataFrame with exactly :data:`RESULT_COLUMNS` (plus extra columns when present).

    >>> df = results_frame([ChequeResult("a.png", 1, "ok", digits="125", needs_review=False)])
    >>> tuple(df.columns) == RESULT_COLUMNS, df["digits"].tolist(), df["needs_review"].tolist()
    (True, ['125'], ['false'])
    """
    rows = [result_row(r) for r in results]
    df = pd.DataFrame(rows, columns=_columns_of(rows))
    return df.astype({k: v for k, v in RESULT_DTYPES.items() if k in df.columns})


def as_results_frame(results) -> pd.DataFrame:
    """``results`` as a results frame: a DataFrame as it is (``read_folder``'s, :func:`read_results`'), or
    the :class:`~cheque_reader.types.ChequeResult` objects of ``read_cheque`` calls (:func:`results_frame`);
    anything else raises ``TypeError`` saying what is taken (a list of dicts raised ``AttributeError: 'list'
    object has no attribute 'columns'`` from deep inside).

    >>> as_results_frame([ChequeResult("a.png", 1, "ok", digits="7")])[["source", "digits"]].values.tolist()
    [['a.png', '7']]
    >>> as_results_frame([{"source": "a.png"}])
    Traceback (most recent call last):
    TypeError: results is a DataFrame (read_folder's, report.read_results') or a list of ChequeResult (read_cheque's), not a list of dict
    """
    if isinstance(results, pd.DataFrame):
        return results
    rows = list(results) if isinstance(results, (list, tuple)) else None
    if rows is None or not all(isinstance(r, ChequeResult) for r in rows):
        what = type(results).__name__ if rows is None else f"a {type(results).__name__} of " + ", ".join(
            sorted({type(r).__name__ for r in rows if not isinstance(r, ChequeResult)}))
        raise TypeError("results is a DataFrame (read_folder's, report.read_results') or a list of ChequeResult "
                        f"(read_cheque's), not {what}")
    return results_frame(rows)


def _to_bool(value):
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return {"true": True, "false": False}.get(str(value).strip().lower()) if isinstance(value, str) else None


def _bool_text(value):
    return ("true" if value else "false") if isinstance(value, (bool, np.bool_)) else value


def typed_row(row: dict) -> dict:
    """``row`` (:func:`result_row`'s text values) as JSONL holds it: :data:`BOOL_COLUMNS` booleans.

    >>> typed_row({"page": 1, "needs_review": "false"})
    {'page': 1, 'needs_review': False}
    """
    return {c: _to_bool(v) if c in BOOL_COLUMNS else v for c, v in row.items()}


def typed_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A results frame as Parquet holds it: :data:`BOOL_COLUMNS` booleans (the frame is not changed).

    >>> df = results_frame([ChequeResult("a.png", 1, "ok", needs_review=False)])
    >>> typed_frame(df)["needs_review"].tolist(), df["needs_review"].tolist()
    ([False], ['false'])
    """
    cols = [c for c in BOOL_COLUMNS if c in df.columns]
    if not cols:
        return df
    df = df.copy()
    for c in cols:
        df[c] = pd.array([_to_bool(v) for v in df[c]], dtype="boolean")
    return df


def _columns_of(rows: list[dict]) -> list[str]:
    cols = list(RESULT_COLUMNS)
    for row in rows:
        cols += [k for k in row if k not in cols]
    return cols


#: The columns a results file must have to be resumed: DESIGN.md's (``layout`` came after them).
REQUIRED_COLUMNS = tuple(c for c in RESULT_COLUMNS if c != "layout")


#: The output name that means standard output (``read -o -``, the Unix convention): CSV, streamed
#: row by row (there is no suffix to name another format).
STDOUT = "-"


def is_stdout(path) -> bool:
    """Whether the output ``path`` is :data:`STDOUT` (standard output).

    >>> is_stdout("-"), is_stdout("./-"), is_stdout(None)
    (True, False, False)
    """
    return path is not None and os.fspath(path) == STDOUT


def check_outputs(output, digits_output=None, *, resume: bool = False) -> None:
    """Raise :class:`~cheque_reader.errors.UsageError`, before a run, for outputs it could not write
    sensibly: a suffix of no format written (:func:`check_output_format`; checked here, a bad
    ``--digits-out`` no longer empties the results file first), the results and the per-digit rows
    sent to one file or both to standard output (their lines would interleave),
    or, with ``resume``, no ``output`` or standard output (nothing to resume from) or an existing
    ``output`` that is not a results file (only its header is read).

    >>> check_outputs("r.csv", "d.csv")
    >>> check_outputs("-", "d.csv")
    >>> check_outputs("r.csv", "./r.csv")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: the results and the digits would go to the same file, r.csv: give two files
    >>> check_outputs("-", "-")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: the results and the digits would both go to standard output (-), their lines interleaved: give the digits a file
    """
    for path in (output, digits_output):
        if path is not None:
            check_output_format(path)
    if is_stdout(output) and is_stdout(digits_output):
        raise UsageError("the results and the digits would both go to standard output (-), their lines interleaved: "
                         "give the digits a file")
    if (output is not None and digits_output is not None and not is_stdout(output) and not is_stdout(digits_output)
            and _same_file(output, digits_output)):
        raise UsageError(f"the results and the digits would go to the same file, {output}: give two files")
    if resume and output is None:
        raise UsageError("resume continues a run in its output file: give the output (there is none to resume from)")
    if resume and (is_stdout(output) or is_stdout(digits_output)):
        raise UsageError("resume continues a run in its output files: standard output (-) holds no earlier rows to "
                         "resume from; give a file name, or read without resume")
    if resume and os.path.isfile(output):
        other = _other_format(output)
        try:
            columns = _header(output)
        except OSError as exc:
            raise OutputError(f"cannot read {output} to resume it: {exc.strerror or exc}") from exc
        except ValueError as exc:  # pyarrow's and json's errors are ValueErrors
            raise UsageError(f"cannot resume {output}: not a results file ({other or exc})") from exc
        missing = [c for c in REQUIRED_COLUMNS if columns is not None and c not in columns]
        if missing:
            raise UsageError(f"cannot resume {output}: not a results file "
                             f"({other or 'missing columns ' + ', '.join(missing)})")


def _other_format(path) -> str | None:
    """What a results file holds when its content is another format than its suffix names (a
    ``results.parquet`` renamed ``.csv``), as a message; else ``None``.

    >>> import os, tempfile
    >>> f = os.path.join(tempfile.mkdtemp(), "r.csv")
    >>> _ = open(f, "w").write('{"source": "a.png", "page": 1}\\n')
    >>> _other_format(f)
    'it holds JSON lines, as a .jsonl results file does: give it that suffix'
    """
    try:
        with open(path, "rb") as f:
            head = f.read(64).lstrip()
    except OSError:
        return None
    kind = ("parquet" if head.startswith(b"PAR1") else "jsonl" if head.startswith(b"{")
            else "csv" if head.startswith(b"source,") else None)
    if kind is None or kind == results_format(path):
        return None
    what = {"parquet": ("Parquet", ".parquet"), "jsonl": ("JSON lines", ".jsonl"), "csv": ("CSV text", ".csv")}[kind]
    return f"it holds {what[0]}, as a {what[1]} results file does: give it that suffix"


def _header(path) -> list[str] | None:
    """The column names of a results file, or ``None`` when it holds no complete header yet (a run
    stopped before writing one: resuming it starts afresh)."""
    fmt = results_format(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.read_schema(path).names
    # utf-8-sig: a byte-order mark (a CSV saved again as Excel's "CSV UTF-8") is no part of the header
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        first = f.readline()
    if fmt == "jsonl":  # a first line cut off by a kill holds no complete row: resuming starts afresh
        return list(json.loads(first)) if first.endswith("\n") and first.strip() else None
    if not first.endswith("\n") and ",".join(RESULT_COLUMNS).startswith(first):
        return None
    return next(csv.reader([first]), [])


def _same_file(a, b) -> bool:
    if os.path.exists(a) and os.path.exists(b):
        return os.path.samefile(a, b)  # links too
    return os.path.realpath(a) == os.path.realpath(b)


#: Results file suffixes (lower case) of the formats other than CSV: ``read -o`` writes by them.
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


def check_output_format(path) -> None:
    """A :class:`~cheque_reader.errors.UsageError` for an output whose suffix names no format written
    (``.csv``, ``.txt`` or none are CSV; :data:`PARQUET_SUFFIXES`, :data:`JSONL_SUFFIXES`), or that
    names a folder (``-o out/`` wrote a file named ``out``).

    >>> check_output_format("d.xlsx")
    Traceback (most recent call last):
    ...
    cheque_reader.errors.UsageError: unknown output format '.xlsx' for d.xlsx: use .csv, .parquet or .jsonl
    """
    name = os.fspath(path)
    if name.endswith(("/", os.sep)):  # Path() drops the slash: a file named as the folder was written
        raise UsageError(f"{name} is a folder: give the output a file name ({os.path.join(name, 'results.csv')})")
    suffix = os.path.splitext(name)[1].lower()
    if results_format(path) == "csv" and suffix not in (".csv", ".txt", ""):
        raise UsageError(f"unknown output format {suffix!r} for {path}: use .csv, .parquet or .jsonl")


def write_table(df: pd.DataFrame, path) -> None:
    """Write ``df`` in the format ``path``'s suffix names, as ``read -o`` does (:func:`results_format`:
    ``.csv``, ``.parquet``, ``.jsonl``; ``evaluate --details d.parquet`` wrote a CSV under that name).
    Check the name first with :func:`check_output_format`.

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "results.jsonl"
    >>> write_table(results_frame([ChequeResult("a.png", 1, "ok", needs_review=False)]), path)
    >>> path.read_text()[:36]
    '{"source":"a.png","page":1,"status":'
    """
    fmt = results_format(path)
    if fmt == "parquet":
        try:
            df.to_parquet(path, index=False)
        except ImportError as exc:
            raise UsageError("Parquet output needs pyarrow: pip install 'cheque-reader[parquet]'") from exc
    elif fmt == "jsonl":
        with open(path, "w", encoding="utf-8") as f:
            if len(df):
                f.write(df.to_json(orient="records", lines=True, force_ascii=False).rstrip("\n") + "\n")
    else:
        df.to_csv(path, index=False)


def read_text_csv(path, **kwargs) -> pd.DataFrame:
    """``pandas.read_csv`` of a CSV a person may have saved (a truth table, corrections): one that is
    not UTF-8 (Excel's plain "CSV" on Windows writes cp1252) raises a ``ValueError`` that names the file
    and says how to save it (pandas' "'utf-8' codec can't decode byte 0xe8" named neither).

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "truth.csv"
    >>> _ = path.write_bytes("source,digits\\nch\\xe8que.png,120\\n".encode("cp1252"))
    >>> read_text_csv(path)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: ...truth.csv: not UTF-8 text (byte 0xe8): save it as UTF-8 (Excel: "CSV UTF-8")
    """
    # "source, page, digits": a space after each comma, as people write a CSV by hand, made columns named
    # " page" and " digits" ("corrections need columns source,page,digits (missing digits)") and values
    # " 1"; a quoted value keeps its spaces (the review page quotes a file name that begins with one)
    kwargs.setdefault("skipinitialspace", True)
    try:
        df = pd.read_csv(path, encoding="utf-8", **kwargs)
    except pd.errors.EmptyDataError:  # pandas' "No columns to parse from file" named no file
        raise ValueError(_no_header(path)) from None
    except UnicodeDecodeError as exc:
        byte = exc.object[exc.start : exc.start + 1].hex()
        raise ValueError(f"{path}: not UTF-8 text (byte 0x{byte}): save it as UTF-8 (Excel: \"CSV UTF-8\")") from None
    except pd.errors.ParserError as exc:  # a semicolon file whose rows hold commas ("1,234.56") does not parse:
        # pandas' "Error tokenizing data. C error: Expected 1 fields in line 3, saw 2" named neither file nor cause
        header = _first_line(path)
        raise ValueError(_separator_message(path, header) if "," not in header and _separator_message(path, header)
                         else f"{path}: not a CSV table ({str(exc).strip()})") from None
    # (its error was "truth has no column 'source' (columns: source;page;digits)")
    if len(df.columns) == 1 and _separator_message(path, str(df.columns[0])):
        raise ValueError(_separator_message(path, str(df.columns[0])))
    # rows with no value in any cell: Excel saves emptied rows as ",,,", which pandas keeps (it skips only
    # lines with no character); a truth held them as pages named "" ("more than one row for  page 1"), and
    # corrections as a page finetune found no result for
    blank = df.apply(lambda col: col.isna() | col.astype(str).str.strip().eq("")).all(axis=1)
    return df[~blank].reset_index(drop=True) if blank.any() else df


def _separator_message(path, header: str) -> str | None:
    """What to say of a CSV whose ``header`` line is split by semicolons or tabs, not commas; else ``None``.

    >>> _separator_message("t.csv", "source;page;digits")[:55]
    't.csv: its columns are separated by semicolons, not com'
    """
    for sep, name in ((";", "semicolons"), ("\t", "tabs")):
        if sep in header:
            return (f"{os.fspath(path) if isinstance(path, (str, os.PathLike)) else '<CSV text>'}: its columns are "
                    f"separated by {name}, not commas (Excel's CSV where the decimal mark is a comma): save it with "
                    "commas, and amounts with a decimal point")
    return None


def _first_line(path) -> str:
    """The first line of a CSV file or text buffer (``""`` when it cannot be read)."""
    try:
        if isinstance(path, (str, os.PathLike)):
            with open(path, encoding="utf-8-sig", errors="replace") as f:
                return f.readline()
        path.seek(0)
        line = path.readline()
        path.seek(0)
        return line
    except (OSError, AttributeError, ValueError):
        return ""


def _no_header(path) -> str:
    """What is wrong with a CSV pandas found no columns in, naming it.

    >>> import io
    >>> _no_header(io.StringIO("\\n"))
    '<CSV text>: holds only blank lines: no header line'
    """
    if not isinstance(path, (str, os.PathLike)):
        return "<CSV text>: holds only blank lines: no header line"
    empty = os.path.exists(path) and not os.path.getsize(path)
    return f"{os.fspath(path)}: {'empty file (0 bytes)' if empty else 'holds only blank lines'}: no header line"


def results_format(path) -> str:
    """``"parquet"``, ``"jsonl"`` or ``"csv"`` (any other suffix) for a results file's path.

    >>> results_format("r.parquet"), results_format("R.JSONL"), results_format("r.csv")
    ('parquet', 'jsonl', 'csv')
    """
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    return "parquet" if suffix in PARQUET_SUFFIXES else "jsonl" if suffix in JSONL_SUFFIXES else "csv"


def _first_bad_number(source, name=None) -> str | None:
    """Where a results CSV holds a value that is no number in a numeric column, as a message
    (``"r.csv: field_x 'abc' on line 3 is not a whole number"``); ``None`` when it holds none.

    >>> import io
    >>> _first_bad_number(io.StringIO("source,page,field_x\\na.png,1,\\nb.png,1,abc\\n"))
    "<CSV text>: field_x 'abc' on line 3 is not a whole number"
    """
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        raw = pd.read_csv(source, dtype=str, keep_default_na=False, encoding_errors="surrogateescape")
    except (OSError, ValueError):
        return None
    if name is None:
        name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<CSV text>"
    return _first_bad_value(raw, name, where="on line", first=2)  # line 1 is the header


def _first_bad_value(df: pd.DataFrame, name, where: str = "in row", first: int = 1) -> str | None:
    """Where a results frame holds a value its numeric column cannot take, as a message naming the
    column and the row (``first``: the number of the frame's first row, as the line of a ``.jsonl``
    file, or of a CSV after its header); else ``None``."""
    for col, dtype in RESULT_DTYPES.items():
        if col not in df.columns or dtype not in ("float64", "Int64"):
            continue
        for i, v in enumerate(df[col].tolist()):
            if isinstance(v, str):
                v = v.strip()
            if v is None or (isinstance(v, float) and math.isnan(v)) or v == "":
                continue
            try:
                number = float(v)
            except (TypeError, ValueError):
                number = None
            if number is None or isinstance(v, bool) or (dtype == "Int64" and not number.is_integer()):
                kind = "a whole number" if dtype == "Int64" else "a number"
                return f"{os.fspath(name)}: {col} {v!r} {where} {i + first} is not {kind}"
    return None


def read_results(source) -> pd.DataFrame:
    """Read a results file back with the schema's dtypes: digits stay text, extra columns
    (``item_sequence``, ``micr_amount``) are text, empty numbers are missing.

    ``source`` is a path in any format ``read`` writes (by its suffix: ``.csv``, ``.parquet``,
    ``.jsonl``; :func:`results_format`) or a CSV file object, text or binary (``open(p, "rb")``,
    ``io.BytesIO``, an object store's or an upload's stream: UTF-8, as ``read`` writes it).

    >>> import io
    >>> df = read_results(io.StringIO("source,page,digits,field_x\\na.png,1,0072,\\n"))
    >>> df.loc[0, "digits"], pd.isna(df.loc[0, "field_x"])
    ('0072', True)
    """
    if not isinstance(source, (str, os.PathLike)) and isinstance(getattr(source, "read", None) and source.read(0), bytes):
        # a binary stream: 'a bytes-like object is required, not str' from the header's check (as text, as a file is read)
        source = io.StringIO(source.read().decode("utf-8-sig", errors="surrogateescape"))
    fmt = results_format(source) if isinstance(source, (str, os.PathLike)) else "csv"
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    if fmt != "parquet" and name is not None:
        source = _without_cut_last_row(source, fmt)
    if fmt == "csv":
        header = _first_line(source)
        if "," not in header and _separator_message(name, header):  # a results file saved again by a
            # spreadsheet whose decimal mark is a comma: "Error tokenizing data. C error: Expected 1 fields in
            # line 3, saw 2", or "no column 'source' (columns: source;page;status;...)"
            raise ValueError(_separator_message(name, header))
        try:
            return _digits_as_written(pd.read_csv(
                source, dtype=collections.defaultdict(lambda: "string", RESULT_DTYPES), keep_default_na=False,
                encoding_errors="surrogateescape",
                na_values={c: [""] for c, t in RESULT_DTYPES.items() if t in ("float64", "Int64")}), name)
        except pd.errors.EmptyDataError:
            raise ValueError(_no_header(source)) from None
        except (ValueError, TypeError) as exc:  # pandas named neither the column nor the line: "Unable to parse
            # string 'abc' at position 1"; a 2.5 in an integer column raised TypeError (a traceback from evaluate)
            raise ValueError(_first_bad_number(source, name) or str(exc)) from None
    if fmt == "parquet":
        try:
            df = pd.read_parquet(source)
        except ImportError as exc:
            raise UsageError("reading Parquet needs pyarrow: pip install 'cheque-reader[parquet]'") from exc
    else:
        df = pd.read_json(source, lines=True, dtype=False, precise_float=True)
    for c in BOOL_COLUMNS:  # booleans (text in files written before they were) as the CSV has them
        if c in df.columns:
            df[c] = df[c].astype(object).map(_bool_text)
    try:
        df = df.astype({c: RESULT_DTYPES.get(c, "string") for c in df.columns})
    except (ValueError, TypeError) as exc:  # a 2.5 in an integer column raised TypeError: a traceback from evaluate
        raise ValueError(_first_bad_value(df, name or "<JSON lines>") or str(exc)) from None
    text = [c for c in df.columns if RESULT_DTYPES.get(c, "string") == "string"]
    return _digits_as_written(df.fillna({c: "" for c in text}), name)  # as from a CSV: a missing text is empty


def _digits_as_written(df: pd.DataFrame, name) -> pd.DataFrame:
    """``df`` with ``digits`` such as ``5890.0`` read as ``5890``, with a warning naming the file: a results
    file read and written again by a tool that took the column for numbers (pandas' default ``read_csv``,
    a spreadsheet) holds them so, and they were evaluated as ``58900``, every read wrong, and put in the
    review page's boxes, where Enter exported ``58900`` as the correction. ``read`` writes digits alone.

    >>> _digits_as_written(pd.DataFrame({"digits": ["5890.0", "0125", ""]}), "r.csv")["digits"].tolist()
    ['5890', '0125', '']
    """
    if "digits" not in df.columns or not len(df):
        return df
    digits = df["digits"].astype("string")
    floated = digits.str.fullmatch(r"\d+\.0+").fillna(False).astype(bool)
    if not floated.any():
        return df
    log.warning("%s: its digits column holds numbers written as decimals (%s): a tool read it as numbers and wrote "
                "it back; they are read as digits (%s), but leading zeros such a tool dropped cannot be restored",
                name or "the results", digits[floated].iloc[0], digits[floated].iloc[0].split(".")[0])
    df = df.copy()
    df["digits"] = digits.where(~floated, digits.str.replace(r"\.0+$", "", regex=True))
    return df


def _without_cut_last_row(path, fmt: str):
    """``path``, or its text less a last row cut off (a run stopped while writing it, a copy taken while it
    ran) as a text buffer, with a warning naming the file. ``read`` ends every row of a ``.csv`` or
    ``.jsonl`` output with a newline: a last line without one that holds fewer fields than the header, or
    no complete JSON object, is cut off. Such a row was evaluated as a read (``cheque_05.jpg,1,ok,1``: the
    digits ``1``, a wrong read), and a ``.jsonl`` file could not be read at all ("not a results file").

    >>> import tempfile
    >>> from pathlib import Path
    >>> p = Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("source,page,digits\\na.png,1,12\\nb.png,1")
    >>> _without_cut_last_row(p, "csv").getvalue()
    'source,page,digits\\na.png,1,12\\n'
    """
    try:
        with open(path, "rb") as f:
            if f.seek(0, os.SEEK_END) == 0:
                return path
            f.seek(-1, os.SEEK_END)
            if f.read(1) == b"\n":  # every file `read` wrote whole: its last byte alone is read here
                return path
            f.seek(0)
            raw = f.read()
    except OSError:
        return path  # pandas says what is wrong
    if b"\n" not in raw:
        return path
    keep, last = raw[: raw.rindex(b"\n") + 1], raw[raw.rindex(b"\n") + 1 :]
    text = last.decode("utf-8", errors="surrogateescape")
    if fmt == "jsonl":
        try:
            cut = not isinstance(json.loads(text), dict)
        except ValueError:
            cut = True
    else:
        header = next(csv.reader([keep.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff")
                                  .split("\n", 1)[0].rstrip("\r")]), [])
        try:
            cut = len(next(csv.reader([text], strict=True), [])) < len(header)
        except csv.Error:  # an unterminated quote at the cut
            cut = True
    if not cut:
        return path  # a complete last row a person saved without a final newline
    log.warning("%s: its last row is cut off (%d bytes without a line end: a run stopped while writing it?); "
                "it is left out", os.fspath(path), len(last))
    return io.StringIO(keep.decode("utf-8", errors="surrogateescape").removeprefix("\ufeff"))

