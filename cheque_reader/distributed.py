"""The batch over a Dask distributed cluster (the optional ``[dask]`` extra).

The Dask workers run what the local worker processes run (open the file, decode, locate,
clean, segment, normalize: :func:`cheque_reader.batch.prepare_chunk`); this process
classifies the gathered digit tensors in large batches and writes the rows in input order,
exactly as :func:`cheque_reader.batch.read_folder` does. The rows are the same as a local
run's (``elapsed_ms`` aside). The workers must see the input paths (a shared file system).

>>> read_folder_dask([], n_workers=0)  # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import logging
import os
from typing import Sequence

import pandas as pd

from .config import ReadOptions, default_workers
from .errors import UsageError

log = logging.getLogger("cheque_reader")


class DaskExecutor(cf.Executor):
    """A ``concurrent.futures.Executor`` over a ``dask.distributed.Client``.

    Each ``submit`` becomes a Dask task (``pure=False``: never deduplicated); its result
    arrives through an ordinary :class:`concurrent.futures.Future`.

    >>> from distributed import Client
    >>> with Client(processes=False, n_workers=1, dashboard_address=None) as client:
    ...     DaskExecutor(client).submit(sum, [1, 2, 3]).result()
    6
    """

    def __init__(self, client):
        self.client = client
        self._keep: set = set()

    def submit(self, fn, /, *args, **kwargs) -> cf.Future:
        out: cf.Future = cf.Future()
        dask_future = self.client.submit(fn, *args, pure=False, **kwargs)
        self._keep.add(dask_future)

        def done(f) -> None:
            self._keep.discard(f)
            try:
                out.set_result(f.result())
            except BaseException as exc:  # noqa: BLE001 - delivered through the future
                out.set_exception(exc)

        dask_future.add_done_callback(done)
        return out

    def close_run(self, run: str) -> None:
        """Close the multi-page files the workers keep open for ``run``'s tasks (a run's end): only its
        own, as another run sharing the client may still be reading its files."""
        from .batch import close_open_documents

        self.client.run(close_open_documents, run)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures and self._keep:
            self.client.cancel(list(self._keep))


def _worker_setup() -> None:
    from .batch import _worker_init

    _worker_init()


def _ignore_ctrl_c() -> None:
    """In a local cluster's worker processes: Ctrl-C is the main process's to handle (it closes the
    cluster). A terminal sends SIGINT to every process of its group, and each worker wrote its
    KeyboardInterrupt's traceback over the terminal as the run ended (``--resume`` went on well)."""
    import signal

    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the process's main thread: its default handler stays
        pass


@contextlib.contextmanager
def _ctrl_c_held():
    """Hold SIGINT back (blocked) in this thread while a local cluster starts: the threads it starts
    and the worker processes they spawn inherit the block, so a terminal's Ctrl-C, which reaches every
    process of the group, no longer kills workers half started (each wrote its traceback, and closing
    the cluster raised ``AssertionError: Status.init``); this process gets it, as KeyboardInterrupt,
    when the block ends. Elsewhere than in the main thread (or without ``pthread_sigmask``), nothing."""
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        yield
        return
    from multiprocessing import resource_tracker

    # started first, here: starting it from the cluster's thread unblocks SIGINT there (SIG_UNBLOCK, not the mask
    # it found), and the workers that thread spawns inherit that
    resource_tracker.ensure_running()
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _cut_short_unsaid(record: logging.LogRecord) -> bool:
    """A logging filter: Dask's warning that a task ended with ``CancelledError`` is dropped (its own
    comment: this happens in ``Worker.close()``; a Ctrl-C closes the cluster as the workers run a task).

    >>> rec = lambda msg: logging.makeLogRecord({"msg": msg, "levelno": logging.WARNING})
    >>> _cut_short_unsaid(rec("Async instruction for <Task> ended with CancelledError")), _cut_short_unsaid(rec("x"))
    (False, True)
    """
    return not record.getMessage().endswith("ended with CancelledError")


def _quiet_close() -> None:
    """In a local cluster's worker processes: the tasks a Ctrl-C cut short are not written over the terminal
    (each worker wrote "Async instruction for <Task cancelled ...> ended with CancelledError" after the
    run said "interrupted")."""
    logging.getLogger("distributed.worker.state_machine").addFilter(_cut_short_unsaid)


def read_folder_dask(
    inputs: Sequence[str | os.PathLike] | str | os.PathLike,
    options: ReadOptions = ReadOptions(),
    *,
    scheduler: str | None = None,
    n_workers: int | None = None,
    client=None,
    **kwargs,
) -> pd.DataFrame:
    """:func:`~cheque_reader.batch.read_folder` with the page stages on a Dask cluster.

    Parameters
    ----------
    scheduler : address of a running scheduler (``tcp://host:8786``) to connect to; or
    n_workers : start a ``LocalCluster`` of this many single-threaded worker processes; or
    client : an existing ``dask.distributed.Client``.
    kwargs : the other :func:`read_folder` arguments (``output``, ``resume``, ``progress``, ...).

    Example (the ``dask`` extra installed)::

        results = read_folder_dask(["scans/"], n_workers=4, output="results.csv")
        results = read_folder_dask(["/shared/scans/"], scheduler="tcp://10.0.0.5:8786", output="results.csv")
    """
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError as exc:
        raise UsageError("a Dask cluster needs dask.distributed: pip install 'cheque-reader[dask]'") from exc
    from .batch import read_folder

    cluster = None
    own_client = client is None
    try:
        if client is None:
            if scheduler:
                try:
                    client = Client(scheduler, timeout="20s")
                except OSError as exc:
                    raise UsageError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from exc
            else:
                n = int(n_workers or default_workers())
                with _ctrl_c_held():  # a Ctrl-C meanwhile is raised once both are made, and closes them below
                    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
                    client = Client(cluster)
        if cluster is not None:  # its worker processes are this one's children, in its process group
            client.run(_ignore_ctrl_c)
            client.run(_quiet_close)
        client.run(_worker_setup)
        threads = sum(client.nthreads().values()) or 1
        log.info("Dask cluster %s: %d worker threads", client.scheduler.address if client.scheduler else "?", threads)
        # the run's end closes the multi-page files the workers kept open for it (DaskExecutor.close_run)
        return read_folder(inputs, options=options.replace(workers=threads), executor=DaskExecutor(client), **kwargs)
    finally:
        if own_client and client is not None:
            client.close()
        if cluster is not None:
            cluster.close()
