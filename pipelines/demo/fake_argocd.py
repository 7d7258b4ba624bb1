"""An Argo CD API in Argo CD's documented shapes, served in process by the demo (pipelines/demo/fake_api.py) and over
127.0.0.1 by the tests (tests/http_server.py).

Shapes follow argoproj/argo-cd's swagger (``v1alpha1ApplicationList``: ``metadata``, ``items``;
``v1alpha1Application``: ``metadata``, ``spec.source`` / ``spec.project``, ``status.sync``,
``status.health``, ``status.history[]`` of ``v1alpha1RevisionHistory``: ``id``, ``revision``,
``deployStartedAt``, ``deployedAt``, ``source{repoURL,path,targetRevision}``, ``initiatedBy``) and
the application test data of its repository (``id`` sent as a JSON number, starting at 0). It
answers ``GET /api/v1/applications`` (``projects`` filters); the bearer token must match (else
401, with Argo CD's gRPC-gateway error body). ``fault(path, headers)`` may answer instead.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pipelines.demo.fake_http import Reply

Fault = Callable[[str, dict[str, str]], Reply | None]


def stamp(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def history_entry(
    entry_id: int,
    revision: str,
    deployed_at: dt.datetime,
    repo_url: str,
    *,
    automated=True,
    started: dt.datetime | None = None,
) -> dict[str, Any]:
    return {
        "id": entry_id,
        "revision": revision,
        "deployStartedAt": stamp(started or deployed_at - dt.timedelta(seconds=40)),
        "deployedAt": stamp(deployed_at),
        "source": {"repoURL": repo_url, "path": "deploy/production", "targetRevision": "HEAD"},
        "initiatedBy": {"automated": True} if automated else {"username": "admin"},
    }


def application(
    name: str,
    repo_url: str,
    history: list[dict[str, Any]],
    *,
    project: str = "default",
    health: str = "Healthy",
    reconciled_at: dt.datetime | None = None,
    created_at: dt.datetime | None = None,
    history_limit: int | None = None,
) -> dict[str, Any]:
    last = history[-1] if history else None
    uid = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 10**12
    spec_limit = {} if history_limit is None else {"revisionHistoryLimit": history_limit}
    return {
        "metadata": {
            "name": name,
            "namespace": "argocd",
            "uid": f"00000000-0000-4000-8000-{uid:012d}",
            "resourceVersion": "12345",
            "creationTimestamp": stamp(created_at or dt.datetime(2026, 1, 5, 9, tzinfo=dt.UTC)),
        },
        "spec": {
            **spec_limit,
            "project": project,
            "source": {"repoURL": repo_url, "path": "deploy/production", "targetRevision": "HEAD"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            "syncPolicy": {"automated": {"prune": True, "selfHeal": True}},
        },
        "status": {
            "sync": {
                "status": "Synced",
                "revision": last["revision"] if last else "",
                "comparedTo": {"source": {"repoURL": repo_url, "path": "deploy/production"}},
            },
            "health": {"status": health},
            "history": history,
            "reconciledAt": stamp(reconciled_at or dt.datetime(2026, 6, 30, 11, tzinfo=dt.UTC)),
            "sourceType": "Kustomize",
        },
    }


class FakeArgoCD:
    def __init__(self, applications: list[dict[str, Any]], *, token: str | None = None) -> None:
        self.applications = applications
        self.token = token
        self.fault: Fault | None = None

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        if self.fault is not None:
            reply = self.fault(path, headers)
            if reply is not None:
                return reply
        if self.token is not None and headers.get("Authorization") != f"Bearer {self.token}":
            return Reply(
                401,
                {
                    "error": "invalid session: token is malformed",
                    "code": 16,
                    "message": "invalid session: token is malformed",
                },
            )
        url = urlsplit(path)
        if url.path != "/api/v1/applications":
            return Reply(404, {"error": "Not Found", "code": 5, "message": "Not Found"})
        projects = parse_qs(url.query).get("projects")
        items = [a for a in self.applications if not projects or a["spec"]["project"] in projects]
        return Reply(body={"metadata": {"resourceVersion": "12345"}, "items": items or None})
