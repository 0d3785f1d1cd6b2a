import dataclasses
from datetime import datetime, timedelta, timezone

import pytest

import access_log
from access_log import LogEntry, parse_line, summarize
from report_mail import report

LOG = [
    '203.0.113.9 - - [10/Oct/2023:13:55:36 +0000] "GET /index.html HTTP/1.1" 200 2326 "-" "curl/8.0"\n',
    '203.0.113.9 - - [10/Oct/2023:13:55:37 +0000] "GET /search?q=x HTTP/1.1" 200 512 "https://ex.org/" "Mozilla/5.0"\n',
    '198.51.100.7 - bob [10/Oct/2023:13:56:00 +0200] "POST /login HTTP/1.1" 302 -\n',
    '198.51.100.7 - - [10/Oct/2023:13:57:00 +0000] "GET /search HTTP/1.1" 500 0 "-" "Mozilla/5.0"\n',
    "garbage line\n",
    "\n",
    '192.0.2.1 - - [10/Oct/2023:14:00:00 +0000] "GET /index.html HTTP/1.0" 404 153 "-" "-"\n',
    '192.0.2.1 - - [99/Foo/2023:14:00:00 +0000] "GET /bad-date HTTP/1.0" 200 1 "-" "-"\n',
]


def test_parse_full_line():
    entry = parse_line(LOG[1])
    assert entry == LogEntry(
        ip="203.0.113.9",
        time=datetime(2023, 10, 10, 13, 55, 37, tzinfo=timezone.utc),
        method="GET",
        path="/search",
        query="q=x",
        status=200,
        size=512,
        referrer="https://ex.org/",
        user_agent="Mozilla/5.0",
    )


def test_parse_short_line_and_dash_size():
    entry = parse_line(LOG[2])
    assert (entry.method, entry.path, entry.query, entry.status, entry.size) == ("POST", "/login", "", 302, 0)
    assert entry.referrer is None and entry.user_agent is None
    assert entry.time.utcoffset() == timedelta(hours=2)


def test_dash_fields_kept():
    entry = parse_line(LOG[6])
    assert entry.referrer == "-" and entry.user_agent == "-"


def test_entry_is_frozen():
    entry = parse_line(LOG[0])
    assert dataclasses.is_dataclass(entry)
    with pytest.raises(dataclasses.FrozenInstanceError):
        entry.status = 500


def test_malformed_lines():
    assert parse_line("garbage line") is None
    assert parse_line(LOG[7]) is None


def test_summarize_unchanged():
    assert summarize(LOG) == {
        "requests": 5,
        "malformed": 2,
        "bytes": 2991,
        "clients": 3,
        "status": {"2xx": 2, "3xx": 1, "4xx": 1, "5xx": 1},
        "server_errors": 1,
        "top_paths": [("/index.html", 2), ("/search", 2)],
    }
    assert summarize(LOG, top=1)["top_paths"] == [("/index.html", 2)]


def test_summarize_uses_parse_line(monkeypatch):
    seen = []

    def fake(line):
        seen.append(line)
        return LogEntry("10.0.0.1", datetime(2023, 1, 1, tzinfo=timezone.utc), "GET", "/x", "", 201, 7, None, None)

    monkeypatch.setattr(access_log, "parse_line", fake)
    result = summarize(["a", "b"])
    assert len(seen) == 2
    assert result["requests"] == 2 and result["bytes"] == 14 and result["status"] == {"2xx": 2}
    assert result["top_paths"] == [("/x", 2)]


def test_report_mail(tmp_path):
    path = tmp_path / "access.log"
    path.write_text("".join(LOG))
    assert report(path) == (
        "5 requests from 3 clients, 2991 bytes sent\n"
        "status: 2xx=2, 3xx=1, 4xx=1, 5xx=1\n"
        "server errors: 1\n"
        "       2  /index.html\n"
        "       2  /search\n"
        "(2 malformed lines skipped)"
    )
