"""PagerDuty-shaped incidents: caused by production deployments, or unrelated to any change."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pipelines.demo import text
from pipelines.demo._common import DAY, HOUR, MINUTE, iso, lognormal, poisson, rng_for, stable_int

if TYPE_CHECKING:
    from pipelines.demo.generator import Organisation

PD = "https://api.pagerduty.com"
RATE_PER_MONTH = {"critical": 1.4, "standard": 0.7, "internal": 0.35}


@dataclass
class Record:
    service: str  # our service name
    team: str
    pd_service: str | None
    start: dt.datetime
    ack: dt.datetime | None
    resolved: dt.datetime | None
    urgency: str
    title: str
    description: str
    key: str


def _pd_id(prefix: str, *parts: object, length: int = 7) -> str:
    value, out = stable_int(*parts), ""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for _ in range(length - 1):
        value, r = divmod(value, 36)
        out += alphabet[r]
    return prefix + out


def service_records(org: Organisation, service_name: str) -> list[Record]:
    """Every incident on the service (caused and unrelated), whether or not it pages in PagerDuty."""
    service = next(s for s in org.config.services if s.name == service_name)
    pd_ids = service.pagerduty_services
    records: list[Record] = []
    for repo in service.repositories:
        for k, inc in enumerate(org.caused_incidents(repo)):
            rng = rng_for(org.seed, "caused", repo, k)
            pd = pd_ids[stable_int(repo, k) % len(pd_ids)] if pd_ids else None
            title = rng.choice(text.INCIDENT_CAUSED).format(s=service.name)
            desc = title
            if rng.random() < 0.5:
                desc += f" (started after deploy {inc['sha'][:7]} of {repo})"
            records.append(
                Record(
                    service.name,
                    service.team,
                    pd,
                    inc["start"],
                    inc["ack"],
                    inc["resolved"],
                    inc["urgency"],
                    title,
                    desc,
                    f"{repo}/deployment/{inc['deployment_id']}/{k}",
                )
            )
    for pd in pd_ids:
        rng = rng_for(org.seed, "pd-unrelated", pd, org.horizon.isoformat())
        window = org.horizon - org.start
        months = window / (DAY * 30.4)
        for k in range(poisson(rng, RATE_PER_MONTH[service.tier] * months)):
            start = org.start + window * rng.random()
            if rng.random() < 0.6 and start.weekday() < 5:
                start = start.replace(hour=rng.randint(7, 17))
            urgency = "high" if rng.random() < 0.55 else "low"
            ack = start + MINUTE * lognormal(rng, 5 if urgency == "high" else 30, 0.8)
            resolved = start + MINUTE * min(lognormal(rng, 70, 1.1), 60 * 72)
            title = rng.choice(text.INCIDENT_OTHER).format(s=service.name)
            records.append(
                Record(
                    service.name,
                    service.team,
                    pd,
                    start.replace(microsecond=0),
                    ack.replace(microsecond=0),
                    resolved.replace(microsecond=0),
                    urgency,
                    title,
                    title,
                    f"{pd}/alert/{k}",
                )
            )
        if rng.random() < 0.3:  # still open at the end of history
            start = org.horizon - HOUR * rng.uniform(2, 70)
            records.append(
                Record(
                    service.name,
                    service.team,
                    pd,
                    start.replace(microsecond=0),
                    None,
                    None,
                    "low",
                    f"{service.name}: elevated error rate in one zone",
                    "Investigating.",
                    f"{pd}/open",
                )
            )
    out = []
    for r in records:
        if r.start > org.horizon:
            continue
        if r.ack and r.ack > org.horizon:
            r.ack = None
        if r.resolved and r.resolved > org.horizon:
            r.resolved = None
        out.append(r)
    return out


def generate_incidents(org: Organisation) -> list[dict[str, Any]]:
    records = [
        r
        for s in org.config.services
        if s.pagerduty_services
        for r in service_records(org, s.name)
        if r.pd_service
    ]
    if records and all(r.resolved for r in records):
        latest = max(records, key=lambda r: r.start)
        latest.resolved = None  # at least one incident is still open
    records.sort(key=lambda r: (r.start, r.key))
    on_call = _on_call(org)
    out = []
    for n, r in enumerate(records, 1000):
        rng = rng_for(org.seed, "pd", r.key)
        iid = _pd_id("Q", org.seed, r.key, length=14)
        if r.resolved:
            status = "resolved"
        elif r.ack:
            status = "acknowledged"
        else:
            status = "triggered"
        if rng.random() < 0.15:
            priority = None
        else:
            if r.urgency == "high":
                level = 1 if rng.random() < 0.3 else 2
            else:
                level = 3 if rng.random() < 0.6 else 4
            priority = {
                "id": f"PPRIO{level}0",
                "type": "priority_reference",
                "summary": f"P{level}",
                "self": f"{PD}/priorities/PPRIO{level}0",
            }
        responder = on_call[r.team][(r.start - org.start).days // 7 % len(on_call[r.team])]
        responder_ref = {
            "id": _pd_id("P", "user", responder),
            "type": "user_reference",
            "summary": responder,
            "self": f"{PD}/users/{_pd_id('P', 'user', responder)}",
            "html_url": f"https://{org.domain.split('.')[0]}.pagerduty.com/users/"
            f"{_pd_id('P', 'user', responder)}",
        }
        last_change = r.resolved or r.ack or r.start
        html = f"https://{org.domain.split('.')[0]}.pagerduty.com/incidents/{iid}"
        log_id = _pd_id("R", "log", r.key, length=26)
        out.append(
            {
                "id": iid,
                "type": "incident",
                "summary": f"[#{n}] {r.title}",
                "self": f"{PD}/incidents/{iid}",
                "html_url": html,
                "incident_number": n,
                "title": r.title,
                "description": r.description,
                "created_at": iso(r.start),
                "updated_at": iso(last_change),
                "status": status,
                "incident_key": stable_int("key", r.key).to_bytes(8, "big").hex() * 2,
                "service": {
                    "id": r.pd_service,
                    "type": "service_reference",
                    "summary": r.service,
                    "self": f"{PD}/services/{r.pd_service}",
                    "html_url": f"https://{org.domain.split('.')[0]}.pagerduty.com/"
                    f"service-directory/{r.pd_service}",
                },
                "assignments": []
                if status == "resolved"
                else [{"at": iso(r.start), "assignee": responder_ref}],
                "assigned_via": "escalation_policy",
                "last_status_change_at": iso(last_change),
                "resolved_at": iso(r.resolved),
                "first_trigger_log_entry": {
                    "id": log_id,
                    "type": "trigger_log_entry_reference",
                    "summary": "Triggered through the API.",
                    "self": f"{PD}/log_entries/{log_id}",
                    "html_url": f"{html}/log_entries/{log_id}",
                },
                "alert_counts": {
                    "all": 1 + rng.randint(0, 4),
                    "triggered": 0 if r.resolved else 1,
                    "resolved": 1 if r.resolved else 0,
                },
                "is_mergeable": True,
                "escalation_policy": {
                    "id": _pd_id("P", "ep", r.team),
                    "type": "escalation_policy_reference",
                    "summary": f"{r.team} on-call",
                },
                "teams": [
                    {"id": _pd_id("P", "team", r.team), "type": "team_reference", "summary": r.team}
                ],
                "pending_actions": [],
                "acknowledgements": (
                    [{"at": iso(r.ack), "acknowledger": responder_ref}]
                    if r.ack and status == "acknowledged"
                    else []
                ),
                "urgency": r.urgency,
                "priority": priority,
                "resolve_reason": None,
                "incident_type": {"name": "incident_default"},
            }
        )
    return out


def _on_call(org: Organisation) -> dict[str, list[str]]:
    out = {}
    for team in org.config.teams:
        people = org.rosters[team.name]
        n = max(1, min(team.on_call or 2, len(people)))
        out[team.name] = [p.name for p in people[:n]]
    return out


def services_payload(org: Organisation) -> list[dict[str, Any]]:
    out = []
    for s in org.config.services:
        for pd in s.pagerduty_services:
            out.append(
                {
                    "id": pd,
                    "type": "service",
                    "name": s.name,
                    "summary": s.name,
                    "description": f"{s.name} ({s.team})",
                    "status": "active",
                    "self": f"{PD}/services/{pd}",
                    "html_url": f"https://{org.domain.split('.')[0]}.pagerduty.com/service-directory/{pd}",
                    "created_at": iso(org.start - DAY * 400),
                    "teams": [
                        {
                            "id": _pd_id("P", "team", s.team),
                            "type": "team_reference",
                            "summary": s.team,
                        }
                    ],
                }
            )
    return sorted(out, key=lambda x: x["name"])
