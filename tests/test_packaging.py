"""The install a newcomer runs (`make` -> `pip install -e .`) is quiet and importable."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

_BUILD_EDITABLE = """
import sys
from setuptools import build_meta
print(build_meta.build_editable(sys.argv[1]))
"""


def test_the_editable_install_is_a_plain_path_entry_without_setuptools_warnings(tmp_path):
    # The dev extra installs the same setuptools range as [build-system] requires.
    pytest.importorskip("setuptools", minversion="77")
    out = tmp_path / "wheel"
    out.mkdir()
    # The PEP 660 hook pip calls, run where pip runs it (the project root), in a fresh process.
    proc = subprocess.run(
        [sys.executable, "-c", _BUILD_EDITABLE, str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    # setuptools' import-hook strategy prints a boxed "Editable installation ... same name as your
    # package" warning on every install; the plain .pth strategy prints none.
    assert "Editable installation" not in proc.stderr + proc.stdout
    assert "BuildBackendWarning" not in proc.stderr
    wheel = out / proc.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        pth = [n for n in archive.namelist() if n.endswith(".pth")]
        assert len(pth) == 1, archive.namelist()
        entries = archive.read(pth[0]).decode().split()
    assert [Path(e).resolve() for e in entries] == [ROOT]
