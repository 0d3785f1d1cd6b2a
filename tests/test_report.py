"""`dgm archive report`: the HTML is self-contained, escapes everything from the run, draws one
node per agent with the best lineage highlighted, and opens in headless Chromium without a
console error (a screenshot is kept under test-artifacts/)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dgm.archive import report
from dgm.archive.records import Agent, Event, StageScore
from dgm.archive.store import RunStore
from dgm.cli import main

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts" / "report"
HOSTILE = "<script>alert('x')</script> & \"quotes\""
# Headless and offline: no proxy but a dead loopback port, no name resolution at all.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
                  "--enable-logging=stderr", "--v=0", "--window-size=1400,1000"]


def agent(agent_id: str, parent: str | None, generation: int, slot: int, *stages: StageScore, status: str = "evaluated",
          reason: str | None = None, admitted: bool = True) -> Agent:
    score = sum(s.resolved for s in stages) / sum(s.total for s in stages) if stages else None
    return Agent(agent_id, parent, generation, slot, "0" * 40, "seed" if parent is None else "self_improve", status,
                 reason, admitted, tuple(stages), score, 0.01, 100, {}, 0.0)


def sample(policy_events: list[Event] | None = None) -> report.ReportData:
    """seed -> g1c0 -> g2c0 (best); seed -> g1c1 (invalid, hostile reason); g1c0 -> g2c1 (not admitted)."""
    agents = [
        agent("g0c0", None, 0, 0, StageScore(2, 10)),
        agent("g1c0", "g0c0", 1, 0, StageScore(5, 10), StageScore(20, 50)),
        agent("g1c1", "g0c0", 1, 1, status="invalid", reason=HOSTILE, admitted=False),
        agent("g2c0", "g1c0", 2, 0, StageScore(9, 10), StageScore(45, 50)),
        agent("g2c1", "g1c0", 2, 1, StageScore(1, 10), admitted=False),
    ]
    return report.ReportData(
        run_name="r<1>", run_dir="/runs/r<1>", state="finished (generations)", settings={"selection": "score_child_prop"},
        agents=agents, spend={"g0c0": (0.5, 1000), "g1c0": (1.25, 3000), "g2c0": (2.0, 5000)},
        diagnoses={"g1c0": f"Add a tool {HOSTILE}", "g2c0": "Retry flaky tests"},
        policy_events=policy_events or [], generated_at=0.0,
    )


def nodes(html: str) -> dict[str, str]:
    """data-id -> class of each tree node."""
    return {m.group(2): m.group(1) for m in re.finditer(r'<g class="(agent[^"]*)" data-id="([^"]+)"', html)}


def test_one_node_per_agent_with_best_lineage_invalid_and_tooltips() -> None:
    html = report.render(sample())
    found = nodes(html)
    assert sorted(found) == ["g0c0", "g1c0", "g1c1", "g2c0", "g2c1"]
    assert found["g2c0"] == "agent lineage best"
    assert found["g0c0"] == found["g1c0"] == "agent lineage"
    assert found["g1c1"] == "agent invalid" and found["g2c1"] == "agent rejected"
    assert html.count('class="edge best"') == 2 + 1   # g0c0->g1c0->g2c0, plus the legend's sample
    tooltip = re.search(r'data-id="g2c0"[^>]*><title>([^<]*)</title>', html).group(1)
    assert tooltip.splitlines() == ["g2c0 (parent g1c0, generation 2)", "score 0.900 n=60 [0.80, 0.95] (9/10 45/50)",
                                    "status evaluated, admitted", "cost $2.0000 (5,000 tokens of model calls)",
                                    "diagnosis: Retry flaky tests"]
    assert 'fill="#1a9850"' not in html.split('data-id="g0c0"')[1].split("</g>")[0]   # 0.2 is not green
    assert report.score_colour(1.0) == "#1a9850" and report.score_colour(0.0) == "#d73027"
    assert report.score_colour(None) == report.UNSCORED


def test_everything_from_the_run_is_escaped_and_nothing_is_external() -> None:
    html = report.render(sample([Event(1, 0.0, "policy_reverted", {"generation": 3, "why": HOSTILE})]))
    assert "<script>alert" not in html and html.count("<script>") == 1   # only the report's own script
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &quot;quotes&quot;" in html
    assert "<title>dgm run r&lt;1&gt;</title>" in html
    for external in ("src=", "href=", "<link", "@import", "http:", "https:", "//cdn"):
        assert external not in html, external
    assert re.findall(r"url\(([^)]*)\)", html) == ["#scale"]   # the legend's own gradient


def test_policy_timeline_only_when_the_meta_loop_ran() -> None:
    assert "Policy timeline" not in report.render(sample())
    events = [Event(7, 0.0, "policy_proposed", {"generation": 4, "policy": "p1", "status": "candidate"}),
              Event(9, 60.0, "policy_kept", {"generation": 6, "policy": "p1", "status": "incumbent",
                                             "meta_fitness": 0.125, "reason": "kept: better", "extra": [1]})]
    html = report.render(sample(events)).split("Policy timeline")[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>(\d+)</td><td>[^<]*</td>" + r"<td>([^<]*)</td>" * 5 + r'<td class="wrap">([^<]*)</td>'
                      r'<td class="wrap">([^<]*)</td></tr>', html)
    assert rows == [("7", "4", "policy_proposed", "p1", "candidate", "", "", ""),
                    ("9", "6", "policy_kept", "p1", "incumbent", "+0.1250", "kept: better", "{&quot;extra&quot;: [1]}")]
    strip = html.split("</svg>")[0]
    assert strip.count("<circle") == 2 and 'fill="#1a9850"' in strip and ">p1 kept</text>" in strip


def test_layout_puts_parents_over_their_children_and_never_overlaps() -> None:
    from dgm.archive.views import Archive

    archive = Archive(sample().agents)
    places = report.layout(archive)
    assert len(set(places.values())) == len(places)
    assert places["g2c0"][1] == 2 and places["g0c0"][1] == 0   # rows are generations
    assert places["g1c0"][0] == (places["g2c0"][0] + places["g2c1"][0]) / 2
    assert places["g0c0"][0] == (places["g1c0"][0] + places["g1c1"][0]) / 2


def test_spend_chart_uses_dollars_or_says_there_was_no_call() -> None:
    html = report.render(sample())
    spend = html.split("Spend per generation")[1].split("</section>")[0]
    assert "generation 1: $1.2500, 3,000 tokens, 2 agent(s)" in spend and spend.count('class="bar"') == 3
    empty = report.render(report.ReportData(**{**sample().__dict__, "spend": {}}))
    assert "No model call recorded yet." in empty.split("Spend per generation")[1]


# -- in a real browser -------------------------------------------------------------------------------


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("DGM_REQUIRE_DOCKER") == "1":
            pytest.fail("chromium is missing (scripts/setup.sh installs it); CI must not skip the report test")
        pytest.skip("chromium is not installed (scripts/setup.sh installs it)")
    return path


def open_in_chromium(page: Path, profile: Path, *, fragment: str = "", screenshot: Path | None = None) -> tuple[str, list[str]]:
    """(the DOM after scripts ran, console messages)."""
    args = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom"]
    if screenshot is not None:
        args.append(f"--screenshot={screenshot}")
    done = subprocess.run([*args, page.resolve().as_uri() + fragment], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    return done.stdout, console


def test_the_console_check_catches_a_broken_page(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(report.render(sample()).replace("</body>", "<script>notDefinedAnywhere();</script></body>"))
    _, console = open_in_chromium(page, tmp_path / "profile")
    assert any("Uncaught ReferenceError: notDefinedAnywhere is not defined" in line for line in console), console


@pytest.mark.docker
def test_report_of_a_real_run_renders_in_chromium(scripted_run: Path, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = ARTIFACTS / "report.html"
    assert main(["archive", "report", str(scripted_run), "--out", str(page)]) == 0
    with RunStore.open(scripted_run, readonly=True) as store:
        ids = sorted(a.id for a in store.list_agents())
    screenshot = ARTIFACTS / "report.png"
    screenshot.unlink(missing_ok=True)
    dom, console = open_in_chromium(page, tmp_path / "profile", screenshot=screenshot)
    assert console == []
    assert sorted(nodes(dom)) == ids   # one SVG node per agent, as the browser parsed it
    assert len(re.findall(r'<g class="agent[^"]*\bbest\b[^"]*" data-id=', dom)) == 1
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and screenshot.stat().st_size > 20_000
    # A link to an agent (#id) opens its details and highlights its row: the script ran.
    dom, console = open_in_chromium(page, tmp_path / "profile", fragment="#g1c0")
    assert console == []
    assert re.search(r'<div id="details" class="details">g1c0 \(parent g0c0, generation 1\)', dom)
    assert '<tr id="agent-g1c0" class="selected">' in dom
    # The quickstart runs one meta step: its policy events are on the timeline, one row each.
    with RunStore.open(scripted_run, readonly=True) as store:
        kinds = [e.kind for e in store.events() if e.kind.startswith("policy_")]
    timeline = dom.split("Policy timeline")[1].split("</table>")[0] if kinds else ""
    assert re.findall(r"<td>(policy_[a-z]+)</td>", timeline) == kinds


def test_generation_figures() -> None:
    from dgm.archive.views import Archive, generation_stats

    data = sample()
    stats = generation_stats(Archive(data.agents), data.spend)
    assert [(s.generation, s.agents, s.evaluated, s.invalid) for s in stats] == [(0, 1, 1, 0), (1, 2, 1, 1), (2, 2, 2, 0)]
    assert [s.best for s in stats] == pytest.approx([0.2, 25 / 60, 0.9])
    assert [s.mean for s in stats] == pytest.approx([0.2, 25 / 60, 0.5])
    assert [s.best_so_far for s in stats] == pytest.approx([0.2, 25 / 60, 0.9])
    assert [(s.dollars, s.tokens) for s in stats] == [(0.5, 1000), (1.25, 3000), (2.0, 5000)]
