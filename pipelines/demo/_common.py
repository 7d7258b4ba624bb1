"""Shared pieces of the demo generator: stable seeding, time helpers, team profiles, rosters."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
from dataclasses import dataclass

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts, identical on every machine and run (unlike ``hash()``)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


def rng_for(*parts: object) -> random.Random:
    return random.Random(stable_int(*parts))


def sha1_hex(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def iso(t: dt.datetime | None) -> str | None:
    """GitHub's and PagerDuty's timestamp format: ``2026-03-01T12:34:56Z``."""
    if t is None:
        return None
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    return t.isoformat()[:19] + "Z"


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 timestamp or date (naive means UTC)."""
    text = text.strip()
    if len(text) == 10:
        d = dt.date.fromisoformat(text)
        return dt.datetime(d.year, d.month, d.day, tzinfo=UTC)
    if "T" in text and " " in text:  # a "+01:00" offset whose plus became a space in a query
        text = text.replace(" ", "+")
    value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = [31, 29 if _leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    return dt.date(year, month, min(d.day, last))


def _leap(y: int) -> bool:
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def lognormal(rng: random.Random, median: float, sigma: float = 0.9) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def working_time(t: dt.datetime, rng: random.Random) -> dt.datetime:
    """Move ``t`` into working hours (weekdays 07:00-18:00 UTC, i.e. office hours in Berlin)."""
    for _ in range(8):
        if t.weekday() < 5 and 7 <= t.hour < 18:
            return t
        if t.weekday() < 5 and t.hour < 7:
            base = t.replace(hour=7, minute=0, second=0)
        else:
            base = (t + DAY).replace(hour=7, minute=0, second=0)
        t = base + dt.timedelta(minutes=rng.uniform(0, 150))
    return t


def snap(t: dt.datetime) -> dt.datetime:
    return t.replace(microsecond=0)


# --- team profiles --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TeamProfile:
    kind: str
    prs_per_month: float  # pull requests opened per repository per month (at activity 1.0)
    coding_hours: float  # median first commit -> PR opened
    pickup_hours: float  # median PR opened -> first review by someone else
    review_hours: float  # median first review -> merge
    cadence: str  # continuous | daily | twice_weekly | weekly | biweekly
    deploy_minutes: float
    deploy_fail_rate: float  # the deploy job itself fails, followed by a redeploy
    change_fail_rate: float  # a successful deploy causes a production failure
    recovery_minutes: float  # median incident start -> remediation deployed
    ci_fail_rate: float
    ci_queue_seconds: float
    approvals: int
    releases: bool  # release tags v1.2.3 and GitHub releases
    sentiment: float  # survey latent mean (1-5) in the first wave
    sentiment_trend: float  # change per wave


PROFILES: dict[str, TeamProfile] = {
    "platform": TeamProfile(
        "platform",
        48,
        2.5,
        0.8,
        1.5,
        "continuous",
        6,
        0.03,
        0.04,
        35,
        0.08,
        12,
        1,
        False,
        3.9,
        0.03,
    ),
    "payments": TeamProfile(
        "payments", 26, 10, 3.0, 7.0, "daily", 12, 0.04, 0.09, 80, 0.10, 20, 2, False, 3.3, 0.15
    ),
    "storefront": TeamProfile(
        "storefront",
        34,
        20,
        7.0,
        14.0,
        "twice_weekly",
        10,
        0.06,
        0.15,
        200,
        0.14,
        35,
        1,
        False,
        3.0,
        0.2,
    ),
    "mobile": TeamProfile(
        "mobile", 19, 36, 16.0, 30.0, "weekly", 25, 0.08, 0.22, 540, 0.18, 90, 1, True, 2.7, 0.12
    ),
}
# Extra teams of scaled (benchmark) organisations borrow one of the four behaviours.
PROFILE_ALIASES = {
    "search": "storefront",
    "growth": "storefront",
    "identity": "payments",
    "data": "platform",
}


def profile_for(team: str) -> TeamProfile:
    key = PROFILE_ALIASES.get(team, team)
    if key in PROFILES:
        return PROFILES[key]
    return PROFILES[sorted(PROFILES)[stable_int("profile", team) % len(PROFILES)]]


# --- people ---------------------------------------------------------------------------------------

FIRST = [
    "alex",
    "sam",
    "maria",
    "jonas",
    "lea",
    "omar",
    "yuki",
    "priya",
    "lukas",
    "sofia",
    "chen",
    "fatima",
    "noah",
    "emma",
    "mateo",
    "ines",
    "kai",
    "nora",
    "ravi",
    "elena",
    "tom",
    "aisha",
    "felix",
    "mia",
    "diego",
    "hana",
    "ben",
    "zoe",
    "ivan",
    "lina",
    "jan",
    "amara",
    "leon",
    "sara",
    "paul",
    "nadia",
    "erik",
    "julia",
    "tariq",
    "anna",
]
LAST = [
    "schmidt",
    "nguyen",
    "garcia",
    "mueller",
    "kowalski",
    "okafor",
    "tanaka",
    "patel",
    "rossi",
    "silva",
    "berg",
    "haddad",
    "novak",
    "kim",
    "fischer",
    "costa",
    "weber",
    "ali",
    "jensen",
    "moreau",
    "larsen",
    "ivanova",
    "dubois",
    "sato",
    "mensah",
    "horvat",
    "lopez",
    "klein",
]
TENURES = ["<1 year", "1-2 years", "2-5 years", "5+ years"]


@dataclass(frozen=True)
class Person:
    login: str
    name: str
    email: str
    team: str
    tenure: str
    bot: bool = False


BOT = Person(
    "dependabot[bot]",
    "dependabot[bot]",
    "49699333+dependabot[bot]@users.noreply.github.com",
    "",
    "",
    bot=True,
)
WEB_FLOW = Person("web-flow", "GitHub", "noreply@github.com", "", "")
ACTIONS = "github-actions[bot]"


def build_rosters(seed: int, teams: list[tuple[str, int]], domain: str) -> dict[str, list[Person]]:
    """Engineers per team: unique logins, stable for a seed and the team list."""
    rng = rng_for(seed, "roster")
    used: set[str] = set()
    rosters: dict[str, list[Person]] = {}
    for team, engineers in teams:
        people = []
        for _ in range(engineers):
            while True:
                first, last = rng.choice(FIRST), rng.choice(LAST)
                login = f"{first}-{last}"
                if login in used:
                    login = f"{first}-{last}{rng.randint(2, 99)}"
                if login not in used:
                    break
            used.add(login)
            people.append(
                Person(
                    login,
                    f"{first.title()} {last.title()}",
                    f"{login}@{domain}",
                    team,
                    rng.choices(TENURES, weights=[2, 3, 4, 2])[0],
                )
            )
        rosters[team] = people
    return rosters
