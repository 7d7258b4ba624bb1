"""More than one GitHub credential and a budget a sync keeps, over real sockets on 127.0.0.1.

The server is GitHub-shaped: it answers ``x-ratelimit-*`` per credential (by the Authorization
header), 403s a spent credential, mints App installation tokens from a JWT it verifies with the
App's public key, and counts who asked for what.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from pipelines.config import parse_config
from pipelines.errors import ConfigError, SourceAuthError
from pipelines.github.client import GitHubClient
from pipelines.github.credentials import (
    AppInstallationCredential,
    BudgetExhausted,
    CredentialPool,
    PoolAuth,
    TokenCredential,
    build_pool,
)
from pipelines.github.sync import RepositorySync
from pipelines.http import CrossOriginError, RetryPolicy, origin_of
from pipelines.ingest import SourceClients, sync_github
from pipelines.warehouse import connect, get_sync_state
from tests.http_server import Reply, ScriptedServer

NOW = dt.datetime(2026, 6, 30, 12, tzinfo=dt.UTC)
FAST = RetryPolicy(max_retries=2, backoff_base=0.01, backoff_max=0.02, max_total_seconds=5)
TOKEN_A = "ghp_AAAAsecretAAAA0000000000000000000000"
TOKEN_B = "ghp_BBBBsecretBBBB1111111111111111111111"


def _key_pair() -> tuple[str, rsa.RSAPublicKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


class GitHubWithBudgets:
    """Per-credential budgets; six pull requests over three pages; everything else empty."""

    def __init__(self, budgets: dict[str, int], app_public_key=None, app_id: int = 12) -> None:
        self.remaining = dict(budgets)
        self.reset = int(time.time()) + 1800
        self.retry_after: dict[str, int] = {}
        self.used: list[str] = []
        self.app_public_key = app_public_key
        self.app_id = app_id
        self.minted: list[str] = []
        self.expired: set[str] = set()
        self.token_lifetime = dt.timedelta(hours=1)
        self.pulls = [
            {
                "id": 1000 + n,
                "number": n,
                "state": "closed",
                "user": {"login": "dev", "type": "User"},
                "created_at": "2026-06-01T00:00:00Z",
                "updated_at": f"2026-06-{10 + n:02d}T00:00:00Z",
            }
            for n in range(6, 0, -1)
        ]

    def _mint(self, headers: dict[str, str]) -> Reply:
        assertion = headers.get("Authorization", "").removeprefix("Bearer ")
        try:
            claims = jwt.decode(assertion, self.app_public_key, algorithms=["RS256"])
        except jwt.PyJWTError:
            return Reply(401, {"message": "A JSON web token could not be decoded"})
        if claims["iss"] != str(self.app_id) or claims["exp"] - claims["iat"] > 600:
            return Reply(401, {"message": "bad claims"})
        token = f"ghs_installation{len(self.minted)}"
        self.minted.append(token)
        self.remaining[token] = 5000
        expires = dt.datetime.now(dt.UTC) + self.token_lifetime
        return Reply(201, {"token": token, "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        url = urlsplit(path)
        if url.path.startswith("/app/installations/"):
            return self._mint(headers)
        token = headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.expired or token not in self.remaining:
            return Reply(401, {"message": "Bad credentials"})
        self.used.append(token)
        limits = {"x-ratelimit-limit": "5000", "x-ratelimit-reset": str(self.reset)}
        if url.path == "/graphql":
            limits["x-ratelimit-resource"] = "graphql"
        if token in self.retry_after:
            return Reply(
                403,
                {"message": "You have exceeded a secondary rate limit."},
                {"Retry-After": str(self.retry_after.pop(token))},
            )
        if self.remaining[token] <= 0:
            return Reply(
                403,
                {"message": "API rate limit exceeded"},
                {**limits, "x-ratelimit-remaining": "0"},
            )
        self.remaining[token] -= 1
        limits["x-ratelimit-remaining"] = str(self.remaining[token])
        if url.path == "/repos/o/r":
            body = {
                "full_name": "o/r",
                "default_branch": "main",
                "updated_at": "2026-06-01T00:00:00Z",
            }
            return Reply(body=body, headers=limits)
        if url.path == "/repos/o/r/pulls":
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            page, per_page = int(query.get("page", 1)), int(query.get("per_page", 2))
            items = self.pulls[(page - 1) * per_page : page * per_page]
            if page * per_page < len(self.pulls):
                limits["Link"] = (
                    f"<http://{headers['Host']}/repos/o/r/pulls?state=all&per_page={per_page}"
                    f'&page={page + 1}>; rel="next"'
                )
            return Reply(body=items, headers=limits)
        return Reply(body=[], headers=limits)


def _client(server, pool: CredentialPool, per_page: int = 2) -> GitHubClient:
    return GitHubClient(
        server.url, retry=FAST, per_page=per_page, credentials=pool, sleep=_no_sleep
    )


def _no_sleep(seconds: float) -> None:
    raise AssertionError(f"waited {seconds}s although another credential was free")


def _pool(*tokens: str, reserve: int = 0) -> CredentialPool:
    return CredentialPool(
        [TokenCredential(f"token {i}", token=t) for i, t in enumerate(tokens, 1)],
        reserve=reserve,
        sleep=_no_sleep,
    )


def test_a_spent_token_hands_over_to_the_next_instead_of_waiting_for_its_reset():
    fake = GitHubWithBudgets({TOKEN_A: 1, TOKEN_B: 100})
    pool = _pool(TOKEN_A, TOKEN_B)
    with ScriptedServer(fake) as server, _client(server, pool) as client:
        for _ in range(4):
            assert client.get("/repos/o/r").status_code == 200
    # Token 1's answer said 0 left: the next request goes to token 2 at once, with no 403 first.
    assert fake.used == [TOKEN_A, TOKEN_B, TOKEN_B, TOKEN_B]
    assert pool.credentials[0].limits["core"].remaining == 0


def test_a_403_for_a_spent_token_is_sent_again_with_another_token():
    fake = GitHubWithBudgets({TOKEN_A: 0, TOKEN_B: 100})
    pool = _pool(TOKEN_A, TOKEN_B)
    with ScriptedServer(fake) as server, _client(server, pool) as client:
        assert client.get("/repos/o/r").status_code == 200
    assert fake.used == [TOKEN_A, TOKEN_B]
    assert pool.switches == 1


def test_retry_after_blocks_only_its_own_credential():
    fake = GitHubWithBudgets({TOKEN_A: 100, TOKEN_B: 50})
    fake.retry_after[TOKEN_A] = 120
    pool = _pool(TOKEN_A, TOKEN_B)
    with ScriptedServer(fake) as server, _client(server, pool) as client:
        assert client.get("/repos/o/r").status_code == 200
        assert client.get("/repos/o/r").status_code == 200
    a = pool.credentials[0]
    assert a.blocked_until > time.time() + 100
    assert fake.used == [TOKEN_A, TOKEN_B, TOKEN_B]
    assert pool.switches == 1


def test_graphql_budget_is_counted_apart_from_rest_by_the_resource_header():
    fake = GitHubWithBudgets({TOKEN_A: 10})
    pool = _pool(TOKEN_A)
    with ScriptedServer(fake) as server, _client(server, pool) as client:
        client.get("/repos/o/r")
        client.get("/graphql")
    limits = pool.credentials[0].limits
    assert limits["core"].remaining == 9
    assert limits["graphql"].remaining == 8
    pool.record_graphql({"remaining": 4321, "limit": 5000, "resetAt": "2026-06-30T13:00:00Z"})
    assert limits["graphql"].remaining == 4321


def _sync(con, client) -> RepositorySync:
    return RepositorySync(
        con, client, source="github", repository="o/r", backfill_days=365, now=NOW
    )


def test_the_sync_stops_cleanly_at_the_reserve_and_the_next_run_resumes(tmp_path):
    # Budget for the repository (1 request) and the first page of pull requests (1 + 2 x 2 for
    # their reviews and commits), then the reserve of 2 is reached on both tokens.
    fake = GitHubWithBudgets({TOKEN_A: 9, TOKEN_B: 1})
    con = connect(tmp_path / "wh.duckdb")
    pool = _pool(TOKEN_A, TOKEN_B, reserve=2)
    with ScriptedServer(fake) as server:
        with _client(server, pool) as client:
            repo_sync = _sync(con, client)
            with pytest.raises(BudgetExhausted) as stopped:
                repo_sync.run(["repository", "pull_requests"])
        message = str(stopped.value)
        assert "resets at" in message and "next run resumes" in message
        assert stopped.value.resets_at == dt.datetime.fromtimestamp(fake.reset, dt.UTC)
        assert TOKEN_A not in message and TOKEN_B not in message
        # What was complete is kept: the repository, and the first page of pull requests.
        assert get_sync_state(con, "github", "o/r", "repository").cursor is not None
        assert get_sync_state(con, "github", "o/r", "pull_requests") is None
        landed = con.execute("SELECT count(*) FROM raw.github_pull_requests").fetchone()[0]
        assert landed == 2
        # The budget resets: the next run finishes the pull requests with no duplicates.
        fake.remaining = {TOKEN_A: 100, TOKEN_B: 100}
        with _client(server, _pool(TOKEN_A, TOKEN_B, reserve=2)) as client:
            _sync(con, client).run(["repository", "pull_requests"])
    assert con.execute("SELECT count(*) FROM raw.github_pull_requests").fetchone()[0] == 6
    assert get_sync_state(con, "github", "o/r", "pull_requests").cursor == "2026-06-16T00:00:00Z"
    con.close()


CONFIG = """
organisation: {{name: Acme}}
teams: [{{name: web, engineers: 3}}]
services: [{{name: shop, team: web, repositories: [o/r, o/s]}}]
sources:
  github:
    - base_url: {url}
      tokens: [{a}, {b}]
      repositories: [o/r, o/s]
      budget_reserve: 3
      per_page: 2
      max_retries: 1
      api: rest  # the fake answers REST only
"""


def test_sync_github_reports_the_stop_and_leaves_later_repositories_for_the_next_run(
    tmp_path, caplog
):
    fake = GitHubWithBudgets({TOKEN_A: 6, TOKEN_B: 2})
    caplog.set_level(logging.DEBUG)
    with ScriptedServer(fake) as server:
        config = parse_config(CONFIG.format(url=server.url, a=TOKEN_A, b=TOKEN_B))
        con = connect(tmp_path / "wh.duckdb")
        (report,) = sync_github(con, SourceClients(config), repositories=None)
        con.close()
    assert report.stopped is not None and "o/r" in report.stopped
    assert "o/s" not in report.by_scope
    assert "budget resets at" in caplog.text
    # Secrets never reach the log or the warehouse.
    warehouse_bytes = (tmp_path / "wh.duckdb").read_bytes()
    for secret in (TOKEN_A, TOKEN_B):
        assert secret not in caplog.text
        assert secret not in report.stopped
        assert secret.encode() not in warehouse_bytes


def _app(server, pem: str) -> AppInstallationCredential:
    return AppInstallationCredential(
        "app 12 installation 34",
        app_id=12,
        installation_id=34,
        private_key=pem,
        base_url=server.url,
    )


def test_an_app_installation_token_is_minted_from_a_verified_jwt_and_renewed_before_its_hour_ends():
    pem, public = _key_pair()
    fake = GitHubWithBudgets({}, app_public_key=public, app_id=12)
    with ScriptedServer(fake) as server:
        app = _app(server, pem)
        with _client(server, CredentialPool([app])) as client:
            client.get("/repos/o/r")
            client.get("/repos/o/r")
            assert fake.used == ["ghs_installation0", "ghs_installation0"]
            # The next token GitHub gives is within five minutes of its end: renewed at each use.
            app.renew()
            fake.token_lifetime = dt.timedelta(minutes=4)
            client.get("/repos/o/r")
            client.get("/repos/o/r")
    assert fake.minted == [f"ghs_installation{i}" for i in range(3)]
    assert fake.used[-2:] == ["ghs_installation1", "ghs_installation2"]


def test_a_revoked_installation_token_is_minted_again_once():
    pem, public = _key_pair()
    fake = GitHubWithBudgets({}, app_public_key=public)
    with ScriptedServer(fake) as server:
        app = _app(server, pem)
        with _client(server, CredentialPool([app])) as client:
            client.get("/repos/o/r")
            fake.expired.add("ghs_installation0")
            assert client.get("/repos/o/r").status_code == 200
    assert fake.minted == ["ghs_installation0", "ghs_installation1"]


def test_a_wrong_app_key_and_a_revoked_token_each_give_one_line_naming_the_credential():
    pem, _ = _key_pair()
    _, other_public = _key_pair()
    fake = GitHubWithBudgets({}, app_public_key=other_public)
    with ScriptedServer(fake) as server:
        with _client(server, CredentialPool([_app(server, pem)])) as client:
            with pytest.raises(SourceAuthError, match=r"app 12 installation 34.*HTTP 401"):
                client.get("/repos/o/r")
        with _client(server, _pool(TOKEN_A)) as client:
            with pytest.raises(SourceAuthError) as refused:
                client.get("/repos/o/r")
    assert "token 1" in str(refused.value) and TOKEN_A not in str(refused.value)
    assert "\n" not in str(refused.value)


def test_an_app_key_that_is_not_a_pem_key_is_a_config_error(tmp_path):
    key_file = tmp_path / "app.pem"
    key_file.write_text("not a key")
    config = parse_config(
        CONFIG.format(url="http://127.0.0.1:9", a=TOKEN_A, b=TOKEN_B).replace(
            "budget_reserve: 3",
            f"budget_reserve: 3\n      app: {{app_id: 1, installation_id: 2, "
            f"private_key_file: {json.dumps(str(key_file))}}}",
        )
    )
    pool = build_pool(config.sources.github[0])
    assert [c.label for c in pool.credentials] == [
        "github token 1",
        "github token 2",
        "github app 1 installation 2",
    ]
    with pytest.raises(ConfigError, match="not a PEM RSA private key"):
        pool.credentials[2].authorization()


def test_an_app_needs_exactly_one_private_key():
    with pytest.raises(ConfigError, match="exactly one of 'private_key' or 'private_key_file'"):
        parse_config(
            CONFIG.format(url="http://127.0.0.1:9", a=TOKEN_A, b=TOKEN_B).replace(
                "budget_reserve: 3", "app: {app_id: 1, installation_id: 2}"
            )
        )


def test_the_pool_sends_one_authorization_and_never_to_another_origin():
    # fs-http's ApiClient refuses a cross-origin link before sending; the pool's Auth is the only
    # one that sets Authorization, and it signs nothing off the client's origin either.
    with ScriptedServer(lambda p, h: Reply(body={})) as elsewhere:
        nxt = f'<{elsewhere.url}/repos/o/r/pulls?page=2>; rel="next"'
        with ScriptedServer(lambda p, h: Reply(body=[{"id": 1}], headers={"Link": nxt})) as server:
            pool = CredentialPool([TokenCredential("t", token=TOKEN_A)])
            with _client(server, pool) as client, pytest.raises(CrossOriginError) as info:
                list(client.paginate("/repos/o/r/pulls"))
            (_, headers), *_ = server.requests
        assert elsewhere.requests == []
    assert [k for k in headers if k.lower() == "authorization"] == ["Authorization"]
    assert headers["Authorization"] == f"Bearer {TOKEN_A}"
    assert TOKEN_A not in str(info.value)
    with pytest.raises(ValueError, match="either token or credentials"):
        GitHubClient("https://api.github.com", token=TOKEN_A, credentials=pool)


def test_pool_auth_does_not_sign_a_request_off_its_origin():
    auth = PoolAuth(
        CredentialPool([TokenCredential("t", token=TOKEN_A)]), origin=origin_of("https://a.test")
    )
    request = httpx.Request("GET", "https://b.test/x", headers={"Authorization": "stale"})
    flow = auth.auth_flow(request)
    assert "Authorization" not in next(flow).headers
