"""The dashboard page in real Chromium (Debian's, driven by Playwright): one `data-agent-id` node
per agent, more nodes without a reload when the run adds an agent, a click shows the diff and the
trajectory (agent text escaped), the WebGL and collapsed-tree path, no console error. A
screenshot is kept under test-artifacts/dashboard/."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dgm.dashboard.server import make_server

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "dashboard"
HOSTILE = "<img src=x onerror=\"document.title='owned'\"> done"


@contextmanager
def served_page(run_dir: Path, chromium: str) -> Iterator[tuple[Any, str, list[str]]]:
    """`dgm serve`'s server on `run_dir` and a Chromium page: (page, base URL, errors the page
    reported on its console or as uncaught exceptions)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    server = make_server(run_dir, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    errors: list[str] = []
    try:
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            yield page, f"http://127.0.0.1:{server.server_address[1]}", errors
            browser.close()
    finally:
        server.shutdown()
        server.server_close()


def test_page_draws_grows_and_shows_a_diff(small_run: Path, chromium: str) -> None:
    from dgm.archive.records import Evaluation
    from dgm.archive.store import RunStore

    with RunStore.open(small_run) as store:   # a real change for the diff
        (small_run.parent / "child").mkdir()
        (small_run.parent / "child" / "main.py").write_text("print('child')\n")
        store.add_agent("g2c1", "g1c0", store.commit_agent("g2c1", "g1c0", source=small_run.parent / "child"))
        for agent_id, status in (("g0c0", "unresolved"), ("g1c1", "resolved")):   # g1c1 (best) gains t1
            store.add_evaluation(Evaluation(agent_id, "t1", 0, status))
        store.write_artifact("g2c1", "self_improve/trajectory.jsonl", json.dumps(
            {"type": "step", "step": 1, "response": {"content": HOSTILE},
             "tool_calls": [{"function": {"name": "editor", "arguments": "{\"path\": \"main.py\"}"}}],
             "tool_results": [{"name": "editor", "output": "edited main.py"}]}) + "\n")
    with served_page(small_run, chromium) as (page, base, errors):
        page.goto(f"{base}/")
        page.wait_for_function("document.querySelectorAll('[data-agent-id]').length === 5", timeout=30_000)
        page.wait_for_selector('#lineage-changes [data-lineage-agent="g1c1"]', timeout=30_000)
        assert "gained t1; lost none" in page.inner_text('#lineage-changes [data-lineage-agent="g1c1"]')
        assert page.query_selector("#matrix .hm image") is not None   # the heatmap is drawn
        with RunStore.open(small_run) as store:   # the run goes on: the page follows without a reload
            store.add_agent("g3c0", "g2c1", store.commit_agent("g3c0", "g2c1", diff=b""))
        page.wait_for_function("document.querySelectorAll('[data-agent-id]').length === 6", timeout=30_000)
        ids = sorted(page.eval_on_selector_all("[data-agent-id]", "els => els.map(e => e.dataset.agentId)"))
        assert ids == ["g0c0", "g1c0", "g1c1", "g2c0", "g2c1", "g3c0"]
        page.click('[data-agent-id="g2c1"]', force=True)
        page.wait_for_selector("#details .diff .hl", timeout=30_000)
        diff = page.inner_text("#details .diff")
        assert "+print('child')" in diff and "-print('seed')" in diff
        page.wait_for_selector('#trajectory [data-trajectory-shown="self_improve"]', timeout=30_000)
        shown = page.inner_text("#trajectory")
        assert HOSTILE in shown and "tool call editor" in shown and "edited main.py" in shown
        assert page.query_selector("#trajectory img") is None   # agent text is shown, never run
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        check_webgl_and_collapsed(page, f"{base}/?webgl=1&limit=2")
    assert errors == []


def check_webgl_and_collapsed(page: object, url: str) -> None:
    """The large-archive path on a small run: WebGL points (each node then a button with its
    data-agent-id) and a tree collapsed on the server to 2 agents, expanded clade by clade."""
    page.goto(url)
    shown = "+document.getElementById('tree').getAttribute('data-shown')"
    page.wait_for_function(f"{shown} === 2 && document.querySelectorAll('[data-agent-id]').length === 2 && "
                           "document.getElementById('tree').hasAttribute('data-interactive')", timeout=30_000)
    assert page.eval_on_selector_all("#tree-index [data-agent-id]", "els => els.map(e => e.dataset.agentId)") \
        == ["g0c0", "g1c1"]   # the seed and the best; the rest folded under the seed
    assert page.query_selector("#tree canvas") is not None
    page.click('[data-clade-of="g0c0"]', force=True)
    page.wait_for_function(f"{shown} === 3", timeout=30_000)
    page.click('[data-clade-of="g1c0"]', force=True)
    page.wait_for_function(f"{shown} === 5 && document.querySelectorAll('[data-agent-id]').length === 5", timeout=30_000)
    assert page.query_selector('[data-clade-of="g2c1"]') is not None   # g3c0 still folded
    page.focus('#tree-index [data-agent-id="g2c1"]')   # a button: keyboard and screen readers reach it
    page.keyboard.press("Enter")
    page.wait_for_function("document.querySelector('#details h2').textContent === 'Agent g2c1'", timeout=30_000)
    assert "+print('child')" in page.inner_text("#details .diff")


def test_the_tree_is_drawn_and_clickable_before_plotly_has_loaded(small_run: Path, chromium: str) -> None:
    """plotly.min.js held back 4 s: the draft shows every node with its data-agent-id and a click
    shows the agent, then plotly's tree replaces the draft (the same nodes), without an error."""
    import time

    with served_page(small_run, chromium) as (page, base, errors):

        def slow(route: object) -> None:
            time.sleep(4)
            route.continue_()

        page.route("**/plotly.min.js", slow)
        page.goto(f"{base}/", wait_until="commit")
        page.wait_for_selector("#tree-draft [data-agent-id]", timeout=30_000)
        ids = agent_ids(small_run)
        drawn = page.eval_on_selector_all("#tree-draft [data-agent-id]", "els => els.map(e => e.dataset.agentId)")
        assert sorted(drawn) == ids
        assert not page.evaluate("!!window.Plotly")
        page.click('#tree-draft [data-agent-id="g1c0"]')
        page.wait_for_function("document.querySelector('#details h2').textContent === 'Agent g1c0'", timeout=30_000)
        page.wait_for_selector("#tree[data-interactive]", timeout=60_000)
        assert page.query_selector("#tree-draft") is None
        assert sorted(page.eval_on_selector_all("#tree [data-agent-id]", "els => els.map(e => e.dataset.agentId)")) == ids
    assert errors == []



def agent_ids(run_dir: Path) -> list[str]:
    from dgm.archive.store import RunStore

    with RunStore.open(run_dir, readonly=True) as store:
        return sorted(a.id for a in store.list_agents())
