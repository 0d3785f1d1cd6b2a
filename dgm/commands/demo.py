"""`dgm demo`: the quickstart run, with a real model if one is named, else the scripted demo model."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

HELP = "run the quickstart (scripted demo model unless --model or $DGM_MODEL names a real one)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a real model (litellm string) instead of the scripted demo model")
    parser.add_argument("--out", type=Path, help="run directory (default: ./archive/demo-<time> under the current directory)")


def run(args: argparse.Namespace) -> int:
    import os

    from dgm import config as configmod
    from dgm import resources
    from dgm.commands._report import print_outcome
    from dgm.loop import session

    configs = resources.configs()
    model = args.model or os.environ.get("DGM_MODEL")
    if model:
        overrides = [f"llm.model={model}"]
        print(f"dgm demo: running {configs / 'quickstart.yaml'} with the model {model}")
    else:
        overrides = ["llm.model=scripted", f"llm.script={configs / 'demo' / 'script.yaml'}"]
        print("dgm demo: no model named (--model or DGM_MODEL), so this demo uses the SCRIPTED DEMO MODEL, "
              f"a deterministic test/demo double defined in {configs / 'demo' / 'script.yaml'} - not a real model.")
    config = configmod.load(configs / "quickstart.yaml", overrides)
    run_dir = args.out or session.archive_root() / f"demo-{time.strftime('%Y%m%d-%H%M%S')}"
    outcome = session.start(config, run_dir)
    return print_outcome(run_dir, outcome)
