"""`dgm run CONFIG`: start a new run."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "start a new run from a YAML config"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="YAML config file, or a bundled preset by name (quickstart, paper-swe, ...)")
    parser.add_argument("--out", type=Path, help="run directory (default: ./archive/<run name> under the current directory)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override a config key, e.g. --set loop.generations=5 (repeatable)")
    parser.add_argument("--seed-agent", metavar="DIR|RUN_DIR:AGENT_ID",
                        help="start the archive from this agent instead of the bundled seed agent (run.seed_agent): "
                             "a directory of your own, or an agent of an earlier run, e.g. archive/r1:g3c1")
    parser.add_argument("--model", help="model for every role (litellm model string; also $DGM_MODEL)")
    parser.add_argument("--no-preflight", action="store_true",
                        help="skip the one-token test call to each configured model before the run starts "
                             "(the seed agent, script and prices are still checked; they cost nothing)")


def run(args: argparse.Namespace) -> int:
    import os

    from dgm import config as configmod
    from dgm import resources
    from dgm.commands._report import print_outcome
    from dgm.loop import session

    overrides = list(args.overrides)
    model = args.model or os.environ.get("DGM_MODEL")
    if model:
        overrides.append(f"llm.model={model}")
    if args.seed_agent:
        overrides.append(f"run.seed_agent={args.seed_agent}")
    config_path = resources.preset(args.config)
    config = configmod.load(config_path, overrides)
    run_dir = args.out or session.default_run_dir(config, str(config_path))
    outcome = session.start(config, run_dir, call_models=not args.no_preflight)
    return print_outcome(run_dir, outcome)
