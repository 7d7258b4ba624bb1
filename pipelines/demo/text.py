"""Words for titles, commit messages, incidents and survey comments: believable, not meaningful."""

from __future__ import annotations

import random

VERBS = [
    "Add",
    "Fix",
    "Refactor",
    "Improve",
    "Remove",
    "Update",
    "Handle",
    "Migrate",
    "Speed up",
    "Simplify",
    "Document",
    "Harden",
    "Cache",
    "Validate",
]
OBJECTS = {
    "storefront": [
        "product page cache",
        "search ranking",
        "review moderation queue",
        "category listing",
        "app detail page",
        "featured carousel",
        "price display",
        "locale fallback",
        "screenshot gallery",
        "age rating badge",
        "editor's picks",
    ],
    "payments": [
        "refund flow",
        "card tokenisation",
        "invoice PDF",
        "3DS challenge",
        "payout reconciliation",
        "currency rounding",
        "idempotency keys",
        "fraud rules",
        "subscription renewal",
        "tax calculation",
        "ledger export",
    ],
    "platform": [
        "deploy workflow",
        "service template",
        "Helm chart defaults",
        "OpenTelemetry config",
        "runner autoscaling",
        "portal search",
        "golden path docs",
        "secret rotation",
        "preview environments",
        "SLO dashboards",
        "base images",
    ],
    "mobile": [
        "login screen",
        "push notifications",
        "offline mode",
        "crash on launch",
        "deep links",
        "dark mode",
        "in-app purchase sheet",
        "app startup time",
        "update prompt",
        "accessibility labels",
        "image prefetching",
    ],
}
GENERIC = [
    "request logging",
    "retry policy",
    "config loading",
    "health endpoint",
    "error messages",
    "database migrations",
    "feature flags",
    "rate limiting",
    "metrics labels",
    "CI caching",
]
SUFFIXES = [
    "",
    "",
    "",
    " for EU customers",
    " behind a feature flag",
    " (follow-up)",
    " on slow networks",
    " for large catalogues",
    " in the API",
]
FIXUPS = [
    "Address review comments",
    "Fix tests",
    "Fix lint",
    "Add tests",
    "wip",
    "Rename per review",
    "Update snapshot",
    "Handle edge case",
    "Clean up",
]
PACKAGES = [
    ("pip", "requests"),
    ("pip", "urllib3"),
    ("pip", "pydantic"),
    ("npm", "react"),
    ("npm", "eslint"),
    ("npm", "axios"),
    ("gradle", "okhttp"),
    ("gradle", "kotlin-stdlib"),
    ("swift", "alamofire"),
    ("pip", "fastapi"),
    ("pip", "boto3"),
    ("github_actions", "actions/checkout"),
]
INCIDENT_CAUSED = [
    "Elevated 5xx rate on {s}",
    "{s}: error budget burn rate above 14x",
    "Latency p99 above SLO on {s}",
    "{s} pods crash-looping after rollout",
    "Checkout errors reported by customers ({s})",
    "{s}: health check failing",
]
INCIDENT_OTHER = [
    "Disk usage above 90% on {s} database",
    "{s}: upstream provider timeouts",
    "Certificate expiry warning for {s}",
    "{s}: queue backlog growing",
    "Memory pressure on {s} nodes",
    "{s}: DNS resolution failures",
    "Elevated latency on {s} (cloud provider incident)",
]
COMMENTS = {
    "storefront": [
        "Waiting for the release train",
        "Flaky end-to-end tests",
        "Slow code reviews",
        "Too many meetings",
        "Search index rebuilds take hours",
    ],
    "payments": [
        "Change approval process is heavy",
        "Test environments are shared and unstable",
        "Compliance paperwork for every deploy",
        "Waiting for other teams' APIs",
    ],
    "platform": [
        "Too many support requests",
        "Context switching between on-call and projects",
        "Legacy pipelines still to migrate",
    ],
    "mobile": [
        "App store review times",
        "Slow CI builds for the iOS app",
        "Simulator flakiness",
        "Manual release checklist",
        "Waiting for backend changes",
    ],
}
COMMENTS_GENERIC = [
    "Unclear ownership of shared services",
    "Documentation is out of date",
    "Provisioning a database needs a ticket",
    "CI queue at peak hours",
]


def pr_title(rng: random.Random, team_kind: str) -> str:
    objects = OBJECTS.get(team_kind, GENERIC)
    obj = rng.choice(objects) if rng.random() < 0.8 else rng.choice(GENERIC)
    return f"{rng.choice(VERBS)} {obj}{rng.choice(SUFFIXES)}"


def slug(title: str) -> str:
    out = "".join(c if c.isalnum() else "-" for c in title.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:40].strip("-")


def bump(rng: random.Random) -> tuple[str, str, str, str]:
    """(ecosystem, package, from, to) for a dependabot pull request."""
    eco, pkg = rng.choice(PACKAGES)
    major, minor, patch = rng.randint(0, 9), rng.randint(0, 30), rng.randint(0, 12)
    to = f"{major}.{minor}.{patch + 1}" if rng.random() < 0.7 else f"{major}.{minor + 1}.0"
    return eco, pkg, f"{major}.{minor}.{patch}", to


def comment(rng: random.Random, team_kind: str) -> str:
    return rng.choice(COMMENTS.get(team_kind, []) + COMMENTS_GENERIC)
