"""`dgm archive report`: one self-contained HTML file about a run.

The archive tree as SVG (colour by score, invalid agents marked, the best lineage highlighted, a
tooltip per node), best and mean score per generation, spend per generation, the policy timeline
when the meta-loop ran, and a table of agents. No external resource of any kind (inline CSS, JS
and SVG only), so the file opens offline, from a mail attachment or a CI artifact.

`collect` is the only function that reads the store; everything else is a pure function from
that data to HTML strings. Every string that comes from the run is escaped: agent output,
diagnoses and policy payloads are untrusted text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from dgm.archive.records import Agent, Event
from dgm.archive.store import RunStore
from dgm.archive.views import (Archive, GenerationStats, diagnosis_summary, generation_stats, score_ci_text,
                               stages_text)

LABEL_LIMIT = 400        # above this many agents the tree drops its text labels (tooltips stay)
ROW, MARGIN = 64, 40
SLOT_MIN, SLOT_MAX, TREE_WIDTH = 30, 90, 1100   # px per leaf: wide for small trees, scrolls when large
UNSCORED = "#b8b8b8"


@dataclass(frozen=True)
class ReportData:
    run_name: str
    run_dir: str
    state: str                                   # finished (<reason>) | running | stopped unfinished
    settings: dict[str, str]                     # the few config values a reader needs
    agents: list[Agent]
    spend: dict[str, tuple[float, int]]          # agent id -> (dollars, tokens) of model calls
    diagnoses: dict[str, str]                    # agent id -> one-line diagnosis summary
    policy_events: list[Event] = field(default_factory=list)
    generated_at: float = 0.0


def collect(store: RunStore) -> ReportData:
    """Everything the report shows, read once from a (read-only) store."""
    from dgm.archive.lock import is_live

    agents = store.list_agents()
    diagnoses = {}
    for agent in agents:
        path = store.artifacts.path(agent.id, "diagnosis/diagnosis.json")
        if path.is_file():
            try:
                diagnoses[agent.id] = diagnosis_summary(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                diagnoses[agent.id] = "(diagnosis.json unreadable)"
    rows = store.select("SELECT seq, ts, kind, payload FROM events WHERE kind LIKE 'policy\\_%' ESCAPE '\\' ORDER BY seq")
    policy_events = [Event(seq, ts, kind, _payload(payload)) for seq, ts, kind, payload in rows]
    finished = store.events(kind="run_finished")
    started = store.events(kind="run_started")
    if is_live(store.run_dir):
        state = "running"
    elif finished and (not started or finished[-1].seq > started[-1].seq):
        state = f"finished ({finished[-1].payload.get('reason', '?')})"
    else:
        state = "stopped unfinished (crashed or interrupted; `dgm resume` continues it)"
    return ReportData(
        run_name=store.run_dir.resolve().name, run_dir=str(store.run_dir.resolve()), state=state,
        settings=_settings(store.config()), agents=agents, spend=store.llm_spend(), diagnoses=diagnoses,
        policy_events=policy_events, generated_at=time.time(),
    )


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"payload": text}
    return value if isinstance(value, dict) else {"payload": value}


def _settings(config: Mapping[str, Any]) -> dict[str, str]:
    def get(*path: str) -> Any:
        node: Any = config
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        return node

    wanted = {
        "model": get("llm", "model"),
        "selection": get("loop", "selection"),
        "generations": get("loop", "generations"),
        "children per generation": get("loop", "children_per_generation"),
        "admission": get("loop", "admission"),
        "benchmark": get("evaluation", "benchmark", "name"),
        "seed": get("run", "seed"),
    }
    return {key: str(value) for key, value in wanted.items() if value is not None}


# -- the page ----------------------------------------------------------------------------------


def render(data: ReportData) -> str:
    archive = Archive(data.agents)
    stats = generation_stats(archive, data.spend)
    best = archive.best()
    sections = [
        _header(data, archive, best),
        _section("Archive tree", _tree_svg(archive, data) + _legend()),
        _section("Score per generation", _score_chart(stats)),
        _section("Spend per generation", _spend_chart(stats)),
    ]
    if data.policy_events:
        sections.append(_section("Policy timeline", _policy_timeline(data.policy_events)))
    sections.append(_section("Agents", _agent_table(archive, data)))
    title = f"dgm run {data.run_name}"
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        + "".join(sections)
        + '<div id="details" class="details" hidden></div>'
        + f"<script>{SCRIPT}</script></body></html>\n"
    )


def _section(title: str, body: str) -> str:
    return f"<section><h2>{escape(title)}</h2>{body}</section>"


def _header(data: ReportData, archive: Archive, best: Any) -> str:
    total_dollars = sum(dollars for dollars, _ in data.spend.values())
    total_tokens = sum(tokens for _, tokens in data.spend.values())
    facts = {
        "state": data.state,
        "agents": f"{len(archive)} ({sum(a.status == 'evaluated' for a in archive.agents)} evaluated, "
                  f"{sum(a.status == 'invalid' for a in archive.agents)} invalid)",
        "best": "none scored yet" if best is None else f"{best.id}, score {score_ci_text(best)} ({stages_text(best)})",
        "spend": f"${total_dollars:.4f}, {total_tokens:,} tokens",
        **data.settings,
        "directory": data.run_dir,
        "generated": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(data.generated_at)),
    }
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in facts.items())
    return f"<header><h1>{escape(f'dgm run {data.run_name}')}</h1><table class=\"facts\">{rows}</table></header>"


# -- tree --------------------------------------------------------------------------------------


def score_colour(score: float | None) -> str:
    """Red (0) through yellow (0.5) to green (1); grey when unscored."""
    if score is None:
        return UNSCORED
    low, mid, high = (215, 48, 39), (254, 224, 139), (26, 152, 80)
    value = min(max(score, 0.0), 1.0)
    start, end, t = (low, mid, value * 2) if value <= 0.5 else (mid, high, (value - 0.5) * 2)
    return "#" + "".join(f"{round(a + (b - a) * t):02x}" for a, b in zip(start, end))


def layout(archive: Archive) -> dict[str, tuple[float, int]]:
    """Agent id -> (x slot, row): leaves take successive slots in depth-first order, a parent
    sits over the middle of its children; the row is the generation (when it was made)."""
    order = [agent_id for agent_id, _, _ in archive.walk()]
    x: dict[str, float] = {}
    next_slot = 0
    for agent_id in order:
        if not archive.children.get(agent_id):
            x[agent_id] = next_slot
            next_slot += 1
    for agent_id in reversed(order):
        kids = archive.children.get(agent_id)
        if kids:
            placed = [x[kid] for kid in kids if kid in x]
            x[agent_id] = (placed[0] + placed[-1]) / 2 if placed else next_slot
    return {agent_id: (x[agent_id], archive.by_id[agent_id].generation) for agent_id in order}


def _tooltip(agent: Agent, data: ReportData) -> str:
    dollars, tokens = data.spend.get(agent.id, (0.0, 0))
    lines = [
        f"{agent.id} (parent {agent.parent_id or '-'}, generation {agent.generation})",
        f"score {score_ci_text(agent)}" + (f" ({stages_text(agent)})" if agent.stages else ""),
        f"status {agent.status}" + (f": {agent.invalid_reason}" if agent.invalid_reason else "")
        + (", admitted" if agent.admitted else ", not admitted"),
        f"cost ${dollars:.4f} ({tokens:,} tokens of model calls)",
    ]
    if data.diagnoses.get(agent.id):
        lines.append(f"diagnosis: {data.diagnoses[agent.id]}")
    return "\n".join(lines)


def _tree_svg(archive: Archive, data: ReportData) -> str:
    if not archive.agents:
        return "<p>No agents yet.</p>"
    positions = layout(archive)
    lineage = archive.best_lineage()
    on_best = set(lineage)
    best = lineage[-1] if lineage else None
    labels = len(archive) <= LABEL_LIMIT
    rows = max(row for _, row in positions.values()) + 1
    leaves = max(x for x, _ in positions.values()) + 1
    slot = min(SLOT_MAX, max(SLOT_MIN, TREE_WIDTH / leaves))
    width = MARGIN * 2 + 40 + slot * leaves
    height = MARGIN * 2 + ROW * (rows - 1) + 20

    def point(agent_id: str) -> tuple[float, float]:
        x, row = positions[agent_id]
        return MARGIN + 40 + x * slot, MARGIN + row * ROW

    parts = [f'<svg class="tree" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="archive tree">']
    step = max(1, rows // 40)
    for row in range(0, rows, step):
        parts.append(f'<text class="axis" x="4" y="{MARGIN + row * ROW + 4}">gen {row}</text>')
    for agent in archive.agents:
        if agent.parent_id in positions and agent.id in positions:
            (x1, y1), (x2, y2) = point(agent.parent_id), point(agent.id)
            mid = (y1 + y2) / 2
            cls = "edge best" if agent.id in on_best and agent.parent_id in on_best else "edge"
            parts.append(f'<path class="{cls}" d="M{x1:.1f} {y1:.1f} C{x1:.1f} {mid:.1f} {x2:.1f} {mid:.1f} '
                         f'{x2:.1f} {y2:.1f}"/>')
    for agent_id in positions:
        agent = archive.by_id[agent_id]
        x, y = point(agent_id)
        classes = ["agent"]
        if agent.status == "invalid":
            classes.append("invalid")
        elif not agent.admitted:
            classes.append("rejected")
        if agent_id in on_best:
            classes.append("lineage")
        if agent_id == best:
            classes.append("best")
        node = [f'<g class="{" ".join(classes)}" data-id="{escape(agent_id)}" transform="translate({x:.1f},{y:.1f})">',
                f"<title>{escape(_tooltip(agent, data))}</title>"]
        if agent_id == best:
            node.append('<circle class="halo" r="14"/>')
        if agent.status == "invalid":
            node.append('<circle r="8" fill="#ffffff"/><path class="cross" d="M-5 -5 L5 5 M-5 5 L5 -5"/>')
        else:
            node.append(f'<circle r="8" fill="{score_colour(agent.score)}"/>')
        if labels:
            node.append(f'<text class="label" y="22">{escape(agent_id)}</text>')
        node.append("</g>")
        parts.append("".join(node))
    parts.append("</svg>")
    return f'<div class="scroll">{"".join(parts)}</div>'


def _legend() -> str:
    stops = "".join(f'<stop offset="{v:.2f}" stop-color="{score_colour(v)}"/>' for v in (0, 0.25, 0.5, 0.75, 1))
    return (
        '<svg class="legend" width="720" height="40" viewBox="0 0 720 40">'
        f'<defs><linearGradient id="scale">{stops}</linearGradient></defs>'
        '<rect x="40" y="8" width="160" height="12" fill="url(#scale)"/>'
        '<text x="4" y="18">score</text><text x="36" y="34">0</text><text x="196" y="34">1</text>'
        f'<circle cx="230" cy="14" r="7" fill="{UNSCORED}"/><text x="242" y="18">not scored</text>'
        '<g class="agent invalid" transform="translate(340,14)"><circle r="7" fill="#ffffff"/>'
        '<path class="cross" d="M-4 -4 L4 4 M-4 4 L4 -4"/></g><text x="352" y="18">invalid</text>'
        '<line class="edge best" x1="420" y1="14" x2="450" y2="14"/><text x="456" y="18">best lineage</text>'
        '<g class="agent best"><circle class="halo" cx="570" cy="14" r="10"/></g><text x="586" y="18">best agent</text>'
        '</svg>'
    )


# -- charts ------------------------------------------------------------------------------------


def _score_chart(stats: Sequence[GenerationStats]) -> str:
    if not stats:
        return "<p>No generations yet.</p>"
    width, height, left, bottom, top = 720, 280, 48, 36, 16
    span = max(1, stats[-1].generation - stats[0].generation)
    first = stats[0].generation

    def px(generation: int) -> float:
        return left + (generation - first) / span * (width - left - 24)

    def py(score: float) -> float:
        return top + (1 - score) * (height - top - bottom)

    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="score per generation">']
    for tick in (0, 0.25, 0.5, 0.75, 1):
        parts.append(f'<line class="grid" x1="{left}" x2="{width - 24}" y1="{py(tick):.1f}" y2="{py(tick):.1f}"/>'
                     f'<text class="axis" x="{left - 8}" y="{py(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
    step = max(1, len(stats) // 15)
    for item in stats[::step]:
        parts.append(f'<text class="axis" x="{px(item.generation):.1f}" y="{height - bottom + 18}" '
                     f'text-anchor="middle">{item.generation}</text>')
    parts.append(f'<text class="axis" x="{width / 2:.0f}" y="{height - 2}" text-anchor="middle">generation</text>')
    # Drawn in this order: where lines coincide, the archive's running best stays visible on top.
    series = (("mean", "mean of generation", "series-mean"), ("best", "best of generation", "series-best"),
              ("best_so_far", "best so far", "series-run"))
    for attribute, label, cls in series:
        segment: list[str] = []
        segments: list[list[str]] = [segment]
        for item in stats:
            value = getattr(item, attribute)
            if value is None:
                segment = []
                segments.append(segment)
                continue
            segment.append(f"{px(item.generation):.1f},{py(value):.1f}")
            parts.append(f'<circle class="{cls}" cx="{px(item.generation):.1f}" cy="{py(value):.1f}" r="3">'
                         f"<title>generation {item.generation}: {escape(label)} {value:.3f}</title></circle>")
        parts += [f'<polyline class="{cls}" points="{" ".join(s)}"/>' for s in segments if len(s) > 1]
    for index, (_, label, cls) in enumerate(series):
        x = left + 10 + index * 170
        parts.append(f'<line class="{cls}" x1="{x}" x2="{x + 24}" y1="{top + 6}" y2="{top + 6}"/>'
                     f'<text x="{x + 30}" y="{top + 10}">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _spend_chart(stats: Sequence[GenerationStats]) -> str:
    if not stats:
        return "<p>No generations yet.</p>"
    dollars = any(item.dollars > 0 for item in stats)
    values = [item.dollars if dollars else float(item.tokens) for item in stats]
    if not any(values):
        return "<p>No model call recorded yet.</p>"
    unit = "dollars" if dollars else "tokens (no dollar cost recorded)"
    width, height, left, bottom, top = 720, 240, 64, 36, 16
    peak = max(values)
    bar = (width - left - 24) / len(stats)
    parts = [f'<svg class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="spend per generation">',
             f'<text class="axis" x="{left - 8}" y="{top + 4}" text-anchor="end">{_amount(peak, dollars)}</text>',
             f'<text class="axis" x="{left - 8}" y="{height - bottom + 4}" text-anchor="end">0</text>',
             f'<text class="axis" x="{width / 2:.0f}" y="{height - 2}" text-anchor="middle">generation; '
             f'{escape(unit)}</text>']
    step = max(1, len(stats) // 15)
    for index, (item, value) in enumerate(zip(stats, values)):
        h = value / peak * (height - top - bottom)
        x = left + index * bar
        parts.append(f'<rect class="bar" x="{x + bar * 0.15:.1f}" y="{height - bottom - h:.1f}" '
                     f'width="{bar * 0.7:.1f}" height="{h:.1f}"><title>generation {item.generation}: '
                     f'${item.dollars:.4f}, {item.tokens:,} tokens, {item.agents} agent(s)</title></rect>')
        if index % step == 0:
            parts.append(f'<text class="axis" x="{x + bar / 2:.1f}" y="{height - bottom + 18}" '
                         f'text-anchor="middle">{item.generation}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _amount(value: float, dollars: bool) -> str:
    return f"${value:.4g}" if dollars else f"{value:,.0f}"


# -- tables ------------------------------------------------------------------------------------


_POLICY_COLOURS = {"policy_kept": "#1a9850", "policy_reverted": "#d73027", "policy_rejected": "#999999",
                   "policy_failed": "#7b3294"}


def _policy_timeline(events: Sequence[Event]) -> str:
    """A strip of events by generation (colour: kept, reverted, rejected, failed, other) and a
    table of them. Known payload fields (policy, generation, status, meta_fitness, reason, written
    by dgm/meta) get columns; anything else is shown as JSON."""
    rows, marks, stacked = [], [], {}
    generations = [g for g in (e.payload.get("generation") for e in events) if isinstance(g, int)]
    first, last = min(generations, default=0), max(generations, default=0)
    width, left = 720, 40
    for event in events:
        payload = dict(event.payload)
        generation = payload.pop("generation", "")
        policy, status = payload.pop("policy", ""), payload.pop("status", "")
        fitness, reason = payload.pop("meta_fitness", None), payload.pop("reason", "")
        detail = json.dumps(payload, sort_keys=True, default=str) if payload else ""
        fitness_text = f"{fitness:+.4f}" if isinstance(fitness, (int, float)) else ""
        rows.append(
            f"<tr><td>{event.seq}</td><td>{escape(time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(event.ts)))}</td>"
            f"<td>{escape(str(generation))}</td><td>{escape(event.kind)}</td><td>{escape(str(policy))}</td>"
            f"<td>{escape(str(status))}</td><td>{escape(fitness_text)}</td>"
            f"<td class=\"wrap\">{escape(str(reason)[:400])}</td><td class=\"wrap\">{escape(detail[:400])}</td></tr>"
        )
        if isinstance(generation, int):
            level = stacked.get(generation, 0)
            stacked[generation] = level + 1
            x = left + (generation - first) / max(1, last - first) * (width - left - 24)
            colour = _POLICY_COLOURS.get(event.kind, "#4575b4")
            label = f"{policy} {event.kind.removeprefix('policy_')}".strip()
            marks.append(f'<circle cx="{x:.1f}" cy="{18 + level * 16}" r="6" fill="{colour}"><title>'
                         f"{escape(f'generation {generation}: {event.kind} {policy} {reason}'.strip())}</title></circle>"
                         f'<text x="{x + 10:.1f}" y="{22 + level * 16}">{escape(label)}</text>')
    height = 40 + 16 * max(stacked.values(), default=1)
    axis = "".join(f'<text class="axis" x="{left + (g - first) / max(1, last - first) * (width - left - 24):.1f}" '
                   f'y="{height - 4}" text-anchor="middle">{g}</text>' for g in sorted(set(generations)))
    strip = (f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="policy timeline"><text class="axis" x="0" y="{height - 4}">gen</text>{axis}'
             f'{"".join(marks)}</svg>')
    return strip + ("<table class=\"list\"><thead><tr><th>#</th><th>time (UTC)</th><th>generation</th><th>event</th>"
                    "<th>policy</th><th>status</th><th>meta-fitness</th><th>reason</th><th>details</th></tr></thead>"
                    f"<tbody>{''.join(rows)}</tbody></table>")


def _agent_table(archive: Archive, data: ReportData) -> str:
    rows = []
    for agent in archive.agents:
        dollars, tokens = data.spend.get(agent.id, (0.0, 0))
        status = agent.status + (f": {_clip(agent.invalid_reason, 120)}" if agent.invalid_reason else "")
        rows.append(
            f'<tr id="agent-{escape(agent.id)}"><td>{escape(agent.id)}</td><td>{escape(agent.parent_id or "-")}</td>'
            f"<td>{agent.generation}</td><td class=\"wrap\">{escape(status)}</td><td>{'yes' if agent.admitted else 'no'}</td>"
            f"<td>{escape(stages_text(agent) or '-')}</td><td>{score_ci_text(agent)}</td>"
            f"<td>{archive.admitted_children.get(agent.id, 0)}</td><td>${dollars:.4f}</td><td>{tokens:,}</td>"
            f"<td class=\"wrap\">{escape(data.diagnoses.get(agent.id, ''))}</td></tr>"
        )
    return ("<table class=\"list\"><thead><tr><th>id</th><th>parent</th><th>gen</th><th>status</th><th>admitted</th>"
            "<th>stages</th><th>score</th><th>children</th><th>cost</th><th>tokens</th><th>asked to improve</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")


CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222;background:#fafafa}
h1{font-size:22px;margin:0 0 8px}h2{font-size:17px;margin:0 0 8px}
section,header{background:#fff;border:1px solid #e3e3e3;border-radius:6px;padding:12px 16px;margin-bottom:16px}
table.facts th{text-align:left;padding-right:16px;color:#555;font-weight:600}
table.list{border-collapse:collapse;width:100%}table.list th,table.list td{border-bottom:1px solid #eee;
padding:3px 8px;text-align:left;white-space:nowrap}table.list td.wrap{white-space:normal}
tr.selected td{background:#fff3c4}
.scroll{overflow:auto;max-height:80vh;border:1px solid #eee}
svg text{font:11px system-ui,sans-serif;fill:#333}svg text.axis{fill:#777}
.edge{fill:none;stroke:#c8c8c8;stroke-width:1.5}.edge.best{stroke:#e6a700;stroke-width:4}
.agent{cursor:pointer}.agent circle{stroke:#555;stroke-width:1}.agent.rejected circle{stroke-dasharray:2 2}
.agent.invalid circle{stroke:#999;stroke-dasharray:3 2}.cross{stroke:#c0392b;stroke-width:2}
.agent.lineage>circle:not(.halo){stroke:#e6a700;stroke-width:3}.agent circle.halo{fill:none;stroke:#e6a700;stroke-width:2.5}
.agent .label{text-anchor:middle;font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px}
.grid{stroke:#eee}polyline{fill:none;stroke-width:2}
.series-run{stroke:#e6a700;fill:#e6a700;stroke-dasharray:6 3}polyline.series-run{fill:none}
.series-best{stroke:#1a9850;fill:#1a9850}polyline.series-best{fill:none}
.series-mean{stroke:#4575b4;fill:#4575b4}polyline.series-mean{fill:none}
.bar{fill:#4575b4}
.details{position:fixed;right:16px;bottom:16px;max-width:480px;white-space:pre-wrap;background:#fff;
border:1px solid #bbb;border-radius:6px;padding:10px 12px;box-shadow:0 2px 8px rgba(0,0,0,.15)}
"""

# Click a node (or open the report at #<agent id>): its tooltip text in a panel, its row highlighted.
SCRIPT = """
(function () {
  var panel = document.getElementById('details');
  function select(node) {
    var title = node.querySelector('title');
    panel.textContent = title ? title.textContent : node.getAttribute('data-id');
    panel.hidden = false;
    document.querySelectorAll('tr.selected').forEach(function (row) { row.classList.remove('selected'); });
    var row = document.getElementById('agent-' + node.getAttribute('data-id'));
    if (row) { row.classList.add('selected'); }
  }
  var nodes = document.querySelectorAll('svg.tree g.agent[data-id]');
  nodes.forEach(function (node) { node.addEventListener('click', function () { select(node); }); });
  panel.addEventListener('click', function () { panel.hidden = true; });
  var wanted = decodeURIComponent(window.location.hash.slice(1));
  nodes.forEach(function (node) { if (wanted && node.getAttribute('data-id') === wanted) { select(node); } });
})();
"""
