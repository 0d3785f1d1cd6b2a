"""`dgm serve` at scale: API times and the page's time to first render in Debian's chromium.

Synthetic runs of 100, 1,000 and 10,000 agents made by `bench/archive_scale.py`'s `build_run` (the
store's own schema). Per size: seconds for /api/run, /api/agents and /api/tree over HTTP (best of
--repeats), the server process's peak RSS, and in chromium (Playwright) the time from navigation
until every shown tree node carries its data-agent-id (the page's draft, drawn before
plotly.min.js has run), until plotly's interactive tree has replaced it (first visit, and again
with plotly.min.js cached), with the page's JS heap then. Above dgm.dashboard.data.TREE_LIMIT agents the tree is
collapsed on the server: `shown` is how many agents it draws.

Goal (issue 16): first render under 1 s at 1,000 agents; at 10,000 still usable.

Usage: .venv/bin/python bench/dashboard_scale.py [--sizes 100,1000,10000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from archive_scale import build_run  # noqa: E402

from dgm.dashboard.server import make_server  # noqa: E402


def fetch_seconds(url: str, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=600) as response:
            response.read()
        best = min(best, time.perf_counter() - started)
    return best


def first_render(url: str) -> tuple[float, float, float, float, int]:
    """(seconds from navigation until the tree is drawn and every shown node carries its
    data-agent-id (the draft, before plotly.min.js has run), seconds until plotly's interactive
    tree replaced it, the same on a second visit (plotly.min.js from the browser cache), JS heap
    MB, nodes shown)."""
    from playwright.sync_api import sync_playwright

    drawn = ("document.getElementById('tree').hasAttribute('data-shown') && document.querySelectorAll("
             "'[data-agent-id]').length === +document.getElementById('tree').getAttribute('data-shown')")
    interactive = f"document.getElementById('tree').hasAttribute('data-interactive') && {drawn}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            page.goto(url)
            page.wait_for_function(drawn, timeout=600_000, polling=10)
            first = time.perf_counter() - started
            page.wait_for_function(interactive, timeout=600_000, polling=50)
            seconds.append((first, time.perf_counter() - started))
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize : 0") / 2**20
        shown = page.evaluate("+document.getElementById('tree').getAttribute('data-shown')")
        browser.close()
    return seconds[0][0], seconds[0][1], seconds[1][1], heap, shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f}")
    print(f"{'agents':>7} {'/api/run s':>11} {'/api/agents s':>14} {'/api/tree s':>12} {'shown':>6} {'first render s':>15} "
          f"{'interactive s':>14} {'cached interactive s':>21} {'JS heap MB':>11} {'bench RSS MB':>13}")
    for size in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="dgm-bench-dash-") as tmp:
            run = Path(tmp) / f"run{size}"
            build_run(run, size)
            server = make_server(run, "127.0.0.1", 0)
            threading.Thread(target=server.serve_forever, daemon=True).start()
            base = f"http://127.0.0.1:{server.server_address[1]}"
            times = [fetch_seconds(base + path, args.repeats) for path in ("/api/run", "/api/agents", "/api/tree")]
            render, interactive, cached, heap, shown = first_render(base + "/")
            server.shutdown()
            server.server_close()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{size:>7} {times[0]:>11.3f} {times[1]:>14.3f} {times[2]:>12.3f} {shown:>6} {render:>15.2f} {interactive:>14.2f} {cached:>21.2f} "
              f"{heap:>11.1f} {rss:>13.0f}", flush=True)
    print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
