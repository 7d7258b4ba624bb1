"""Hostile YAML and URLs: every user YAML file goes through one bounded loader; URLs are http(s).

The CLI cases (exit 2, one line) are in tests/test_fault_matrix.py; these cover each limit and each
place we read user YAML: the configuration, SLO specs and survey ``.invited.yaml`` sidecars.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pipelines.config import parse_config
from pipelines.errors import ConfigError
from pipelines.ingest import ensure_raw_tables
from pipelines.slo.spec import SloSpecError, load_slos
from pipelines.surveys.loader import Instrument, load_inbox
from pipelines.warehouse import open_warehouse
from pipelines.yaml_safe import load_yaml

BASE = """\
organisation: {name: Acme}
teams: [{name: web, engineers: 4}]
services: [{name: shop, team: web, repositories: [acme/shop]}]
"""


def laughs(levels: int, fan: int = 9) -> str:
    """A billion-laughs document: ``levels`` anchors, each ``fan`` aliases of the one below."""
    lines = [f"l0: &l0 [{','.join(['lol'] * fan)}]"]
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * fan)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def one_line(error: pytest.ExceptionInfo[BaseException], label: str) -> str:
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{label}: ")
    return message


# --- the loader's limits ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &a [*a]\n", "line 1: alias *a refers to the anchor that contains it"),
        ("x: 1\nb: &b {k: {deeper: *b}}\n", "line 2: alias *b refers"),
        (laughs(8), "expand to more than"),
        ("items:\n" + "".join(f"  - &a{i} {i}\n  - *a{i}\n" for i in range(1001)), "more than 1"),
        ("k: " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        ("a: [1, 2\n", "line 2, column 1: malformed YAML"),
    ],
    ids=["self-alias", "nested-self-alias", "alias-bomb", "too-many-aliases", "deep", "syntax"],
)
def test_each_hostile_document_is_one_line_naming_the_file(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_yaml(text, label="org.yaml")
    assert expected in one_line(info, "org.yaml")


def test_an_oversized_file_is_refused_before_it_is_parsed() -> None:
    with pytest.raises(ConfigError, match="more than the 1,000 a YAML file may have"):
        load_yaml("a: " + "x" * 2000, label="org.yaml", max_bytes=1000)


def test_ordinary_anchors_and_merge_keys_still_work() -> None:
    text = "base: &base {timeout: 30, retries: 2}\nother:\n  <<: *base\n  retries: 5\n"
    assert load_yaml(text, label="x") == {
        "base": {"timeout": 30, "retries": 2},
        "other": {"timeout": 30, "retries": 5},
    }


def test_a_small_alias_fan_out_is_within_the_node_budget() -> None:
    # Three levels of nine: 819 nodes expanded, far below the bound; a real config's worst case.
    assert len(load_yaml(laughs(3), label="x")["l3"]) == 9


def test_python_object_tags_are_refused_as_malformed() -> None:
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_yaml("a: !!python/object/apply:os.system ['true']\n", label="x")


# --- each place that reads user YAML ---------------------------------------------------------


def test_the_configuration_rejects_a_recursive_alias_with_its_line() -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(BASE + "scorecard: &s {x: *s}\n", label="org.yaml")
    assert "line 4: alias *s" in one_line(info, "org.yaml")


def test_an_slo_spec_alias_bomb_is_an_slo_spec_error(tmp_path: Path) -> None:
    spec = tmp_path / "slo.yaml"
    spec.write_text(laughs(8), encoding="utf-8")
    with pytest.raises(SloSpecError) as info:
        load_slos([spec], services=["web"])
    assert "expand to more than" in one_line(info, str(spec))


def test_a_survey_sidecar_with_a_recursive_alias_rejects_the_file(tmp_path: Path) -> None:
    instrument = Instrument.load()
    header = ["Timestamp", "Email Address", "Team"] + [
        f"{item['id']}. {item['text']}" for item in instrument.items
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerow(["2026/07/01 10:00:00", "a@example.com", "web"] + ["3"] * len(instrument.items))
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "2026-Q3.csv").write_text(out.getvalue(), encoding="utf-8")
    (inbox / "2026-Q3.invited.yaml").write_text("invited: &i {web: *i}\n", encoding="utf-8")
    with open_warehouse(tmp_path / "w.duckdb") as con:
        ensure_raw_tables(con)
        loaded, rejected = load_inbox(con, inbox, salt="s", teams={"web"}, instrument=instrument)
        responses = con.execute("SELECT count(*) FROM raw.survey_responses").fetchone()[0]
    assert loaded == []
    ((_, reason),) = rejected
    assert "2026-Q3.invited.yaml: line 1: alias *i refers" in reason
    assert "\n" not in reason
    assert responses == 0


# --- URLs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "source", "value", "expected"),
    [
        ("github", "repositories: [acme/shop], ", "not a url", "must start with https://"),
        ("github", "repositories: [acme/shop], ", "file:///etc/passwd", "must start with https://"),
        ("pagerduty", "", "https://", "has no host"),
        ("opsgenie", "", "ftp://api.opsgenie.com", "must start with https://"),
        ("statuspage", "", "www.githubstatus.com", "must start with https://"),
        ("github", "repositories: [acme/shop], ", "https://me:pw@ghe.example", "must not carry"),
    ],
)
def test_each_source_base_url_must_be_an_http_url_with_a_host(
    key: str, source: str, value: str, expected: str
) -> None:
    text = BASE + f'sources:\n  {key}: [{{{source}base_url: "{value}"}}]\n'
    with pytest.raises(ConfigError) as info:
        parse_config(text, label="org.yaml")
    message = one_line(info, "org.yaml")
    assert f"sources.{key}[0].base_url: {expected}" in message


def test_a_webhook_url_is_checked_without_being_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", "file:///secret-hook-path")
    text = BASE + "publish:\n  webhook: {url: '${HOOK_URL}'}\n"
    with pytest.raises(ConfigError) as info:
        parse_config(text, label="org.yaml")
    message = one_line(info, "org.yaml")
    assert "publish.webhook.url: must start with https://" in message
    assert "secret-hook-path" not in message


def test_a_git_clone_url_may_be_file_or_https_but_not_another_scheme() -> None:
    gh = "sources:\n  github: [{repositories: [acme/shop], git_clone_url: 'URL'}]\n"
    ok = parse_config(BASE + gh.replace("URL", "file:///srv/mirrors/{repository}"), label="x")
    assert ok.sources.github[0].clone_url("acme/shop") == "file:///srv/mirrors/acme/shop"
    with pytest.raises(ConfigError, match="git_clone_url: must be an https://"):
        parse_config(BASE + gh.replace("URL", "gopher://h/{repository}"), label="x")


def test_a_prometheus_datasource_url_needs_a_host(tmp_path: Path) -> None:
    spec = tmp_path / "ds.yaml"
    spec.write_text(
        "apiVersion: openslo/v1\nkind: DataSource\nmetadata: {name: prom}\n"
        'spec: {type: Prometheus, connectionDetails: {url: "http://"}}\n',
        encoding="utf-8",
    )
    with pytest.raises(SloSpecError, match=r"connectionDetails\.url: has no host"):
        load_slos([spec], services=["web"])
