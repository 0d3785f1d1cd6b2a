"""Built-in policies by name (the `name` a config or the CLI uses)."""

from __future__ import annotations

from dgm.selection.hgm import HGM
from dgm.selection.policy import Policy, SelectionError
from dgm.selection.ranked import Best, Latest
from dgm.selection.weighted import HyperAgents, ScoreChildProp, ScoreProp, Uniform

DEFAULT_POLICY = "score_child_prop"

_POLICIES: dict[str, Policy] = {
    policy.name: policy
    for policy in (ScoreChildProp(), ScoreProp(), Best(), Uniform(), HGM(), HyperAgents(), Latest())
}


def policy_names() -> list[str]:
    return list(_POLICIES)


def get_policy(name: str) -> Policy:
    try:
        return _POLICIES[name]
    except KeyError:
        raise SelectionError(f"unknown selection policy {name!r}; expected one of {', '.join(_POLICIES)}") from None
