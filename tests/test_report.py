"""`dgm archive report`: the dashboard page frozen into one file. In real Chromium (Playwright,
file:// URL): it loads nothing but itself, draws one `data-agent-id` node per agent, a click shows
the diff and the trajectory, agent text from the run is shown as text and never runs, no console
error. Screenshots are kept under test-artifacts/report/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dgm.archive.store import RunStore
from dgm.cli import main

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "report"
# Closes the data's script element if the JSON were inlined raw, and runs if shown as HTML.
HOSTILE = "</script><script>document.title='owned'</script><img src=x onerror=\"document.title='owned'\">"


@contextmanager
def opened(chromium: str, page_file: Path) -> Iterator[tuple[Any, list[str], list[str]]]:
    """(page, console errors and page errors, every URL the page requested)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    errors: list[str] = []
    requests: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: errors.append(f"dialog {d.message}"))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.resolve().as_uri())
        yield page, errors, requests
        browser.close()


def drawn(page: Any, count: int) -> None:
    page.wait_for_function(f"document.querySelectorAll('[data-agent-id]').length === {count} && "
                           f"+document.getElementById('tree').getAttribute('data-shown') === {count}", timeout=60_000)


def test_report_is_one_file_that_escapes_the_run(small_run: Path, chromium: str, tmp_path: Path) -> None:
    with RunStore.open(small_run) as store:
        store.mark_invalid("g2c0", HOSTILE)
        store.write_artifact("g1c0", "self_improve/trajectory.jsonl", json.dumps(
            {"type": "step", "step": 1, "response": {"content": HOSTILE}, "tool_calls": [], "tool_results": []}) + "\n")
    out = tmp_path / "report.html"
    assert main(["archive", "report", str(small_run), "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert HOSTILE not in html and "</script><script>document" not in html
    assert html.count("<script") == 3   # plotly, the data, the page's script: nothing from the run
    assert len(html) > 4_000_000        # plotly.min.js is inside
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with opened(chromium, out) as (page, errors, requests):
        drawn(page, 4)
        assert sorted(page.eval_on_selector_all("[data-agent-id]", "els => els.map(e => e.dataset.agentId)")) \
            == ["g0c0", "g1c0", "g1c1", "g2c0"]
        assert "report of a run that was stopped: 4 agents" in page.inner_text("#state")
        page.click('[data-agent-id="g2c0"]', force=True)
        page.wait_for_function("document.querySelector('#details h2').textContent === 'Agent g2c0'", timeout=30_000)
        assert HOSTILE in page.inner_text("#details")   # the invalid reason, as text
        page.click('[data-agent-id="g1c0"]', force=True)
        page.wait_for_selector('#trajectory [data-trajectory-shown="self_improve"]', timeout=30_000)
        assert HOSTILE in page.inner_text("#trajectory")
        page.screenshot(path=str(ARTIFACTS / "small.png"), full_page=True)
        assert page.title() == "dgm run" and page.query_selector("#details img, #trajectory img") is None
    assert requests == [out.resolve().as_uri()]   # nothing fetched: no server, no CDN, no file beside it
    assert errors == []


def test_the_error_check_catches_a_broken_page(small_run: Path, chromium: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert main(["archive", "report", str(small_run), "--out", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("</body>", "<script>notDefinedAnywhere();</script></body>"))
    with opened(chromium, out) as (page, errors, _):
        drawn(page, 4)
    assert any("notDefinedAnywhere is not defined" in e for e in errors), errors


def test_report_of_a_directory_that_is_not_a_run_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.html"
    assert main(["archive", "report", str(tmp_path), "--out", str(out)]) == 2
    assert not out.exists() and len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.docker
def test_report_of_a_real_run_renders_in_chromium(scripted_run: Path, chromium: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    out = ARTIFACTS / "report.html"
    assert main(["archive", "report", str(scripted_run), "--out", str(out)]) == 0
    with RunStore.open(scripted_run, readonly=True) as store:
        ids = sorted(a.id for a in store.list_agents())
        kinds = [e.kind for e in store.events() if e.kind.startswith("policy_")]
        with_results = {e.agent_id for e in store.evaluations() if e.status != "infra_error"}
    with opened(chromium, out) as (page, errors, requests):
        drawn(page, len(ids))
        assert sorted(page.eval_on_selector_all("[data-agent-id]", "els => els.map(e => e.dataset.agentId)")) == ids
        page.click('[data-agent-id="g1c0"]', force=True)
        page.wait_for_selector("#details .diff .hl", timeout=30_000)
        assert "diff --git" in page.inner_text("#details .diff")
        page.wait_for_selector("#trajectory [data-trajectory-shown]", timeout=30_000)
        assert "step 1" in page.inner_text("#trajectory")
        # The quickstart runs one meta step: its policy events are on the timeline, one line each.
        assert len(page.query_selector_all("#policy li")) == max(len(kinds), 1)
        page.wait_for_selector("#matrix .hm image", timeout=30_000)
        assert f"of {len(with_results)} with results" in page.inner_text("#matrix-note")
        page.screenshot(path=str(ARTIFACTS / "report.png"), full_page=True)
    assert requests == [out.resolve().as_uri()]
    assert errors == []


def test_generation_figures() -> None:
    from dgm.archive.records import Agent, StageScore
    from dgm.archive.views import Archive, generation_stats

    def agent(agent_id: str, parent: str | None, generation: int, *stages: StageScore, status: str = "evaluated") -> Agent:
        score = sum(s.resolved for s in stages) / sum(s.total for s in stages) if stages else None
        return Agent(agent_id, parent, generation, 0, "0" * 40, "seed" if parent is None else "self_improve", status,
                     None, True, tuple(stages), score, 0.01, 100, {}, 0.0)

    agents = [agent("g0c0", None, 0, StageScore(2, 10)), agent("g1c0", "g0c0", 1, StageScore(5, 10), StageScore(20, 50)),
              agent("g1c1", "g0c0", 1, status="invalid"), agent("g2c0", "g1c0", 2, StageScore(9, 10), StageScore(45, 50)),
              agent("g2c1", "g1c0", 2, StageScore(1, 10))]
    stats = generation_stats(Archive(agents), {"g0c0": (0.5, 1000), "g1c0": (1.25, 3000), "g2c0": (2.0, 5000)})
    assert [(s.generation, s.agents, s.evaluated, s.invalid) for s in stats] == [(0, 1, 1, 0), (1, 2, 1, 1), (2, 2, 2, 0)]
    assert [s.best for s in stats] == pytest.approx([0.2, 25 / 60, 0.9])
    assert [s.mean for s in stats] == pytest.approx([0.2, 25 / 60, 0.5])
    assert [s.best_so_far for s in stats] == pytest.approx([0.2, 25 / 60, 0.9])
    assert [(s.dollars, s.tokens) for s in stats] == [(0.5, 1000), (1.25, 3000), (2.0, 5000)]
