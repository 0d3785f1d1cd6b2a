"""One `docker exec` stream over a raw daemon connection: stdin in, demultiplexed output out.

Why not docker-py's `exec_start(socket=True)`: it parses the HTTP 101 answer with a buffered
reader and then reads the raw socket beneath it, so output that arrives in the same packet as the
answer's headers is silently lost. Here the upgrade is done by hand and every byte after the
headers is kept. It also gives a deadline on the read (the host backstop of `exec`) and a
half-close after stdin, which is how `tar -x` in the sandbox learns that the archive ended.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from urllib.parse import urlparse

_HEADER = struct.Struct(">BxxxL")
_STDOUT, _STDERR = 1, 2


class StreamError(Exception):
    """The connection to the daemon failed or it refused to start the exec."""


class StreamTimeout(Exception):
    """The exec did not finish before the deadline; the output read so far is attached."""

    def __init__(self, stdout: bytes, stderr: bytes) -> None:
        super().__init__("exec stream deadline passed")
        self.stdout = stdout
        self.stderr = stderr


def _connect(base_url: str, timeout: float) -> socket.socket:
    """A fresh connection to the daemon named by docker-py's base URL (unix socket or plain TCP)."""
    url = urlparse(base_url)
    if url.scheme == "http+unix":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        address: object = url.path
    elif url.scheme in ("http", "tcp"):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        address = (url.hostname, url.port or 2375)
    else:
        raise StreamError(f"unsupported Docker host {base_url!r} (expected a unix socket or plain tcp)")
    sock.settimeout(timeout)
    try:
        sock.connect(address)
    except OSError as exc:
        sock.close()
        raise StreamError(f"cannot connect to the Docker daemon at {base_url}: {exc}") from None
    return sock


def run(base_url: str, api_version: str, exec_id: str, *, stdin: bytes | None = None,
        deadline: float, connect_timeout: float = 30.0) -> tuple[bytes, bytes]:
    """Start the created exec `exec_id`, feed `stdin`, return (stdout, stderr) when it ends.

    Raises StreamTimeout when `deadline` (time.monotonic()) passes first, StreamError when the
    daemon cannot be reached or refuses (e.g. the container stopped).
    """
    sock = _connect(base_url, connect_timeout)
    try:
        body = json.dumps({"Detach": False, "Tty": False}).encode()
        request = (
            f"POST /v{api_version}/exec/{exec_id}/start HTTP/1.1\r\n"
            "Host: docker\r\nContent-Type: application/json\r\n"
            "Connection: Upgrade\r\nUpgrade: tcp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        sock.sendall(request)
        rest = _read_upgrade(sock, deadline)
        if stdin is not None:
            try:
                sock.sendall(stdin)
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass  # the process stopped reading (e.g. tar failed): its output says why
        return _demux(sock, rest, deadline)
    finally:
        sock.close()


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    sock.settimeout(remaining)
    try:
        return sock.recv(1 << 16)
    except socket.timeout:
        raise TimeoutError from None
    except OSError as exc:
        raise StreamError(f"exec stream broke: {exc}") from None


def _read_upgrade(sock: socket.socket, deadline: float) -> bytes:
    """Consume the HTTP answer's headers; return the bytes that followed them."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = _recv(sock, deadline)
        except TimeoutError:
            raise StreamTimeout(b"", b"") from None
        if not chunk:
            raise StreamError("the Docker daemon closed the exec connection before answering")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or parts[1] not in ("101", "200"):
        message = rest.decode("utf-8", "replace").strip()
        try:
            message = json.loads(message)["message"]
        except (ValueError, KeyError, TypeError):
            pass
        raise StreamError(f"exec start refused ({status_line}): {message}")
    return rest


def _demux(sock: socket.socket, buf: bytes, deadline: float) -> tuple[bytes, bytes]:
    pending = bytearray(buf)
    out = {_STDOUT: bytearray(), _STDERR: bytearray()}
    while True:
        while len(pending) >= _HEADER.size:
            kind, size = _HEADER.unpack_from(pending)
            if len(pending) < _HEADER.size + size:
                break
            out.setdefault(kind, bytearray()).extend(pending[_HEADER.size:_HEADER.size + size])
            del pending[:_HEADER.size + size]
        try:
            chunk = _recv(sock, deadline)
        except TimeoutError:
            raise StreamTimeout(bytes(out[_STDOUT]), bytes(out[_STDERR])) from None
        if not chunk:
            return bytes(out[_STDOUT]), bytes(out[_STDERR])
        pending.extend(chunk)
