"""Parent-selection policies (DESIGN 3.8): built-ins by name, and the Policy contract that the
evolvable policy also follows."""

from dgm.selection.policy import Policy, SelectionError
from dgm.selection.registry import DEFAULT_POLICY, get_policy, policy_names

__all__ = ["DEFAULT_POLICY", "Policy", "SelectionError", "get_policy", "policy_names"]
