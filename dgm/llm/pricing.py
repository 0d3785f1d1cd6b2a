"""Dollar cost of a call: a configured price, else litellm's cost map, never a silent zero.

A model the cost map does not list (a local vLLM server, a new release) has no honest default
price, and a budget computed from zeros would never stop a run. So `check_prices` refuses to start
a run until every model it will call is priced, and `Pricer.cost` refuses to guess.

Configured prices (`llm.prices`) win over the map, so a user can correct it. They are per million
tokens; cached prompt tokens use `cached_input_per_mtok` (default: the input price), cache writes
are billed as input. Map prices go through litellm's own calculator, which knows cache discounts
and long-context tiers.
"""

from __future__ import annotations

from collections.abc import Iterable

from dgm.config import ROLES, Config, ModelPrice
from dgm.llm.errors import UnknownPrice
from dgm.llm.roles import SCRIPTED, role_settings
from dgm.llm.types import Usage


def cost_map_key(model: str) -> str | None:
    """The cost-map entry litellm would price `model` by, if the map really lists it.

    litellm's `get_model_info` falls back to provider-wide zeros for unlisted models, so the map
    is read directly and only an entry with both prices counts.
    """
    import litellm

    candidates = [model]
    try:
        name, provider, _, _ = litellm.get_llm_provider(model)
        candidates += [name, f"{provider}/{name}"]
    except Exception:  # litellm raises BadRequestError for strings it cannot route
        pass
    for key in candidates:
        entry = litellm.model_cost.get(key) or {}
        if entry.get("input_cost_per_token") is not None and entry.get("output_cost_per_token") is not None:
            return key
    return None


class Pricer:
    def __init__(self, prices: dict[str, ModelPrice]) -> None:
        self._prices = prices
        self._keys: dict[str, str | None] = {}

    def known(self, model: str) -> bool:
        return model == SCRIPTED or model in self._prices or self._map_key(model) is not None

    def cost(self, model: str, usage: Usage) -> float:
        if model == SCRIPTED:
            return 0.0
        price = self._prices.get(model)
        if price is not None:
            return _configured_cost(price, usage)
        key = self._map_key(model)
        if key is None:
            raise UnknownPrice(unknown_price_message(model))
        return _map_cost(key, usage)

    def _map_key(self, model: str) -> str | None:
        if model not in self._keys:
            self._keys[model] = cost_map_key(model)
        return self._keys[model]


def _configured_cost(price: ModelPrice, usage: Usage) -> float:
    cached_price = price.input_per_mtok if price.cached_input_per_mtok is None else price.cached_input_per_mtok
    uncached = usage.input_tokens - usage.cached_tokens
    return (uncached * price.input_per_mtok + usage.cached_tokens * cached_price
            + usage.output_tokens * price.output_per_mtok) / 1_000_000


def _map_cost(key: str, usage: Usage) -> float:
    import litellm
    from litellm.types.utils import Usage as LiteUsage

    details = {"cached_tokens": usage.cached_tokens} if usage.cached_tokens else None
    lite = LiteUsage(prompt_tokens=usage.input_tokens, completion_tokens=usage.output_tokens,
                     total_tokens=usage.total_tokens, prompt_tokens_details=details,
                     cache_read_input_tokens=usage.cached_tokens,
                     cache_creation_input_tokens=usage.cache_write_tokens)
    prompt_cost, completion_cost = litellm.cost_per_token(model=key, usage_object=lite)
    return float(prompt_cost) + float(completion_cost)


def unknown_price_message(model: str) -> str:
    return (f"no price for model {model!r}: litellm's cost map does not list it; add "
            f"llm.prices.{model}: {{input_per_mtok: ..., output_per_mtok: ...}} (dollars per million tokens)")


def check_prices(config: Config, roles: Iterable[str] = ROLES) -> None:
    """Refuse to start unless every model the given roles use has a price (called at run start)."""
    pricer = Pricer(config.llm.prices)
    for role in roles:
        model = role_settings(config.llm, role).model
        if not pricer.known(model):
            raise UnknownPrice(unknown_price_message(model))
