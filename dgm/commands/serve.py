"""`dgm serve RUN_DIR`: the run's JSON API over HTTP, read-only, loopback by default."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

HELP = "serve a run's archive read-only over HTTP (JSON API; safe beside a live run)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    parser.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0: any free port)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run(args: argparse.Namespace) -> int:
    from dgm.archive.store import RunStore
    from dgm.dashboard.server import make_server
    from dgm.errors import DgmError

    RunStore.open(args.run_dir, readonly=True).close()   # one clear line for a path that is not a run
    if not is_loopback(args.host):
        print(f"dgm: warning: serving on {args.host}: the page has no authentication; anyone who can reach "
              "this address can read the run", file=sys.stderr)
    try:
        server = make_server(args.run_dir, args.host, args.port)
    except OSError as err:
        raise DgmError(f"cannot listen on {args.host}:{args.port} ({err.strerror}); expected a free port") from None
    host, port = server.server_address[:2]
    print(f"serving {args.run_dir} read-only on http://{host}:{port}/api/run (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
