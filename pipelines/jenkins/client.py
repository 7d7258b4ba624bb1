"""Jenkins JSON API client (``<job URL>/api/json?tree=...``) on :class:`~pipelines.http.ApiClient`.

Basic auth with a user and its API token (a token, unlike a password, needs no CSRF crumb for GET).
Jenkins has no rate-limit headers; a 429 from a proxy in front of it waits ``Retry-After`` (or the
backoff); 5xx and dropped connections are retried with backoff. Every read names its fields with
``tree=``, so Jenkins sends only those (it otherwise serialises whole objects, which is slow on a
controller with long build histories) and a job's builds come in one request per
``builds_per_request`` builds (``allBuilds[...]{from,to}``, newest first).
"""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import quote

import httpx

from pipelines.errors import SourceError
from pipelines.http import ApiClient, RetryPolicy

#: Classes whose items hold other jobs: folders, organisation folders, multibranch pipelines.
CONTAINER_CLASS_SUFFIXES = ("Folder", "MultiBranchProject", "OrganizationFolder")

JOB_FIELDS = "_class,name,fullName,url,color,description,buildable"
#: What each build carries: number, result, timings, who/what started it, and the git plugin's
#: build data (the commit built and the repository it came from).
BUILD_FIELDS = (
    "_class,number,url,result,building,timestamp,duration,estimatedDuration,fullDisplayName,"
    "actions[_class,lastBuiltRevision[SHA1,branch[name]],remoteUrls,"
    "causes[_class,shortDescription,userId]]"
)


def job_path(full_name: str) -> str:
    """``a/b/c`` -> ``/job/a/job/b/job/c`` (each segment URL-quoted; '' is the controller root)."""
    parts = [p for p in full_name.strip("/").split("/") if p]
    return "".join(f"/job/{quote(p, safe='')}" for p in parts)


def is_container(item: dict[str, Any]) -> bool:
    """A folder, organisation folder or multibranch pipeline (its children are jobs)."""
    return str(item.get("_class", "")).endswith(CONTAINER_CLASS_SUFFIXES) or "jobs" in item


class JenkinsClient(ApiClient):
    service_name = "Jenkins"
    auth_format = "Basic {token}"

    def __init__(
        self,
        base_url: str,
        *,
        user: str | None = None,
        token: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        builds_per_request: int = 100,
        **kwargs: Any,
    ) -> None:
        basic = base64.b64encode(f"{user}:{token}".encode()).decode() if user and token else None
        super().__init__(
            base_url, token=basic, transport=transport, timeout=timeout, retry=retry, **kwargs
        )
        self.builds_per_request = builds_per_request

    def __enter__(self) -> JenkinsClient:
        return self

    def _json(self, full_name: str, tree: str) -> dict[str, Any]:
        response = self.get(f"{job_path(full_name)}/api/json", {"tree": tree})
        if not isinstance(response.data, dict):
            raise SourceError(
                f"Jenkins sent {type(response.data).__name__} for {response.url}; expected an object"
            )
        return response.data

    def job(self, full_name: str) -> dict[str, Any]:
        """One job or folder, with its children when it has any."""
        return self._json(full_name, f"{JOB_FIELDS},jobs[{JOB_FIELDS}]")

    def children(self, full_name: str) -> list[dict[str, Any]]:
        """The jobs directly in a folder ('' for the controller's top level)."""
        return list(self._json(full_name, f"jobs[{JOB_FIELDS}]").get("jobs") or [])

    def builds(self, full_name: str, start: int, end: int) -> list[dict[str, Any]]:
        """Builds ``start``..``end``-1 of a job, newest first (one ``tree=`` request)."""
        data = self._json(full_name, f"allBuilds[{BUILD_FIELDS}]{{{start},{end}}}")
        builds = data.get("allBuilds")
        if not isinstance(builds, list):
            raise SourceError(
                f"Jenkins sent no allBuilds for job {full_name!r}; is it a job (not a folder)?"
            )
        for build in builds:
            if not isinstance(build, dict) or not isinstance(build.get("number"), int):
                raise SourceError(
                    f"Jenkins sent a build without a number for job {full_name!r} "
                    f"(builds {start}-{end}); nothing of the job was written"
                )
        return builds
