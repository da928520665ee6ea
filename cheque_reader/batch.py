"""Many files: worker processes, big classifier batches, ordered streaming output, resume.

The per-page image stages (decode, locate, clean, segment, normalize:
:func:`cheque_reader.pipeline.prepare_page`) run in worker processes; the main process
gathers the digit tensors of many pages into large classifier batches (one
:class:`~cheque_reader.classify.DigitClassifier` per process), finishes the pages and
writes the rows in input order as they complete. In-flight work is bounded, so memory
stays flat whatever the number of files.

Faults: a file that cannot be read is an ``error`` row; a worker process that dies costs
only the file it was reading an error row (the pool is restarted); ``resume=True`` skips
the pages already in the output and repairs a last line cut off by a kill.

>>> import numpy as np, cv2, tempfile, os
>>> d = tempfile.mkdtemp()
>>> _ = cv2.imwrite(os.path.join(d, "blank.png"), np.full((40, 120), 255, np.uint8))
>>> df = read_folder([d], options=ReadOptions(layout="field"))
>>> df[["source", "page", "status"]].values.tolist()
[['blank.png', 1, 'no_digits']]
"""

from __future__ import annotations

import collections
import concurrent.futures as cf
import csv
import dataclasses
import errno
import json
import logging
import math
import multiprocessing
import os
import re
import stat
import sys
import threading
import time
import uuid
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from . import io as cio
from .classify import set_torch_threads_here
from .config import ReadOptions
from .errors import ChequeReaderError, OutputError, UsageError
from .report import (DIGIT_COLUMNS, RESULT_COLUMNS, RESULT_DTYPES, check_output_format, check_outputs, digit_rows,
                     is_stdout, read_results, result_row, results_format, typed_frame, typed_row)
from .types import STATUS_ERROR, ChequeResult
from .x937 import X937_COLUMNS

log = logging.getLogger("cheque_reader")

#: Pages per worker task (a multi-page file is split into tasks of this many pages).
CHUNK_PAGES = 8

#: First tasks of files (single-page files: one page each) sent to a worker process together, up to
#: this many: each task sent and each result received cost the main process about 0.5 ms of CPU
#: (its pool's threads pickling, waking, unpickling). 400 single-page Group 4 files: main process
#: 2.41 s of CPU, as 50 files of 8 pages 2.18 s.
GROUP_TASKS = 4

#: Test-only fault injection: a worker process reading a file whose source contains this
#: environment variable's value exits at once (as a crash would). Never set it in production.
CRASH_ENV = "CHEQUE_READER_TEST_CRASH"

#: Flush the rows of pages that wait for a classifier batch at least this often (seconds).
MAX_HOLD_S = 1.0

#: Worker processes run this much nicer than the main process: where the main process (both
#: networks, serial) is the bottleneck it must not wait for a core. 2 cores, interleaved pairs of
#: runs: Group 4 (400 pages) median 20.9 -> 22.3 pages/s, 6 of 8 pairs faster; colour JPEG (300
#: pages, the workers the bottleneck) 16.1 -> 16.3, 3 of 6: no loss.
WORKER_NICENESS = 10

#: Tasks in flight (a group of tasks, :data:`GROUP_TASKS`, counts as one) or done, waiting for their
#: turn, per worker. While the main process runs a
#: classifier batch (about 30 pages: half a second) nothing is submitted, so the workers must have
#: that much work queued or they idle: 2 cores, 800 Group 4 pages, single-page files, two runs
#: each: 4 per worker 31.2 / 30.1 pages/s (CPU 162-165%), 16 per worker 35.3 / 35.1 (187-188%),
#: 32 per worker 33.7 / 35.0. A task's result carries no pixels (:func:`without_pixels`): at most
#: a few MB wait here.
WINDOW_TASKS_PER_WORKER = 16

#: The same with ``--annotate``, where every page's image comes back with its task.
WINDOW_TASKS_PER_WORKER_WITH_IMAGES = 4

#: glibc's allocator in the processes that read pages (:func:`keep_freed_memory`): blocks up to
#: this size come from the heap, not from fresh pages of the OS (32 MB, the most glibc allows) ...
MALLOC_MMAP_THRESHOLD = 32 * 2**20
#: ... and up to this much freed memory stays in the heap for the next page. With glibc's default,
#: the heap's top went back to the OS after a page and was faulted in again for the next: 400 Group 4
#: pages in a fresh process, 375,000 page faults in the workers and 1.5 ms of system time a page
#: against 15,000 and 0.2 ms. ``scripts/bench.py --n 1000 --kinds tiff-g4``, three pairs on 2 cores:
#: 111.9 / 104.6 / 110.0 -> 121.8 / 121.2 / 121.7 pages/s, peak RSS 415-418 -> 429-438 MB.
MALLOC_TRIM_THRESHOLD = 64 * 2**20

ProgressFn = Callable[[int, "int | None"], None]


def keep_freed_memory() -> bool:
    """Set glibc's allocator of this process to keep freed memory for the next page
    (:data:`MALLOC_MMAP_THRESHOLD`, :data:`MALLOC_TRIM_THRESHOLD`); ``False`` where the C
    library is not glibc (nothing changed). The worker processes do it; ``cheque-reader read``
    does it in its own process too (a library caller's process is left as it is).

    >>> import platform
    >>> keep_freed_memory() == (platform.libc_ver()[0] == "glibc")
    True
    """
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, MALLOC_MMAP_THRESHOLD)) and bool(mallopt(m_trim_threshold, MALLOC_TRIM_THRESHOLD))


# --------------------------------------------------------------------------------------------
# Public API


def read_folder(
    inputs: Iterable[str | os.PathLike] | str | os.PathLike,
    *,
    options: ReadOptions | None = None,
    output: str | os.PathLike | None = None,
    resume: bool = False,
    progress: ProgressFn | None = None,
    digits_output: str | os.PathLike | None = None,
    annotate_dir: str | os.PathLike | None = None,
    classifier=None,
    executor=None,
) -> pd.DataFrame:
    """Read every page of ``inputs`` (files, folders, globs); one row per page, in input order.

    Parameters
    ----------
    inputs : paths, folders (recursive, sorted) or glob patterns: one, or any iterable of them (a list, a generator).
    options : :class:`ReadOptions` (``None``: the defaults); ``options.workers`` worker processes (1: in this
        process; so too, with a warning, in a daemonic process, such as a ``multiprocessing.Pool`` worker).
    output : results file; the format follows the extension: ``.csv`` or ``.jsonl`` (streamed,
        flushed row by row: an interrupted run keeps its rows), ``.parquet`` (written atomically
        at the end: it cannot be appended to). ``"-"`` (:data:`~cheque_reader.report.STDOUT`): CSV
        streamed to standard output, header first, each row flushed as its page is done.
        ``None``: only return the frame.
    resume : skip the pages already in ``output`` (and ``digits_output``) and append the rest; it
        needs an ``output`` file (a UsageError without one, or with standard output).
    progress : called as ``progress(pages_done, pages_total)`` after each page: ``pages_total`` counts a
        file not yet opened as one page, so it grows as multi-page files are opened (never ``None``).
    digits_output : optional per-digit CSV (``report.DIGIT_COLUMNS``); ``"-"`` as for ``output`` (not both).
    annotate_dir : write one annotated PNG per page there.
    classifier : a :class:`DigitClassifier` to use (default: the one ``options`` describe).
    executor : a ``concurrent.futures.Executor`` to run the page stages on (e.g. a Dask
        client's executor); default: a process pool of ``options.workers``.

    Returns
    -------
    DataFrame with exactly ``report.RESULT_COLUMNS`` (plus ``item_sequence``,
    ``micr_amount`` and ``micr_match``, ``x937.X937_COLUMNS``, when an input is an X9.37 file): every row of the output, earlier
    runs' rows included when resuming.

    Raises
    ------
    UsageError : bad ``options`` (:func:`~cheque_reader.pipeline.check_options`) or outputs, before any
        page is read; ModelError : weights that cannot be loaded.
    OutputError : the output cannot be written (unwritable path, full disk).
    BrokenPipeError : standard output (``"-"``) was closed by its reader (``| head``); the workers are
        stopped first.

    A file that cannot be read raises nothing: it gets an ``error`` row and the run goes on.
    Inputs that name no file to read (an empty folder) give an empty frame, and ``output`` is left
    as it was.

    Examples
    --------
    >>> import os, tempfile, numpy as np, cv2
    >>> folder = tempfile.mkdtemp()
    >>> cv2.imwrite(os.path.join(folder, "blank.png"), np.full((60, 200), 255, np.uint8))
    True
    >>> df = read_folder([folder, os.path.join(folder, "missing.png")], options=ReadOptions(layout="field"))
    >>> df[["page", "status", "needs_review"]].values.tolist()
    [[1, 'no_digits', 'true'], [1, 'error', 'true']]
    >>> df.loc[1, "error"].endswith("missing.png: no such file")
    True
    """
    from .pipeline import check_options, with_classifier_model

    options = ReadOptions() if options is None else options
    check_options(options)  # a bad layout or target error: one usage error, not an error row a page
    options = with_classifier_model(options, classifier)  # a fine-tuned classifier's field reader with it
    check_outputs(output, digits_output, resume=resume)
    if isinstance(inputs, (str, os.PathLike, bytes, bytearray, memoryview)):  # one input (bytes: refused as such)
        inputs = [inputs]
    inputs = list(inputs)
    _check_annotate_dir(inputs, annotate_dir)
    files = _outside(cio.iter_inputs(inputs), annotate_dir)
    columns = list(RESULT_COLUMNS) + (list(X937_COLUMNS) if _any_x937(files) else [])
    if not files and not resume:  # nothing to read: an earlier run's output is left as it is (it was emptied)
        df = _frame([], columns)
        df.attrs["pages_read_now"] = 0
        return df
    # an annotation folder or a digits file that cannot be written fails here, before the results file is
    # opened (emptied: an earlier run's results were lost to a mistyped --annotate or --digits-out)
    annotator = _Annotator(annotate_dir) if annotate_dir else None
    if annotator is not None and not resume:
        annotator.remove_earlier()
    for path in (output, digits_output):
        if path is not None and not is_stdout(path):
            check_writable(path)
    engine = _Engine(files, options, progress=progress, classifier=classifier,
                     executor=executor, want_images=bool(annotate_dir))
    # a device, model or backend that cannot be used fails here, before an output is opened (emptied); the
    # workers read the first files meanwhile (all of them: none is skipped but on resume)
    engine.start(submit=not resume)
    digits_new = bool(digits_output) and not (os.path.isfile(digits_output) and os.path.getsize(digits_output))
    try:
        sink = open_sink(output, columns, resume=resume)
        digits_sink = open_sink(digits_output, list(DIGIT_COLUMNS), resume=resume, keep=sink.done) if digits_output else None
    except BaseException:
        engine.close()
        raise
    engine.skip_pages(sink.done)
    if resume and digits_new and sink.done:  # the kept pages were read without it: none of their digits is there
        n = len(sink.done)
        log.warning("--resume kept %d %s of %s that %s no rows in the new digits file %s (read without it); read "
                    "without --resume to have every page's digits", n, "page" if n == 1 else "pages", output,
                    "has" if n == 1 else "have", digits_output)
    if annotator is not None:  # on resume the new rows follow the kept ones: their pictures are numbered on from there
        annotator.n = len(sink.done)
    n_now = 0
    try:
        for result in engine.run():
            if digits_sink is not None and result.digit_reads:
                for row in digit_rows(result):
                    digits_sink.write(row)
            sink.write(result_row(result))
            n_now += 1
            if annotator is not None:
                annotator.write(result)
        sink.close()
        if digits_sink is not None:
            digits_sink.close()
    except BaseException:
        sink.abort()
        if digits_sink is not None:
            digits_sink.abort()
        raise
    df = sink.frame()
    df.attrs["pages_read_now"] = n_now  # the rest were kept from an earlier run (resume)
    if resume and len(df) > n_now:
        _warn_kept_other_models(output, df["model"].iloc[: len(df) - n_now], _run_model_ids(engine.classifier, options))
        if n_now:
            _warn_read_again_under_another_name(output, df.iloc[: len(df) - n_now], df.iloc[len(df) - n_now:])
    return df


def _warn_read_again_under_another_name(output, kept: pd.DataFrame, new: pd.DataFrame) -> None:
    """Warn when ``--resume`` read pages whose rows are kept already under another ``source``: the inputs
    were given otherwise than in the earlier run (its folder, now one of its files by path), so the
    pages were not known as done and the output holds them twice.

    >>> kept = pd.DataFrame({"source": ["a.png", "b.png"], "page": [1, 1]})
    >>> _warn_read_again_under_another_name("r.csv", kept, pd.DataFrame({"source": ["c.png"], "page": [1]}))
    """
    done = {(str(s).replace("\\", "/"), int(p)) for s, p in zip(kept["source"], kept["page"])}
    names: dict[tuple[str, int], list[str]] = {}
    for s, p in done:
        names.setdefault((s.rsplit("/", 1)[-1], p), []).append(s)
    twice = []
    for s, p in zip(new["source"], new["page"]):
        s = str(s).replace("\\", "/")
        for other in names.get((s.rsplit("/", 1)[-1], int(p)), []):
            if other != s and (s.endswith("/" + other) or other.endswith("/" + s)):
                twice.append(f"{s} page {p} as {other}")
                break
    if twice:
        log.warning("--resume read %d %s whose name ends as that of a row kept in %s (%s): if they are the same "
                    "scans, the output now holds them twice; give the inputs as the earlier run gave them (the "
                    "folder, not its files), or read without --resume", len(twice),
                    "page" if len(twice) == 1 else "pages", output, "; ".join(twice[:3]) + ("; ..." if len(twice) > 3 else ""))


def _is_stream(path) -> bool:
    """Whether ``path`` is neither a regular file nor a folder, nor missing: a device (``/dev/null``,
    ``/dev/stdout``) or a named pipe, which is written to as standard output is and never read back.

    >>> _is_stream("/dev/null"), _is_stream(__file__), _is_stream("no/such/file.csv")
    (True, False, False)
    """
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def check_writable(path) -> None:
    """An :class:`~cheque_reader.errors.OutputError` for an output file that cannot be written: its folder
    cannot be made or written in, or the file is not writable (a check made before any output is opened,
    so that a bad second output does not leave the first one emptied). A device or a pipe
    (:func:`_is_stream`) is left to its writer: it cannot be opened to read as well ("not seekable").

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> check_writable(folder / "out" / "r.csv")          # makes the folder, leaves no file
    >>> (folder / "out").is_dir(), list((folder / "out").iterdir())
    (True, [])
    >>> try:
    ...     check_writable(folder / "out")
    ... except OutputError as exc:
    ...     print(str(exc).endswith("it is a directory"))
    True
    """
    if _is_stream(path):
        return
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where a folder of the path should be
        raise _output_error(path, OSError(errno.ENOTDIR, "a part of its path is a file, not a folder")) from None
    except OSError as exc:
        raise _output_error(path, exc) from exc
    if path.is_dir():
        raise _output_error(path, OSError(errno.EISDIR, "is a directory"))
    try:
        if path.exists():
            open(path, "r+b").close()  # opened for writing, not emptied
        else:
            open(path, "xb").close()  # made and taken away again: its sink makes it
            path.unlink()
    except OSError as exc:
        raise _output_error(path, exc) from exc


def _check_annotate_dir(inputs: list, annotate_dir) -> None:
    """A :class:`~cheque_reader.errors.UsageError` for an ``annotate_dir`` that is an input folder, or
    holds an input given by name: its scans would be left out as pictures (``read scans --annotate
    scans`` ended 'no input pages found') and the folder marked as cheque-reader's own, so that a
    later ``read`` of the folder above it left the scans out too."""
    if not annotate_dir:
        return
    folder = Path(os.path.abspath(annotate_dir))
    for item in inputs:
        given = item.path if isinstance(item, cio.InputFile) else os.fsdecode(item) if isinstance(item, bytes) else os.fspath(item)
        if os.path.exists(given) and Path(os.path.abspath(given)).is_relative_to(folder):
            raise UsageError(f"the annotation folder {annotate_dir} holds the input {given}: its scans would be "
                             "taken for pictures and left out; give the pictures a folder of their own")


def _outside(files: list, annotate_dir) -> list:
    """``files`` less those in ``annotate_dir``: the pictures of an earlier run (or of this one, on
    ``--resume``) annotated into the folder being read are not cheques to read."""
    if not annotate_dir:
        return files
    folder = Path(annotate_dir).resolve()
    kept = [f for f in files if not Path(f.path).resolve().is_relative_to(folder)]
    if len(kept) < len(files):
        log.warning("%d files in the --annotate folder %s left out of the inputs (pictures of a read, not cheques)",
                    len(files) - len(kept), annotate_dir)
    return kept


def _run_model_ids(classifier, options: ReadOptions) -> set[str]:
    """The ``model`` values kept rows may hold to be this run's: its id (:func:`~cheque_reader.pipeline.run_model_id`),
    and the classifier's alone, which earlier versions wrote on the pages the field reader had nothing to read on."""
    from .pipeline import run_model_id

    return {classifier.model_id, run_model_id(classifier, options)}


def _warn_kept_other_models(output, kept_models, run_models: set[str]) -> None:
    """Warn when ``--resume`` kept rows read with other models (or backends) than this run's.

    >>> _warn_kept_other_models("r.csv", pd.Series(["m1+s1", "m1", ""]), {"m1", "m1+s1"})  # the same: silent
    """
    counts = pd.Series(kept_models).astype("string").fillna("")
    other = counts[(counts != "") & ~counts.isin(run_models)].value_counts()
    if len(other):
        log.warning("--resume kept %d rows of %s read with %s, not with this run's model %s: they are not "
                    "read again; read without --resume to have every page read with it",
                    int(other.sum()), output, ", ".join(other.index), max(run_models, key=len))


# --------------------------------------------------------------------------------------------
# Work done in the workers


@dataclass(frozen=True)
class _Task:
    index: int  # position of the file in the input list
    file: cio.InputFile
    start: int  # first page, 0-based
    count: int
    skip: frozenset  # 1-based page numbers already done (resume)
    want_images: bool = False
    run: str = ""  # the run (read_folder call) whose tasks share a file kept open (_open_document)


@dataclass
class _Chunk:
    index: int
    start: int
    n_pages: int  # pages in the file (1 for a file that cannot be opened)
    items: list  # PreparedPage, or None for a skipped page, one per page of the chunk
    images: dict = field(default_factory=dict)  # page -> grayscale image (annotations)


def die_with_parent(parent: int) -> bool:
    """Have the kernel send this process SIGTERM when its parent dies (Linux ``PR_SET_PDEATHSIG``),
    and end it now if ``parent`` (the pid that started it) died already; ``False`` where there is no
    ``prctl`` (nothing changed). A worker whose main process was killed (SIGKILL, SIGTERM) otherwise
    waited for work forever, holding the parent's stderr pipe.

    >>> with cf.ProcessPoolExecutor(1, mp_context=_pool_context()) as pool:  # in a child, as a worker
    ...     pool.submit(die_with_parent, os.getpid()).result() == sys.platform.startswith("linux")
    True
    """
    import ctypes
    import signal

    if not sys.platform.startswith("linux"):
        return False
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return False
    pr_set_pdeathsig = 1  # linux/prctl.h
    if prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0) != 0:
        return False
    if os.getppid() != parent:  # the parent died between fork and prctl: no signal will come
        os._exit(1)
    return True


def _worker_init(parent: int | None = None) -> None:
    """Per worker process: no OpenCV thread pool, one torch thread (the cores are the workers),
    a lower priority than the main process (``WORKER_NICENESS``), freed memory kept for the
    next page (:func:`keep_freed_memory`); SIGTERM's default action (a handler the main process
    set is not the worker's), and killed with ``parent``, its main process (:func:`die_with_parent`)."""
    import signal

    import cv2

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if parent is not None:
        die_with_parent(parent)
    cv2.setNumThreads(0)
    keep_freed_memory()
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)
    if hasattr(os, "nice"):  # POSIX
        os.nice(WORKER_NICENESS)


def _work_in_worker(tasks: list[_Task], options: ReadOptions) -> list[_Chunk]:
    """:func:`prepare_chunk` of each of ``tasks`` (a group: :data:`GROUP_TASKS`), in a worker process."""
    chunks = []
    for task in tasks:
        crash = os.environ.get(CRASH_ENV)
        if crash and crash in task.file.source:
            os._exit(70)  # test-only fault injection: die as a crashing decoder would
        chunks.append(prepare_chunk(task, options))
    return chunks


def prepare_chunk(task: _Task, options: ReadOptions) -> _Chunk:
    """Open one file and run the image stages on pages ``task.start .. task.start + task.count``.

    >>> import tempfile, cv2
    >>> path = os.path.join(tempfile.mkdtemp(), "f.png")
    >>> img = np.full((60, 200), 235, np.uint8)
    >>> _ = cv2.putText(img, "250", (30, 45), cv2.FONT_HERSHEY_SIMPLEX, 1.3, 30, 3); _ = cv2.imwrite(path, img)
    >>> chunk = prepare_chunk(_Task(0, cio.InputFile(path, "f.png"), 0, 1, frozenset()), ReadOptions(layout="field"))
    >>> [(p.source, p.page, p.status, p.n_candidates, p.field.image.shape) for p in chunk.items]   # pixels left out
    [('f.png', 1, 'ok', 3, (0, 0))]
    >>> chunk = prepare_chunk(_Task(0, cio.InputFile(path, "f.png"), 0, 1, frozenset({1})), ReadOptions(layout="field"))
    >>> chunk.n_pages, chunk.items   # page 1 done already
    (1, [None])
    """
    from .pipeline import PreparedPage, prepare_page

    src = task.file.source

    def error(page: int, message: str, extra=None, t0=None) -> PreparedPage:
        ms = (time.perf_counter() - t0) * 1000 if t0 else 0.0
        return PreparedPage(src, page, STATUS_ERROR, error=message, elapsed_ms=ms, extra=dict(extra or {}))

    t0 = time.perf_counter()
    try:
        doc = _open_document(task.file, options, task.run)
    except ChequeReaderError as exc:
        item = None if 1 in task.skip else error(1, str(exc), t0=t0)
        return _Chunk(task.index, 0, 1, [item])
    except Exception as exc:  # a decoder bug: one error row, the batch goes on
        log.exception("opening %s failed", src)
        return _Chunk(task.index, 0, 1, [None if 1 in task.skip else error(1, f"internal error: {exc!r}", t0=t0)])
    items, images = [], {}
    try:
        stop = min(doc.n_pages, task.start + task.count)
        for i in range(task.start, stop):
            number = i + 1
            if number in task.skip:
                items.append(None)
                continue
            t0 = time.perf_counter()
            try:
                page = doc.page(i)
            except ChequeReaderError as exc:
                items.append(error(number, str(exc), getattr(exc, "extra", None), t0))
                continue
            except Exception as exc:
                log.exception("decoding %s page %d failed", src, number)
                items.append(error(number, f"internal error decoding page: {exc!r}", None, t0))
                continue
            decode_ms = (time.perf_counter() - t0) * 1000
            prepared = prepare_page(page, options)
            prepared = dataclasses.replace(prepared, elapsed_ms=prepared.elapsed_ms + decode_ms)
            if task.want_images:
                images[number] = page.image
            else:
                prepared = without_pixels(prepared)
            items.append(prepared)
        return _Chunk(task.index, task.start, doc.n_pages, items, images)
    finally:
        if not _is_kept(doc):  # else kept open for the file's next task
            doc.close()


_OPEN: dict[int, tuple] = {}  # per thread: the key and document of the last multi-task file opened
_OPEN_LOCK = threading.Lock()


def _open_document(file: cio.InputFile, options: ReadOptions, run: str = ""):
    """``cio.open_document`` of ``file``, kept open in this thread for the file's next task (the same
    path, size and modification time). A multi-page file is read in tasks of :data:`CHUNK_PAGES`
    pages; opened again for each task, it was read whole and its pages or records walked up to
    the task's every time, so a long file cost time in the square of its length (an X9.37 file of
    4,000 items: 14.8 ms of the workers' CPU a page against 11.7 for 500). The rest of a file's tasks
    are queued once its first is back: a file is opened about once more per worker, not once per
    task. One document is kept per thread: the one before is closed when another file of several
    tasks comes, and by :func:`close_open_documents` (of the ``run`` that opened it: a run ending on
    another thread closed the file a run on this one was reading, whose pages became error rows)."""
    try:
        st = os.stat(file.path)
        key = (file.path, file.source, st.st_size, st.st_mtime_ns, options, run)
    except (OSError, ValueError):  # open_document gives the error row (ValueError: a NUL byte in the path)
        key = None
    me = threading.get_ident()
    with _OPEN_LOCK:
        kept = _OPEN.get(me)
    if kept is not None and key is not None and kept[0] == key:
        return kept[1]
    doc = cio.open_document(file.path, options, file.source)
    if key is not None and doc.n_pages > CHUNK_PAGES:  # a one-task file is not read again
        _close_open_document(me)
        with _OPEN_LOCK:
            _OPEN[me] = (key, doc)
    return doc


def _is_kept(doc) -> bool:
    with _OPEN_LOCK:
        kept = _OPEN.get(threading.get_ident())
    return kept is not None and kept[1] is doc


def _close_open_document(thread: int, run: str | None = None) -> None:
    with _OPEN_LOCK:
        kept = _OPEN.get(thread)
        if kept is None or (run is not None and kept[0][-1] != run):
            return
        del _OPEN[thread]
    kept[1].close()


def close_open_documents(run: str | None = None) -> None:
    """Close the documents :func:`_open_document` keeps open in this process for ``run``'s tasks
    (``None``: every run's), when none of them runs.

    >>> import tempfile, cv2
    >>> path = os.path.join(tempfile.mkdtemp(), "nine.tif")
    >>> _ = cv2.imwritemulti(path, [np.full((60, 200), 255, np.uint8)] * (CHUNK_PAGES + 1))
    >>> doc = _open_document(cio.InputFile(path, "nine.tif"), ReadOptions(layout="field"), "run-1")   # kept
    >>> close_open_documents("run-2"); threading.get_ident() in _OPEN   # another run's: left open
    True
    >>> close_open_documents("run-1"); threading.get_ident() in _OPEN
    False
    """
    with _OPEN_LOCK:
        threads = [t for t, (key, _) in _OPEN.items() if run is None or (key[-1] == run)]
    for thread in threads:
        _close_open_document(thread, run)


_NO_PIXELS = np.zeros((0, 0), np.uint8)


def without_pixels(prepared):
    """``prepared`` without the field's and the candidates' pixels (boxes, kinds and tensors kept):
    what the main process needs to finish a page, a small fraction of the bytes to send back.

    >>> from cheque_reader.pipeline import PreparedPage
    >>> from cheque_reader.types import BBox, DigitCandidate, Field
    >>> cand = DigitCandidate(BBox(30, 10, 20, 35), np.zeros((35, 20), np.uint8), "digit", 0, 1)
    >>> page = PreparedPage("a.png", 1, "ok", Field(BBox(0, 0, 200, 60), np.zeros((60, 200), np.uint8)), (cand,),
    ...                     np.zeros((1, 1, 32, 32), np.float32))
    >>> light = without_pixels(page)
    >>> light.field.image.shape, light.field.bbox, light.n_candidates
    ((0, 0), BBox(x=0, y=0, w=200, h=60), 1)
    >>> light.candidates[0].image.shape, light.candidates[0].bbox
    ((0, 0), BBox(x=30, y=10, w=20, h=35))
    """
    field = prepared.field
    if field is not None:
        field = dataclasses.replace(field, image=_NO_PIXELS, color=None)
    candidates = tuple(dataclasses.replace(c, image=_NO_PIXELS) for c in prepared.candidates)
    return dataclasses.replace(prepared, field=field, candidates=candidates)


# --------------------------------------------------------------------------------------------
# The engine (main process)


class _InlineExecutor(cf.Executor):
    """Runs each task at once, in this process (``workers=1``)."""

    def submit(self, fn, /, *args, **kwargs):
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered through the future
            fut.set_exception(exc)
        return fut


def _pool_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class _Engine:
    def __init__(self, files, options, *, progress, classifier, executor, want_images):
        self.files = list(files)
        self.options = options
        self.progress = progress
        self.want_images = want_images
        self.classifier = classifier
        self.external = executor
        self.skip_pages(())
        self.workers = max(1, int(options.workers))
        if executor is None and self.workers > 1 and multiprocessing.current_process().daemon:
            # "daemonic processes are not allowed to have children" (AssertionError) in a Pool worker
            log.warning("this is a daemonic process (a multiprocessing.Pool worker), which cannot start "
                        "worker processes: reading in it")
            self.workers = 1
        # tasks in flight or done and waiting: with annotations each holds its pages' images
        per_worker = WINDOW_TASKS_PER_WORKER if not want_images else WINDOW_TASKS_PER_WORKER_WITH_IMAGES
        self.window = per_worker * self.workers + 2
        self.pool = None
        self.torch_threads = None
        self.inline = executor is None and self.workers <= 1
        # the files its tasks keep open are closed by it alone (close_open_documents); unique across
        # processes: runs from two machines may share one Dask cluster's workers
        self.run_id = uuid.uuid4().hex
        self.n_pages: dict[int, int] = {}
        self.done_pages = 0
        self.queue: collections.deque[_Task] | None = None  # tasks to submit (made by start or run)
        self.in_flight: dict[cf.Future, list[_Task]] = {}

    def skip_pages(self, skip) -> None:
        """Leave out ``skip``'s ``(source, page)`` (set before :meth:`run`, and before :meth:`start` submits)."""
        skip = list(skip)
        if skip and self.queue is not None:
            raise RuntimeError("pages to skip set after the first tasks were submitted")
        skip_by_source: dict[str, set[int]] = collections.defaultdict(set)
        for source, page in skip:
            skip_by_source[source].add(int(page))
        self.skip = {k: frozenset(v) for k, v in skip_by_source.items()}
        self.n_skipped = sum(len(v) for v in self.skip.values())

    # -- executor management
    def _new_pool(self):
        if self.external is not None:
            return self.external
        if self.inline:
            return _InlineExecutor()
        return cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context(),
                                      initializer=_worker_init, initargs=(os.getpid(),))

    def _submit(self, tasks: list[_Task]):
        """A future of the list of ``tasks``' chunks: several tasks (:data:`GROUP_TASKS`) go to one
        worker process at once; one at a time run inline or on an executor given."""
        if self.inline or self.external is not None:
            [task] = tasks
            return self.pool.submit(prepare_chunk, task, self.options)
        return self.pool.submit(_work_in_worker, tasks, self.options)

    def _next_group(self, queue) -> list[_Task]:
        """The next tasks of ``queue`` to submit together: first tasks of files (whose pages are not
        known yet: mostly single-page files), up to :data:`GROUP_TASKS` of them; any other alone, and
        every task alone when the pages' images come back (annotations: the window of
        :data:`WINDOW_TASKS_PER_WORKER_WITH_IMAGES` tasks bounds the images held)."""
        group = [queue.popleft()]
        if self.inline or self.external is not None or self.want_images or group[0].start != 0:
            return group
        while queue and len(group) < GROUP_TASKS and queue[0].start == 0:
            group.append(queue.popleft())
        return group

    def _task(self, index: int, start: int) -> _Task:
        f = self.files[index]
        return _Task(index, f, start, CHUNK_PAGES, self.skip.get(f.source, frozenset()), self.want_images, self.run_id)

    def _total(self) -> int | None:
        known = sum(self.n_pages.values()) + (len(self.files) - len(self.n_pages))
        return max(0, known - self.n_skipped)

    # -- main loop
    def start(self, submit: bool = False) -> None:
        """Start the workers, then load the networks (a device, model or backend that cannot be
        used raises its usage error here); :meth:`close` undoes it. :meth:`run` starts if needed.
        ``submit``: the first tasks go to the worker processes (of its own pool) before the networks
        load (0.1-0.2 s at start, in which the workers had waited); the pages to skip must be set already.

        >>> import tempfile, cv2
        >>> path = os.path.join(tempfile.mkdtemp(), "blank.png")
        >>> _ = cv2.imwrite(path, np.full((60, 200), 255, np.uint8))
        >>> e = _Engine(cio.iter_inputs([path]), ReadOptions(layout="field", workers=2), progress=None,
        ...             classifier=None, executor=None, want_images=False)
        >>> e.start(submit=True); len(e.in_flight)   # reading before the networks were loaded
        1
        >>> [r.status for r in e.run()]
        ['no_digits']
        """
        from .pipeline import get_classifier, get_field_reader

        if self.pool is not None:
            return
        self.pool = self._new_pool()
        try:
            if isinstance(self.pool, cf.ProcessPoolExecutor):
                # fork the workers now, before the networks are loaded here: they never need torch, and
                # a worker forked after it holds (and slowly touches) ~90 MB more of its pages
                if submit and self.external is None:  # our own workers (an executor given may be shared)
                    self.queue = collections.deque(self._task(i, 0) for i in range(len(self.files)))
                    while self.queue and len(self.in_flight) < self.window:  # as run's first submissions
                        group = self._next_group(self.queue)
                        self.in_flight[self._submit(group)] = group
                if not self.in_flight:
                    self.pool.submit(os.getpid).result()
            if self.classifier is None:
                self.classifier = get_classifier(self.options)
            get_field_reader(self.options)  # loaded once per process: _finish uses the same one
        except BaseException:
            self.close()
            raise
        if not self.inline and "torch" in sys.modules:
            # the worker processes use every core: one classifier thread here (measured on 2 busy
            # cores: 20k digits/s with 1 thread, 4k with 2)
            self.torch_threads = set_torch_threads_here(1)  # this thread's only (others' are left alone)

    def close(self) -> None:
        """Stop the workers started by :meth:`start` (idempotent)."""
        if self.pool is not None and self.external is None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.inline or self.external is not None:  # tasks ran in this process, or may have
            close_open_documents(self.run_id)
        close_run = getattr(self.external, "close_run", None)
        if close_run is not None:  # an executor whose workers are other processes (DaskExecutor)
            close_run(self.run_id)
        if self.torch_threads is not None:
            set_torch_threads_here(self.torch_threads)
            self.torch_threads = None

    def run(self) -> Iterator[ChequeResult]:
        self.start()
        if self.queue is None:
            self.queue = collections.deque(self._task(i, 0) for i in range(len(self.files)))
        queue, in_flight = self.queue, self.in_flight
        done: dict[tuple[int, int], _Chunk] = {}
        suspects: collections.deque[_Task] = collections.deque()
        ready: list = []  # PreparedPage in output order, waiting for classification
        ready_since = None
        head = (0, 0)  # next (file index, chunk start) to emit
        try:
            while queue or in_flight or suspects or ready or head[0] < len(self.files):
                # submit: suspects alone (to find a crashing file), else up to the window
                if suspects:
                    if not in_flight:
                        group = [suspects.popleft()]
                        in_flight[self._submit(group)] = group
                else:
                    # the queue is in input order, so the chunk the output waits for (``head``) is
                    # either done, in flight, or queue[0]: it is always submitted, window or not
                    head_waiting = head not in done and all((t.index, t.start) != head
                                                            for group in in_flight.values() for t in group)
                    while queue and (len(in_flight) + len(done) < self.window or head_waiting):
                        group = self._next_group(queue)
                        in_flight[self._submit(group)] = group
                        head_waiting = False
                if in_flight:
                    finished, _ = cf.wait(list(in_flight), timeout=MAX_HOLD_S, return_when=cf.FIRST_COMPLETED)
                    broken: list[_Task] = []
                    for fut in finished:
                        group = in_flight.pop(fut)
                        try:
                            chunks = fut.result()
                            chunks = chunks if isinstance(chunks, list) else [chunks]
                        except BrokenProcessPool:
                            broken.extend(group)
                            continue
                        except Exception as exc:  # the executor failed this task (e.g. a Dask worker died)
                            log.warning("task for %s failed: %r", group[0].file.source, exc)
                            message = f"worker failed: {type(exc).__name__}: {exc}"
                            chunks = [self._failed_chunk(t, message) for t in group]
                        for t, chunk in zip(group, chunks):
                            self._accept(chunk, t, queue, done)
                    if broken:
                        self._handle_broken(broken, in_flight, suspects, queue, done)
                # emit chunks in input order
                while head in done:
                    chunk = done.pop(head)
                    ready.extend((p, chunk.images.get(p.page)) for p in chunk.items if p is not None)
                    ready_since = ready_since or time.monotonic()
                    head = self._advance(head)
                while head[0] < len(self.files) and head[0] in self.n_pages and head[1] >= self.n_pages[head[0]]:
                    head = (head[0] + 1, 0)
                end = not queue and not in_flight and not suspects
                if self._batch_due(ready, ready_since, queue or suspects, len(in_flight)):
                    yield from self._finish(ready)
                    ready, ready_since = [], None
                if end and not ready and head[0] < len(self.files) and head not in done:
                    break  # nothing left to wait for (should not happen)
        finally:
            self.close()

    def _batch_due(self, ready: list, ready_since: float | None, to_submit, in_flight: int) -> bool:
        """Whether the pages ``ready`` are classified now: a batch's worth of candidates or pages, ready
        for :data:`MAX_HOLD_S`, or nothing left to submit (``to_submit`` empty) and fewer tasks in
        flight than worker processes: an idle worker's core classifies them, and the run's end does
        not wait for a whole batch after the last task (400 single-page Group 4 files on 2 busy cores,
        7 runs: from the last task's result to the end a median 137 ms, 95 ms so; the last batch
        12-15 pages, mostly 4 so).

        >>> from cheque_reader.pipeline import PreparedPage
        >>> e = _Engine([], ReadOptions(workers=2), progress=None, classifier=None, executor=None, want_images=False)
        >>> ready, now = [(PreparedPage("a.png", 1, "ok"), None)] * 8, time.monotonic()
        >>> e._batch_due(ready, now, [], 2), e._batch_due(ready, now, [], 1), e._batch_due(ready, now, ["task"], 1)
        (False, True, False)
        """
        if not ready:
            return False
        idle = not to_submit and in_flight < self.workers
        return (idle or len(ready) >= 4 * CHUNK_PAGES
                or sum(p.n_candidates for p, _ in ready) >= self.options.batch_size
                or time.monotonic() - (ready_since or 0) > MAX_HOLD_S)

    def _advance(self, head: tuple[int, int]) -> tuple[int, int]:
        index, start = head
        n = self.n_pages.get(index, 1)
        nxt = start + CHUNK_PAGES
        return (index, nxt) if nxt < n else (index + 1, 0)

    def _accept(self, chunk: _Chunk, task: _Task, queue, done) -> None:
        if task.start == 0:
            self.n_pages[task.index] = chunk.n_pages
            # the rest of a multi-page file: next in line, so that output keeps flowing
            more = [self._task(task.index, s) for s in range(CHUNK_PAGES, chunk.n_pages, CHUNK_PAGES)]
            queue.extendleft(reversed(more))
        done[(task.index, task.start)] = chunk

    def _failed_chunk(self, task: _Task, message: str) -> _Chunk:
        from .pipeline import PreparedPage

        n = self.n_pages.get(task.index, 1)
        stop = min(n, task.start + task.count)
        items = [None if p + 1 in task.skip else PreparedPage(task.file.source, p + 1, STATUS_ERROR, error=message)
                 for p in range(task.start, stop)]
        return _Chunk(task.index, task.start, n, items)

    def _handle_broken(self, broken, in_flight, suspects, queue, done) -> None:
        """A worker died: every task in flight failed with it. Restart the pool, then re-run
        those tasks one at a time; the one that breaks the pool alone gets error rows."""
        alone = len(broken) == 1 and not in_flight  # it was the only task running: the culprit
        rest = [t for f in list(in_flight) for t in in_flight.pop(f)]
        try:
            self.pool.shutdown(wait=True, cancel_futures=True)
        except Exception:  # noqa: BLE001 - it is broken already
            pass
        self.pool = self._new_pool()
        if alone:
            t = broken[0]
            log.error("a worker process died while reading %s", t.file.source)
            self._accept(self._failed_chunk(t, "worker process died while reading this file "
                                               "(crash or out of memory in the decoder)"), t, queue, done)
        else:
            suspects.extend(sorted(broken + rest, key=lambda t: (t.index, t.start)))

    def _finish(self, ready: list) -> Iterator[ChequeResult]:
        from .pipeline import classify_pages, error_result, finish_page, get_field_reader, run_model_id

        page_reads = classify_pages([p for p, _ in ready], self.classifier, get_field_reader(self.options))
        for (p, image), reads in zip(ready, page_reads):
            try:
                result = finish_page(p, reads.predictions, self.classifier, self.options, reads.classify_ms,
                                     reads.field_read)
            except Exception as exc:  # a bug in a later stage: one error row
                log.exception("finishing %s page %d failed", p.source, p.page)
                result = error_result(p.source, p.page, f"internal error: {exc!r}",
                                      model=run_model_id(self.classifier, self.options))
            if image is not None:
                result = _WithImage(result, image, p, _chosen(p, reads))
            self.done_pages += 1
            yield result
            if self.progress is not None:
                self.progress(self.done_pages, self._total())


def _chosen(prepared, reads) -> tuple[int, ...]:
    """The candidates the result was read from (for annotations)."""
    if reads.predictions is None or not prepared.candidates:
        return ()
    try:
        from .pipeline import choose_path

        return tuple(choose_path(prepared, reads.predictions, reads.field_read)[0] or ())
    except Exception:  # noqa: BLE001 - an annotation never ends a run
        return ()


class _WithImage:
    """A result carrying its page image, prepared page and chosen candidates (annotation only)."""

    def __init__(self, result, image, prepared, chosen=()):
        self.__dict__.update(result=result, image=image, prepared=prepared, chosen=chosen)

    def __getattr__(self, name):
        return getattr(self.result, name)


def _any_x937(files: Sequence[cio.InputFile]) -> bool:
    common = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".pdf")
    for f in files:
        if f.path.lower().endswith(common):
            continue
        try:
            if not stat.S_ISREG(os.stat(f.path).st_mode):  # a FIFO named scan.dat: open() waited for a writer forever
                continue
            with open(f.path, "rb") as fh:
                if cio.sniff(fh.read(16)) == "x937":
                    return True
        except (OSError, ValueError):  # ValueError: a NUL byte in the path (its row says so)
            continue
    return False


# --------------------------------------------------------------------------------------------
# Annotations


class _Annotator:
    """One PNG per decoded page, named by its row number in the output (after ``n`` rows: those an
    earlier run kept, on resume)."""

    #: The names :meth:`write` gives its pictures.
    NAME = re.compile(r"\d{6}_[A-Za-z0-9_-]+_p\d+\.png")

    def __init__(self, folder):
        self.folder = Path(folder)
        self.ours = not self.folder.exists() or (self.folder / cio.OUTPUT_MARKER).is_file()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            cio.mark_output_folder(self.folder, "Annotated pages (read --annotate)")
        except OSError as exc:
            raise OutputError(f"cannot create the annotation folder {folder}: {exc.strerror or exc}") from exc
        self.n = 0

    def remove_earlier(self) -> None:
        """Remove an earlier run's pictures from a folder of ours (a run that is not resumed numbers its
        own from 000001: they stood beside the earlier ones, two pictures to a row number)."""
        if not self.ours:
            return
        for old in self.folder.iterdir():
            if self.NAME.fullmatch(old.name) and old.is_file():
                try:
                    old.unlink()
                except OSError as exc:
                    raise _output_error(old, exc, "remove an earlier run's picture") from exc

    def write(self, result) -> None:
        import cv2

        self.n += 1
        if not isinstance(result, _WithImage):
            return
        from . import annotate

        p = result.prepared
        try:
            image = annotate.annotate_page(result.image, result.result, p.field, p.candidates, result.chosen)
        except Exception as exc:  # noqa: BLE001 - an annotation never ends a run
            log.warning("cannot annotate %s page %d: %s", p.source, p.page, exc)
            return
        # index-based, sanitized name: never a path separator, never outside the folder
        stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(p.source).stem)[:60].strip("_") or "page"
        name = f"{self.n:06d}_{stem}_p{p.page}.png"
        ok, png = cv2.imencode(".png", image)
        if ok:
            try:
                (self.folder / name).write_bytes(png.tobytes())
            except OSError as exc:
                raise _output_error(self.folder / name, exc) from exc


# --------------------------------------------------------------------------------------------
# Output sinks


def open_sink(path, columns: list[str], *, resume: bool = False, keep=None) -> "_Sink":
    """A row sink for ``path`` (by extension: .csv / .jsonl streamed, .parquet atomic; ``"-"``: CSV
    streamed to standard output; None: memory).

    ``keep`` (digits file): on resume, keep only rows whose ``(source, page)`` is in ``keep``.

    >>> sink = open_sink(None, ["source", "page"])        # in memory
    >>> sink.write({"source": "a.png", "page": 1}); sink.close(); sink.frame().values.tolist()
    [['a.png', 1]]
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "r.csv"
    >>> for resume, source in ((False, "a.png"), (True, "b.png")):   # a run, then one resumed
    ...     sink = open_sink(path, ["source", "page"], resume=resume)
    ...     sink.write({"source": source, "page": 1}); sink.close()
    >>> path.read_text().splitlines()
    ['source,page', 'a.png,1', 'b.png,1']
    """
    if path is None:
        return _Sink(columns)
    if is_stdout(path):
        return _StdoutSink(columns)
    path = Path(path)
    fmt = results_format(path)
    if fmt == "csv" and _is_stream(path):  # -o /dev/null: the run's rows were read back from it, a traceback
        if resume:
            raise UsageError(f"resume continues a run in its output files: {path} is no file (a device or a pipe) and "
                             "holds no earlier rows to resume from; give a file name, or read without resume")
        try:
            stream = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115 (the sink closes it)
        except OSError as exc:
            raise _output_error(path, exc) from exc
        return _StdoutSink(columns, stream=stream, name=str(path))
    if fmt == "parquet":
        return _AtomicSink(path, columns, resume, "parquet")
    if fmt == "jsonl":
        return _JsonlSink(path, columns, resume, keep)
    check_output_format(path)
    return _CsvSink(path, columns, resume, keep)


class _Sink:
    """Rows kept in memory; the base of the file sinks."""

    def __init__(self, columns):
        self.columns = list(columns)
        self.rows: list[tuple] = []
        self.old: pd.DataFrame | None = None
        self.done: set[tuple[str, int]] = set()

    def _values(self, row: dict) -> tuple:
        return tuple(row.get(c, "") for c in self.columns)  # a column a row lacks (extras) is empty

    def write(self, row: dict) -> None:
        self.rows.append(self._values(row))

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def frame(self) -> pd.DataFrame:
        new = _frame(self.rows, self.columns)
        if self.old is not None and len(self.old):
            return pd.concat([self.old, new], ignore_index=True) if len(new) else self.old
        return new


def _dtypes(columns) -> dict:
    return {c: RESULT_DTYPES.get(c, "string") for c in columns} if "status" in columns else {}


def _frame(rows, columns) -> pd.DataFrame:
    df = pd.DataFrame.from_records(rows, columns=columns)
    return df.astype(_dtypes(columns)) if len(columns) else df


def _output_error(path, exc: OSError, what="write") -> OutputError:
    reason = {errno.ENOSPC: "no space left on device (disk full)", errno.EACCES: "permission denied",
              errno.EROFS: "read-only file system", errno.EISDIR: "it is a directory",
              errno.ENOENT: "no such folder", errno.EDQUOT: "disk quota exceeded"}.get(exc.errno, exc.strerror or str(exc))
    return OutputError(f"cannot {what} {path}: {reason}")


class _LineSink(_Sink):
    """A results file streamed: one complete, flushed line per row, none kept in memory. On resume
    the complete rows stay (a line cut off by a kill is dropped) and the new ones are appended."""

    def __init__(self, path: Path, columns, resume: bool, keep):
        super().__init__(columns)
        self.path = path
        self.f = None
        self.n_new = 0
        mode = "a" if resume and path.exists() else "w"
        if mode == "a":
            self._resume(keep)
            self._check_kept_rows()
        try:
            if path.parent and not path.parent.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
            self.f = open(path, mode, newline="", encoding="utf-8")
            self.offset = self.f.tell()
            if mode == "w":
                self._start()
        except OSError as exc:
            self._close_quietly()
            raise _output_error(path, exc) from exc

    def _resume(self, keep) -> None:
        """Read the rows already in the file (``self.columns``, ``self.done``) and repair it."""
        raise NotImplementedError

    def _check_kept_rows(self) -> None:
        """A :class:`~cheque_reader.errors.UsageError` now for a kept results row that cannot be read back
        (a value mistyped by hand): it failed only once every page was read, in a traceback (exit 1),
        the new rows appended."""
        if "status" in self.columns and self.done:
            try:
                read_results(self.path)
            except ValueError as exc:
                raise UsageError(f"cannot resume {self.path}: {exc}: mend that row, or read without --resume") from None

    def _start(self) -> None:
        """Begin a new file (a header)."""

    def _format(self, values) -> str:
        raise NotImplementedError

    def _write_line(self, values) -> None:
        try:
            self.f.write(self._format(values))
            self.f.flush()
            self.offset = self.f.tell()
        except OSError as exc:
            self._truncate_back()
            raise _output_error(self.path, exc) from exc

    def _truncate_back(self) -> None:
        """After a failed write: cut the file back to the last complete line."""
        try:
            os.truncate(self.path, self.offset)
        except OSError:
            pass
        self._close_quietly()

    def _close_quietly(self) -> None:
        if self.f is not None:
            try:
                self.f.close()
            except OSError:
                pass
            self.f = None

    def write(self, row: dict) -> None:
        self._write_line(self._values(row))  # not kept: memory stays flat however many pages
        self.n_new += 1

    def close(self) -> None:
        if self.f is not None:
            try:
                self.f.close()
            except OSError as exc:
                self.f = None
                raise _output_error(self.path, exc) from exc
            self.f = None

    def abort(self) -> None:
        self._close_quietly()


class _CsvSink(_LineSink):
    """``results.csv`` streamed: header first, then one complete, flushed line per row."""

    def _resume(self, keep) -> None:
        wanted = self.columns
        self.columns, old_rows, valid_bytes, clean = _read_csv_prefix(self.path, self.columns)
        missing = [c for c in wanted if c not in self.columns]
        if missing:  # this run's X9.37 items' columns: added, empty on the kept rows (the new rows lost them)
            self.columns = self.columns + missing
            old_rows = [r + [""] * len(missing) for r in old_rows]
            clean = False
        if keep is not None:
            key_cols = (self.columns.index("source"), self.columns.index("page"))
            kept = [r for r in old_rows if (r[key_cols[0]], _int(r[key_cols[1]])) in keep]
            clean = clean and len(kept) == len(old_rows)
            old_rows = kept
        if not clean:
            _rewrite_csv(self.path, self.columns, old_rows)
        if "page" in self.columns:
            s, pg = self.columns.index("source"), self.columns.index("page")
            self.done = {(r[s], _int(r[pg])) for r in old_rows}

    def _start(self) -> None:
        self._write_line(self.columns)

    def _format(self, values) -> str:
        return _csv_line(values)

    def frame(self) -> pd.DataFrame:
        """Every row of the file (earlier runs' rows too when resuming), read back from disk."""
        return _read_result_csv(self.path, self.columns)


def _csv_line(values) -> str:
    """One CSV line (``\\n``-terminated) of ``values``, ``None`` empty: as every CSV sink writes it."""
    buf = StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buf.getvalue()


class _StdoutSink(_Sink):
    """``-o -``: the results CSV streamed to standard output, header first, one flushed line per row,
    in UTF-8 as the file is written. The rows are kept in memory too, for the frame (standard output
    cannot be read back). A reader that closed the pipe (``| head``) raises ``BrokenPipeError``;
    another failed write is an :class:`~cheque_reader.errors.OutputError`."""

    def __init__(self, columns, stream=None, name: str = "standard output"):
        super().__init__(columns)
        # looked up now: a test (or a caller) may have replaced it; ``stream``: a device or a pipe's, its own
        self.stream = sys.stdout if stream is None else stream
        self.name, self.own = name, stream is not None
        try:
            self._write_line(self.columns)
        except BaseException:
            self.abort()
            raise

    def close(self) -> None:
        if self.own and not self.stream.closed:
            try:
                self.stream.close()
            except OSError as exc:
                raise _output_error(self.name, exc) from exc

    def abort(self) -> None:
        if self.own:
            try:
                self.stream.close()
            except OSError:
                pass

    def _write_line(self, values) -> None:
        line = _csv_line(values)
        try:
            buffer = getattr(self.stream, "buffer", None)
            if buffer is not None:  # bytes, UTF-8 whatever the locale, as the file sink writes them
                self.stream.flush()
                buffer.write(line.encode("utf-8"))
                buffer.flush()
            else:
                self.stream.write(line)
                self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise _output_error(self.name, exc) from exc

    def write(self, row: dict) -> None:
        values = self._values(row)
        self._write_line(values)
        self.rows.append(values)


class _JsonlSink(_LineSink):
    """``results.jsonl`` streamed as the CSV is: one JSON object a line, complete and flushed."""

    def _resume(self, keep) -> None:
        lines, clean = _read_jsonl_prefix(self.path)
        if keep is not None:
            kept = [(row, line) for row, line in lines if (str(row["source"]), _int(row["page"])) in keep]
            clean = clean and len(kept) == len(lines)
            lines = kept
        if not clean:
            _rewrite_lines(self.path, [line for _, line in lines])
        for row, _ in lines:
            self.columns += [c for c in row if c not in self.columns]  # an earlier run's extra columns
        self.done = {(str(row["source"]), _int(row["page"])) for row, _ in lines}

    def _format(self, values) -> str:
        row = typed_row({c: _json_value(v) for c, v in zip(self.columns, values)})  # needs_review a boolean
        return json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n"

    def frame(self) -> pd.DataFrame:
        """Every row of the file (earlier runs' rows too when resuming), read back from disk."""
        if not self.path.stat().st_size:
            return _frame([], self.columns)
        try:
            df = read_results(self.path)
        except (OSError, ValueError) as exc:
            raise OutputError(f"cannot read {self.path} back: {exc}") from exc
        return df.reindex(columns=self.columns)


def _json_value(v):
    """A row's value as JSON has it: numpy scalars as numbers, a NaN as null."""
    if isinstance(v, np.generic):
        v = v.item()
    return None if isinstance(v, float) and math.isnan(v) else v


class _AtomicSink(_Sink):
    """Parquet: rows kept, the file written once at the end (temp file + ``os.replace``): a Parquet
    file cannot be appended to, so an interrupted run writes nothing and ``--resume`` starts over."""

    def __init__(self, path: Path, columns, resume: bool, fmt: str):
        super().__init__(columns)
        self.path, self.fmt = path, fmt
        if fmt == "parquet":
            try:
                import pyarrow  # noqa: F401
            except ImportError as exc:
                raise UsageError("Parquet output needs pyarrow: pip install 'cheque-reader[parquet]'") from exc
        parent = path.parent if str(path.parent) else Path(".")
        if not parent.exists():
            try:
                parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise _output_error(path, exc, "create the folder of") from exc
        if path.is_dir():
            raise OutputError(f"cannot write {path}: it is a directory")
        _remove(self._temp())  # fail now, not after the whole run, when the folder is not writable
        if resume and path.exists():
            old = read_results(path) if "status" in self.columns else pd.read_parquet(path)  # booleans as text
            for c in old.columns:
                if c not in self.columns:
                    self.columns.append(c)
            self.old = old.reindex(columns=self.columns).astype(_dtypes(self.columns))
            self.done = {(str(s), int(p)) for s, p in zip(old["source"], old["page"])}

    def _temp(self) -> str:
        try:
            fd, tmp = _temp_beside(self.path)
        except OSError as exc:
            raise _output_error(self.path, exc) from exc
        os.close(fd)
        return tmp

    def close(self) -> None:
        df = typed_frame(self.frame())  # needs_review a boolean
        tmp = self._temp()
        try:
            df.to_parquet(tmp, index=False)
            os.replace(tmp, self.path)
        except OSError as exc:
            _remove(tmp)
            raise _output_error(self.path, exc) from exc
        except BaseException:
            _remove(tmp)
            raise


def _remove(path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1


def _read_csv_prefix(path: Path, columns: list[str]) -> tuple[list[str], list[list[str]], int, bool]:
    """The complete rows of a CSV being resumed: (columns, rows, valid byte length, file is clean).

    A row counts only when re-serializing it gives back exactly the bytes in the file and it
    ends with a newline, so a line cut off by a kill (even inside a quoted field) is dropped.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _output_error(path, exc, "read (to resume)") from exc
    text = raw.decode("utf-8", errors="surrogateescape")
    bom = text.startswith("\ufeff")  # a CSV saved again as Excel's "CSV UTF-8": rewritten without it
    text = text.removeprefix("\ufeff")
    records: list[list[str]] = []
    try:
        for rec in csv.reader(StringIO(text, newline=""), strict=True):
            records.append(rec)
    except csv.Error:
        pass  # an unterminated quote at the cut: keep what parsed
    buf = StringIO()
    csv.writer(buf, lineterminator="\n").writerow(columns)
    if not records or buf.getvalue().startswith(text):  # empty, or killed while writing the header
        return columns, [], 0, False
    header = records[0]
    if "source" not in header or "page" not in header:
        raise OutputError(f"cannot resume {path}: it is not a results file (no source/page header)")
    pos = 0
    good: list[list[str]] = []
    for i, rec in enumerate(records):
        buf = StringIO()
        csv.writer(buf, lineterminator="\n").writerow(rec)
        line = buf.getvalue()
        if text.startswith(line[:-1] + "\r\n", pos):  # CRLF line ends (a file copied through Windows, FTP
            line = line[:-1] + "\r\n"                  # in ASCII mode): complete rows all the same
        if not text.startswith(line, pos) or len(rec) != len(header):
            break
        pos += len(line)
        if i:
            good.append(rec)
    if pos != len(text):
        log.warning("%s: dropping an incomplete last row (%d bytes) before resuming", path, len(text) - pos)
    return header, good, pos, pos == len(text) and not bom


def _temp_beside(path: Path) -> tuple[int, str]:
    """``(fd, name)`` of a new temporary file beside ``path``, to take its place by ``os.replace``, with
    the permissions ``path`` has, or a new file would get (0666 less the umask): mkstemp's own 0600 made a
    Parquet output, and a results file repaired by ``--resume``, readable by their owner alone. The file
    is opened with 0666 and the kernel takes the umask off, so the process's umask is never set (a
    library called from threads must not change it under them).

    >>> import tempfile, stat
    >>> p = Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = p.write_text("x"); p.chmod(0o640)
    >>> fd, tmp = _temp_beside(p); os.close(fd)
    >>> oct(stat.S_IMODE(os.stat(tmp).st_mode))
    '0o640'
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):  # as tempfile.mkstemp: a fresh random name until one is free
        tmp = os.path.join(path.parent or ".", f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
        try:
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(errno.EEXIST, "no free temporary name", str(path.parent))
    try:
        os.fchmod(fd, stat.S_IMODE(os.stat(path).st_mode))
    except OSError:
        pass  # a new file (0666 less the umask, as created), or a file system without permissions (FAT)
    return fd, tmp


def _rewrite_csv(path: Path, columns, rows) -> None:
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(columns)
            w.writerows(rows)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise _output_error(path, exc, "repair (to resume)") from exc


def _read_jsonl_prefix(path: Path) -> tuple[list[tuple[dict, bytes]], bool]:
    """The complete rows of a JSONL file being resumed: ``([(row, line bytes), ...], file is clean)``.

    A row counts only when its line ends with a newline and holds a JSON object with ``source`` and
    ``page``; the first that does not (a line cut off by a kill) ends the rows kept.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise _output_error(path, exc, "read (to resume)") from exc
    rows: list[tuple[dict, bytes]] = []
    pos = 0
    while pos < len(raw):
        end = raw.find(b"\n", pos)
        if end < 0:
            break
        line = raw[pos : end + 1]
        try:
            row = json.loads(line.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError too
            row = None
        if not isinstance(row, dict) or "source" not in row or "page" not in row:
            if not rows and line.strip():
                raise OutputError(f"cannot resume {path}: it is not a results file (no source/page in its first line)")
            break
        rows.append((row, line))
        pos = end + 1
    clean = pos == len(raw)
    if not clean:
        log.warning("%s: dropping an incomplete last row (%d bytes) before resuming", path, len(raw) - pos)
    return rows, clean


def _rewrite_lines(path: Path, lines: list[bytes]) -> None:
    fd, tmp = _temp_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.writelines(lines)
        os.replace(tmp, path)
    except OSError as exc:
        _remove(tmp)
        raise _output_error(path, exc, "repair (to resume)") from exc


def _read_result_csv(path: Path, columns) -> pd.DataFrame:
    """A results file through :func:`report.read_results`; another CSV (the per-digit one) as written."""
    if "status" in columns:
        return read_results(path)
    return pd.read_csv(path, keep_default_na=False, encoding_errors="surrogateescape")
