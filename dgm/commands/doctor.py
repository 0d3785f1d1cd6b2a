"""`dgm doctor`: can this machine run a DGM? One line per check, with the fix for each failure.

Checks what a run needs before it spends money: a Docker daemon, the current sandbox image,
disk space for the archive, and API keys for the configured models (names only, never values).
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pydantic is not needed to print `dgm --help`
    from dgm import config as config_mod

HELP = "check Docker, the sandbox image, disk space and API keys"
MIN_FREE_GIB = 5.0    # a two-week run keeps every trajectory, patch and log


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="run configuration (YAML, or a bundled preset by name) whose models need API keys")
    parser.add_argument("--archive", default="archive", help="archive root that will hold the runs (default: archive)")


def check_docker() -> Check:
    try:
        import docker

        version = docker.from_env(timeout=10).version().get("Version", "?")
    except Exception as exc:
        return Check("Docker daemon", False, f"not reachable: {str(exc)[:120]}",
                     "start Docker (e.g. `sudo systemctl start docker`) or run scripts/setup.sh")
    return Check("Docker daemon", True, f"reachable, version {version}")


def check_image(cfg: "config_mod.Config") -> Check:
    from dgm.sandbox import image

    want = cfg.sandbox.image or image.current_tag()
    try:
        present = image.is_present(want)
    except Exception as exc:
        return Check("sandbox image", False, f"cannot ask the daemon about {want}: {str(exc)[:80]}", "fix the Docker daemon first")
    if present:
        current = "" if cfg.sandbox.image else " (matches the recipe in sandbox/)"
        return Check("sandbox image", True, f"{want} present{current}")
    if cfg.sandbox.image:
        return Check("sandbox image", False, f"{want} (sandbox.image in the config) is not present",
                     f"pull or build {want}, or remove sandbox.image to use the recipe's image")
    return Check("sandbox image", False, f"{want} missing: the recipe in sandbox/ changed or was never built",
                 "run `dgm sandbox build`")


def check_disk(archive: Path) -> Check:
    probe = archive.resolve()
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free / 2**30
    if free < MIN_FREE_GIB:
        return Check("disk space", False, f"{free:.1f} GiB free under {archive} (want >= {MIN_FREE_GIB:g} GiB)",
                     "free disk space or pass --archive on a larger disk")
    return Check("disk space", True, f"{free:.1f} GiB free under {archive}")


def configured_models(cfg: "config_mod.Config") -> list[str]:
    models = [cfg.llm.model] + [role.model for role in cfg.llm.roles.values()]
    return sorted({m for m in models if m})


def check_keys(cfg: "config_mod.Config") -> list[Check]:
    models = configured_models(cfg)
    if not models:
        return [Check("API keys", True, "no model configured (pass --config to check a run's models)")]
    checks = []
    for model in models:
        if model == "scripted":
            checks.append(Check(f"API keys: {model}", True, "test/demo double, needs no key"))
            continue
        import litellm

        found = litellm.validate_environment(model, api_base=cfg.llm.api_base)
        missing = found.get("missing_keys") or []
        if found.get("keys_in_environment") or not missing:
            checks.append(Check(f"API keys: {model}", True, "present in the environment"))
        else:
            names = ", ".join(missing)
            checks.append(Check(f"API keys: {model}", False, f"missing {names}", f"export {names} in the shell that runs dgm"))
    return checks


def run_checks(cfg: "config_mod.Config", archive: Path) -> list[Check]:
    results = [check_docker()]
    if results[0].ok:
        results.append(check_image(cfg))
    else:
        results.append(Check("sandbox image", False, "not checked (no Docker daemon)", "fix the Docker daemon first"))
    results.append(check_disk(archive))
    results.extend(check_keys(cfg))
    return results


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from dgm import config as config_mod
    from dgm import resources

    cfg = config_mod.load(resources.preset(args.config) if args.config else None)
    results = run_checks(cfg, Path(args.archive))
    table = Table(title="dgm doctor")
    for column in ("check", "status", "detail"):
        table.add_column(column)
    for check in results:
        table.add_row(check.name, "[green]ok[/]" if check.ok else "[red]FAIL[/]", check.detail)
    console = Console()
    console.print(table)
    failed = [check for check in results if not check.ok]
    for check in failed:
        console.print(f"fix {check.name}: {check.fix}", markup=False, highlight=False)
    return 1 if failed else 0
