"""Shared fixtures: paths to the real recordings in ../shared, and small configs."""

from __future__ import annotations

import importlib.machinery
import sys
from pathlib import Path

import pytest

from pipelines.offline import apply_offline_env

# No telemetry or update check from any tool the tests drive (pipelines/offline.py).
apply_offline_env()

# A pytest-xdist worker runs from `python -c` (execnet), so its __main__ has neither a spec nor a
# file. pyspark.sql.connect, which Great Expectations imports when pyspark is installed, takes
# that for a doctest run and calls sys.exit(0) (pyspark/sql/connect/utils.py). A spec named
# __main__ makes it raise ImportError as in any other process; multiprocessing's spawn skips a
# main module of that name.
_main = sys.modules["__main__"]
if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
    _main.__spec__ = importlib.machinery.ModuleSpec("__main__", None)

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_REAL = REPO_ROOT.parent / "shared" / "fixtures" / "real"


@pytest.fixture
def shared_real() -> Path:
    """The folder of real recordings; tests that need it skip where it is absent."""
    if not SHARED_REAL.is_dir():
        pytest.skip(f"real recordings not found at {SHARED_REAL} (../shared is absent)")
    return SHARED_REAL


def spark_missing() -> str | None:
    """Why the tests marked spark cannot run here (None: they can): they need Java and pyspark
    (the spark extra: `pip install -e '.[spark]'`; `make test` installs both, .ci/run Java)."""
    import importlib.util
    import shutil

    if shutil.which("java") is None:
        return "java not found (Debian: apt-get install openjdk-17-jre-headless)"
    if (
        importlib.util.find_spec("pyspark") is None
        or importlib.util.find_spec("dbt.adapters.spark") is None
    ):
        return "pyspark/dbt-spark not installed (pip install -c requirements.lock -e '.[spark]')"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("spark") is not None and (reason := spark_missing()) is not None:
        pytest.skip(f"spark: {reason}")


@pytest.fixture(scope="session")
def small_demo_run(tmp_path_factory):
    """The small demo organisation through the whole pipeline, once per session, for
    tests/test_end_to_end.py and tests/test_notebooks.py (tests/small_demo.py)."""
    from tests.small_demo import run_small_demo

    return run_small_demo(tmp_path_factory.mktemp("small-demo"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The longest files first: those marked spark (a Spark session each, minutes), then e2e, then
    the rest, each file's tests together and in their order. With `make test`'s workers
    (pytest-xdist, a file per worker) the long files then start at once rather than last, where
    one of them would run on after every other worker has finished."""

    def weight(item: pytest.Item) -> int:
        if item.get_closest_marker("spark") is not None:
            return 0
        return 1 if item.get_closest_marker("e2e") is not None else 2

    files: dict[str, int] = {}
    for item in items:
        path = str(item.path)
        files[path] = min(files.get(path, 2), weight(item))
    items.sort(key=lambda item: files[str(item.path)])  # stable: the order within a file stays
