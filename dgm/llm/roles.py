"""Which model, temperature and token cap each role uses: the role's own setting or the default."""

from __future__ import annotations

from dataclasses import dataclass

from dgm.config import ROLES, LLMConfig, RoleConfig
from dgm.errors import ConfigError

SCRIPTED = "scripted"
SCRIPTED_LABEL = "scripted model (test/demo double)"


@dataclass(frozen=True)
class RoleSettings:
    model: str
    temperature: float
    max_tokens: int


def role_settings(config: LLMConfig, role: str) -> RoleSettings:
    if role not in ROLES:
        raise ConfigError(f"unknown LLM role {role!r}: expected one of {', '.join(ROLES)}")
    own = config.roles.get(role) or RoleConfig()  # type: ignore[call-overload]
    model = own.model or config.model
    if model is None:
        raise ConfigError(f"llm.model is not set (nor llm.roles.{role}.model): expected a litellm model "
                          "string such as anthropic/claude-sonnet-4-5, or 'scripted' for the demo double")
    if model == SCRIPTED and config.model != SCRIPTED:
        # The double must never stand in for part of a run that names a real model.
        raise ConfigError(f"llm.roles.{role}.model: 'scripted' is selected only by llm.model: scripted")
    if model == SCRIPTED and config.script is None:
        raise ConfigError("llm.script is not set: the scripted model needs a YAML script file")
    return RoleSettings(
        model=model,
        temperature=own.temperature if own.temperature is not None else config.temperature,
        max_tokens=own.max_tokens or config.max_tokens,
    )


def describe(model: str) -> str:
    """How a model is named in output; the double always says what it is."""
    return SCRIPTED_LABEL if model == SCRIPTED else model
