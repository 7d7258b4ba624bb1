"""The shared HTTP client and the GitHub client against a real server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from pipelines.errors import SourceAuthError, SourceError
from pipelines.github.client import GitHubClient, ShortListingError
from pipelines.http import CrossOriginError, RetryPolicy, origin_of
from pipelines.incidents.opsgenie import OpsgenieClient
from pipelines.incidents.statuspage import StatuspageClient
from pipelines.pagerduty.client import PagerDutyClient
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


# --- credentials stay on their origin; listings that end early -------------------------------


def test_origin_compares_scheme_host_and_port_with_default_ports_spelt_out():
    assert origin_of("https://api.github.com/") == origin_of("https://API.github.com:443/x")
    assert origin_of("http://h:80") != origin_of("https://h:443")
    assert origin_of("http://127.0.0.1:8000") != origin_of("http://127.0.0.1:8001")


def test_an_absolute_url_on_another_origin_is_refused_before_it_is_requested():
    with ScriptedServer(lambda p, h: Reply(body={})) as server, client(server) as gh:
        with pytest.raises(CrossOriginError, match="not the configured origin"):
            gh.get_object("http://localhost:1/elsewhere")
        assert server.requests == []
        assert gh.stats.requests == 0


def test_redirect_loops_on_the_same_origin_are_bounded():
    with ScriptedServer(lambda p, h: Reply(302, headers={"Location": "/again"})) as server:
        with client(server) as gh, pytest.raises(SourceError, match=r"redirected .* more than 5"):
            gh.get_object("/start")
    assert len(server.requests) == 6


def test_a_cursor_style_listing_may_end_on_an_empty_page():
    # GitHub's last_sha commit pages link a final empty page and announce no rel="last".
    def handler(path, headers):
        if "last_sha" in path:
            return Reply(body=[])
        nxt = f'<http://{headers["Host"]}/repos/o/r/commits?last_sha=abc>; rel="next"'
        return Reply(body=[{"sha": "abc"}], headers={"Link": nxt})

    with ScriptedServer(handler) as server, client(server) as gh:
        pages = list(gh.paginate("/repos/o/r/commits"))
    assert [len(p.items) for p in pages] == [1, 0]


def test_a_paged_listing_short_of_its_total_count_is_an_error_before_its_last_page():
    def handler(path, headers):
        page = int(parse_qs(urlsplit(path).query).get("page", ["1"])[0])
        nxt = f'<http://{headers["Host"]}/runs?page={page + 1}>; rel="next"'
        body = {"total_count": 5, "workflow_runs": [{"id": page}]}
        return Reply(body=body, headers={"Link": nxt} if page < 2 else {})

    with ScriptedServer(handler) as server, client(server) as gh:
        pages = gh.paginate("/runs", items_key="workflow_runs")
        assert next(pages).number == 1
        with pytest.raises(ShortListingError, match=r"listed 2 items over 2 pages .* said 5"):
            next(pages)


def test_a_single_page_is_taken_as_it_is_whatever_its_total_count():
    body = {"total_count": 124, "workflow_runs": [{"id": 1}]}
    with ScriptedServer(lambda p, h: Reply(body=body)) as server, client(server) as gh:
        pages = list(gh.paginate("/runs", items_key="workflow_runs"))
    assert len(pages) == 1


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda url: GitHubClient(url, token="s3cret"), "Bearer s3cret"),
        (lambda url: PagerDutyClient(url, token="s3cret"), "Token token=s3cret"),
        (lambda url: OpsgenieClient(url, api_key="s3cret"), "GenieKey s3cret"),
        (lambda url: StatuspageClient(url, api_key="s3cret"), "OAuth s3cret"),
    ],
    ids=["github", "pagerduty", "opsgenie", "statuspage"],
)
def test_each_client_sends_its_credential_in_its_own_scheme(make, expected):
    with ScriptedServer(lambda p, h: Reply(body={})) as server, make(server.url) as api:
        api.get("/x")
    assert server.requests[0][1]["Authorization"] == expected


def test_pagerduty_rate_limit_without_retry_after_waits_the_backoff_base():
    answers = iter([Reply(429, {"error": {"message": "slow"}}), Reply(body={"ok": 1})])
    waits: list[float] = []
    with ScriptedServer(lambda p, h: next(answers)) as server:
        pd = PagerDutyClient(server.url, retry=FAST, sleep=waits.append)
        with pd:
            assert pd.get("/x").data == {"ok": 1}
    assert waits == [FAST.backoff_base]
