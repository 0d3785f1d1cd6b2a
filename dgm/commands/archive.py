"""`dgm archive ACTION RUN_DIR`: look into a run's archive.

Every action opens the store read-only, so it is safe on a finished, running or crashed run, and
imports neither litellm nor docker (git only where a diff or checkout needs it). The data behind
each action is a function returning plain JSON-able values (`--json` prints exactly that); the
text forms are thin renderings of the same data.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dgm.archive.records import AGENT_STATUSES
from dgm.commands.archive_policies import add_policies_parser, is_policy_id, policy_diff, run_policies
from dgm.commands.tables import format_table

if TYPE_CHECKING:
    from dgm.archive.store import RunStore
    from dgm.archive.views import Archive

HELP = "inspect a run's archive: ls, show, tree, diff, lineage, best, export, report, check, policies"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    sub.required = True

    def action(name: str, help_text: str, *, json_flag: bool = True) -> argparse.ArgumentParser:
        command = sub.add_parser(name, help=help_text, description=help_text)
        command.add_argument("run_dir", type=Path, metavar="RUN_DIR")
        if json_flag:
            command.add_argument("--json", action="store_true", help="print JSON instead of text")
        return command

    ls = action("ls", "list the agents: parent, generation, status, score per stage, children, cost")
    ls.add_argument("--sort", choices=("generation", "score"), default="generation",
                    help="generation (creation order, default) or score (best first)")
    ls.add_argument("--status", choices=AGENT_STATUSES, help="only agents with this status")
    action("show", "one agent: metadata, the diagnosis behind it, diff stat, evaluation, log paths").add_argument(
        "agent", metavar="ID")
    action("tree", "the archive as a tree with scores, the best lineage marked")
    diff = action("diff", "source diff of agent A against its parent, or from A to B (also policy versions, e.g. p1)")
    diff.add_argument("agent", metavar="A")
    diff.add_argument("other", nargs="?", metavar="B", help="diff A..B instead of parent(A)..A")
    action("lineage", "the chain of ancestors from the seed to an agent, with what each change was for").add_argument(
        "agent", metavar="ID")
    action("best", "the best agent (highest score; ties: more tasks run, then earliest) and its lineage")
    export = action("export", "one flat record per agent (jsonl or csv), e.g. for pandas", json_flag=False)
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    export.add_argument("--out", type=Path, metavar="FILE", help="write here instead of standard output")
    report = action("report", "write the dashboard page (dgm serve) frozen into one self-contained HTML file",
                    json_flag=False)
    report.add_argument("--out", type=Path, metavar="FILE", help="default: RUN_DIR/report.html")
    action("check", "verify commits, parents, artifacts and jobs; exit 1 listing any problem", json_flag=False)
    add_policies_parser(sub)


@contextmanager
def _store(run_dir: Path) -> Iterator["RunStore"]:
    from dgm.archive.store import RunStore

    with RunStore.open(run_dir, readonly=True) as store:
        yield store


def _archive(store: "RunStore", *, status: str | None = None) -> tuple["Archive", list[Any]]:
    """The whole archive (for children and lineages) and the agents `status` selects."""
    from dgm.archive.views import Archive

    archive = Archive(store.list_agent_lines())
    chosen = archive.agents if status is None else [agent for agent in archive.agents if agent.status == status]
    return archive, chosen


# -- ls ----------------------------------------------------------------------------------------


def iter_agent_rows(run_dir: Path, *, sort: str = "generation", status: str | None = None) -> Iterator[dict[str, Any]]:
    """One dict per agent (what `ls --json` prints), filtered and sorted, made as they are
    consumed: 100,000 rows never sit in memory at once."""
    from dgm.archive.views import agent_row

    with _store(run_dir) as store:
        archive, chosen = _archive(store, status=status)
    if sort == "score":
        # Best first; unscored agents last; ties keep creation order (sort is stable).
        chosen = sorted(chosen, key=lambda agent: (agent.score is None, -(agent.score or 0.0)))
    for agent in chosen:
        yield agent_row(agent, archive)


def agent_rows(run_dir: Path, *, sort: str = "generation", status: str | None = None) -> list[dict[str, Any]]:
    return list(iter_agent_rows(run_dir, sort=sort, status=status))


def print_agents(run_dir: Path, *, sort: str = "generation", status: str | None = None) -> None:
    from dgm.archive.views import score_text

    cells = [
        (row["id"], row["parent"] or "-", str(row["generation"]),
         row["status"] + (f" of {row['duplicate_of']}" if row["duplicate_of"] else ""), "yes" if row["admitted"] else "no",
         " ".join(f"{s['resolved']}/{s['total']}" for s in row["stages"]) or "-", score_text(row["score"]),
         str(row["tasks"]), _ci_text(row["ci95"]) if row["score"] is not None else "-", str(row["children"]),
         f"${row['cost']:.2f}")
        for row in iter_agent_rows(run_dir, sort=sort, status=status)
    ]
    headers = ("id", "parent", "gen", "status", "admitted", "stages", "score", "n", "95% CI", "children", "cost")
    _write(format_table(headers, ("gen", "score", "n", "children", "cost"), cells, title=f"{run_dir} ({len(cells)} agents)"))


def _ci_text(ci: list[float] | None) -> str:
    return "none" if ci is None else f"[{ci[0]:.2f}, {ci[1]:.2f}]"


def _ls(args: argparse.Namespace) -> int:
    if args.json:
        _write_json_list(iter_agent_rows(args.run_dir, sort=args.sort, status=args.status))
    else:
        print_agents(args.run_dir, sort=args.sort, status=args.status)
    return 0


# -- show --------------------------------------------------------------------------------------


def agent_details(run_dir: Path, agent_id: str) -> dict[str, Any]:
    """Everything about one agent (what `show --json` prints)."""
    with _store(run_dir) as store:
        return agent_details_in(store, _archive(store)[0], store.llm_spend(), agent_id)


def agent_details_in(store: "RunStore", archive: "Archive", spend: dict[str, tuple[float, int]],
                     agent_id: str) -> dict[str, Any]:
    """`agent_details` from an open store, its archive and its spend per agent: building those
    once serves many agents (the frozen report details hundreds; each build reads every agent)."""
    from dgm.archive.views import agent_row, diagnosis_summary, diff_stat

    run_dir = store.run_dir
    agent = store.agent(agent_id)
    diagnosis = _read_json(store.artifacts.path(agent_id, "diagnosis/diagnosis.json"))
    stats = None if agent.parent_id is None else diff_stat(store.diff(agent.parent_id, agent_id))
    evaluations = store.evaluations(agent_id)
    jobs = store.jobs(agent_id=agent_id)
    task_scores = {job.key: job.result.get("score") for job in jobs
                   if job.kind == "evaluate" and job.state == "done" and job.result}
    dollars, tokens = spend.get(agent_id, (0.0, 0))
    counts: dict[str, int] = {}
    for evaluation in evaluations:
        counts[evaluation.status] = counts.get(evaluation.status, 0) + 1
    self_improve = next((job for job in jobs if job.kind == "self_improve"), None)
    return {
        "agent": {**agent_row(agent, archive), "flags": agent.flags, "created_at": agent.created_at},
        "lineage": [a.id for a in archive.lineage(agent_id)],
        "children": list(archive.children.get(agent_id, [])),
        "diagnosis": diagnosis,
        "diagnosis_summary": diagnosis_summary(diagnosis),
        "self_improve": None if self_improve is None else {
            "state": self_improve.state, "attempts": self_improve.attempts, "result": self_improve.result},
        "diff_stat": None if stats is None else {
            "files": [{"path": s.path, "added": s.added, "deleted": s.deleted, "binary": s.binary} for s in stats],
            "added": sum(s.added for s in stats),
            "deleted": sum(s.deleted for s in stats),
        },
        "evaluation": {
            "stages": [stage.to_json() for stage in agent.stages],
            "score": agent.score,
            "counts": counts,
            "tasks": [{"task_id": e.task_id, "stage": e.stage, "status": e.status, "duration": e.duration,
                       "tokens": e.tokens, "cost": e.cost, "artifact_dir": e.artifact_dir,
                       **_task_score(task_scores, agent_id, e.task_id)} for e in evaluations],
        },
        "spend": {"dollars": dollars, "tokens": tokens},
        "jobs": [{"key": job.key, "kind": job.kind, "state": job.state, "attempts": job.attempts} for job in jobs],
        "paths": _log_paths(Path(run_dir), agent_id, evaluations),
        "seed_source": _read_seed_source(Path(run_dir)) if agent.parent_id is None else None,
    }


def _read_seed_source(run_dir: Path) -> Any:
    """provenance.json's record of where the seed agent came from (None for runs made before it)."""
    provenance = _read_json(run_dir / "provenance.json")
    return provenance.get("seed_agent") if isinstance(provenance, dict) else None


def seed_source_text(seed: dict[str, Any]) -> str:
    if seed.get("kind") == "run":
        where = f"agent {seed.get('agent_id')} of the run {seed.get('run_dir')}"
    else:
        where = f"{'the bundled seed agent ' if seed.get('bundled') else 'the directory '}{seed.get('path')}"
    replay = f", replayed from {seed['replay_of']}" if seed.get("replay_of") else ""
    return f"{where} (tree {str(seed.get('tree'))[:12]}){replay}"


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _task_score(scores: dict[str, Any], agent_id: str, task_id: str) -> dict[str, float]:
    """{"score": s} for a scored-suite task (its job's result keeps it), {} for pass/fail tasks."""
    score = scores.get(f"{agent_id}/eval/{task_id}")
    return {} if score is None else {"score": float(score)}


def _log_paths(run_dir: Path, agent_id: str, evaluations: Sequence[Any]) -> dict[str, Any]:
    """Where this agent's logs are (only the ones that exist), absolute."""
    base = run_dir.resolve() / "agents" / agent_id
    named = {
        "agent_dir": base,
        "diagnosis": base / "diagnosis" / "diagnosis.json",
        "self_improve_problem": base / "self_improve" / "problem.md",
        "self_improve_trajectory": base / "self_improve" / "trajectory.jsonl",
        "self_improve_diff": base / "self_improve" / "diff.patch",
        "self_improve_output": base / "self_improve" / "output.txt",
        "run_log": run_dir.resolve() / "log.jsonl",
    }
    paths: dict[str, Any] = {name: str(path) for name, path in named.items() if path.exists()}
    paths["evaluations"] = {
        e.task_id: str(run_dir.resolve() / e.artifact_dir) for e in evaluations
        if e.artifact_dir and (run_dir / e.artifact_dir).exists()
    }
    return paths


def _show_text(data: dict[str, Any]) -> str:
    from dgm.archive.views import score_text

    agent = data["agent"]
    stages = " ".join(f"{s['resolved']}/{s['total']}" for s in agent["stages"]) or "-"
    lines = [
        f"agent {agent['id']}  generation {agent['generation']}  slot {agent['slot']}  origin {agent['origin']}",
        f"  parent     {agent['parent'] or '- (seed)'}",
        *([f"  seed from  {seed_source_text(data['seed_source'])}"] if data.get("seed_source") else []),
        f"  lineage    {' -> '.join(data['lineage'])}",
        f"  children   {', '.join(data['children']) or '-'}",
        f"  status     {agent['status']}" + (f" ({agent['invalid_reason']})" if agent["invalid_reason"] else "")
        + (f" of {agent['duplicate_of']} (same source tree; not evaluated)" if agent.get("duplicate_of") else "")
        + f", {'admitted' if agent['admitted'] else 'not admitted'}, {'eligible' if agent['eligible'] else 'not eligible'} as a parent",
        f"  score      {score_text(agent['score'])}  stages {stages}"
        + (f"  n={agent['tasks']} 95% CI {_ci_text(agent['ci95'])}" if agent["score"] is not None else ""),
        f"  cost       ${agent['cost']:.4f} ({agent['tokens']} tokens in evaluation); "
        f"all model calls ${data['spend']['dollars']:.4f}, {data['spend']['tokens']} tokens",
        f"  commit     {agent['commit']}",
        f"  improver   {agent['improver'] or '-'}  (improved by {agent['improved_by'] or '-'})",
    ]
    diagnosis = data["diagnosis"]
    if diagnosis:
        lines += ["", "diagnosis"]
        entry = diagnosis.get("entry") if isinstance(diagnosis.get("entry"), dict) else {}
        if entry:
            lines.append(f"  entry      {entry.get('kind')}" + (f" (task {entry['task_id']})" if entry.get("task_id") else ""))
        for key in ("problem_description", "improvement_proposal", "implementation_suggestion"):
            if isinstance(diagnosis.get(key), str):
                lines.append(f"  {key.replace('_', ' ')}: {' '.join(diagnosis[key].split())}")
    if data["self_improve"]:
        result = data["self_improve"]["result"] or {}
        lines += ["", f"self-improvement  {data['self_improve']['state']}, attempts {data['self_improve']['attempts']}"
                  + (f", exit {result.get('exit_reason')}" if isinstance(result, dict) and result.get("exit_reason") else "")]
    if data["diff_stat"] is not None:
        stat = data["diff_stat"]
        lines += ["", f"diff against {agent['parent']}: {len(stat['files'])} file(s), +{stat['added']} -{stat['deleted']}"]
        lines += [f"  {f['path']}  " + ("binary" if f["binary"] else f"+{f['added']} -{f['deleted']}") for f in stat["files"]]
    evaluation = data["evaluation"]
    if evaluation["tasks"]:
        counts = ", ".join(f"{n} {status}" for status, n in sorted(evaluation["counts"].items()))
        lines += ["", f"evaluation  {counts}"]
        lines += [f"  stage {t['stage'] + 1}  {t['status']:<11} {t['task_id']}"
                  + (f"  score {t['score']:.3f}" if "score" in t else "")
                  + f"  ({t['duration']:.1f} s, {t['tokens']} tokens)" for t in evaluation["tasks"]]
    paths = data["paths"]
    lines += ["", "logs"] + [f"  {name}: {path}" for name, path in paths.items() if name != "evaluations"]
    lines += [f"  eval {task}: {path}" for task, path in paths["evaluations"].items()]
    return "\n".join(lines)


def _show(args: argparse.Namespace) -> int:
    data = agent_details(args.run_dir, args.agent)
    _write(json.dumps(data, indent=2) if args.json else _show_text(data))
    return 0


# -- tree, lineage, best -------------------------------------------------------------------------


def tree_data(run_dir: Path) -> dict[str, Any]:
    """The archive depth-first (children in creation order), what `tree --json` prints."""
    with _store(run_dir) as store:
        archive, _ = _archive(store)
    lineage = archive.best_lineage()
    marked = set(lineage)
    nodes = []
    for agent_id, depth, _ in archive.walk():
        agent = archive.by_id[agent_id]
        nodes.append({
            "id": agent.id, "parent": agent.parent_id, "depth": depth,
            "generation": agent.generation, "status": agent.status, "invalid_reason": agent.invalid_reason,
            "admitted": agent.admitted, "score": agent.score, "stages": [s.to_json() for s in agent.stages],
            "children": list(archive.children.get(agent.id, [])), "best_lineage": agent.id in marked,
        })
    return {"best": lineage[-1] if lineage else None, "best_lineage": lineage, "nodes": nodes}


def tree_text(run_dir: Path) -> str:
    from dgm.archive.views import score_text, stages_text

    with _store(run_dir) as store:
        archive, _ = _archive(store)
    lineage = archive.best_lineage()
    marked = set(lineage)
    best = lineage[-1] if lineage else None
    lines = [f"{run_dir}: {len(archive)} agents; * marks the best lineage"
             + (f" ({' -> '.join(lineage)})" if lineage else " (no agent scored yet)")]
    for agent_id, _, prefix in archive.walk():
        agent = archive.by_id[agent_id]
        parts = [prefix + agent.id, score_text(agent.score)]
        if agent.stages:
            parts.append(f"[{stages_text(agent)}]")
        if agent.status == "invalid":
            parts.append(f"invalid: {_clip(agent.invalid_reason or '', 60)}")
        elif agent.status == "pending":
            parts.append("pending")
        elif not agent.admitted:
            parts.append("not admitted")
        if agent.id in marked:
            parts.append("* best" if agent.id == best else "*")
        lines.append("  ".join(parts))
    return "\n".join(lines)


def _tree(args: argparse.Namespace) -> int:
    _write(json.dumps(tree_data(args.run_dir), indent=1) if args.json else tree_text(args.run_dir))
    return 0


def lineage_rows(run_dir: Path, agent_id: str) -> list[dict[str, Any]]:
    """Seed first: each ancestor's row plus the one-line diagnosis that produced it."""
    from dgm.archive.views import agent_row, diagnosis_summary

    with _store(run_dir) as store:
        store.agent(agent_id)  # one clear line for an unknown id
        archive, _ = _archive(store)
        chain = archive.lineage(agent_id)
        return [
            {**agent_row(agent, archive),
             "diagnosis": diagnosis_summary(_read_json(store.artifacts.path(agent.id, "diagnosis/diagnosis.json")))}
            for agent in chain
        ]


def _lineage(args: argparse.Namespace) -> int:
    rows = lineage_rows(args.run_dir, args.agent)
    if args.json:
        _write(json.dumps(rows, indent=2))
        return 0
    from dgm.archive.views import score_text

    cells = [(row["id"], str(row["generation"]), score_text(row["score"]),
              " ".join(f"{s['resolved']}/{s['total']}" for s in row["stages"]) or "-", row["status"],
              _clip(row["diagnosis"], 100) or "-") for row in rows]
    _write(format_table(("id", "gen", "score", "stages", "status", "asked to improve"), ("gen", "score"), cells))
    return 0


def best_data(run_dir: Path) -> dict[str, Any] | None:
    """The best agent's row with its lineage, or None when no agent has a score yet."""
    from dgm.archive.views import Archive, agent_row, best_of, noise_note

    with _store(run_dir) as store:
        best = best_of(store.top_scored())
        if best is None:
            return None
        # Only what the row needs: the agent, its lineage and its admitted children.
        family = Archive([*store.lineage(best.id)[:-1], best, *store.children(best.id)])
        runner_up = store.runner_up(best.id)
    return {**agent_row(best, family), "lineage": [a.id for a in family.lineage(best.id)],
            "versus_runner_up": noise_note(best, runner_up)}


def _best(args: argparse.Namespace) -> int:
    from dgm.errors import DgmError

    data = best_data(args.run_dir)
    if data is None:
        raise DgmError(f"{args.run_dir}: no agent has a score yet (expected at least one evaluated agent)")
    if args.json:
        _write(json.dumps(data, indent=2))
    else:
        from dgm.archive.views import score_text

        stages = " ".join(f"{s['resolved']}/{s['total']}" for s in data["stages"])
        versus = data["versus_runner_up"]
        note = "" if versus is None else (
            f"\nversus runner-up {versus['runner_up']}: {versus['difference']:+.3f}, "
            + ("within noise (not distinguishable at 95%)" if versus["within_noise"] else "beyond noise at 95%"))
        _write(f"{data['id']}  score {score_text(data['score'])} ({stages}, n={data['tasks']}, 95% CI "
               f"{_ci_text(data['ci95'])})  generation {data['generation']}\n"
               f"lineage: {' -> '.join(data['lineage'])}{note}")
    return 0


# -- diff --------------------------------------------------------------------------------------


def diff_data(run_dir: Path, agent_id: str, other: str | None = None) -> dict[str, Any]:
    """The source diff parent(A)..A, or A..B; what `diff --json` prints."""
    from dgm.archive.views import diff_report
    from dgm.errors import DgmError

    if is_policy_id(agent_id):
        return policy_diff(run_dir, agent_id, other)
    with _store(run_dir) as store:
        agent = store.agent(agent_id)
        if other is None:
            if agent.parent_id is None:
                raise DgmError(f"{agent_id} is the seed and has no parent to diff against; name a second agent")
            old, new = agent.parent_id, agent_id
        else:
            store.agent(other)
            old, new = agent_id, other
        patch = store.diff(old, new)
    return diff_report(old, new, patch)


def _diff(args: argparse.Namespace) -> int:
    data = diff_data(args.run_dir, args.agent, args.other)
    if args.json:
        _write(json.dumps(data, indent=2))
    elif data["patch"]:
        sys.stdout.write(data["patch"] if data["patch"].endswith("\n") else data["patch"] + "\n")
    else:
        print(f"no source change from {data['old']} to {data['new']}", file=sys.stderr)
    return 0


# -- export, report, check -----------------------------------------------------------------------


def export_records(run_dir: Path) -> list[dict[str, Any]]:
    from dgm.archive.views import Archive, export_record

    with _store(run_dir) as store:
        agents = store.list_agents()
        spend = store.llm_spend()
    archive = Archive(agents)
    stage_count = max((len(agent.stages) for agent in agents), default=0)
    return [export_record(agent, archive, stage_count, spend) for agent in agents]


def _export(args: argparse.Namespace) -> int:
    records = export_records(args.run_dir)
    handle = sys.stdout if args.out is None else _open_for_writing(args.out)
    try:
        if args.format == "jsonl":
            handle.write("".join(json.dumps(record) + "\n" for record in records))
        else:
            import csv

            columns = list(records[0]) if records else ["id"]
            writer = csv.DictWriter(handle, fieldnames=columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(records)
    finally:
        if args.out is not None:
            handle.close()
    if args.out is not None:
        print(f"{len(records)} agents -> {args.out}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from dgm.dashboard import report

    out = args.out or args.run_dir / "report.html"
    html = report.render(args.run_dir)   # not a run: one line, exit 2, nothing written
    tmp = out.with_name(f".{out.name}.tmp")
    with _open_for_writing(tmp) as handle:
        handle.write(html)
    tmp.replace(out)
    print(f"report: {out}")
    return 0


def _open_for_writing(path: Path) -> Any:
    from dgm.errors import DgmError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8", newline="")
    except OSError as err:
        raise DgmError(f"cannot write {path} ({err.strerror}); expected a writable file path (see --out)") from None


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


# -- output ------------------------------------------------------------------------------------


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _write(text: str) -> None:
    sys.stdout.write(text + "\n")


def _write_json_list(items: Iterable[Any]) -> None:
    """A JSON array with one item per line, written as the items come: valid JSON, greppable,
    and fast (the compact C encoder; `indent=` would fall back to the pure-Python one, seconds
    at 100,000 agents)."""
    encode = json.JSONEncoder(check_circular=False).encode
    out = sys.stdout
    separator = "[\n"
    for item in items:
        out.write(separator)
        out.write(encode(item))
        separator = ",\n"
    out.write("[]\n" if separator == "[\n" else "\n]\n")


ACTIONS = {"ls": _ls, "show": _show, "tree": _tree, "diff": _diff, "lineage": _lineage, "best": _best,
           "export": _export, "report": _report, "check": _check, "policies": run_policies}


def run(args: argparse.Namespace) -> int:
    # A short read-only command builds up to millions of small acyclic objects (rows, records);
    # the cyclic collector's repeated passes over them would free nothing and cost about as much
    # as building them (half of `ls` at 100,000 agents). Reference counting still frees memory.
    gc.disable()
    return ACTIONS[args.action](args)
