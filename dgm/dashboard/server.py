"""The HTTP side of `dgm serve`: GET only, JSON from `data`, one thread per request.

Each request opens the store read-only on its own (SQLite connections are per thread), so the
server holds nothing of the run between requests and never takes its lock.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from dgm.dashboard import data
from dgm.errors import DgmError


MATRIX_LIMIT = 300   # rows of /api/matrix unless ?limit=N (beyond: the collapsed tree's agents)


def make_server(run_dir: Path, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A server for `run_dir` (port 0: any free port; read it from `server.server_address`)."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urlparse(self.path)
            path = url.path.rstrip("/") or "/"
            if path in ("/", "/plotly.min.js"):   # plotly's file never changes while a server runs: cached
                self._send_file(path)
                return
            try:
                body = route(run_dir, path, parse_qs(url.query))
            except DgmError as err:
                self._send(HTTPStatus.NOT_FOUND, {"error": str(err)})
                return
            except ValueError as err:   # a bad query parameter
                self._send(HTTPStatus.BAD_REQUEST, {"error": str(err)})
                return
            if body is None:
                self._send(HTTPStatus.NOT_FOUND, {"error": f"no such page {path}; expected /api/run, /api/agents, "
                                                           "/api/agents/<id>, /api/agents/<id>/trajectories[/<name>], "
                                                           "/api/tree, /api/matrix or /api/policy"})
            else:
                self._send(HTTPStatus.OK, body)

        def _send(self, status: HTTPStatus, body: Any) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass   # the browser went away (tab closed mid-poll): nothing to tell anyone

        def _send_file(self, path: str) -> None:
            from dgm.dashboard import page

            payload, kind = (page.html().encode(), "text/html") if path == "/" else (page.plotly_js(), "text/javascript")
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-store" if path == "/" else "max-age=86400")
            self.end_headers()
            try:
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
            pass   # quiet: a polling page would fill the console

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def route(run_dir: Path, path: str, query: dict[str, list[str]] | None = None) -> Any:
    """The JSON for one GET path (still percent-encoded: a task id may hold a '/'), or None for
    an unknown path. `/api/tree?limit=N&expand=a,b`: collapse above N agents (default
    data.TREE_LIMIT), show these agents' children. `/api/matrix?limit=N`: at most N rows."""
    from dgm.dashboard import trajectories
    from dgm.dashboard.matrix import matrix

    query = query or {}
    parts = [unquote(part) for part in path.strip("/").split("/")]
    if parts[:1] != ["api"]:
        return None
    parts = parts[1:]
    if parts == ["run"]:
        return data.run_summary(run_dir)
    if parts == ["agents"]:
        return data.agents(run_dir)
    if len(parts) == 2 and parts[0] == "agents":
        return data.agent(run_dir, parts[1])
    if len(parts) == 3 and parts[0] == "agents" and parts[2] == "trajectories":
        return trajectories.index(run_dir, parts[1])
    if len(parts) == 4 and parts[0] == "agents" and parts[2] == "trajectories":
        return trajectories.trajectory(run_dir, parts[1], parts[3])
    if parts == ["tree"]:
        expand = [a for value in query.get("expand", []) for a in value.split(",") if a]
        return data.tree(run_dir, _count(query, "limit", data.TREE_LIMIT), expand)
    if parts == ["policy"]:
        return data.policy_timeline(run_dir)
    if parts == ["matrix"]:
        return matrix(run_dir, _count(query, "limit", MATRIX_LIMIT))
    return None


def _count(query: dict[str, list[str]], name: str, default: int) -> int:
    values = query.get(name)
    if not values:
        return default
    if not values[-1].isdigit() or int(values[-1]) < 1:
        raise ValueError(f"{name}={values[-1]!r}: expected a whole number of at least 1")
    return int(values[-1])
