"""scripts/*.py: every script answers ``--help`` with its usage, without reading data or running."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.name for p in (ROOT / "scripts").glob("*.py"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_help_prints_usage_and_exits(script, tmp_path):
    # No data where the scripts look: a script that ran instead of helping would fail or print no usage.
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CHEQUE_READER_DATA": str(tmp_path)}
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--help"], check=False,
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:"), done.stdout[:500]
    assert "-h, --help" in done.stdout
