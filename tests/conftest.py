"""Shared fixtures: paths to the real recordings in ../shared, and small configs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _name, _value in {
    "DAGSTER_DISABLE_TELEMETRY": "yes",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "GX_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(_name, _value)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_REAL = REPO_ROOT.parent / "shared" / "fixtures" / "real"


@pytest.fixture
def shared_real() -> Path:
    """The folder of real recordings; tests that need it skip where it is absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_REAL} (../shared is absent)")
    return SHARED_REAL
