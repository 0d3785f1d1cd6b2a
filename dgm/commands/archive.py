"""`dgm archive ls|check RUN_DIR`: look into a run's archive (read-only, safe beside a live run)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from dgm.archive.records import AGENT_STATUSES

HELP = "inspect a run's archive: list its agents, check its integrity"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True
    ls = sub.add_parser("ls", help="list the agents: parent, generation, status, score per stage, children, cost")
    ls.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    ls.add_argument("--json", action="store_true", help="print a JSON array instead of a table")
    ls.add_argument("--sort", choices=("generation", "score"), default="generation",
                    help="generation (creation order, default) or score (best first)")
    ls.add_argument("--status", choices=AGENT_STATUSES, help="only agents with this status")
    check = sub.add_parser("check", help="verify commits, parents, artifacts and jobs; exit 1 listing any problem")
    check.add_argument("run_dir", type=Path, metavar="RUN_DIR")


def agent_rows(run_dir: Path, *, sort: str = "generation", status: str | None = None) -> list[dict[str, Any]]:
    """One dict per agent (what `ls --json` prints), filtered and sorted."""
    from dgm.archive.store import RunStore

    with RunStore.open(run_dir, readonly=True) as store:
        agents = store.list_agents(status=status)
        summary = store.summary()
    rows = [
        {
            "id": agent.id,
            "parent": agent.parent_id,
            "generation": agent.generation,
            "slot": agent.slot,
            "origin": agent.origin,
            "status": agent.status,
            "invalid_reason": agent.invalid_reason,
            "admitted": agent.admitted,
            "eligible": summary[agent.id].eligible,
            "stages": [stage.to_json() for stage in agent.stages],
            "score": agent.score,
            "children": summary[agent.id].children,
            "cost": agent.cost,
            "tokens": agent.tokens,
            "commit": agent.commit,
        }
        for agent in agents
    ]
    if sort == "score":
        # Best first; unscored agents last; ties keep creation order (sort is stable).
        rows.sort(key=lambda row: (row["score"] is None, -(row["score"] or 0.0)))
    return rows


def print_agents(run_dir: Path, *, sort: str = "generation", status: str | None = None) -> None:
    from rich import box
    from rich.console import Console
    from rich.measure import Measurement
    from rich.table import Table

    rows = agent_rows(run_dir, sort=sort, status=status)
    table = Table(title=f"{run_dir} ({len(rows)} agents)", box=box.SIMPLE_HEAD, pad_edge=False)
    for column, justify in (("id", "left"), ("parent", "left"), ("gen", "right"), ("status", "left"),
                            ("admitted", "left"), ("stages", "left"), ("score", "right"), ("children", "right"),
                            ("cost", "right")):
        table.add_column(column, justify=justify, no_wrap=True)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(
            row["id"],
            row["parent"] or "-",
            str(row["generation"]),
            row["status"],
            "yes" if row["admitted"] else "no",
            " ".join(f"{s['resolved']}/{s['total']}" for s in row["stages"]) or "-",
            "-" if row["score"] is None else f"{row['score']:.3f}",
            str(row["children"]),
            f"${row['cost']:.2f}",
        )
    console = Console()
    # Never squeeze ids and scores into ellipses: widen past the terminal when needed.
    natural = Measurement.get(console, console.options.update(width=100_000), table).maximum
    if natural > console.width:
        console = Console(width=natural)
    console.print(table)


def _ls(args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(agent_rows(args.run_dir, sort=args.sort, status=args.status), indent=2))
    else:
        print_agents(args.run_dir, sort=args.sort, status=args.status)
    return 0


def _check(args: argparse.Namespace) -> int:
    from dgm.archive.check import check_run

    problems = check_run(args.run_dir)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {args.run_dir}")
        return 1
    print(f"ok: {args.run_dir}")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"ls": _ls, "check": _check}[args.action](args)
