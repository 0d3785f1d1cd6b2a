"""Starting, resuming and replaying runs: everything around the loop that touches the outside.

One function drives all three (`_drive`): take the run lock, reap containers a crash left behind,
reset interrupted jobs, bring up the model layer and the gateway, and hand over to `Runner`.
What differs is only where the config comes from and whether model answers are live or replayed.
"""

from __future__ import annotations

import copy
import os
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from dgm import config as configmod
from dgm import log, resources
from dgm.archive.ids import SEED_ID
from dgm.archive.lock import RunLock
from dgm.archive.store import RunStore
from dgm.config import Config
from dgm.errors import DgmError
from dgm.loop.runner import STOP_FILE, Outcome

_log = log.get(__name__)
SEED_AGENT = resources.seed_agent()
# Keys a resume may change: they bound how long or how wide the run goes, never what it computes.
RESUMABLE_KEYS = ("loop.generations", "loop.units", "loop.max_wall_hours", "loop.workers", "budget", "evaluation.workers",
                  "executor")


class RunFinished(DgmError):
    exit_code = 1


def default_run_dir(config: Config, config_path: str | None) -> Path:
    name = config.run.name or f"{Path(config_path).stem if config_path else 'run'}-{time.strftime('%Y%m%d-%H%M%S')}"
    return archive_root() / name


def archive_root() -> Path:
    """Where runs go unless --out says otherwise: ./archive/ under the current directory."""
    return Path.cwd() / "archive"


def resolved(config: Config) -> dict[str, Any]:
    """The config as stored in the run: every default filled in, plus what makes it reproducible."""
    from dgm.sandbox import image

    data = config.to_dict()
    if data["sandbox"]["image"] is None:
        data["sandbox"]["image"] = image.current_tag()
    return data


def start(config: Config, run_dir: Path, *, call_models: bool = True) -> Outcome:
    """A new run in `run_dir`. Before the directory exists: the pre-flight checks (the seed agent
    it will actually use, the script, prices, and unless `call_models` is off one minimal call
    per model), so a broken set-up is refused with nothing written or spent."""
    from dgm.agent_source import agent_source, canonical, origin
    from dgm.preflight import check_setup, run_roles

    _require_model(config)
    spec = config.run.seed_agent
    data = resolved(config)
    with agent_source(spec or str(SEED_AGENT), "run.seed_agent (--seed-agent)") as (seed_dir, _):
        check_setup(config, agent_dir=seed_dir, agent_label="seed agent", roles=run_roles(config),
                    call_models=call_models)
        if spec is not None:
            data["run"]["seed_agent"] = canonical(spec)
        store = RunStore.create(run_dir, data, seed_dir)
    seed = {"bundled": spec is None, **origin(spec or str(SEED_AGENT)),
            "tree": store.git.tree(store.agent(SEED_ID).commit)}
    _write_provenance(run_dir, store.config()["sandbox"]["image"], seed)
    log.configure(run_dir)
    return _drive(store, configmod.validate(store.config(), str(run_dir / "config.yaml")), resumed=False)


def resume(run_dir: Path, overrides: list[str]) -> Outcome:
    # Everything that can refuse is decided on a read-only view: a refused resume writes nothing.
    with RunStore.open(run_dir, readonly=True) as view:
        stored = view.config()
        config = configmod.validate(configmod.apply_overrides(copy.deepcopy(stored), list(overrides)),
                                    str(run_dir / "config.yaml"))
        _refuse_result_changes(stored, config.to_dict())
        finished = view.events(kind="run_finished")
        done = {e.payload["generation"] for e in view.events(kind="generation_finished")}
    if finished and config.loop.schedule == "async":
        last = finished[-1].payload
        if last["reason"] == "exhausted" or (last["reason"] == "units" and (config.loop.units or 0) <= last["units_limit"]):
            raise RunFinished(f"{run_dir} already finished ({last['units_done']} units of work, "
                              f"{last['reason']}); extend it with --set loop.units=N")
    elif finished and finished[-1].payload["reason"] == "generations" and len(done) >= config.loop.generations:
        raise RunFinished(f"{run_dir} already finished ({len(done)} generations); "
                          "extend it with --set loop.generations=N")
    store = RunStore.open(run_dir)
    (run_dir / STOP_FILE).unlink(missing_ok=True)
    if overrides:
        _rewrite_config(store, config)
    log.configure(run_dir)
    return _drive(store, config, resumed=True)


def replay(source_dir: Path, out_dir: Path) -> tuple[Outcome, list[Any]]:
    """Re-run a recorded run into `out_dir`, answering every model call from the recording."""
    source = RunStore.open(source_dir, readonly=True)
    config = configmod.validate(source.config(), str(source_dir / "config.yaml"))
    attempts = {job.key: job.attempts for job in source.jobs(state="done")}
    seed_dir_holder = out_dir.parent / f".{out_dir.name}.seed"
    source.checkout("g0c0", seed_dir_holder)
    source.close()
    try:
        store = RunStore.create(out_dir, config.to_dict(), seed_dir_holder)
    finally:
        import shutil

        shutil.rmtree(seed_dir_holder, ignore_errors=True)
    _copy_recording(source_dir / "run.db", out_dir / "run.db")
    seed = seed_provenance(source_dir) or {}
    _write_provenance(out_dir, config.sandbox.image or "", {**seed, "replay_of": str(Path(source_dir).resolve())})
    log.configure(out_dir)
    return _drive(store, config, resumed=False, replay=True, replay_attempts=attempts)


def _copy_recording(source_db: Path, target_db: Path) -> None:
    """The replay run keeps the recorded calls it answers from, so it is complete on its own
    (costs, `archive check`, a replay of the replay)."""
    import sqlite3

    from dgm.llm.cassette import Cassette

    Cassette(target_db).close()  # the llm_calls table, with the cassette's own schema
    conn = sqlite3.connect(f"file:{target_db}", uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS source", (f"file:{source_db}?mode=ro",))
        with conn:
            conn.execute("INSERT INTO llm_calls SELECT * FROM source.llm_calls")
        conn.execute("DETACH DATABASE source")
    finally:
        conn.close()


def request_stop(run_dir: Path) -> None:
    RunStore.open(run_dir, readonly=True).close()  # one clear line if it is not a run
    (run_dir / STOP_FILE).write_text(f"stop requested at {time.time()}\n", encoding="utf-8")


def _drive(store: RunStore, config: Config, *, resumed: bool, replay: bool = False,
           replay_attempts: dict[str, int] | None = None) -> Any:
    from dgm.benchmarks import load_suite, select
    from dgm import executor as executors
    from dgm.llm.gateway import Gateway
    from dgm.llm.service import LLMService
    from dgm.loop.context import RunContext
    from dgm.loop.progress import Progress
    from dgm.loop.async_runner import AsyncRunner
    from dgm.loop.runner import Runner
    from dgm.sandbox.docker_backend import install_signal_handlers
    from dgm.sandbox.prune import prune

    install_signal_handlers()  # SIGINT/SIGTERM close this run's sandboxes before the process goes
    run_dir = store.run_dir
    benchmark = config.evaluation.benchmark
    tasks = load_suite(benchmark)
    if benchmark.task_ids:
        tasks = select(tasks, benchmark.task_ids)
    mode = "replay" if replay else "live"
    try:
        with RunLock(run_dir):
            prune(run=store.run_id)
            if resumed:
                reset = store.reset_interrupted_jobs()
                store.add_event("resumed", {"reset_jobs": reset})
            with LLMService(config, run_dir / "run.db", mode) as llm, Gateway(llm) as gateway, \
                    closing(executors.create(config, llm=llm, gateway=gateway, run=store.run_id,
                                             cassette_db=run_dir / "run.db")) as executor, \
                    Progress(lambda: _spend(llm)) as progress:
                ctx = RunContext(config=config, store=store, llm=llm, gateway=gateway, executor=executor,
                                 tasks=tasks, progress=progress, resumed=resumed, replay_attempts=replay_attempts)
                outcome = (AsyncRunner(ctx) if config.loop.schedule == "async" else Runner(ctx)).run()
                if replay:
                    return outcome, list(llm.divergences)
                return outcome
    finally:
        prune(run=store.run_id)
        store.close()
        log.configure(None)  # the run's log file is closed; later events go to the console only


def _spend(llm: Any) -> str:
    spent = llm.budget.spent
    return f"${spent.dollars:.4f} {spent.tokens} tok"


def _require_model(config: Config) -> None:
    if config.llm.model is None and not all(r.model for r in config.llm.roles.values()):
        raise DgmError("no model configured: pass --model MODEL (e.g. openai/gpt-4o) or set llm.model in the config; "
                       "`dgm demo` runs without one using the scripted demo model")


def _flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    if not isinstance(data, dict):
        return {prefix: data}
    flat: dict[str, Any] = {}
    for key, value in data.items():
        flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _refuse_result_changes(stored: dict[str, Any], new: dict[str, Any]) -> None:
    before, after = _flatten(configmod.validate(stored, "stored config").to_dict()), _flatten(new)
    for key in sorted(set(before) | set(after)):
        if before.get(key) != after.get(key) and not key.startswith(RESUMABLE_KEYS):
            raise DgmError(f"resume cannot change {key} ({before.get(key)!r} -> {after.get(key)!r}): it would alter "
                           f"results; only {', '.join(RESUMABLE_KEYS)} may change")


def _rewrite_config(store: RunStore, config: Config) -> None:
    import yaml

    path = store.run_dir / "config.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(config.to_dict(), sort_keys=False), encoding="utf-8")
    os.replace(tmp, path)


def seed_provenance(run_dir: Path) -> dict[str, Any] | None:
    """Where a run's seed agent came from (provenance.json's `seed_agent`), if recorded."""
    import json

    try:
        return json.loads((Path(run_dir) / "provenance.json").read_text(encoding="utf-8")).get("seed_agent")
    except (OSError, ValueError, AttributeError):
        return None


def _write_provenance(run_dir: Path, image_tag: str, seed: dict[str, Any]) -> None:
    """Package versions, the framework's git commit, the sandbox image's digest and the seed
    agent's origin (directory, or run and agent id, with its tree sha), next to the config."""
    import json
    import platform
    import subprocess
    from importlib import metadata

    versions = {}
    for package in ("dgm", "litellm", "docker", "gitpython", "pydantic", "pyyaml", "structlog"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    commit = None
    if resources.in_checkout():  # an installed wheel has no commit; its version is packages.dgm
        try:
            commit = subprocess.run(["git", "-C", str(resources.CHECKOUT_ROOT), "rev-parse", "HEAD"],
                                    capture_output=True, text=True, timeout=10).stdout.strip() or None
        except OSError:
            commit = None
    try:
        from dgm.sandbox.docker_backend import api

        image_id = api().inspect_image(image_tag)["Id"]
    except Exception:  # provenance is best effort; the run itself checks the image when it starts one
        image_id = None
    info = {"python": platform.python_version(), "packages": versions, "framework_commit": commit,
            "sandbox_image": {"tag": image_tag, "id": image_id}, "seed_agent": seed}
    (run_dir / "provenance.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
