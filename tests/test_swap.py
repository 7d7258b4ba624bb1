"""dashboards/swap.py: the one implementation of atomic folder publishing every publisher uses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboards.swap import point_symlink, replace_folder, staging_folder, unique_path

DASHBOARDS = Path(__file__).resolve().parent.parent / "dashboards"


def test_a_failed_build_leaves_no_staging_folder_and_the_old_output_untouched(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "old.html").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), staging_folder(tmp_path, ".reports-") as tmp:
        (tmp / "new.html").write_text("half", encoding="utf-8")
        raise RuntimeError("the warehouse went away")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
    assert (folder / "old.html").read_text(encoding="utf-8") == "old"


def test_a_complete_folder_replaces_the_old_one_and_nothing_is_left_aside(tmp_path):
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "old.html").write_text("old", encoding="utf-8")
    with staging_folder(tmp_path, ".reports-") as tmp:
        (tmp / "new.html").write_text("new", encoding="utf-8")
        replace_folder(tmp, folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]
    assert sorted(p.name for p in folder.iterdir()) == ["new.html"]
    assert oct(folder.stat().st_mode & 0o777) == oct(0o755)  # others (a web server) can read it


def test_a_symlink_is_swapped_to_the_new_version_and_a_real_folder_is_replaced_once(tmp_path):
    link = tmp_path / "site"
    link.mkdir()  # an older layout: a real folder
    first, second = tmp_path / "v1", tmp_path / "v2"
    first.mkdir()
    second.mkdir()
    assert point_symlink(link, first) is None
    assert link.is_symlink() and link.resolve() == first.resolve()
    assert point_symlink(link, second) == first.resolve()
    assert link.resolve() == second.resolve()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_two_versions_in_one_second_get_distinct_names(tmp_path):
    (tmp_path / "20250102T050000Z").mkdir()
    assert unique_path(tmp_path / "20250102T050000Z").name == "20250102T050000Z-1"


def test_no_publisher_writes_its_own_temporary_folder_swap():
    """site, gate_notice, leadership and slo_report stage through dashboards/swap.py (the snapshot's
    parquet folder too, via point_symlink); no other module renames a folder into place itself."""
    for module in ("site", "gate_notice", "leadership", "slo_report"):
        tree = ast.parse((DASHBOARDS / f"{module}.py").read_text(encoding="utf-8"))
        calls = {
            node.func.attr
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        assert "mkdtemp" not in calls, module
        assert "staging_folder" in {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }, module
    publish = (DASHBOARDS / "publish.py").read_text(encoding="utf-8")
    assert "point_symlink(" in publish and "os.replace(link_tmp" not in publish


def test_the_slo_report_is_written_and_replaced_whole_through_the_swap(tmp_path):
    from dashboards.slo_report import REPORT_FILES, write_slo_report
    from tests.mart_fixtures import BUILD_TIME, make_warehouse

    warehouse = make_warehouse(tmp_path / "w.duckdb")
    folder = tmp_path / "site-slo"
    first = write_slo_report(warehouse, folder, slos=[], organisation="Acme", now=BUILD_TIME)
    (folder / "stray.txt").write_text("from an older build", encoding="utf-8")
    second = write_slo_report(warehouse, folder, slos=[], organisation="Acme", now=BUILD_TIME)
    assert first.folder == second.folder == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(REPORT_FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site-slo", "w.duckdb"]
