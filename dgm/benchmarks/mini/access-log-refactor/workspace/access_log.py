"""Daily summary of the web server's access log (combined log format).

    203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326 "-" "curl/8.0"
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

_LINE = re.compile(
    r'^(\S+) \S+ \S+ \[([^\]]+)\] "(\S+) (\S+) [^"]*" (\d{3}) (\d+|-)(?: "([^"]*)" "([^"]*)")?$'
)


def summarize(lines: Iterable[str], top: int = 3) -> dict:
    """Counts for the daily report e-mail."""
    requests = 0
    malformed = 0
    total_bytes = 0
    by_status: Counter[str] = Counter()
    paths: Counter[str] = Counter()
    clients: set[str] = set()
    errors = 0
    for line in lines:
        line = line.rstrip("\n")
        if not line:
            continue
        m = _LINE.match(line)
        if not m:
            malformed += 1
            continue
        requests += 1
        ip, _, method, path, status, size = m.group(1, 2, 3, 4, 5, 6)
        clients.add(ip)
        by_status[status[0] + "xx"] += 1
        if status.startswith("5"):
            errors += 1
        if size != "-":
            total_bytes += int(size)
        path = path.split("?", 1)[0]
        if method == "GET":
            paths[path] += 1
    return {
        "requests": requests,
        "malformed": malformed,
        "bytes": total_bytes,
        "clients": len(clients),
        "status": dict(sorted(by_status.items())),
        "server_errors": errors,
        "top_paths": paths.most_common(top),
    }
