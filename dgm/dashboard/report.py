"""`dgm archive report`: the dashboard page frozen into one self-contained HTML file.

The file is the served page itself, with the answers of the JSON API inlined (so the page code
is the same and the report can never drift from `dgm serve`) and plotly.min.js inlined from the
installed package: it opens offline, from a mail attachment or a CI artifact. It is large (plotly
alone is about 4.8 MB). The page does not poll in a report and the tree cannot be expanded: it is
collapsed as `/api/tree` collapses it. Agent details (diff, trajectories) are inlined for at most
REPORT_AGENTS agents (the ones the collapsed tree keeps first) and trajectories up to
TRAJECTORY_CHARS in all; the page says "not in this report" for the rest.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dgm.archive.store import RunStore
from dgm.archive.views import Archive
from dgm.dashboard import data, page, trajectories
from dgm.dashboard.matrix import matrix
from dgm.dashboard.tree import kept_agents

REPORT_AGENTS = 200        # agent_details costs ~50 ms each (two git diffs, store opens)
TRAJECTORY_CHARS = 20_000_000
MATRIX_ROWS = 300


def _path(*parts: str) -> str:
    """The API path the page asks for (each part percent-encoded as encodeURIComponent does)."""
    return "/api/" + "/".join(quote(part, safe="!'()*-._~") for part in parts)


def answers(run_dir: Path) -> dict[str, Any]:
    """API path -> its JSON answer, for every request the frozen page can make."""
    out: dict[str, Any] = {
        "/api/run": data.run_summary(run_dir),
        "/api/tree": data.tree(run_dir),
        "/api/policy": data.policy_timeline(run_dir),
        "/api/matrix": matrix(run_dir, MATRIX_ROWS),
    }
    with RunStore.open(run_dir, readonly=True) as store:
        archive = Archive(store.list_agent_lines())
        spend = store.llm_spend()
        chosen = kept_agents(archive, REPORT_AGENTS)
        details = {agent.id: data.agent_in(store, archive, spend, agent.id)
                   for agent in archive.agents if agent.id in chosen}
    budget = TRAJECTORY_CHARS
    for agent in archive.agents:
        if agent.id not in chosen:
            continue
        out[_path("agents", agent.id)] = details[agent.id]
        listed = trajectories.index(run_dir, agent.id)
        out[_path("agents", agent.id, "trajectories")] = listed
        for item in listed:
            if budget <= 0:
                break
            steps = trajectories.trajectory(run_dir, agent.id, item["name"])
            budget -= len(json.dumps(steps))
            out[_path("agents", agent.id, "trajectories", item["name"])] = steps
    return out


def render(run_dir: Path) -> str:
    return page.frozen(answers(run_dir))
