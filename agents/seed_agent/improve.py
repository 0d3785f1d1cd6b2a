"""The seed agent's improvement procedure: how this agent decides what to change in itself.

    python3 improve.py --context FILE --workspace DIR --out DIR [--max-steps N] [--max-seconds S] [--max-tokens T]

Used when the framework runs with `loop.improver: agent` (see README.md, "The improvement
contract"). FILE is the JSON the framework lets the procedure see: this agent's visible task
results, its lineage and the archive (other agents' outcomes and diffs). This procedure turns it
into a problem statement with its own template, `improve/prompt.md`, and runs this agent's loop
(`main.py`) on the workspace, the writable copy of its own source. Like everything here except the
contract, a descendant may rewrite it: the template, the choice of what to show, or the whole
procedure.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from main import Agent, Limits

TEMPLATE = Path(__file__).resolve().parent / "improve" / "prompt.md"
LOG_CHARS = 12_000       # of the one failed task shown in full
ARCHIVE_CHARS = 30_000   # of the archive section
DIFFS_SHOWN = 3          # most recent other agents whose diff is shown


def score_text(node: dict) -> str:
    visible = node.get("visible") or {}
    if not visible.get("total"):
        return "not scored"
    return f"{visible['resolved']}/{visible['total']}"


def render(context: dict, template: str) -> str:
    nodes = {node["id"]: node for node in context["archive"]}
    lineage = "\n".join(f"- {agent}: {score_text(nodes[agent])}" for agent in context["lineage"] if agent in nodes)
    results = context["results"]
    table = "\n".join(f"- {r['task']}: {r['status']}{' (empty patch)' if r['empty_patch'] else ''}" for r in results)
    failed = next((r for r in results if r.get("log")), None)
    log = failed["log"][-LOG_CHARS:] if failed else "(every task shown was resolved)"
    others = [n for n in context["archive"] if n.get("diff") and n["id"] not in context["lineage"]][-DIFFS_SHOWN:]
    archive = "\n".join(f"- {n['id']} (parent {n['parent']}, {n['status']}, {score_text(n)})"
                        for n in context["archive"])
    for node in others:
        archive += f"\n\n### {node['id']}: {score_text(node)}\n```diff\n{node['diff']}\n```"
    values = {"child": context["child"], "parent": context["parent"], "lineage": lineage or "(none)",
              "results": table or "(no results)", "failed_log": log, "archive": archive[:ARCHIVE_CHARS]}
    for key, value in values.items():
        template = template.replace("{" + key + "}", value)
    return template


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The seed agent's improvement procedure (loop.improver: agent).")
    parser.add_argument("--context", required=True, type=Path, help="JSON file the framework passes")
    parser.add_argument("--workspace", required=True, type=Path, help="writable copy of this agent's source")
    parser.add_argument("--out", required=True, type=Path, help="directory for trajectory.jsonl")
    for name, value in asdict(Limits()).items():
        parser.add_argument("--" + name.replace("_", "-"), type=type(value), default=value)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.workspace.is_dir():
        print(f"--workspace {args.workspace} is not a directory", file=sys.stderr)
        return 2
    context = json.loads(args.context.read_text(encoding="utf-8"))
    problem = render(context, TEMPLATE.read_text(encoding="utf-8"))
    limits = Limits(**{name: getattr(args, name) for name in asdict(Limits())})
    Agent(problem, str(args.workspace.resolve()), args.out, limits).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
