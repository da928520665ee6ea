"""The ``cheque-reader`` command: a thin adapter over the library.

Exit codes: 0 every page read with no review needed, 1 some pages need review or
failed, 2 bad usage, 3 the output could not be written, 130 interrupted (Ctrl-C, or SIGTERM during a run),
141 standard output closed by its reader (``read -o - | head``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import shutil
import sys
from pathlib import Path

import click

from . import config
from .errors import (EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, EXIT_NEEDS_ATTENTION, EXIT_OK, ChequeReaderError,
                     OutputError, UsageError)

log = logging.getLogger("cheque_reader")


def _fail(exc: ChequeReaderError) -> None:
    click.echo(f"cheque-reader: error: {exc}", err=True)
    sys.exit(exc.exit_code)


def _dask_logs_at_our_level() -> None:
    """Dask's loggers at the command's level (``-v``), set after ``dask.distributed`` is imported:
    the import sets them to INFO itself, and a local cluster's start-up filled stderr with them."""
    try:
        import dask.distributed  # noqa: F401  (its logging config runs on import)
    except ImportError:
        return  # read_folder_dask says what to install
    level = logging.getLogger().level
    for name in ["distributed", *[n for n in logging.root.manager.loggerDict if n.startswith("distributed.")]]:
        logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def _sigterm_as_ctrl_c():
    """While a run goes on, SIGTERM ends it as Ctrl-C does: the rows written so far are kept and
    flushed, the worker processes stopped, so that ``--resume`` continues (else the process died
    at once, before the output was closed)."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        old = signal.signal(signal.SIGTERM, interrupt)
    except (AttributeError, ValueError):  # no SIGTERM here, or not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


class _Group(click.Group):
    """click's group, with Ctrl-C (and SIGTERM during a run, :func:`_sigterm_as_ctrl_c`) ending a command
    with :data:`~cheque_reader.errors.EXIT_INTERRUPTED` (click's own "Aborted!" exits 1, the code of
    pages that need review), and standard output closed by its reader (``read -o - | head -3``) ending
    it quietly with :data:`~cheque_reader.errors.EXIT_BROKEN_PIPE` (the library has stopped the workers)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("\ncheque-reader: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _quiet_stdout()
            sys.exit(EXIT_BROKEN_PIPE)


def _quiet_stdout() -> None:
    """Point standard output at the null device, as Python's documentation of SIGPIPE advises: the flush
    at exit of what is left in its buffer raised BrokenPipeError again ("Exception ignored ..." on stderr)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (click's test runner)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="cheque-reader")
@click.option("-v", "--verbose", count=True, help="More log output on stderr (-vv for debug).")
def main(verbose: int) -> None:
    """Read the handwritten courtesy amount on scanned bank cheques.

    \b
    Typical use:
      cheque-reader read scans/ -o results.csv          # every scan in a folder
      cheque-reader evaluate results.csv --truth truth.csv
      cheque-reader review results.csv --images scans/ --out review/   # a page to correct the doubtful reads

    \f
    From Python (as the tests call it; ``\\f`` above ends what ``--help`` shows):

    >>> from click.testing import CliRunner
    >>> CliRunner().invoke(main, ["--version"], prog_name="cheque-reader").output.startswith("cheque-reader, version ")
    True
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("distributed").setLevel(max(level, logging.DEBUG))  # Dask logs INFO by default
    if "distributed" in sys.modules:  # imported already (in tests): its logging config has run
        _dask_logs_at_our_level()


@main.command()
@click.argument("inputs", nargs=-1, type=click.Path(path_type=str))
@click.option("-o", "--output", default="results.csv", show_default=True,
              help="Results file; the format follows the extension: .csv or .jsonl (written row by row: a "
                   "stopped run keeps its rows) or .parquet (written once, at the end: a stopped run leaves none). "
                   "-: CSV to standard output, row by row (progress, the summary and warnings go to stderr; "
                   "not with --resume).")
@click.option("--digits-out", type=click.Path(dir_okay=False), help="Also write one row per digit read; the format follows the extension, as for -o (.csv, .jsonl, .parquet; -: CSV to standard output, when -o is a file).")
@click.option("--from-list", "from_list", type=click.Path(exists=True, dir_okay=False, allow_dash=True),
              help="Read input paths from this file, one per line (-: from standard input, as find ... | "
                   "cheque-reader read --from-list - takes them); relative paths are relative to the current "
                   "folder (as tar -T and xargs take them), not to the list's folder.")
@click.option("--layout", default=config.ReadOptions.layout, show_default=True,
              help="Where the amount is: auto, us, in-cts, top-right (a box in the top right corner), field (each image is the amount field) or a layout .toml file. auto also takes a small image, or one without a printed box whose ink fills its height, for the field.")
@click.option("--target-error", type=float, default=config.DEFAULT_TARGET_ERROR, show_default=True,
              help="Error rate allowed among reads that skip review, between 0 and 1; picks the confidence "
                   "threshold from the model's table (its strictest, with a warning, below the table).")
@click.option("--review-threshold", type=click.FloatRange(0, 1),
              help="Confidence below which a read needs review (overrides --target-error).")
@click.option("--workers", type=click.IntRange(1), default=config.default_workers(), show_default=True,
              help="Worker processes for decoding and the image stages.")
@click.option("--device", type=click.Choice(["cpu", "cuda"]), default="cpu", show_default=True,
              help="Where the networks run.")
@click.option("--field-reader/--no-field-reader", default=True, show_default=True,
              help="Also read each whole field with the SDNN (LeNet-5 swept along it); its string wins "
                   "and disagreement is a review reason. Off: the segmenting reader alone (faster).")
@click.option("--backend", type=click.Choice(["auto", "torch", "onnx", "onnx-int8"]), default="auto", show_default=True,
              help="Backend of both networks, the digit classifier and the field reader. onnx: ONNX Runtime "
                   "on the CPU (the [onnx] extra), about 1.5x torch's pages/s over 400 cheques here, "
                   "and no torch import once its exports are cached; onnx-int8: the same with the field "
                   "reader's networks in 8-bit integers (shipped ones: they run in half the time, a whole "
                   "run about 1.1x faster, the same reads on the held-out ORAND fields); auto: onnx-int8 when the device is cpu and onnxruntime is "
                   "installed, else torch.")
@click.option("--model", "model_path", type=click.Path(exists=True, dir_okay=False),
              help="Weights file to use instead of the shipped model (e.g. from `finetune`: its .json sidecar and "
                   "field reader files beside it). A fine-tuned model reads with its base model's review "
                   "thresholds and amount calibration, not measured for it.")
@click.option("--resume", is_flag=True,
              help="Skip pages already in the output file and append the rest (a .csv or .jsonl row cut off "
                   "by a kill is read again). A .parquet output is rewritten whole; a stopped run leaves none "
                   "to resume from.")
@click.option("--annotate", "annotate_dir", type=click.Path(file_okay=False),
              help="Write each page that decodes as a PNG with the field, cuts and digit labels drawn on it, "
                   "named NNNNNN_<file>_p<page>.png by its row number (a page that cannot be decoded has its "
                   "error row and no picture); a run without --resume first removes an earlier run's pictures from "
                   "it. A later `read` of a folder it lies in leaves it out; it may not be, or hold, "
                   "an input (a usage error).")
@click.option("--scheduler", help="Run the page stages on an existing Dask cluster at this address (tcp://host:8786).")
@click.option("--dask-workers", type=click.IntRange(1),
              help="Start a local Dask cluster with this many workers (needs the [dask] extra).")
@click.option("--progress/--no-progress", default=None, help="Progress bar on stderr (default: only on a terminal).")
def read(inputs, output, digits_out, from_list, layout, target_error, review_threshold, workers, device,
         field_reader, backend, model_path, resume, annotate_dir, scheduler, dask_workers, progress):
    """Read the amounts of INPUT files and folders into a results file.

    INPUT may be image files (PNG, JPEG, TIFF, BMP, GIF, WebP), PDFs, X9.37 image
    cash letter files, folders (searched recursively for those suffixes; -v, given
    before read, names the files left out) or glob patterns; - is one scan piped into
    standard input (its rows named -). Every page gives one row; a file that cannot be read
    gives an error row and the run goes on.

    Exit codes: 0 every page read with no review needed, 1 some pages need review or
    failed, 2 bad usage, 3 the output could not be written, 130 interrupted (Ctrl-C or
    SIGTERM; the rows of a .csv or .jsonl output are kept and --resume continues), 141
    standard output (-o -) closed by its reader.

    \b
    Examples:
      cheque-reader read samples/ -o results.csv
      cheque-reader read --layout field fields/*.png -o fields.csv --digits-out digits.csv
      cheque-reader read scans/ -o results.csv --resume      # continue a stopped run
      cheque-reader read scans/ -o - | grep ,true,           # CSV to stdout: the rows to review
      curl -s "$URL" | cheque-reader read - -o -            # one scan piped in, its row to stdout
      cheque-reader read scans/ --review-threshold 0.95      # send more reads to review
      cheque-reader read scans/ --dask-workers 4             # page stages on a local Dask cluster
      cheque-reader -v read scans/ -o results.csv            # also name the files in scans/ left out
    """
    from .batch import keep_freed_memory, read_folder
    from .io import read_from_list
    from .report import is_stdout

    keep_freed_memory()  # this process is the command's own (the workers do it for themselves)
    if STDIN_INPUT in inputs:
        _check_stdin_input(from_list, resume, scheduler)
    try:
        listed = read_from_list(from_list) if from_list else []
    except ChequeReaderError as exc:
        _fail(UsageError(str(exc)))
    items = list(inputs) + listed
    if not items and from_list:  # (a find that matched nothing)
        named = "standard input" if from_list == "-" else from_list
        _fail(UsageError(f"{named} lists no input path (it is empty, or holds blank lines only)"))
    if not items:
        _fail(UsageError("no INPUT given (see cheque-reader read --help)"))
    if scheduler and dask_workers:  # the local cluster's size was silently ignored
        _fail(UsageError("--scheduler and --dask-workers name two clusters: give one (--dask-workers starts a local one)"))
    given = click.get_current_context().get_parameter_source
    if review_threshold is not None and given("target_error") == click.core.ParameterSource.COMMANDLINE:
        log.warning("--target-error %g is not used: --review-threshold %g sets the threshold", target_error,
                    review_threshold)
    if (scheduler or dask_workers) and given("workers") == click.core.ParameterSource.COMMANDLINE:
        log.warning("--workers %d is not used: the Dask cluster's workers run the page stages", workers)
    options = config.ReadOptions(
        layout=layout,
        target_error=target_error,
        review_threshold=review_threshold,
        workers=workers,
        device=device,
        field_reader=field_reader,
        backend=backend,
        model_path=model_path,
    )
    show = sys.stderr.isatty() if progress is None else progress
    try:
        with _sigterm_as_ctrl_c(), _ProgressBar(show) as bar, _stdin_scan(items) as items:
            kwargs = dict(output=output, digits_output=digits_out, resume=resume, progress=bar.update,
                          annotate_dir=annotate_dir)
            if scheduler or dask_workers:
                from .distributed import read_folder_dask

                _dask_logs_at_our_level()
                df = read_folder_dask(items, options, scheduler=scheduler, n_workers=dask_workers, **kwargs)
            else:
                df = read_folder(items, options=options, **kwargs)
    except ChequeReaderError as exc:
        _fail(exc)
    n = len(df)
    if not n:
        _fail(UsageError(f"no input pages found: folders are searched for {', '.join(config.IMAGE_SUFFIXES)} "
                         "files ('cheque-reader -v read ...' names the others)"))
    n_review = int((df["needs_review"] == "true").sum()) if n else 0
    n_error = int((df["status"] == "error").sum()) if n else 0
    now = df.attrs.get("pages_read_now", n)
    if is_stdout(output):
        output = "standard output"
    where = (f"{_count(n, 'page')} read into {output}" if now == n else
             f"{_count(n, 'page')} in {output} ({now} read now, {n - now} kept from the earlier run by --resume)")
    click.echo(f"{where}: {n - n_review} accepted, {n_review} {'needs' if n_review == 1 else 'need'} review "
               f"({_count(n_error, 'error')})" + _reason_counts(df) + _micr_counts(df), err=True)
    sys.exit(EXIT_NEEDS_ATTENTION if n_review else EXIT_OK)


#: The INPUT that stands for one scan's bytes on standard input (``curl ... | cheque-reader read - -o -``);
#: its rows' ``source``. A file named ``-`` is ``./-``.
STDIN_INPUT = "-"


def _check_stdin_input(from_list, resume: bool, scheduler) -> None:
    """Usage errors for ``-`` (one scan on standard input) where it cannot be read (before anything is)."""
    if from_list == "-":
        _fail(UsageError("INPUT - (a scan on standard input) and --from-list - (paths on standard input) both read "
                         "standard input: give one (a file named - is ./-)"))
    if resume:
        _fail(UsageError("INPUT - (a scan on standard input) cannot be resumed: --resume would skip a page named - "
                         "whatever scan is piped in; read it without --resume"))
    if scheduler:
        _fail(UsageError("INPUT - (a scan on standard input) is kept in a file of this machine, which the workers of "
                         "--scheduler cannot open: save it where they can, or use --dask-workers"))
    if sys.stdin is None or sys.stdin.isatty():
        _fail(UsageError("INPUT - reads one scan from standard input, which is a terminal: pipe one in "
                         "(cheque-reader read - < scan.tif; a file named - is ./-)"))


@contextlib.contextmanager
def _stdin_scan(items: list):
    """``items`` with ``-`` standing for the scan read from standard input: its bytes in a private
    temporary file (the workers open inputs by path) for the run, its rows named ``-``."""
    if STDIN_INPUT not in items:
        yield items
        return
    import tempfile

    from .io import InputFile

    with tempfile.TemporaryDirectory(prefix="cheque-reader-stdin-") as tmp:
        path = os.path.join(tmp, "stdin")
        with open(path, "wb") as f:
            shutil.copyfileobj(sys.stdin.buffer, f)
        yield [InputFile(path, STDIN_INPUT) if item == STDIN_INPUT else item for item in items]


def _count(n: int, noun: str) -> str:
    """``"1 page"``, ``"2 pages"``.

    >>> _count(1, "page"), _count(0, "error")
    ('1 page', '0 errors')
    """
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _micr_counts(df) -> str:
    """``"; X9.37 items: amount read = MICR amount on 480, another on 3"`` where the rows have the
    ``micr_match`` column (:func:`cheque_reader.x937.micr_match`), or ``""``.

    >>> import pandas as pd
    >>> _micr_counts(pd.DataFrame({"micr_match": ["true", "false", "", "true"]}))
    '; X9.37 items: amount read = MICR amount on 2, another on 1'
    """
    if "micr_match" not in df.columns:
        return ""
    same, other = int((df["micr_match"] == "true").sum()), int((df["micr_match"] == "false").sum())
    return f"; X9.37 items: amount read = MICR amount on {same}, another on {other}"


def _reason_counts(df) -> str:
    """``"; reasons: low_confidence 2, segmentation 1"`` for the review reasons of ``df``'s rows, or ``""``.

    >>> import pandas as pd
    >>> _reason_counts(pd.DataFrame({"review_reasons": ["low_confidence;segmentation", "", "low_confidence"]}))
    '; reasons: low_confidence 2, segmentation 1'
    """
    if not len(df) or "review_reasons" not in df:
        return ""
    codes = df["review_reasons"].fillna("").astype(str).str.split(";").explode()
    counts = codes[codes != ""].value_counts()
    return "; reasons: " + ", ".join(f"{code} {n}" for code, n in counts.items()) if len(counts) else ""


@main.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option("--truth", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Ground truth CSV: one row per page with source, optional page, and digits "
                   "(two rows for one page are refused).")
@click.option("--truth-source", default="source", show_default=True, help="Truth column with the file name or path.")
@click.option("--truth-page", help="Truth column with the page. Default: page, or page 1 for every row when the truth has no page column.")
@click.option("--truth-digits", default="digits", show_default=True, help="Truth column with the digit string.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write a PNG with the risk-coverage curve and reliability diagram (.pdf, .svg, .jpg, .tif or .webp by the suffix).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Also write the figures as JSON.")
@click.option("--ignore-missing", is_flag=True,
              help="Leave out truth rows that have no result (when only part of the truth set was read).")
@click.option("--details", type=click.Path(dir_okay=False),
              help="Write one row per truth row (truth, read, confidence, correct, edit distance, IoU, amount right): "
                   "CSV, or .parquet or .jsonl by the suffix.")
def evaluate(results, truth, truth_source, truth_page, truth_digits, plot, json_out, ignore_missing, details):
    """Measure RESULTS against ground truth.

    Prints string accuracy (digits exact), digit accuracy (1 - edit distance / truth
    digits), field IoU where the truth has field_x..field_h, the share read
    automatically at 0.1%, 0.5%, 1% and 2% error (risk-coverage), the confidence
    threshold for each (`read --review-threshold` takes such a threshold, but a read
    also goes to review for its other reasons, the readers' disagreement or the
    grammar, so a run at that threshold accepts fewer), the ECE of the confidence, and the share the run itself accepted (needs_review false) with
    their error. Where the truth has an `amount`
    column (a decimal value, 1234.56; thousands separators, 1,234.56, are dropped), also the share of amounts whose value is right,
    cents included, and of the accepted reads whose value is wrong. Truth sources may be
    bare file names; they are matched by path, then by a path one of the two ends with,
    then by file name (as finetune matches corrections). Truth rows that match
    no result are warned about on stderr (how many of how many).

    \b
    Examples:
      cheque-reader evaluate results.csv --truth samples/truth.csv --plot risk.png
      cheque-reader evaluate r.csv --truth ../shared/data/orand_car_a/labels.csv \\
          --truth-source file --truth-digits amount_string
    """
    import json

    from .evaluate import (
        evaluate_results,
        load_truth,
        match_truth,
        plot_evaluation,
        plot_format,
    )
    from .report import check_output_format, read_results, write_table

    cols = dict(truth_source=truth_source, truth_page=truth_page, truth_digits=truth_digits)
    try:
        if plot:
            plot_format(plot)
    except ValueError as exc:
        _fail(UsageError(f"--plot {plot}: {exc}"))
    try:  # d.xlsx is no format; a folder's name (out/) wrote a file named out
        if details:
            check_output_format(details)
    except UsageError as exc:
        _fail(UsageError(f"--details {exc}"))
    if json_out and json_out.endswith(("/", "\\")):
        _fail(UsageError(f"--json {json_out} is a folder: give the output a file name"))
    try:
        truth_df = load_truth(truth, truth_source=truth_source, truth_digits=truth_digits)
        results_df = read_results(results)
        report = evaluate_results(results_df, truth_df, ignore_missing=ignore_missing, **cols)
    except (KeyError, ValueError) as exc:  # a KeyError's str() is its repr: its message unquoted
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        _fail(UsageError(f"cannot evaluate {results} against {truth}: {message}"))
    click.echo(report.format())
    if details:
        _write_or_fail(details, lambda: write_table(match_truth(results_df, truth_df, **cols), details))
    if plot:
        click.echo(f"plot written to {_write_or_fail(plot, lambda: plot_evaluation(report, plot))}", err=True)
    if json_out:
        _write_or_fail(json_out, lambda: Path(json_out).write_text(json.dumps(report.summary(), indent=2) + "\n"))


def _write_or_fail(path, write):
    """``write()``'s value; an ``OSError`` ends the command with exit code 3, naming ``path``. Its folder
    is made first, as ``read`` makes its outputs' (a file where a folder should be said "File exists")."""
    from .batch import check_writable

    try:
        check_writable(path)
        return write()
    except OutputError as exc:
        _fail(exc)
    except OSError as exc:
        _fail(OutputError(f"cannot write {path}: {exc.strerror or exc}"))


@main.command()
@click.argument("results", type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", default="review", show_default=True, type=click.Path(file_okay=False),
              help="Folder for the page (index.html) and its crops; nothing is written elsewhere. A `read` of "
                   "a folder it lies in leaves it out (it holds a .cheque-reader-output file); it may not hold the scans.")
@click.option("--digits", "digits_csv", type=click.Path(exists=True, dir_okay=False),
              help="The digits file of `read --digits-out` (.csv, .jsonl or .parquet): draws the digit boxes coloured by confidence.")
@click.option("--images", "image_root", type=click.Path(exists=True, file_okay=False),
              help="Folder the results' source paths are relative to (the folder given to `read`). Default: here.")
@click.option("--all", "everything", is_flag=True, help="Show every read, not only those that need review (the page's Show menu can then "
                   "show only those).")
def review(results, out_dir, digits_csv, image_root, everything):
    """Write a static HTML page to review and correct the doubtful reads of RESULTS
    (a results file of `read`: .csv, .parquet or .jsonl).

    Worst reads first, each with its amount-field crop; type the right digits, Enter
    accepts and moves on, Tab skips; "Export" downloads corrections.csv
    (source,page,digits) for `finetune`. Open OUT/index.html in a browser; it works
    offline.

    \b
    Examples:
      cheque-reader read scans/ -o results.csv --digits-out digits.csv
      cheque-reader review results.csv --digits digits.csv --images scans/ --out review/
    """
    from .report import read_results
    from .review import load_digits, write_review_page

    try:
        df = read_results(results)
    except ValueError as exc:  # pandas' and pyarrow's parse errors; read_results' own name the file and the cause
        said = str(exc)
        _fail(UsageError(said if said.startswith(f"{results}: ") else
                         f"cannot read {results}: not a results file of `read` ({said})"))
    missing = [c for c in ("source", "status", "needs_review") if c not in df.columns]
    if missing:  # a digits file has a source column too: its page was one item a digit
        hint = ": a digits file? give it as --digits" if {"index", "label"} <= set(df.columns) else ""
        _fail(UsageError(f"{results}: not a results file of `read` (it has no {', '.join(missing)} column){hint}"))
    try:
        digits = load_digits(digits_csv) if digits_csv else None
        page = write_review_page(df, out_dir, digits=digits, image_root=image_root, everything=everything)
    except OSError as exc:
        _fail(OutputError(f"cannot write the review page in {out_dir}: {exc}"))
    except ChequeReaderError as exc:
        _fail(exc)
    click.echo(str(page))


@main.command()
@click.option("--corrections", required=True, type=click.Path(exists=True, dir_okay=False),
              help="corrections.csv (source,page,digits) exported from the review page.")
@click.option("--results", "results_csv", required=True, type=click.Path(exists=True, dir_okay=False),
              help="The results file the corrections were made on (.csv, .parquet or .jsonl; its field boxes are reused).")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
              help="Weights file to write (.pt). Beside it go its .json sidecar and, when the field reader "
                   "learnt too, NAME_sdnn.pt and NAME_sdnn.json: keep the four together (read --model needs them).")
@click.option("--images", "image_root", type=click.Path(exists=True, file_okay=False),
              help="Folder the results' source paths are relative to (the folder given to `read`). Default: here.")
@click.option("--model", "base_model", type=click.Path(exists=True, dir_okay=False),
              help="Model to start from (default: the shipped model).")
@click.option("--epochs", type=click.IntRange(1), default=config.FINETUNE_EPOCHS, show_default=True,
              help="Passes over the corrected digits (and fields, for the field reader).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the held-out pages, the distortions and the training order.")
def finetune(corrections, results_csv, output, image_root, base_model, epochs, seed):
    """Fine-tune the digit model on reviewed corrections; use it with `read --model`.

    The corrected pages' digits are cut again from their scans (where the number of
    digits found matches the corrected string) and the model is trained on them; the
    field reader learns the corrected fields too (it needs no cut). The new model
    keeps its base model's review thresholds (--target-error) and amount
    calibration, not measured for it: evaluate it on pages it did not learn from
    before reading with it (a few corrections can lose reads as well as gain them).

    \b
    Examples:
      cheque-reader finetune --corrections corrections.csv --results results.csv \\
          --images scans/ -o model.pt
      cheque-reader read scans/ --model model.pt -o results2.csv
    """
    import json

    from .finetune import finetune as run_finetune
    from .report import read_results
    from .review import load_corrections

    try:
        out = run_finetune(load_corrections(corrections), read_results(results_csv), out_path=output,
                           base_model=base_model, epochs=epochs, seed=seed, image_root=image_root)
    except ValueError as exc:
        _fail(UsageError(str(exc)))
    except OSError as exc:
        _fail(OutputError(f"cannot write {output}: {exc}"))
    except ChequeReaderError as exc:
        _fail(exc)
    click.echo(str(out))
    try:  # what it learnt from: the corrections it could not use are said, not only logged
        from .finetune import summary

        click.echo(summary(json.loads(Path(out).with_suffix(".json").read_text())), err=True)
    except (OSError, ValueError):
        pass
    from .finetune import UNMEASURED_NOTE

    click.echo(UNMEASURED_NOTE, err=True)


class _ProgressBar:
    """A tqdm bar fed by ``read_folder``'s ``progress(done, total)`` callback."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.bar is not None:
            self.bar.close()

    def update(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="page", file=sys.stderr, dynamic_ncols=True)
        if total is not None and self.bar.total != total:
            self.bar.total = total
        self.bar.update(done - self.bar.n)


if __name__ == "__main__":  # pragma: no cover
    main()
