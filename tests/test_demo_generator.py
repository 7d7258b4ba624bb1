"""The demo organisation generator: determinism, a real commit graph, the story's traps."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest

from pipelines.config import load_config
from pipelines.demo import generate_organisation, scaled_demo_config
from pipelines.demo.surveys import HEADER

END = dt.date(2026, 6, 30)


def demo_config(**demo):
    config = load_config()
    return config.model_copy(
        update={"demo": config.demo.model_copy(update={"end_date": END, **demo})}
    )


@pytest.fixture(scope="module")
def org():
    return generate_organisation(demo_config())


def ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_generate_organisation_is_lazy_and_cache_is_bounded():
    config = scaled_demo_config(repositories=40, months=2, end_date=END)
    org = generate_organisation(config)
    assert org.repositories_generated == 0
    assert len(org.repositories) == 40
    for repo in org.repositories[:20]:
        assert org.repo(repo) is not None
    assert len(org._cache) <= 16
    assert org.repo("appstore/not-a-repo") is None


def test_same_seed_and_end_date_give_identical_data():
    a = generate_organisation(demo_config()).repo("appstore/checkout-api")
    b = generate_organisation(demo_config()).repo("appstore/checkout-api")
    assert a.pulls == b.pulls and a.history == b.history and a.runs == b.runs
    assert a.deployments == b.deployments and a.statuses == b.statuses


def test_different_seed_gives_different_data(org):
    other = generate_organisation(demo_config(seed=7))
    a, b = org.repo("appstore/checkout-api"), other.repo("appstore/checkout-api")
    assert [p["title"] for p in a.pulls] != [p["title"] for p in b.pulls]
    assert a.history[0]["sha"] != b.history[0]["sha"]


def test_every_merged_pr_is_on_the_default_branch_and_parents_exist(org):
    sha = re.compile(r"^[0-9a-f]{40}$")
    for repo in org.repositories:
        data = org.repo(repo)
        index = {c["sha"]: c for c in data.history}
        assert len(index) == len(data.history), "duplicate SHAs on main"
        roots = 0
        for c in data.history:
            assert sha.match(c["sha"])
            roots += not c["parents"]
            for parent in c["parents"]:
                assert parent["sha"] in index, f"{repo}: parent of {c['sha']} missing"
                # a parent is never newer than its child
                assert (
                    index[parent["sha"]]["commit"]["committer"]["date"]
                    <= (c["commit"]["committer"]["date"])
                )
        assert roots == 1
        # every commit is reachable from the head: a single connected history
        seen, stack = {data.history[0]["sha"]}, [data.history[0]["sha"]]
        while stack:
            for parent in index[stack.pop()]["parents"]:
                if parent["sha"] not in seen:
                    seen.add(parent["sha"])
                    stack.append(parent["sha"])
        assert seen == set(index)
        for pr in data.pulls:
            if pr["merged_at"]:
                assert pr["merge_commit_sha"] in index
                assert pr["state"] == "closed"
            # PR branches start from a commit on main
            first = data.pr_commits[pr["number"]][0]
            assert first["parents"][0]["sha"] in index


def test_merge_squash_and_rebase_merges_all_appear_with_correct_shapes(org):
    seen = set()
    for repo in org.repositories[:6]:
        data = org.repo(repo)
        index = {c["sha"]: c for c in data.history}
        for pr in data.pulls:
            if not pr["merged_at"]:
                continue
            commit = index[pr["merge_commit_sha"]]
            pr_commits = data.pr_commits[pr["number"]]
            head = pr_commits[-1]["sha"]
            parents = [p["sha"] for p in commit["parents"]]
            if len(parents) == 2:
                seen.add("merge")
                assert parents[1] == head
                assert all(c["sha"] in index for c in pr_commits)
            elif commit["commit"]["message"].splitlines()[0].endswith(f"(#{pr['number']})"):
                seen.add("squash")
                assert commit["sha"] != head and head not in index
            else:
                seen.add("rebase")
                assert commit["sha"] != head and head not in index
                assert commit["commit"]["message"] == pr_commits[-1]["commit"]["message"]
    assert seen == {"merge", "squash", "rebase"}


def test_merge_strategy_mix_is_roughly_half_a_third_and_the_rest(org):
    counts = {"merge": 0, "other": 0}
    for repo in org.repositories:
        data = org.repo(repo)
        index = data.commit_index
        for pr in data.pulls:
            if pr["merged_at"]:
                two = len(index[pr["merge_commit_sha"]]["parents"]) == 2
                counts["merge" if two else "other"] += 1
    share = counts["merge"] / (counts["merge"] + counts["other"])
    assert 0.4 < share < 0.6


def test_pull_requests_include_bots_open_closed_reverts_and_hotfixes(org):
    pulls = [p for r in org.repositories for p in org.repo(r).pulls]
    assert any(
        p["user"]["type"] == "Bot" and p["user"]["login"] == "dependabot[bot]" for p in pulls
    )
    assert any(p["state"] == "open" for p in pulls)
    assert any(p["state"] == "closed" and not p["merged_at"] for p in pulls)
    reverts = [p for p in pulls if p["head"]["ref"].startswith("revert-")]
    assert reverts and all(p["title"].startswith('Revert "') for p in reverts)
    hotfixes = [p for p in pulls if p["head"]["ref"].startswith("hotfix/")]
    assert hotfixes and all("hotfix" in [lab["name"] for lab in p["labels"]] for p in hotfixes)
    assert len(pulls) > 2000


def test_reviews_come_after_opening_and_include_author_comments(org):
    data = org.repo("appstore/storefront-web")
    self_comments = 0
    for pr in data.pulls:
        for review in data.reviews[pr["number"]]:
            assert review["submitted_at"] >= pr["created_at"]
            assert review["state"] in ("APPROVED", "CHANGES_REQUESTED", "COMMENTED")
            self_comments += review["user"]["login"] == pr["user"]["login"]
    assert self_comments > 0


def test_deployments_have_status_lifecycles_rollbacks_and_late_updated_at(org):
    late = rollbacks = failed_then_redeployed = 0
    for repo in org.repositories:
        data = org.repo(repo)
        prod = [d for d in data.deployments if d["environment"] == "production"]
        assert any(d["environment"] == "staging" for d in data.deployments)
        for d in prod:
            states = [s["state"] for s in reversed(data.statuses[d["id"]])]
            assert states[:2] == ["queued", "in_progress"]
            assert states[2] in ("success", "failure")
            success = [s["created_at"] for s in data.statuses[d["id"]] if s["state"] == "success"]
            if success and ts(d["updated_at"]) - ts(success[0]) > dt.timedelta(days=1):
                late += 1
            rollbacks += d["description"] == "rollback"
            failed_then_redeployed += states[2] == "failure"
    assert late > 10 and rollbacks > 3 and failed_then_redeployed > 3


def test_health_check_runs_are_frequent_scheduled_and_never_deployments(org):
    config = org.config
    data = org.repo("appstore/checkout-api")
    health = [r for r in data.runs if r["name"] == "Production health check"]
    deploys = [r for r in data.runs if r["name"] == "Deploy to production"]
    assert len(health) > 300 and deploys
    assert all(r["event"] == "schedule" for r in health)
    workflow = re.compile(config.metrics.deployment.workflow_regex)
    exclude = re.compile(config.metrics.deployment.exclude_regex)
    assert all(exclude.search(r["name"]) and not workflow.search(r["name"]) for r in health)
    deployment_runs = {
        int(s["log_url"].split("/runs/")[1].split("/")[0])
        for statuses in data.statuses.values()
        for s in statuses
    }
    assert not deployment_runs & {r["id"] for r in health}
    assert {r["event"] for r in data.runs if r["name"] == "CI"} == {"pull_request"}


def test_ci_jobs_have_queue_time_and_some_failures(org):
    data = org.repo("appstore/mobile-bff")
    ci = [r for r in data.runs if r["name"] == "CI"]
    assert any(r["conclusion"] == "failure" for r in ci)
    assert any(r["run_attempt"] == 2 for r in ci)
    jobs = data.jobs[ci[0]["id"]]
    assert {j["name"] for j in jobs} == {"build", "test", "lint"}
    assert all(j["created_at"] <= j["started_at"] <= j["completed_at"] for j in jobs)


def test_mobile_releases_are_tagged_and_published(org):
    data = org.repo("appstore/ios-app")
    assert data.tags and data.releases
    assert all(re.fullmatch(r"v\d+\.\d+\.\d+", t["name"]) for t in data.tags)
    assert all(t["commit"]["sha"] in data.commit_index for t in data.tags)
    assert {r["tag_name"] for r in data.releases} == {t["name"] for t in data.tags}


def test_some_repositories_are_created_inside_the_window_and_deploy_soon(org):
    new = [r for r in org.repositories if ts(org.repo_meta(r)["created_at"]) > org.start]
    assert 1 <= len(new) <= 3
    for repo in new:
        data = org.repo(repo)
        first = min(d["created_at"] for d in data.deployments if d["environment"] == "production")
        created = ts(data.meta["created_at"])
        assert dt.timedelta(0) < ts(first) - created < dt.timedelta(minutes=30)


def test_incident_issues_name_a_root_cause_sha(org):
    issues = [
        (r, i)
        for r in org.repositories
        for i in org.repo(r).issues
        if "incident" in [lab["name"] for lab in i["labels"]]
    ]
    assert issues
    for repo, issue in issues:
        sha = re.search(r"root cause: ([0-9a-f]{40})", issue["body"]).group(1)
        assert sha in org.repo(repo).commit_index


def test_incidents_reference_configured_pagerduty_services_and_follow_deployments(org):
    configured = {pd: s.name for s in org.config.services for pd in s.pagerduty_services}
    incidents = org.incidents
    assert len(incidents) > 50
    assert {i["service"]["id"] for i in incidents} <= set(configured)
    assert any(i["status"] != "resolved" and i["resolved_at"] is None for i in incidents)
    assert {i["urgency"] for i in incidents} == {"high", "low"}
    assert None in [i["priority"] for i in incidents]
    numbers = [i["incident_number"] for i in incidents]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    # deployment-caused incidents start within a day after a production deployment of the service
    caused = org.caused_incidents("appstore/checkout-api")
    assert caused
    data = org.repo("appstore/checkout-api")
    deployments = {d["id"]: d for d in data.deployments}
    for c in caused:
        d = deployments[c["deployment_id"]]
        assert d["environment"] == "production"
        assert dt.timedelta(0) < c["start"] - ts(d["created_at"]) < dt.timedelta(hours=24)


def test_survey_waves_parse_with_exact_header_and_valid_answers(org):
    waves = org.survey_waves
    assert [w.name for w in waves] == ["2025-Q3", "2025-Q4", "2026-Q1", "2026-Q2"]
    small = False
    for wave in waves:
        rows = list(csv.reader(io.StringIO(wave.csv_text)))
        assert rows[0] == HEADER
        body = rows[1:]
        by_team = {}
        for row in body:
            answers = dict(zip(HEADER, row, strict=True))
            by_team[answers["Team"]] = by_team.get(answers["Team"], 0) + 1
            for item in HEADER[4:19]:
                assert answers[item] in {"1", "2", "3", "4", "5", "N/A"}
            assert answers["TL1"] in {"0", "<1", "1-2", "2-4", "4-8", ">8"}
            assert 0 <= int(answers["NPS1"]) <= 10
            dt.datetime.strptime(answers["Timestamp"], "%Y/%m/%d %H:%M:%S")
        for team, invited in wave.invited.items():
            assert 0.5 * invited <= by_team.get(team, 0) <= invited
        small = small or min(by_team.values()) < 5
    assert small, "some team-wave has fewer than 5 respondents"


def test_sentiment_improves_for_teams_the_platform_helps(org):
    def mean_sw1(wave, team):
        rows = [r for r in csv.DictReader(io.StringIO(wave.csv_text)) if r["Team"] == team]
        values = [int(r[k]) for r in rows for k in ("SW1", "PX1", "FL1") if r[k] != "N/A"]
        return sum(values) / len(values)

    first, last = org.survey_waves[0], org.survey_waves[-1]
    assert mean_sw1(last, "storefront") > mean_sw1(first, "storefront")


def test_sli_series_have_dips_during_incidents(org):
    series = org.sli_series("checkout-api")
    assert series is not None and org.sli_series("search-service") is None
    assert all(0 <= g <= t for g, t in zip(series.good, series.total, strict=True))
    ratios = [1 - g / t for g, t in zip(series.good, series.total, strict=True)]
    high = [
        i
        for i in org.incidents
        if i["service"]["summary"] == "checkout-api" and i["urgency"] == "high" and i["resolved_at"]
    ]
    assert high
    inc = high[0]
    h = int((ts(inc["created_at"]) - series.start).total_seconds() // 3600)
    assert max(ratios[h : h + 2]) > 10 * sorted(ratios)[len(ratios) // 2]


def test_scaled_demo_config_spreads_repositories_over_four_to_eight_teams():
    small = scaled_demo_config(repositories=10, months=3)
    big = scaled_demo_config(repositories=200, months=24, activity=2.0, seed=1, end_date=END)
    assert len(small.teams) == 4 and len(big.teams) == 8
    assert len([r for s in big.services for r in s.repositories]) == 200
    assert big.demo.months == 24 and big.demo.activity == 2.0 and big.demo.end_date == END
    assert {s.team for s in big.services} == {t.name for t in big.teams}
