"""The text of the daily report e-mail."""

from __future__ import annotations

from pathlib import Path

from access_log import summarize


def report(log_path: Path) -> str:
    with log_path.open(encoding="utf-8", errors="replace") as fh:
        s = summarize(fh)
    lines = [
        f"{s['requests']} requests from {s['clients']} clients, {s['bytes']} bytes sent",
        "status: " + ", ".join(f"{k}={v}" for k, v in s["status"].items()),
        f"server errors: {s['server_errors']}",
    ]
    lines += [f"  {count:>6}  {path}" for path, count in s["top_paths"]]
    if s["malformed"]:
        lines.append(f"({s['malformed']} malformed lines skipped)")
    return "\n".join(lines)
