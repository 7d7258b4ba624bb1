"""A Jenkins JSON API in Jenkins' shape, served in process by the demo (pipelines/demo/fake_api.py) and over
127.0.0.1 by the tests (tests/http_server.py).

It answers what ``pipelines/jenkins`` asks: ``<job path>/api/json?tree=...`` for the controller's
top level (``/api/json``), folders, multibranch pipelines and jobs (``/job/a/job/b/...``).
``tree=jobs[...]`` lists a folder's children; ``tree=allBuilds[...]{from,to}`` a job's builds,
newest first, sliced as Jenkins slices them. Basic auth must match ``user``/``token`` (else 401).
``fault(path, headers)`` may answer a request instead (5xx, 403). Every request is recorded by the
server. Nodes are plain dicts: a folder has ``jobs`` (its children), a job ``builds`` (any order).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from pipelines.demo.fake_http import Reply

FOLDER = "com.cloudbees.hudson.plugins.folder.Folder"
MULTIBRANCH = "org.jenkinsci.plugins.workflow.multibranch.WorkflowMultiBranchProject"
FREESTYLE = "hudson.model.FreeStyleProject"
PIPELINE = "org.jenkinsci.plugins.workflow.job.WorkflowJob"

Fault = Callable[[str, dict[str, str]], Reply | None]


def folder(name: str, *children: dict[str, Any], cls: str = FOLDER) -> dict[str, Any]:
    return {"_class": cls, "name": name, "jobs": list(children)}


def job(name: str, builds: list[dict[str, Any]], cls: str = FREESTYLE) -> dict[str, Any]:
    return {"_class": cls, "name": name, "color": "blue", "builds": builds}


class FakeJenkins:
    def __init__(
        self,
        top: list[dict[str, Any]],
        *,
        user: str | None = None,
        token: str | None = None,
        base: str = "http://jenkins.invalid",
    ) -> None:
        self.root = {"_class": "hudson.model.Hudson", "name": "", "jobs": top}
        self.auth = (
            "Basic " + base64.b64encode(f"{user}:{token}".encode()).decode() if user else None
        )
        self.base = base
        self.fault: Fault | None = None

    def node(self, parts: list[str]) -> tuple[dict[str, Any], str] | None:
        node, names = self.root, []
        for part in parts:
            children = {c["name"]: c for c in node.get("jobs") or []}
            if part not in children:
                return None
            node = children[part]
            names.append(part)
        return node, "/".join(names)

    def _item(self, node: dict[str, Any], full: str) -> dict[str, Any]:
        url = self.base + "".join(f"/job/{p}" for p in full.split("/") if p) + "/"
        out = {"_class": node["_class"], "name": node["name"], "fullName": full, "url": url}
        if "color" in node:
            out["color"] = node["color"]
        return out

    def __call__(self, path: str, headers: dict[str, str]) -> Reply:
        if self.fault is not None:
            reply = self.fault(path, headers)
            if reply is not None:
                return reply
        if self.auth is not None and headers.get("Authorization") != self.auth:
            return Reply(401, b"<html>Unauthorized</html>", {"Content-Type": "text/html"})
        url = urlsplit(path)
        if not url.path.endswith("/api/json"):
            return Reply(404, b"not found", {"Content-Type": "text/html"})
        segments = url.path[: -len("/api/json")].split("/")[1:]
        if len(segments) % 2 or any(s != "job" for s in segments[::2]):
            return Reply(404, b"not found", {"Content-Type": "text/html"})
        found = self.node([unquote(s) for s in segments[1::2]])
        if found is None:
            return Reply(404, b"not found", {"Content-Type": "text/html"})
        node, full = found
        tree = parse_qs(url.query).get("tree", [""])[0]
        body = self._item(node, full)
        if "jobs" in node and re.search(r"(^|,)jobs\[", tree):
            body["jobs"] = [
                self._item(c, "/".join(p for p in (full, c["name"]) if p)) for c in node["jobs"]
            ]
        ranged = re.search(r"allBuilds\[.*\]\{(\d+),(\d+)\}$", tree)
        if tree.startswith("allBuilds"):
            if "builds" not in node:
                return Reply(200, {"_class": node["_class"]})
            builds = sorted(node["builds"], key=lambda b: -int(b["number"]))
            if ranged:
                builds = builds[int(ranged.group(1)) : int(ranged.group(2))]
            body = {"_class": node["_class"], "allBuilds": builds}
        return Reply(200, body)
