"""The LLM layer (DESIGN 3.3): per-role models, budgets, the sandbox gateway, record and replay.

Entry points: `LLMService` (host-side calls, budgets, cassette), `Gateway` (sandboxed agents),
`check_prices` (run start). Nothing here imports litellm at module level, so `dgm --help` stays
fast; litellm reads its bundled cost map, never the network.
"""

import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from dgm.llm.budget import Budget, Spend  # noqa: E402
from dgm.llm.errors import (AuthenticationFailed, BadRequest, BudgetExceeded, ContextWindowExceeded,  # noqa: E402
                            LLMCallError, ReplayDivergence, UnknownPrice, UpstreamError)
from dgm.llm.gateway import Gateway  # noqa: E402
from dgm.llm.pricing import check_prices  # noqa: E402
from dgm.llm.roles import SCRIPTED_LABEL  # noqa: E402
from dgm.llm.service import LLMService  # noqa: E402
from dgm.llm.types import Completion, JobGrant, Usage  # noqa: E402

__all__ = [
    "AuthenticationFailed", "BadRequest", "Budget", "BudgetExceeded", "Completion", "ContextWindowExceeded",
    "Gateway", "JobGrant", "LLMCallError", "LLMService", "ReplayDivergence", "SCRIPTED_LABEL", "Spend",
    "UnknownPrice", "UpstreamError", "Usage", "check_prices",
]
