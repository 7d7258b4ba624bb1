"""`platform-metrics init`: discover an organisation through the fake GitHub API served on a real
socket, propose teams and services, write a validated, commented config, print the cost; and one
clear line for each bad input."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import httpx
import pytest
import yaml

from assets.cli import main
from pipelines.config import DEMO_CONFIG_PATH, load_config
from pipelines.demo import demo_transport, generate_organisation
from tests.http_server import Reply, ScriptedServer

ORG = "appstore"
# A GitHub team holding one repository, a CODEOWNERS naming a team for another, and deployment
# environments: the fake API has none of these endpoints, so this test serves them in front of it.
TEAM_REPO = "appstore/checkout-api"
CODEOWNED_REPO = "appstore/ios-app"
CODEOWNERS = "# owners\n* @appstore/mobile-core\n/docs/ @appstore/writers\n"


@pytest.fixture(scope="module")
def demo_org():
    import datetime as dt

    config = load_config(DEMO_CONFIG_PATH)
    demo = config.demo.model_copy(update={"end_date": dt.date(2026, 6, 30), "months": 1})
    return generate_organisation(config.model_copy(update={"demo": demo}))


def _forwarding(demo_org, server_url: list[str]):
    """GitHub as the demo's fake API answers it, behind a real socket, plus teams and CODEOWNERS."""
    client = httpx.Client(base_url="https://api.github.com", transport=demo_transport(demo_org))

    def handler(path: str, headers: dict[str, str]) -> Reply:
        if path.startswith(f"/orgs/{ORG}/teams/payments-core/repos"):
            return Reply(body=[{"full_name": TEAM_REPO}])
        if path.startswith(f"/orgs/{ORG}/teams"):
            return Reply(body=[{"slug": "payments-core", "name": "Payments core"}])
        if path.startswith(f"/repos/{TEAM_REPO}/environments"):
            environments = [{"name": "production"}, {"name": "staging"}]
            return Reply(body={"total_count": 2, "environments": environments})
        if path.startswith(f"/repos/{CODEOWNED_REPO}/contents/.github/CODEOWNERS"):
            return Reply(body={"content": base64.b64encode(CODEOWNERS.encode()).decode()})
        response = client.get(path, headers={"Authorization": headers.get("Authorization", "")})
        forwarded = {}
        if "link" in response.headers:
            forwarded["Link"] = response.headers["link"].replace(
                "https://api.github.com", server_url[0]
            )
        return Reply(status=response.status_code, body=response.content, headers=forwarded)

    return handler


def _init(tmp_path: Path, base_url: str, *extra: str, org: str = ORG) -> int:
    return main(
        ["init", "--org", org, "--base-url", base_url, "--out", str(tmp_path / "org.yaml"), *extra]
    )


def test_init_discovers_the_organisation_and_writes_a_validated_commented_config(
    demo_org, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GITHUB_TOKEN", "test-token")
    url: list[str] = []
    with ScriptedServer(_forwarding(demo_org, url)) as server:
        url.append(server.url)
        assert _init(tmp_path, server.url) == 0
    out = capsys.readouterr().out
    written = tmp_path / "org.yaml"
    text = written.read_text(encoding="utf-8")
    assert text.startswith(f"# Proposed by `platform-metrics init --org {ORG}`")
    assert "test-token" not in text and "test-token" not in out  # the secret stays in the env
    assert "token: ${GITHUB_TOKEN}" in text

    config = load_config(written)
    repositories = sorted(r for s in config.services for r in s.repositories)
    assert repositories == sorted(demo_org.repositories)
    owner = {s.repositories[0]: s.team for s in config.services}
    assert owner[TEAM_REPO] == "payments-core"  # the GitHub team holding it
    assert owner[CODEOWNED_REPO] == "mobile-core"  # its CODEOWNERS
    assert set(owner.values()) - {"payments-core", "mobile-core"} == {"unassigned"}
    # Outputs under build/ beside the file; a production environment and deploy workflows proposed.
    assert Path(config.publish.site_dir).resolve() == (tmp_path / "build" / "site").resolve()
    raw = yaml.safe_load(text)
    assert re.search(raw["metrics"]["deployment"]["environment_regex"], "production")
    assert not re.search(raw["metrics"]["deployment"]["environment_regex"], "staging")
    assert "workflow_regex" in raw["metrics"]["deployment"]

    assert f"wrote {written}: {len(demo_org.repositories)} services of 3 teams" in out
    assert "requests" in out.lower()  # the plan's estimate follows
    assert f"next: review {written}" in out


def test_init_never_overwrites_without_force(demo_org, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    (tmp_path / "org.yaml").write_text("mine\n", encoding="utf-8")
    assert _init(tmp_path, "http://127.0.0.1:9") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: --out {tmp_path / 'org.yaml'}: already exists; pass --force to replace it"
    ]
    assert (tmp_path / "org.yaml").read_text(encoding="utf-8") == "mine\n"


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_a_rejected_token_is_one_line_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "expired")
    with ScriptedServer(lambda path, headers: Reply(401, {"message": "Bad credentials"})) as server:
        code = _init(tmp_path, server.url)
    line = _one_error_line(capsys)
    assert code == 3
    assert line.startswith("error: "), line
    assert "401" in line or "credential" in line.lower(), line
    assert not (tmp_path / "org.yaml").exists()


def test_an_organisation_without_repositories_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    with ScriptedServer(lambda path, headers: Reply(body=[])) as server:
        code = _init(tmp_path, server.url, org="empty-org")
    line = _one_error_line(capsys)
    assert code == 2
    assert line.startswith("error: --org empty-org: no repositories visible to this token"), line
    assert not (tmp_path / "org.yaml").exists()


def test_an_unset_token_variable_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    assert _init(tmp_path, "http://127.0.0.1:9") == 2
    assert _one_error_line(capsys).startswith(
        "error: --token-env GITHUB_TOKEN: $GITHUB_TOKEN is not set"
    )


def test_an_organisation_of_a_thousand_repositories_is_listed_with_one_line_on_cost(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GITHUB_TOKEN", "t")
    repos = [
        {"full_name": f"big/repo-{i:04d}", "archived": False, "fork": False} for i in range(1000)
    ]

    def handler(path: str, headers: dict[str, str]) -> Reply:
        if path.startswith("/orgs/big/repos"):
            return Reply(body=repos)
        return Reply(404, {"message": "Not Found"})

    with ScriptedServer(handler) as server:
        assert _init(tmp_path, server.url, org="big") == 0
        requested = [p for p, _ in server.requests]
    out = capsys.readouterr().out
    config = load_config(tmp_path / "org.yaml")
    assert len(config.services) == 1000
    cost = [line for line in out.splitlines() if line.startswith("cost:")]
    assert cost == [
        "cost: not estimated for 1,000 repositories here (it probes each one); narrow the config, "
        f"then run: platform-metrics plan --config {tmp_path / 'org.yaml'}"
    ]
    assert "note: 1,000 repositories: CODEOWNERS, environments and workflows" in out
    # No per-repository request: listing and teams only.
    assert not [p for p in requested if p.startswith("/repos/")]
