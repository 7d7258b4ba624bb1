"""Shared fixtures: paths to the real recordings in ../shared, and small configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.offline import apply_offline_env

# No telemetry or update check from any tool the tests drive (pipelines/offline.py).
apply_offline_env()

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_REAL = REPO_ROOT.parent / "shared" / "fixtures" / "real"


@pytest.fixture
def shared_real() -> Path:
    """The folder of real recordings; tests that need it skip where it is absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_REAL} (../shared is absent)")
    return SHARED_REAL
