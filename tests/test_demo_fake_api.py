"""The in-process fake API: GitHub, PagerDuty and Prometheus shapes, paging and headers."""

from __future__ import annotations

import datetime as dt
import re

import httpx
import pytest

from pipelines.config import load_config
from pipelines.demo import demo_transport, generate_organisation

END = dt.date(2026, 6, 30)
REPO = "/repos/appstore/service-templates"


def demo_config(**demo):
    config = load_config()
    return config.model_copy(
        update={"demo": config.demo.model_copy(update={"end_date": END, **demo})}
    )


@pytest.fixture(scope="module")
def org():
    return generate_organisation(demo_config())


@pytest.fixture
def client(org):
    transport = demo_transport(org)
    with httpx.Client(base_url="https://api.github.com", transport=transport) as c:
        c.transport_under_test = transport
        yield c


def next_link(response: httpx.Response) -> str | None:
    m = re.search(r'<([^>]+)>; rel="next"', response.headers.get("Link", ""))
    return m.group(1) if m else None


def walk(client: httpx.Client, url: str, key: str | None = None) -> list:
    items, pages = [], 0
    while url:
        r = client.get(url)
        assert r.status_code == 200
        body = r.json()
        items += body[key] if key else body
        url = next_link(r)
        pages += 1
    return items


def test_same_seed_and_end_date_give_identical_responses(org):
    urls = [
        f"{REPO}/pulls?state=all&sort=updated&direction=desc&per_page=100&page=2",
        f"{REPO}/commits?sha=main&per_page=50",
        f"{REPO}/actions/runs?created=2026-05-01..2026-05-31&per_page=100",
        f"{REPO}/deployments?environment=production",
        "https://api.pagerduty.com/incidents?since=2026-01-01T00:00:00Z&until=2026-06-30T00:00:00Z"
        "&limit=100",
        "http://prometheus:9090/api/v1/query_range?query=sum(increase(http_requests_total"
        '{service="checkout-api"}[1h]))&start=1780000000&end=1780360000&step=3600',
        "/orgs/appstore/repos?per_page=100",
    ]
    other = generate_organisation(demo_config())
    with (
        httpx.Client(base_url="https://api.github.com", transport=demo_transport(org)) as a,
        httpx.Client(base_url="https://api.github.com", transport=demo_transport(other)) as b,
    ):
        for url in urls:
            ra, rb = a.get(url), b.get(url)
            assert ra.status_code == 200, (url, ra.text[:200])
            assert ra.content == rb.content and ra.headers.get("ETag") == rb.headers.get("ETag")
    assert [w.csv_text for w in org.survey_waves] == [w.csv_text for w in other.survey_waves]


def test_different_seed_gives_different_responses(org):
    other = generate_organisation(demo_config(seed=1234))
    url = f"{REPO}/pulls?state=all"
    with (
        httpx.Client(base_url="https://x", transport=demo_transport(org)) as a,
        httpx.Client(base_url="https://x", transport=demo_transport(other)) as b,
    ):
        assert a.get(url).content != b.get(url).content


def test_link_pagination_walks_all_pages_and_the_union_equals_the_full_list(client, org):
    first = client.get(f"{REPO}/pulls", params={"state": "all", "per_page": 37, "sort": "created"})
    link = first.headers["Link"]
    last = int(re.search(r'[?&]page=(\d+)>; rel="last"', link).group(1))
    total = len(org.repo("appstore/service-templates").pulls)
    assert last == -(-total // 37)
    assert "state=all" in link and "per_page=37" in link and "sort=created" in link
    assert link.startswith("<https://api.github.com/repos/appstore/service-templates/pulls?")
    items = walk(client, str(first.request.url))
    numbers = [p["number"] for p in items]
    assert len(numbers) == len(set(numbers)) == total
    assert numbers == sorted(numbers, reverse=True)  # created desc
    # the default page size is 30 and per_page is capped at 100
    assert len(client.get(f"{REPO}/pulls?state=all").json()) == 30
    assert len(client.get(f"{REPO}/pulls?state=all&per_page=500").json()) == 100


def test_pulls_honour_state_sort_and_direction(client):
    open_ = walk(client, f"{REPO}/pulls?per_page=100")
    assert open_ and all(p["state"] == "open" for p in open_)
    closed = client.get(f"{REPO}/pulls?state=closed&per_page=100").json()
    assert all(p["state"] == "closed" for p in closed)
    updated = client.get(f"{REPO}/pulls?state=all&sort=updated&direction=desc").json()
    stamps = [p["updated_at"] for p in updated]
    assert stamps == sorted(stamps, reverse=True)
    asc = client.get(f"{REPO}/pulls?state=all&sort=updated").json()  # GitHub: asc by default
    assert [p["updated_at"] for p in asc] == sorted(p["updated_at"] for p in asc)


def test_if_none_match_gets_304_with_empty_body_and_does_not_spend_rate_limit(client):
    url = f"{REPO}/deployments"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert re.fullmatch(r'W/"[0-9a-f]{40}"', etag)
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["X-RateLimit-Remaining"] == first.headers["X-RateLimit-Remaining"]
    changed = client.get(url, headers={"If-None-Match": 'W/"0000"'})
    assert changed.status_code == 200
    assert client.transport_under_test.stats.not_modified == 1


def test_rate_limit_headers_decrement_per_request(client):
    remaining = []
    for _ in range(3):
        r = client.get(f"{REPO}/tags")
        assert r.headers["X-RateLimit-Limit"] == "5000"
        assert r.headers["X-RateLimit-Resource"] == "core"
        assert int(r.headers["X-RateLimit-Reset"]) > 1_700_000_000
        remaining.append(int(r.headers["X-RateLimit-Remaining"]))
    assert remaining == [4999, 4998, 4997]
    stats = client.transport_under_test.stats
    assert stats.requests == 3 and stats.by_route["github tags"] == 3


def test_enforced_rate_limit_answers_403_until_the_reset(org):
    now = [1_800_000_000.0]
    transport = demo_transport(org, rate_limit=2, enforce_rate_limit=True, clock=lambda: now[0])
    with httpx.Client(base_url="https://api.github.com", transport=transport) as c:
        assert c.get(f"{REPO}/tags").status_code == 200
        assert c.get(f"{REPO}/tags").headers["X-RateLimit-Remaining"] == "0"
        blocked = c.get(f"{REPO}/tags")
        assert blocked.status_code == 403 and "rate limit" in blocked.json()["message"]
        now[0] = float(blocked.headers["X-RateLimit-Reset"])
        assert c.get(f"{REPO}/tags").status_code == 200


def test_unknown_path_is_a_github_style_404(client):
    for url in ("/repos/appstore/nope/pulls", "/whatever", f"{REPO}/pulls/999999/reviews"):
        r = client.get(url)
        assert r.status_code == 404
        assert r.json()["message"] == "Not Found" and "documentation_url" in r.json()


def test_runs_created_filter_and_the_thousand_result_cap(client, org):
    data = org.repo("appstore/service-templates")
    assert len(data.runs) > 1000
    # A filtered listing (here by status) reaches 1,000 runs; the unfiltered one all of them.
    everything = "status=completed&per_page=100"
    assert sum(x["status"] == "completed" for x in data.runs) > 1000
    r = client.get(f"{REPO}/actions/runs?{everything}&page=10")
    assert len(r.json()["workflow_runs"]) == 100 and 'rel="next"' not in r.headers["Link"]
    beyond = client.get(f"{REPO}/actions/runs?{everything}&page=11").json()
    assert beyond["workflow_runs"] == [] and beyond["total_count"] > 1000
    unfiltered = walk(client, f"{REPO}/actions/runs?per_page=100", "workflow_runs")
    assert [x["id"] for x in unfiltered] == [x["id"] for x in data.runs]
    # created filters: dates are whole days, both ends inclusive; datetimes are exact
    may = walk(
        client, f"{REPO}/actions/runs?created=2026-05-01..2026-05-31&per_page=100", "workflow_runs"
    )
    expected = [x for x in data.runs if "2026-05-01" <= x["created_at"][:10] <= "2026-05-31"]
    assert [x["id"] for x in may] == [x["id"] for x in expected]
    ge = client.get(f"{REPO}/actions/runs?created=>=2026-06-29").json()
    assert ge["total_count"] == sum(x["created_at"] >= "2026-06-29" for x in data.runs)
    le = client.get(f"{REPO}/actions/runs?created=<=2025-07-02T12:00:00Z").json()
    assert le["total_count"] == sum(x["created_at"] <= "2025-07-02T12:00:00Z" for x in data.runs)
    created = [x["created_at"] for x in may]
    assert created == sorted(created, reverse=True)
    push = client.get(f"{REPO}/actions/runs?event=schedule&branch=main").json()
    assert {x["name"] for x in push["workflow_runs"]} == {"Production health check"}


def test_jobs_of_a_run_show_queue_time(client, org):
    run = next(r for r in org.repo("appstore/service-templates").runs if r["name"] == "CI")
    body = client.get(f"{REPO}/actions/runs/{run['id']}/jobs").json()
    assert body["total_count"] == len(body["jobs"]) == 3
    for job in body["jobs"]:
        assert job["run_id"] == run["id"] and job["head_sha"] == run["head_sha"]
        assert job["created_at"] <= job["started_at"] <= job["completed_at"]
        assert job["workflow_name"] == "CI"


def test_commits_follow_since_until_and_sha(client, org):
    data = org.repo("appstore/service-templates")
    everything = walk(client, f"{REPO}/commits?sha=main&per_page=100")
    assert [c["sha"] for c in everything] == [c["sha"] for c in data.history]
    window = walk(
        client, f"{REPO}/commits?since=2026-06-01T00:00:00Z&until=2026-06-15T00:00:00Z&per_page=100"
    )
    assert window and all(
        "2026-06-01" <= c["commit"]["committer"]["date"] < "2026-06-15" for c in window
    )
    old = data.history[len(data.history) // 2]
    ancestors = walk(client, f"{REPO}/commits?sha={old['sha']}&per_page=100")
    assert ancestors[0]["sha"] == old["sha"]
    assert len(ancestors) <= len(data.history) - len(data.history) // 2
    assert client.get(f"{REPO}/commits?sha=deadbeef").status_code == 404


def test_reviews_and_pull_commits_and_deployment_statuses(client, org):
    data = org.repo("appstore/service-templates")
    merged = next(p for p in data.pulls if p["merged_at"])
    reviews = client.get(f"{REPO}/pulls/{merged['number']}/reviews").json()
    assert reviews and {"id", "user", "state", "submitted_at", "commit_id"} <= set(reviews[0])
    commits = client.get(f"{REPO}/pulls/{merged['number']}/commits").json()
    assert commits[0]["parents"] and commits[0]["commit"]["author"]["date"]
    single = client.get(f"{REPO}/pulls/{merged['number']}").json()
    assert single["merged"] is True and single["merge_commit_sha"] == merged["merge_commit_sha"]
    dep = client.get(f"{REPO}/deployments?environment=production&per_page=1").json()[0]
    statuses = client.get(f"{REPO}/deployments/{dep['id']}/statuses").json()
    assert statuses[0]["created_at"] >= statuses[-1]["created_at"]  # newest first
    assert statuses[-1]["state"] == "queued"


def test_issues_endpoint_lists_issues_with_labels(client):
    issues = walk(client, f"{REPO}/issues?state=all&per_page=100")
    assert issues and all("pull_request" not in i for i in issues)
    incidents = client.get(f"{REPO}/issues?state=all&labels=incident").json()
    assert all("root cause: " in i["body"] for i in incidents)
    recent = client.get(f"{REPO}/issues?state=all&since=2026-06-01T00:00:00Z").json()
    assert all(i["updated_at"] >= "2026-06-01" for i in recent)


def test_org_repos_lists_every_configured_repository(client, org):
    repos = client.get("/orgs/appstore/repos?per_page=100").json()
    assert sorted(r["full_name"] for r in repos) == sorted(org.repositories)
    one = client.get("/repos/appstore/checkout-api").json()
    assert one["default_branch"] == "main" and one["owner"]["login"] == "appstore"


def test_pagerduty_window_over_six_months_is_a_400(client):
    r = client.get(
        "https://api.pagerduty.com/incidents",
        params={"since": "2025-07-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"},
    )
    assert r.status_code == 400
    assert r.json() == {
        "error": {
            "message": "Invalid Input Provided",
            "code": 2001,
            "errors": ["Date range is greater than 6 months"],
        }
    }


def test_pagerduty_incidents_page_with_offset_and_filter_by_service(client, org):
    params = {"since": "2026-01-01T00:00:00Z", "until": "2026-06-30T00:00:00Z", "limit": 10}
    seen, offset = [], 0
    while True:
        body = client.get(
            "https://api.pagerduty.com/incidents", params={**params, "offset": offset}
        ).json()
        assert body["limit"] == 10 and body["offset"] == offset and body["total"] is None
        seen += body["incidents"]
        if not body["more"]:
            break
        offset += 10
    expected = [
        i for i in org.incidents if "2026-01-01" <= i["created_at"] < "2026-06-30T00:00:00Z"
    ]
    assert [i["id"] for i in seen] == [i["id"] for i in expected]
    one = client.get(
        "https://api.pagerduty.com/incidents",
        params={**params, "service_ids[]": "PCHKOUT", "total": "true"},
    ).json()
    assert one["total"] == sum(i["service"]["id"] == "PCHKOUT" for i in expected)
    assert all(i["service"]["id"] == "PCHKOUT" for i in one["incidents"])


def test_prometheus_query_range_returns_good_and_total_matrices(client):
    start, end = 1_780_000_000, 1_780_000_000 + 48 * 3600
    url = "http://prometheus:9090/api/v1/query_range"
    total_q = 'sum(increase(http_requests_total{service="checkout-api"}[1h]))'
    good_q = 'sum(increase(http_requests_total{service="checkout-api",code!~"5.."}[1h]))'
    total = client.get(url, params={"query": total_q, "start": start, "end": end, "step": "1h"})
    good = client.get(url, params={"query": good_q, "start": start, "end": end, "step": 3600})
    assert total.json()["status"] == "success"
    [t_series] = total.json()["data"]["result"]
    [g_series] = good.json()["data"]["result"]
    assert total.json()["data"]["resultType"] == "matrix"
    assert len(t_series["values"]) == 49
    for (ts1, t), (ts2, g) in zip(t_series["values"], g_series["values"], strict=True):
        assert ts1 == ts2 and 0 <= float(g) <= float(t)
    other = client.get(
        url,
        params={
            "query": total_q.replace("checkout-api", "search-service"),
            "start": start,
            "end": end,
            "step": 3600,
        },
    )
    assert other.json()["data"]["result"] == []
    bad = client.get(url, params={"query": "up", "start": start, "end": end, "step": 3600})
    assert bad.status_code == 400 and bad.json()["errorType"] == "bad_data"
    too_many = client.get(
        url, params={"query": total_q, "start": 0, "end": 12_000 * 60, "step": 60}
    )
    assert too_many.status_code == 400
