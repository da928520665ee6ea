"""Dask: a LocalCluster of two worker processes gives the same rows as a local run."""

from __future__ import annotations

import cv2
import pandas as pd
import pytest
from PIL import Image

from cheque_reader.batch import read_folder
from cheque_reader.config import ReadOptions
from cheque_reader.x937 import X937Item, write_x937
from conftest import printed_field

distributed = pytest.importorskip("dask.distributed")


@pytest.mark.slow
def test_two_worker_dask_equals_local(tmp_path):
    from cheque_reader.distributed import read_folder_dask

    root = tmp_path / "in"
    root.mkdir()
    for i in range(6):
        cv2.imwrite(str(root / f"f{i}.png"), printed_field(f"{i * 123 % 1000}"))
    frames = [Image.fromarray(printed_field(f"{i}9")).convert("1") for i in range(10)]
    frames[0].save(root / "m.tif", save_all=True, append_images=frames[1:], compression="group4")
    write_x937(root / "c.x937", [X937Item(printed_field(f"{i}50"), 50 + i) for i in range(3)])
    (root / "bad.png").write_text("not an image")
    options = ReadOptions(layout="field")
    local = read_folder([root], options=options)
    seen = []
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            remote = read_folder_dask([root], options, client=client, output=tmp_path / "r.csv",
                                      progress=lambda d, t: seen.append(d))
            assert len(client.nthreads()) == 2
    finally:
        cluster.close()
    assert len(local) == 6 + 10 + 3 + 1
    pd.testing.assert_frame_equal(remote.drop(columns="elapsed_ms"), local.drop(columns="elapsed_ms"))
    assert seen[-1] == len(local)


@pytest.mark.slow
def test_a_local_cluster_through_the_cli_keeps_dask_quiet_unless_asked(tmp_path):
    import subprocess
    import sys

    cv2.imwrite(str(tmp_path / "f.png"), printed_field("123"))
    args = ["read", str(tmp_path / "f.png"), "--layout", "field", "--dask-workers", "1", "--no-progress"]
    code = "from cheque_reader.cli import main; main()"
    quiet = subprocess.run([sys.executable, "-c", code, *args, "-o", str(tmp_path / "q.csv")],
                           capture_output=True, text=True, timeout=120, check=False)
    assert quiet.returncode in (0, 1), quiet.stderr
    assert "1 page read" in quiet.stderr and "INFO" not in quiet.stderr   # Dask's start-up lines hidden
    loud = subprocess.run([sys.executable, "-c", code, "-v", *args, "-o", str(tmp_path / "v.csv")],
                          capture_output=True, text=True, timeout=120, check=False)
    assert "INFO distributed.scheduler" in loud.stderr   # -v shows them


class _OtherRunsFile:
    """Stands for a multi-page file another run, sharing the cluster, keeps open on a worker."""

    closed = False

    def close(self) -> None:
        type(self).closed = True


def _keep_another_runs_file() -> None:
    import threading

    from cheque_reader import batch

    batch._OPEN[threading.get_ident() + 1] = (("other.tif", "other.tif", 0, 0, None, "another-run"), _OtherRunsFile())


def _open_files() -> tuple[int, bool]:
    from cheque_reader import batch

    return len(batch._OPEN), _OtherRunsFile.closed


@pytest.mark.slow
def test_a_dask_run_closes_its_own_open_files_on_the_workers_not_another_runs(tmp_path):
    """read_folder_dask closed every file the workers kept open (client.run(close_open_documents)):
    a second run sharing the client lost the multi-page file it was reading (its pages error rows)."""
    from cheque_reader.distributed import read_folder_dask

    root = tmp_path / "in"
    root.mkdir()
    frames = [Image.fromarray(printed_field(f"{i}9")).convert("1") for i in range(10)]
    frames[0].save(root / "m.tif", save_all=True, append_images=frames[1:], compression="group4")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            client.run(_keep_another_runs_file)
            rows = read_folder_dask([root], ReadOptions(layout="field"), client=client)
            left = client.run(_open_files)
    finally:
        cluster.close()
    assert len(rows) == 10 and (rows["status"] == "ok").all()
    # each worker: only the other run's file is still open (this run's were closed at its end)
    assert sorted(left.values()) == [(1, False), (1, False)]


def _ctrl_c_ignored() -> bool:
    import signal

    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN


@pytest.mark.slow
def test_a_local_clusters_workers_leave_ctrl_c_to_the_main_process(tmp_path, monkeypatch):
    """Ctrl-C in a terminal reaches every process of the group: each worker of `read --dask-workers N`
    wrote its KeyboardInterrupt's traceback (and Dask's CancelledError ones) over the terminal."""
    from cheque_reader import batch
    from cheque_reader.distributed import read_folder_dask

    def workers_say(inputs, *, executor, **kwargs):
        return executor.client.run(_ctrl_c_ignored)

    monkeypatch.setattr(batch, "read_folder", workers_say)
    said = read_folder_dask([tmp_path], n_workers=2)
    assert len(said) == 2 and all(said.values()), said


_CTRL_C_AS_THE_CLUSTER_STARTS = """
import os, signal, sys
import distributed
from cheque_reader.cli import main

signal.signal(signal.SIGINT, signal.default_int_handler)  # (a shell's background job inherits it ignored)

class Cluster(distributed.LocalCluster):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        os.killpg(os.getpgrp(), signal.SIGINT)  # the terminal's Ctrl-C, to every process of the group

distributed.LocalCluster = Cluster
sys.argv = ["cheque-reader", "read", sys.argv[1], "--dask-workers", "2", "-o", sys.argv[2], "--no-progress"]
main()
"""


@pytest.mark.slow
def test_ctrl_c_while_a_local_cluster_starts_ends_the_run_quietly_and_leaves_no_process(tmp_path):
    """Ctrl-C early in ``read --dask-workers 2`` (the workers up, the run not begun) wrote the workers'
    KeyboardInterrupt tracebacks and the main process's own (``AssertionError: Status.init`` as it
    closed a cluster of dying workers) over the terminal: now it ends as a Ctrl-C during the run does."""
    import os
    import signal
    import subprocess
    import sys
    import time

    cv2.imwrite(str(tmp_path / "f.png"), printed_field("123"))
    env = dict(os.environ, PYTHONPATH=os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", _CTRL_C_AS_THE_CLUSTER_STARTS, str(tmp_path / "f.png"),
                             str(tmp_path / "r.csv")], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)  # its own group: the Ctrl-C reaches it alone
    try:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err
        assert "Traceback" not in err and "interrupted" in err, err
        deadline = time.time() + 10
        while time.time() < deadline:  # the group's processes (the workers) end with the run
            group = subprocess.run(["ps", "-o", "pid=,stat=", "-g", str(proc.pid)], capture_output=True, text=True,
                                   check=False).stdout
            if not [line for line in group.splitlines() if "Z" not in line.split()[1]]:
                break
            time.sleep(0.2)
        else:
            pytest.fail(f"processes of the run are left: {group}")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _close_warning_shown() -> bool:
    import logging

    log = logging.getLogger("distributed.worker.state_machine")
    record = log.makeRecord(log.name, logging.WARNING, __file__, 1,
                            "Async instruction for <Task cancelled name=\"execute('prepare_chunk-1')\"> "
                            "ended with CancelledError", (), None)
    other = log.makeRecord(log.name, logging.WARNING, __file__, 1, "something else", (), None)
    assert log.filter(other)  # other warnings pass
    return bool(log.filter(record))


@pytest.mark.slow
def test_a_local_clusters_workers_say_nothing_of_the_task_a_ctrl_c_cut_short(tmp_path, monkeypatch):
    """Ctrl-C during `read --dask-workers 2` closes the cluster while its workers run a task: each wrote
    Dask's "Async instruction for <Task cancelled ...> ended with CancelledError" warning over the
    terminal (a close's, which Dask's own comment says it is), after "interrupted"."""
    from cheque_reader import batch
    from cheque_reader.distributed import read_folder_dask

    def workers_say(inputs, *, executor, **kwargs):
        return executor.client.run(_close_warning_shown)

    monkeypatch.setattr(batch, "read_folder", workers_say)
    said = read_folder_dask([tmp_path], n_workers=2)
    assert len(said) == 2 and not any(said.values()), said
