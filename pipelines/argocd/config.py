"""The ``sources.argocd[]`` section: one Argo CD API server."""

from __future__ import annotations

from pydantic import Field, SecretStr

from pipelines.config_model import ConfigModel as _Model
from pipelines.config_model import HttpUrl


class ArgoCDSourceConfig(_Model):
    name: str = "argocd"
    base_url: HttpUrl = Field(
        description="The Argo CD server's address (the API is under <base_url>/api/v1)."
    )
    token: SecretStr | None = Field(
        default=None,
        description="A bearer token of a read-only account or project role; write ${ARGOCD_TOKEN}.",
    )
    projects: list[str] = Field(
        default_factory=list,
        description="Only applications of these Argo CD projects (empty: all).",
    )
    applications: list[str] = Field(
        default_factory=list, description="Only these applications, by name (empty: all)."
    )
    service_map: dict[str, str] = Field(
        default_factory=dict,
        description="Application name -> service, overriding the match of the application's "
        "source repoURL against services[].repositories.",
    )
    health_incidents: bool = Field(
        default=False,
        description="Count an application's Degraded health as an incident (source argocd), open "
        "until it is Healthy again; for services no on-call tool covers "
        "(docs/sources/argocd.md#health-as-incidents).",
    )
    timeout_seconds: float = Field(default=30.0, gt=0)
    max_retries: int = Field(default=5, ge=0, le=20)

    @property
    def api_url(self) -> str:
        return self.base_url.rstrip("/") + "/api/v1"
