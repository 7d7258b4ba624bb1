"""Quarterly developer-experience survey waves, exported like a Google Forms response CSV.

``Timestamp`` is written ``YYYY/MM/DD HH:MM:SS`` in UTC. Answers are 1-5 or ``N/A``; CL2 and CL4 are
phrased negatively (reverse-scored), so a happy respondent answers them low. Teams the platform
helps drift upwards wave by wave; the platform team stays roughly flat.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pipelines.demo import text
from pipelines.demo._common import UTC, profile_for, rng_for

if TYPE_CHECKING:
    from pipelines.demo.generator import Organisation

HEADER = [
    "Timestamp",
    "Email Address",
    "Team",
    "Tenure",
    "FL1",
    "FL2",
    "FL3",
    "CL1",
    "CL2",
    "CL3",
    "CL4",
    "CL5",
    "FS1",
    "FS2",
    "PX1",
    "PX2",
    "PX3",
    "SW1",
    "SW2",
    "TL1",
    "NPS1",
    "OT1",
]
LIKERT = HEADER[4:19]
REVERSED = {"CL2", "CL4"}
BUCKETS = [(0.0, "0"), (1.0, "<1"), (2.0, "1-2"), (4.0, "2-4"), (8.0, "4-8"), (math.inf, ">8")]
# Per construct, how each team kind differs from its overall mood (mobile's CI is slow, ...).
OFFSETS = {
    "mobile": {"FL1": -0.8, "FL3": -0.4, "PX1": -0.3},
    "payments": {"FS2": -0.5, "PX1": -0.2, "CL1": 0.3},
    "storefront": {"FL2": -0.3, "CL4": -0.3},
    "platform": {"PX3": 0.3, "FS1": -0.4, "SW2": -0.3},
}


@dataclass(frozen=True)
class SurveyWave:
    name: str  # "2026-Q3"
    closes_on: dt.date
    invited: dict[str, int]  # team -> engineers invited
    csv_text: str


def wave_dates(org: Organisation) -> list[tuple[str, dt.date]]:
    out = []
    first = org.start.date() + dt.timedelta(days=14)
    for year in range(first.year, org.end_date.year + 1):
        for q in range(1, 5):
            closes = dt.date(year, q * 3, 15)
            if first <= closes <= org.end_date:
                out.append((f"{year}-Q{q}", closes))
    return out


def generate_waves(org: Organisation) -> list[SurveyWave]:
    dates = wave_dates(org)
    teams = [t for t in org.config.teams if t.engineers > 0]
    counts = []
    for name, _ in dates:
        rng = rng_for(org.seed, "survey-count", name)
        counts.append({t.name: max(1, round(t.engineers * rng.uniform(0.7, 0.95))) for t in teams})
    if counts and teams and all(n >= 5 for wave in counts for n in wave.values()):
        smallest = min(teams, key=lambda t: t.engineers).name
        # One small group, so anonymity suppression (and its complementary case) has work to do.
        counts[-1][smallest] = 4
    waves = []
    for w, (name, closes) in enumerate(dates):
        rng = rng_for(org.seed, "survey", name)
        rows = []
        for team in teams:
            people = org.rosters[team.name][: team.engineers]
            for person in rng.sample(people, min(counts[w][team.name], len(people))):
                rows.append(_response(rng, org, team.name, person, w, closes))
        rows.sort(key=lambda r: (r[0], r[1]))
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        invited = {t.name: t.engineers for t in org.config.teams}
        waves.append(SurveyWave(name, closes, invited, buf.getvalue()))
    return waves


def _response(rng, org, team: str, person, wave: int, closes: dt.date) -> list[str]:
    profile = profile_for(team)
    mood = profile.sentiment + profile.sentiment_trend * wave + rng.gauss(0, 0.45)
    offsets = OFFSETS.get(profile.kind, {})
    opened = dt.datetime.combine(closes - dt.timedelta(days=14), dt.time(8), tzinfo=UTC)
    submitted = opened + dt.timedelta(hours=min(rng.expovariate(1 / 60), 14 * 24 - 10))
    if submitted.hour < 7 or submitted.hour > 19:
        submitted = submitted.replace(hour=rng.randint(8, 17))
    row = [submitted.strftime("%Y/%m/%d %H:%M:%S"), person.email, team, person.tenure]
    for item in LIKERT:
        na = 0.15 if item == "PX2" else 0.03
        if rng.random() < na:
            row.append("N/A")
            continue
        score = mood + offsets.get(item, 0.0) + rng.gauss(0, 0.7)
        value = min(5, max(1, round(score)))
        row.append(str(6 - value if item in REVERSED else value))
    hours = math.exp(rng.gauss(math.log(max(0.3, 9 - 1.8 * mood)), 0.6))
    if rng.random() < 0.05:
        hours = 0.0
    row.append(next(label for limit, label in BUCKETS if hours <= limit))
    row.append(str(min(10, max(0, round(2.4 * mood - 1.5 + rng.gauss(0, 1.4))))))
    row.append(text.comment(rng, profile.kind) if rng.random() < 0.55 else "")
    return row
