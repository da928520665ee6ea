"""Shared test helpers: where the real development data is, and how to skip without it."""

from __future__ import annotations

import os

import pytest

from cheque_reader.config import data_dir

DATA = data_dir()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def needs_data(*parts: str):
    """Skip when ``../shared/data/<parts>`` is absent (a user's fresh clone); CI has it."""
    path = DATA.joinpath(*parts)
    return pytest.mark.skipif(not path.exists(), reason=f"needs {path} (../shared/data or $CHEQUE_READER_DATA)")
