"""The only way a sandboxed agent reaches a model: HTTP on a unix socket, bind-mounted in.

The sandbox has no network and no API key; it gets a socket (at /run/dgm-llm/gateway.sock) and a
token. The token names the job's run, agent, job key, role and caps; every request is forwarded
through the run's `LLMService`, so it is metered against the job's and the run's budgets and
recorded in the cassette like a host-side call.

The agent is untrusted, so: the model, api_base and keys come from the run's config only (a
request's own `model`, `api_base` or provider fields are ignored); bodies over 8 MB get 413 without
being read; malformed JSON, bad fields and unknown paths get 4xx; a stalled client times out; and
any failure is answered on that connection only, so other jobs keep being served. Each connection
has a thread, so connections are bounded: `llm.gateway_max_connections` over all sandboxes (the
excess gets 503 at once, from the accepting thread) and `llm.gateway_connections_per_job` per
token (the excess gets 429 and is closed). Errors use the
shared wire form `{"error": {"type": T, "message": M}}`.
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import socketserver
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from dgm import log
from dgm.errors import DgmError
from dgm.llm.errors import LLMCallError
from dgm.llm.service import LLMService
from dgm.llm.types import JobGrant

_log = log.get(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
SANDBOX_DIR = "/run/dgm-llm"
SOCKET_NAME = "gateway.sock"
ENDPOINT = "/v1/chat/completions"
_LINGER_SECONDS = 3.0
_FORWARDED = ("messages", "tools", "tool_choice", "max_tokens", "temperature")


class Gateway:
    """Start with `with Gateway(service) as gw:`; register a job, mount and env its sandbox."""

    def __init__(self, service: LLMService, *, base_dir: Path | None = None) -> None:
        self.service = service
        self._base_dir = base_dir
        self._grants: dict[str, JobGrant] = {}
        self._lock = threading.Lock()
        llm = service.config.llm
        self.max_connections = llm.gateway_max_connections
        self.connections_per_job = llm.gateway_connections_per_job
        self._open: set[int] = set()                 # connections with a handler thread
        self._by_job: dict[str, set[int]] = {}       # job key -> its connections (after a first request)
        self._dir: Path | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> "Gateway":
        self._dir = Path(tempfile.mkdtemp(prefix="dgm-llm-", dir=self._base_dir))
        path = self._dir / SOCKET_NAME
        if len(str(path).encode()) > 100:
            raise DgmError(f"gateway socket path too long for a unix socket: {path} (expected under 100 bytes; "
                           "use a shorter base directory)")
        # The sandbox user (uid 1000) must connect but must not create or remove files here.
        self._dir.chmod(0o755)
        self._server = _Server(str(path), _Handler)
        self._server.gateway = self
        path.chmod(0o777)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="dgm-llm-gateway",
                                        daemon=True)
        self._thread.start()
        _log.info("llm gateway listening", socket=str(path))
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        with self._lock:
            self._grants.clear()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    def __enter__(self) -> "Gateway":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- jobs ----------------------------------------------------------------------------------

    def register(self, grant: JobGrant) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = grant
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._grants.pop(token, None)

    def grant_for(self, token: str) -> JobGrant | None:
        """The job behind a token, or None when unknown, revoked or expired."""
        with self._lock:
            grant = self._grants.get(token)
            if grant is not None and grant.expires_at is not None and time.time() >= grant.expires_at:
                del self._grants[token]
                grant = None
        return grant

    def sandbox_mount(self) -> tuple[Path, str]:
        """(host directory, container directory) to bind-mount into a sandbox."""
        if self._dir is None:
            raise DgmError("the LLM gateway is not running: start it (with Gateway(...)) before mounting it")
        return self._dir, SANDBOX_DIR

    def sandbox_env(self, token: str) -> dict[str, str]:
        return {"DGM_LLM_SOCKET": f"{SANDBOX_DIR}/{SOCKET_NAME}", "DGM_LLM_TOKEN": token}

    # -- connection accounting -----------------------------------------------------------------

    def _open_connection(self, conn: int) -> bool:
        with self._lock:
            if len(self._open) >= self.max_connections:
                return False
            self._open.add(conn)
            return True

    def _close_connection(self, conn: int) -> None:
        with self._lock:
            self._open.discard(conn)
            for key, conns in list(self._by_job.items()):
                conns.discard(conn)
                if not conns:
                    del self._by_job[key]

    def _claim_for_job(self, conn: int, job_key: str) -> bool:
        """Count `conn` against its job; False when the job already holds its share."""
        with self._lock:
            conns = self._by_job.setdefault(job_key, set())
            if conn in conns:
                return True
            if len(conns) >= self.connections_per_job:
                return False
            conns.add(conn)
            return True

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    # The default backlog of 5 makes a burst of sandboxes fail to connect (EAGAIN on a unix
    # socket), not wait; the kernel caps this at net.core.somaxconn.
    request_queue_size = 1024
    gateway: Gateway

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.gateway._open_connection(id(request)):
            super().process_request(request, client_address)
            return
        # Refused in the accepting thread, without reading: no thread is spent on the excess.
        body = json.dumps({"error": {"type": "too_many_connections", "message":
                                     f"the gateway serves at most {self.gateway.max_connections} connections "
                                     "at once (llm.gateway_max_connections); close idle ones"}}).encode()
        try:
            request.settimeout(0)
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                            b"Connection: close\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        except OSError:
            pass
        _log.warning("llm gateway refused a connection", limit=self.gateway.max_connections)
        socketserver.UnixStreamServer.shutdown_request(self, request)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            self.gateway._close_connection(id(request))

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that stalls or drops mid-request costs only its own connection.
        _log.warning("llm gateway connection failed", exc_info=True)


class _Reject(Exception):
    def __init__(self, status: int, kind: str, message: str, *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.kind, self.close = status, kind, close


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60            # seconds to send a request; a stalled client cannot hold a thread forever
    server: _Server

    def address_string(self) -> str:   # unix sockets have no client address
        return "sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("llm gateway http", line=format % args)

    def do_POST(self) -> None:
        self._serve(post=True)

    def do_GET(self) -> None:
        self._serve(post=False)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def _serve(self, *, post: bool) -> None:
        try:
            grant, payload = self._admit(post)
            self._send(200, self._complete(grant, payload))
        except _Reject as reject:
            if reject.close:
                self.close_connection = True
            self._send(reject.status, {"error": {"type": reject.kind, "message": str(reject)}})
            if reject.close:
                self._linger()

    def _linger(self) -> None:
        """Drop what the client still sends, for a bounded time, before closing.

        Closing a socket with unread input resets the connection, and the client would see the
        reset instead of our 413/401 answer; so we stop writing, then read and discard.
        """
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(0.5)
            deadline = time.monotonic() + _LINGER_SECONDS
            while time.monotonic() < deadline and self.connection.recv(1 << 16):
                pass
        except OSError:
            pass

    def _admit(self, post: bool) -> tuple[JobGrant, dict[str, Any]]:
        """Check path, size and token before reading the body; then parse and validate it."""
        path = urlsplit(self.path).path
        if path != ENDPOINT:
            raise _Reject(404, "not_found", f"no endpoint {path}; expected POST {ENDPOINT}", close=True)
        if not post:
            raise _Reject(405, "bad_request", f"{self.command} is not supported; expected POST {ENDPOINT}", close=True)
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            raise _Reject(411, "bad_request", "a Content-Length header is required", close=True) from None
        if length < 0 or length > MAX_BODY_BYTES:
            raise _Reject(413, "too_large", f"request body of {length} bytes; the limit is {MAX_BODY_BYTES}", close=True)
        auth = self.headers.get("Authorization", "")
        gateway = self.server.gateway
        grant = gateway.grant_for(auth[7:]) if auth.startswith("Bearer ") else None
        if grant is None:
            raise _Reject(401, "invalid_token", "unknown, revoked or expired token", close=True)
        if not gateway._claim_for_job(id(self.request), grant.job_key):
            raise _Reject(429, "too_many_connections",
                          f"this job holds {gateway.connections_per_job} connections to the gateway already "
                          "(llm.gateway_connections_per_job); reuse or close them", close=True)
        try:
            payload = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            raise _Reject(400, "bad_request", "the body is not valid JSON") from None
        return grant, _validated(payload)

    def _complete(self, grant: JobGrant, payload: dict[str, Any]) -> dict[str, Any]:
        service = self.server.gateway.service
        try:
            completion = service.complete(grant.role, payload["messages"], payload.get("tools"),
                                          payload.get("tool_choice"), job=grant,
                                          max_tokens=payload.get("max_tokens"),
                                          temperature=payload.get("temperature"))
        except LLMCallError as exc:
            raise _Reject(exc.status, exc.kind, str(exc)) from None
        except DgmError as exc:   # the run's configuration (e.g. a price) is at fault, not the agent
            _log.error("llm gateway call failed", job=grant.job_key, error=str(exc))
            raise _Reject(502, "upstream_error", str(exc)) from None
        except Exception as exc:
            _log.exception("llm gateway internal error", job=grant.job_key)
            raise _Reject(500, "internal_error", f"{type(exc).__name__} in the gateway") from None
        return completion.response

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True   # the agent went away; nothing to answer


def _validated(payload: Any) -> dict[str, Any]:
    """The forwarded fields, type-checked; anything else in the request (model, api_base...) is dropped."""
    if not isinstance(payload, dict):
        raise _Reject(400, "bad_request", "expected a JSON object")
    messages = payload.get("messages")
    if not isinstance(messages, list) or not messages or \
            not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise _Reject(400, "bad_request", "messages: expected a non-empty list of objects with a 'role'")
    tools = payload.get("tools")
    if tools is not None and not (isinstance(tools, list) and all(isinstance(t, dict) for t in tools)):
        raise _Reject(400, "bad_request", "tools: expected a list of objects")
    if not isinstance(payload.get("tool_choice"), (str, dict, type(None))):
        raise _Reject(400, "bad_request", "tool_choice: expected a string or an object")
    max_tokens = payload.get("max_tokens")
    if max_tokens is not None and (isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1):
        raise _Reject(400, "bad_request", "max_tokens: expected a positive integer")
    temperature = payload.get("temperature")
    if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, (int, float))
                                    or not 0 <= temperature <= 2):
        raise _Reject(400, "bad_request", "temperature: expected a number from 0 to 2")
    return {key: payload[key] for key in _FORWARDED if payload.get(key) is not None}
