"""`dgm archive policies RUN_DIR` and `dgm archive diff` between selection-policy versions.

The meta-loop's versions (dgm/meta, docs/meta.md) live beside the agents: rows in run.db's
`policies` table and commits under `refs/policies/` in agents.git. Read-only, like every archive
action, and without litellm or docker.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

POLICY_ID = re.compile(r"p(0|[1-9][0-9]*)")


def is_policy_id(text: str | None) -> bool:
    return text is not None and POLICY_ID.fullmatch(text) is not None


def add_policies_parser(sub: Any) -> None:
    """Add the `policies` action to `dgm archive`'s sub-parsers."""
    text = "list the selection-policy versions: parent, status, generations governed, meta-fitness"
    command = sub.add_parser("policies", help=text, description=text)
    command.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    command.add_argument("--json", action="store_true", help="print JSON instead of text")


def policy_rows(run_dir: Path) -> list[dict[str, Any]]:
    """One dict per version, in creation order (what `policies --json` prints)."""
    from dgm.archive.store import RunStore

    with RunStore.open(run_dir, readonly=True) as store:
        versions = store.list_policies()
    return [{"id": v.id, "parent": v.parent_id, "status": v.status, "origin": v.origin,
             "created_after_generation": v.generation, "governed": list(v.governed), "failures": v.failures,
             "meta_fitness": v.meta_fitness, "reason": v.reason, "commit": v.commit} for v in versions]


def run_policies(args: argparse.Namespace) -> int:
    rows = policy_rows(args.run_dir)
    if args.json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return 0
    if not rows:
        print(f"{args.run_dir}: no selection-policy versions (the run has meta.enabled false, or no generation "
              "has been planned yet)")
        return 0
    from dgm.commands.tables import format_table
    from dgm.meta.diagnosis import ranges

    cells = [(row["id"], row["parent"] or "-", row["status"], str(row["created_after_generation"]),
              ranges(tuple(row["governed"])) or "-", str(row["failures"]),
              "-" if row["meta_fitness"] is None else f"{row['meta_fitness']:+.4f}", _clip(row["reason"] or "", 120))
             for row in rows]
    headers = ("id", "parent", "status", "made after gen", "governed", "failures", "meta-fitness", "reason")
    count = f"{len(rows)} policy version{'s' if len(rows) != 1 else ''}"
    sys.stdout.write(format_table(headers, ("made after gen", "failures", "meta-fitness"), cells,
                                  title=f"{args.run_dir} ({count})") + "\n")
    return 0


def policy_diff(run_dir: Path, policy_id: str, other: str | None = None) -> dict[str, Any]:
    """The source diff parent(A)..A, or A..B, between policy versions (the shape of `diff --json`)."""
    from dgm.archive.store import RunStore
    from dgm.archive.views import diff_report
    from dgm.errors import DgmError

    with RunStore.open(run_dir, readonly=True) as store:
        version = store.policy(policy_id)
        if other is None:
            if version.parent_id is None:
                raise DgmError(f"{policy_id} is the seed policy and has no parent to diff against; name a second version")
            old, new = version.parent_id, policy_id
        else:
            if not is_policy_id(other):
                raise DgmError(f"cannot diff policy {policy_id} against {other!r}: expected another policy id, e.g. p1")
            store.policy(other)
            old, new = policy_id, other
        patch = store.policy_diff(old, new)
    return diff_report(old, new, patch)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
