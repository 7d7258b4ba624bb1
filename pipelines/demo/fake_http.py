"""The shape shared by the demo's fake GitLab, Jenkins and Argo CD servers.

Each is a handler ``(path with query, request headers) -> Reply``. The demo serves them in process
through its ``httpx.MockTransport`` (pipelines/demo/fake_api.py); the tests serve the same handlers
over real sockets on 127.0.0.1 (tests/http_server.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[str, dict[str, str]], Reply]
