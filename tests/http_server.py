"""A scripted HTTP server on 127.0.0.1 (real sockets) for client fault tests. It serves the demo's
fake GitLab, Jenkins and Argo CD handlers (pipelines/demo/fake_*.py) as well as scripted replies."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pipelines.demo.fake_http import Handler, Reply

__all__ = ["Handler", "PostHandler", "Reply", "ScriptedServer"]

PostHandler = Callable[[str, dict[str, str], bytes], Reply]


class ScriptedServer:
    """Serves ``handler(path_with_query, headers) -> Reply`` for GET and, when given,
    ``post_handler(path, headers, body) -> Reply`` for POST (else POST goes to ``handler`` too, e.g.
    minting App installation tokens); records every request."""

    def __init__(self, handler: Handler, post_handler: PostHandler | None = None) -> None:
        self.handler = handler
        self.post_handler = post_handler
        self.requests: list[tuple[str, dict[str, str]]] = []
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k: v for k, v in self.headers.items()}
                outer.requests.append((self.path, headers))
                self._send(outer.handler(self.path, headers))

            def do_POST(self) -> None:
                headers = {k: v for k, v in self.headers.items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append((self.path, headers))
                if outer.post_handler is None:
                    self._send(outer.handler(self.path, headers))
                else:
                    self._send(outer.post_handler(self.path, headers, body))

            def _send(self, reply: Reply) -> None:
                if reply.delay:
                    threading.Event().wait(reply.delay)
                body = (
                    reply.body
                    if isinstance(reply.body, bytes)
                    else (b"" if reply.body is None else json.dumps(reply.body).encode())
                )
                try:
                    self.send_response(reply.status)
                    for key, value in {"Content-Type": "application/json", **reply.headers}.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if body and reply.status != 304:
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
