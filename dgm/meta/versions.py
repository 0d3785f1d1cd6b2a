"""The policy lineage of a run: which version is the incumbent, which is on trial, which one
governs a generation, and the events every change of status writes.

Statuses (store column `policies.status`):
    incumbent  the version that chooses parents outside trials (p0, the seed policy, at first)
    candidate  written by the meta agent, not yet validated
    rejected   failed validation, or the meta step produced no usable policy (reason says why)
    trial      validated; chooses the parents of the `meta.trial` generations after its creation
    reverted   its trial ended below the incumbent's meta-fitness (or it failed during the trial)
    kept       a former incumbent, replaced when a candidate passed its trial
The history lives in the rows and in `policy_*` events (payload: policy, generation, status,
meta_fitness, plus details), which the report reads.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dgm.archive.store import PolicyVersion, RunStore

SEED_POLICY_DIR = Path(__file__).parent / "seed_policy"
POLICY_FILE = "policy.py"
CONTRACT_TEST = "test_policy.py"
SEED_POLICY = "p0"


def ensure_seed(store: RunStore) -> PolicyVersion:
    """p0, the seed policy (a root commit of its own), recorded once per run."""
    found = store.find_policy(SEED_POLICY)
    if found is not None:
        return found
    with seed_files() as files:
        commit = store.commit_policy(SEED_POLICY, None, files)
    with store.transaction():
        version = store.add_policy(SEED_POLICY, None, commit, origin="seed", status="incumbent", generation=0)
        add_event(store, "policy_seeded", version, 0)
    return version


@contextmanager
def seed_files() -> Iterator[Path]:
    """The seed policy and its contract test, without caches a local test run may have left."""
    holder = Path(tempfile.mkdtemp(prefix="dgm-seed-policy-"))
    try:
        for name in (POLICY_FILE, CONTRACT_TEST):
            shutil.copyfile(SEED_POLICY_DIR / name, holder / name)
        yield holder
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def incumbent(store: RunStore) -> PolicyVersion:
    return next(version for version in store.list_policies() if version.status == "incumbent")


def on_trial(store: RunStore) -> PolicyVersion | None:
    return next((version for version in store.list_policies() if version.status == "trial"), None)


def trial_window(version: PolicyVersion, trial: int) -> tuple[int, int]:
    """The generations a version on trial governs: the `trial` ones after it was created."""
    return version.generation + 1, version.generation + trial


def governing(store: RunStore, generation: int, trial: int) -> PolicyVersion:
    """The version that chooses the parents of `generation`."""
    candidate = on_trial(store)
    if candidate is not None:
        first, last = trial_window(candidate, trial)
        if first <= generation <= last:
            return candidate
    return incumbent(store)


def next_id(store: RunStore) -> str:
    return f"p{len(store.list_policies())}"


def source(store: RunStore, version: PolicyVersion) -> bytes:
    """The version's policy.py."""
    with checkout(store, version) as files:
        return (files / POLICY_FILE).read_bytes()


@contextmanager
def checkout(store: RunStore, version: PolicyVersion, work_root: Path | None = None) -> Iterator[Path]:
    holder = Path(tempfile.mkdtemp(prefix="dgm-policy-", dir=work_root))
    try:
        store.git.checkout(version.commit, holder / "src")
        yield holder / "src"
    finally:
        shutil.rmtree(holder, ignore_errors=True)


def add_event(store: RunStore, kind: str, version: PolicyVersion, generation: int, status: str | None = None,
              meta_fitness: float | None = None, **details: Any) -> None:
    """A `policy_*` event in the shape the report reads."""
    store.add_event(kind, {"policy": version.id, "generation": generation, "status": status or version.status,
                           "meta_fitness": meta_fitness if meta_fitness is not None else version.meta_fitness,
                           **details})
