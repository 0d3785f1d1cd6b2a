"""The end of a trial: keep the candidate (it becomes the incumbent) or revert to the incumbent.

The candidate's meta-fitness over its trial window is compared with the incumbent's over the
window of the same length just before the trial (dgm/meta/fitness.py). The candidate is kept when
it did at least as well and never failed during its trial (a failure means the built-in chose
for it at least once, so its window does not measure it). Both outcomes are recorded on the rows
(status, reason, meta_fitness; the incumbent's row gets its own measured meta-fitness) and as a
`policy_kept` or `policy_reverted` event.
"""

from __future__ import annotations

from dgm import log
from dgm.archive.store import PolicyVersion, RunStore
from dgm.config import MetaConfig
from dgm.meta import versions
from dgm.meta.fitness import best_gain_is_noise, window_fitness

_log = log.get(__name__)


def decide(store: RunStore, finished_generation: int, meta: MetaConfig) -> PolicyVersion | None:
    """Decide the trial whose window ended by `finished_generation`, if any (idempotent)."""
    candidate = versions.on_trial(store)
    if candidate is None:
        return None
    first, last = versions.trial_window(candidate, meta.trial)
    if last > finished_generation:
        return None
    incumbent = versions.incumbent(store)
    agents = store.list_agents()
    trial = window_fitness(agents, first, last, meta.top_k)
    baseline = window_fitness(agents, max(1, first - meta.trial), first - 1, meta.top_k)
    if candidate.failures:
        kept, why = False, f"failed in {candidate.failures} of its {meta.trial} trial generation(s)"
    else:
        kept = trial.value >= baseline.value
        why = (f"meta-fitness {trial.value:+.4f}/generation over generations {first}-{last} vs the incumbent "
               f"{incumbent.id}'s {baseline.value:+.4f} over {baseline.first}-{baseline.last}")
        if best_gain_is_noise(agents, first, last) and best_gain_is_noise(agents, baseline.first, baseline.last):
            why += "; within noise: neither window's gain of best is distinguishable from none at 95%"
    reason = f"{'kept' if kept else 'reverted'}: {why}"
    with store.transaction():
        store.set_policy_status(incumbent.id, "kept" if kept else "incumbent", meta_fitness=baseline.value)
        store.set_policy_status(candidate.id, "incumbent" if kept else "reverted", reason=reason,
                                meta_fitness=trial.value)
        versions.add_event(store, "policy_kept" if kept else "policy_reverted", store.policy(candidate.id), last,
                           status="kept" if kept else "reverted", meta_fitness=trial.value, incumbent=incumbent.id,
                           baseline=baseline.to_json(), trial=trial.to_json(), reason=reason)
    _log.info("policy trial decided", policy=candidate.id, kept=kept, meta_fitness=trial.value,
              baseline=baseline.value)
    return store.policy(candidate.id)
