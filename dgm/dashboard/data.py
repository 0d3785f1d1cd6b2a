"""What the dashboard's JSON API returns: plain JSON-able values read from a read-only store.

Every function opens the run read-only (never the run lock, never a write), so it is safe beside
a live run. `agents` is `dgm archive ls --json` itself (the same function), so the two can never
disagree.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Iterable
from typing import Any

from dgm.archive.lock import is_live
from dgm.archive.store import RunStore
from dgm.archive.views import Archive, generation_stats
from dgm.commands.archive import agent_details_in, iter_agent_rows

TREE_LIMIT = 2000       # above this many agents /api/tree folds clades (dgm.dashboard.tree)
DIFF_CHARS = 200_000     # a diff larger than this is cut (the page stays responsive)


def run_state(store: RunStore) -> str:
    """running | finished | stopped (crashed or interrupted)."""
    if is_live(store.run_dir):
        return "running"
    finished = store.events(kind="run_finished")
    started = store.events(kind="run_started")
    if finished and (not started or finished[-1].seq > started[-1].seq):
        return "finished"
    return "stopped"


def version(store: RunStore) -> list[Any]:
    """A cheap fingerprint that changes whenever anything the page shows changes."""
    agents = store.select("SELECT count(*), total(score), total(admitted), total(length(status)) FROM agents")[0]
    events = store.select("SELECT coalesce(max(seq), 0) FROM events")[0]
    calls = store.select("SELECT count(*), total(cost) FROM llm_calls") if store.select(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'llm_calls'") else [(0, 0.0)]
    return [*agents, *events, *calls[0], run_state(store)]


def run_summary(run_dir: Path) -> dict[str, Any]:
    """The run at a glance: state, counts, best agent, spend, figures per generation."""
    with RunStore.open(run_dir, readonly=True) as store:
        archive = Archive(store.list_agent_lines())
        spend = store.llm_spend()
        state = run_state(store)
        fingerprint = version(store)
    best = archive.best()
    return {
        "name": Path(run_dir).resolve().name,
        "state": state,
        "version": fingerprint,
        "agents": len(archive),
        "evaluated": sum(a.status == "evaluated" for a in archive.agents),
        "invalid": sum(a.status == "invalid" for a in archive.agents),
        "best": None if best is None else {"id": best.id, "score": best.score},
        "best_lineage": archive.best_lineage(),
        "spend": {"dollars": sum(d for d, _ in spend.values()), "tokens": sum(t for _, t in spend.values())},
        "generations": [
            {"generation": s.generation, "agents": s.agents, "evaluated": s.evaluated, "invalid": s.invalid,
             "best": s.best, "mean": s.mean, "best_so_far": s.best_so_far, "dollars": s.dollars, "tokens": s.tokens}
            for s in generation_stats(archive, spend)
        ],
    }


def agents(run_dir: Path) -> list[dict[str, Any]]:
    """The same records as `dgm archive ls --json`."""
    return list(iter_agent_rows(run_dir))


def agent(run_dir: Path, agent_id: str) -> dict[str, Any]:
    """`dgm archive show --json` plus the diff against the parent as text (cut at DIFF_CHARS)."""
    with RunStore.open(run_dir, readonly=True) as store:
        return agent_in(store, Archive(store.list_agent_lines()), store.llm_spend(), agent_id)


def agent_in(store: RunStore, archive: Archive, spend: dict[str, tuple[float, int]], agent_id: str) -> dict[str, Any]:
    """`agent` from an open store, its archive and spend (built once for all agents of a report)."""
    details = agent_details_in(store, archive, spend, agent_id)
    parent = details["agent"]["parent"]
    patch = "" if parent is None else store.diff(parent, agent_id)
    details["diff"] = patch[:DIFF_CHARS]
    details["diff_truncated"] = len(patch) > DIFF_CHARS
    details["diff_html"] = diff_html(details["diff"])
    details["paths"] = {}     # the API does not hand out file system paths
    for task in details["evaluation"]["tasks"]:
        task.pop("artifact_dir", None)
    return details


def policy_timeline(run_dir: Path) -> list[dict[str, Any]]:
    """The meta-loop's policy events, each as one sentence."""
    with RunStore.open(run_dir, readonly=True) as store:
        rows = store.select("SELECT seq, ts, kind, payload FROM events WHERE kind LIKE 'policy\\_%' ESCAPE '\\' "
                            "ORDER BY seq")
    out = []
    for seq, ts, kind, payload in rows:
        try:
            data = json.loads(payload)
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
        out.append({"seq": seq, "ts": ts, "kind": kind, "generation": data.get("generation"),
                    "policy": data.get("policy"), "text": describe(kind, data)})
    return out


_VERBS = {"policy_seeded": "started as the seed policy", "policy_proposed": "was proposed",
          "policy_rejected": "was rejected", "policy_trial": "went on trial", "policy_kept": "was kept",
          "policy_reverted": "was reverted", "policy_failed": "failed"}


def describe(kind: str, payload: dict[str, Any]) -> str:
    """`generation 4: policy p1 was kept (meta-fitness +0.1250): kept: better`."""
    text = f"generation {payload.get('generation', '?')}: policy {payload.get('policy', '?')} " \
           f"{_VERBS.get(kind, kind.removeprefix('policy_').replace('_', ' '))}"
    governs = payload.get("governs")
    if isinstance(governs, list) and len(governs) == 2:
        text += f" for generations {governs[0]} to {governs[1]}"
    fitness = payload.get("meta_fitness")
    if isinstance(fitness, (int, float)) and kind in ("policy_kept", "policy_reverted"):
        text += f" (meta-fitness {fitness:+.4f})"
    if payload.get("fallback"):
        text += f"; fell back to {payload['fallback']}"
    if payload.get("reason"):
        text += f": {' '.join(str(payload['reason']).split())[:400]}"
    return text


def tree(run_dir: Path, limit: int = TREE_LIMIT, expand: Iterable[str] = ()) -> dict[str, Any]:
    """The tree as the page draws it (collapsed above `limit` agents, see dgm.dashboard.tree)."""
    from dgm.dashboard.tree import tree as tree_of

    with RunStore.open(run_dir, readonly=True) as store:
        archive = Archive(store.list_agent_lines())
    return tree_of(archive, limit, expand)


def diff_html(patch: str) -> str:
    """The diff coloured by pygments on the server (escaped by it: agent text is untrusted)."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import DiffLexer

    return highlight(patch, DiffLexer(), HtmlFormatter(cssclass="hl")) if patch else "<p>(no source change)</p>"
