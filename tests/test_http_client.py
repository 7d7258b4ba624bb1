"""The shared HTTP client and the GitHub client against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.errors import SourceAuthError, SourceError
from pipelines.github.client import GitHubClient
from pipelines.http import RetryPolicy
from tests.http_server import Reply, ScriptedServer

FAST = RetryPolicy(max_retries=3, backoff_base=0.01, backoff_max=0.05, max_total_seconds=5)


def client(server: ScriptedServer, **kwargs) -> GitHubClient:
    return GitHubClient(server.url, token="ghp_test_token", retry=FAST, timeout=2, **kwargs)


def test_pagination_follows_link_headers_across_pages():
    def handler(path, headers):
        page = int(parse_qs(urlsplit(path).query).get("page", ["1"])[0])
        nxt = f'<http://{headers["Host"]}/repos/o/r/pulls?per_page=2&page={page + 1}>; rel="next"'
        return Reply(
            body=[{"n": page * 10 + i} for i in range(2)], headers={"Link": nxt} if page < 3 else {}
        )

    with ScriptedServer(handler) as server, client(server, per_page=2) as gh:
        items = [i["n"] for page in gh.paginate("/repos/o/r/pulls") for i in page.items]
    assert items == [10, 11, 20, 21, 30, 31]
    assert "per_page=2" in server.requests[0][0]


def test_server_errors_are_retried_then_succeed():
    answers = iter([Reply(502), Reply(503), Reply(body={"ok": True})])
    with ScriptedServer(lambda p, h: next(answers)) as server, client(server) as gh:
        assert gh.get_object("/repos/o/r") == {"ok": True}
        assert gh.stats.retries == 2
        assert gh.stats.requests == 3


def test_persistent_failure_gives_up_with_the_url_and_no_token():
    with ScriptedServer(lambda p, h: Reply(500)) as server, client(server) as gh:
        with pytest.raises(SourceError) as info:
            gh.get_object("/repos/o/r")
    message = str(info.value)
    assert f"{server.url}/repos/o/r" in message
    assert "after 4 attempts" in message
    assert "ghp_test_token" not in message
    assert len(server.requests) == 4


def test_timeouts_are_retried_and_bounded():
    with ScriptedServer(lambda p, h: Reply(body={}, delay=0.5)) as server:
        gh = GitHubClient(server.url, retry=FAST, timeout=0.1)
        with pytest.raises(SourceError, match="ReadTimeout"):
            gh.get_object("/slow")
        gh.close()


def test_malformed_json_names_the_url():
    with ScriptedServer(lambda p, h: Reply(body=b"{not json")) as server, client(server) as gh:
        with pytest.raises(SourceError, match=r"malformed JSON for .*/repos/o/r"):
            gh.get_object("/repos/o/r")


def test_secondary_rate_limit_waits_for_retry_after():
    answers = iter(
        [
            Reply(
                403, {"message": "You have exceeded a secondary rate limit"}, {"Retry-After": "1"}
            ),
            Reply(body={"ok": 1}),
        ]
    )
    with ScriptedServer(lambda p, h: next(answers)) as server, client(server) as gh:
        started = time.monotonic()
        assert gh.get_object("/x") == {"ok": 1}
        assert time.monotonic() - started >= 1.0
        assert gh.stats.rate_limit_waits == 1


def test_exhausted_primary_limit_waits_until_reset():
    def handler(path, headers):
        if len(server.requests) == 1:
            reset = int(time.time()) + 1
            return Reply(
                403,
                {"message": "API rate limit exceeded"},
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(reset)},
            )
        return Reply(body={"ok": 2})

    with ScriptedServer(handler) as server, client(server) as gh:
        assert gh.get_object("/x") == {"ok": 2}
        assert gh.stats.rate_limit_waits == 1
        assert gh.stats.waited_seconds >= 1.0


def test_not_modified_costs_no_items_and_is_counted():
    def handler(path, headers):
        if headers.get("If-None-Match") == 'W/"abc"':
            return Reply(304)
        return Reply(body=[{"id": 1}], headers={"ETag": 'W/"abc"'})

    with ScriptedServer(handler) as server, client(server) as gh:
        first = list(gh.paginate("/repos/o/r/tags"))
        assert first[0].etag == 'W/"abc"'
        assert list(gh.paginate("/repos/o/r/tags", etag='W/"abc"')) == []
        assert gh.stats.not_modified == 1


def test_bad_credentials_are_an_auth_error_not_retried():
    with (
        ScriptedServer(lambda p, h: Reply(401, {"message": "Bad credentials"})) as server,
        client(server) as gh,
        pytest.raises(SourceAuthError, match="Bad credentials"),
    ):
        gh.get_object("/user")
    assert len(server.requests) == 1


def test_token_is_sent_as_bearer_header():
    with ScriptedServer(lambda p, h: Reply(body={})) as server, client(server) as gh:
        gh.get_object("/user")
    assert server.requests[0][1]["Authorization"] == "Bearer ghp_test_token"


def test_unreachable_source_fails_with_a_clear_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    gh = GitHubClient(f"http://127.0.0.1:{port}", retry=FAST, timeout=1)
    with pytest.raises(
        SourceError, match=rf"gave up on http://127.0.0.1:{port}/repos/o/r .*ConnectError"
    ):
        gh.get_object("/repos/o/r")
