"""`dgm eval`: benchmark one agent (a directory, or an agent of a run) and print its score."""

from __future__ import annotations

import argparse
import os
import secrets
import time
from pathlib import Path
from typing import Any

HELP = "evaluate one agent on a benchmark (solve and grade each task in sandboxes)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--agent", required=True, metavar="DIR|RUN_DIR:AGENT_ID",
                        help="an agent directory (e.g. agents/seed_agent) or an agent of a run (archive/r1:g3c1)")
    parser.add_argument("--benchmark", choices=("mini", "humaneval", "swebench", "polyglot", "scored"),
                        help="the suite (default: evaluation.benchmark.name of the config, i.e. mini)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--tasks", type=int, metavar="N", help="only the first N tasks of the seed's fixed order")
    which.add_argument("--task-ids", metavar="A,B", help="only these tasks (comma-separated ids)")
    parser.add_argument("--workers", type=int, metavar="N", help="tasks at once (evaluation.workers)")
    parser.add_argument("--model", help="model for every role (litellm model string, or 'scripted'; also $DGM_MODEL)")
    parser.add_argument("--config", help="YAML config file (default: built-in defaults)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set evaluation.infra_retries=0 (repeatable)")
    parser.add_argument("--out", type=Path, help="where logs and report.json go (default: ./archive/evals/<agent>-<benchmark>-<time> under the current directory)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--no-preflight", action="store_true",
                        help="skip the one-token test call to the solve model before the evaluation starts "
                             "(the agent directory, script and price are still checked)")


def _overrides(args: argparse.Namespace) -> list[str]:
    overrides = []
    if args.benchmark:
        overrides.append(f"evaluation.benchmark.name={args.benchmark}")
    if args.workers is not None:
        overrides.append(f"evaluation.workers={args.workers}")
    model = args.model or os.environ.get("DGM_MODEL")
    if model:
        overrides.append(f"llm.model={model}")
    return overrides + list(args.overrides)


def _stages(config: Any, args: argparse.Namespace) -> tuple[list[Any], list[Any]]:
    """(tasks, stages): the configured stages, or one stage of the tasks the flags name."""
    from dgm.benchmarks import load_suite, select
    from dgm.config import StageConfig
    from dgm.errors import DgmError
    from dgm.evaluation import staged

    benchmark = config.evaluation.benchmark
    tasks = load_suite(benchmark)
    if benchmark.task_ids:
        tasks = select(tasks, benchmark.task_ids)
    if args.task_ids:
        tasks = select(tasks, [t.strip() for t in args.task_ids.split(",") if t.strip()])
        return tasks, [StageConfig(size=len(tasks))]
    if args.tasks is not None:
        if args.tasks < 1:
            raise DgmError(f"--tasks {args.tasks}: expected a positive number of tasks")
        return staged.ordered(tasks, config.run.seed)[:args.tasks], [StageConfig(size=args.tasks)]
    return tasks, list(config.evaluation.stages)


def run(args: argparse.Namespace) -> int:
    from dgm import config as configmod
    from dgm import log, resources
    from dgm.agent_source import agent_source
    from dgm.evaluation.runner import EvalContext, evaluate_staged
    from dgm.llm.errors import ModelUnavailable
    from dgm.llm.gateway import Gateway
    from dgm.llm.service import LLMService
    from dgm.preflight import check_setup
    from dgm.sandbox.docker_backend import install_signal_handlers
    from dgm.sandbox.prune import prune

    config = configmod.load(resources.preset(args.config) if args.config else None, _overrides(args))
    install_signal_handlers()  # SIGTERM too removes the sandboxes of tasks in flight
    tasks, stages = _stages(config, args)
    with agent_source(args.agent) as (agent_dir, agent_name):
        # Before the output folder exists: a broken set-up is refused with nothing written or spent.
        check_setup(config, agent_dir=agent_dir, roles=("solve",), call_models=not args.no_preflight)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        out_dir = (args.out or Path.cwd() / "archive" / "evals" /
                   f"{agent_name}-{config.evaluation.benchmark.name}-{stamp}").resolve()
        out_dir.mkdir(parents=True, exist_ok=True)
        log.configure(out_dir, level="warning" if args.json else "info")   # the console is stderr, as it is then
        run_label = f"eval-{stamp}-{secrets.token_hex(3)}"
        console = None if args.json else _console()
        on_result = None
        if console is not None:
            on_result = lambda r: console.print(f"  {_styled(r.status)}  {_escape(r.task_id)}")  # noqa: E731
        try:
            with LLMService(config, out_dir / "llm.db") as llm, Gateway(llm) as gateway:
                if console is not None:
                    console.print(f"evaluating {agent_name} on {config.evaluation.benchmark.name} "
                                  f"({len(tasks)} task(s), model: {_model(llm)}, logs: {out_dir})")
                ctx = EvalContext(config=config, gateway=gateway, run=run_label, agent=agent_name, out_dir=out_dir,
                                  on_result=on_result)
                report = evaluate_staged(agent_dir, tasks, stages, config.run.seed, ctx)
                if llm.unavailable is not None:   # the results say nothing about the agent: no report
                    raise ModelUnavailable(f"the evaluation stopped: {llm.unavailable} (logs: {out_dir})")
        finally:
            prune(run=run_label)
            log.configure(None)   # the log file is closed; later events go to the console only
    data = {**report.to_json(), "out_dir": str(out_dir)}
    import json

    (out_dir / "report.json").write_text(json.dumps(data, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(data))
    else:
        _print_report(report, out_dir, console)
    return 0


def _model(llm: Any) -> str:
    from dgm.errors import DgmError

    try:
        return llm.model_label("solve")
    except DgmError:
        return "none configured (the first model call ends the evaluation)"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _console() -> Any:
    from rich.console import Console

    return Console()


_STYLES = {"resolved": "green", "unresolved": "red", "agent_error": "yellow", "infra_error": "magenta"}


def _styled(status: str) -> str:
    return f"[{_STYLES.get(status, 'white')}]{status:<11}[/]"


def _print_report(report: Any, out_dir: Path, console: Any) -> None:
    from rich.table import Table

    table = Table(title=f"{report.agent} on {report.benchmark}")
    continuous = report.continuous
    numeric = ("score", "tokens", "cost $", "seconds")
    for column in ("task", "status", *(("score",) if continuous else ()), "reason", "tokens", "cost $", "seconds"):
        table.add_column(column, justify="right" if column in numeric else "left")
    for r in report.results:
        score_cell = (("-" if r.score is None else f"{r.score:.3f}"),) if continuous else ()
        table.add_row(_escape(r.task_id), _styled(r.status), *score_cell, _escape(r.reason[:80]), str(r.tokens),
                      f"{r.cost:.4f}", f"{r.duration:.1f}")
    console.print(table)
    for stage in report.stages:
        if stage.admitted:
            done = (f"mean score {stage.points / stage.scored:.3f} over {stage.scored}" if continuous and stage.scored
                    else f"{stage.resolved}/{stage.scored} resolved")
            console.print(f"stage {stage.index + 1} ({stage.rule}): {done}"
                          + (f", {stage.infra_errors} infra error(s) not scored" if stage.infra_errors else ""))
        else:
            console.print(f"stage {stage.index + 1} ({stage.rule}): not admitted")
    if continuous:
        score = "n/a" if report.score is None else f"{report.score:.3f}"
        what = f"mean over {report.scored} scored task(s)"
    else:
        score = "n/a" if report.score is None else f"{report.score:.1%}"
        what = f"{report.resolved}/{report.scored} resolved"
    console.print(f"[bold]score {score}[/]: {what}"
                  f" ({len(report.results) - report.scored} infra error(s) not scored); "
                  f"report: {out_dir / 'report.json'}")
