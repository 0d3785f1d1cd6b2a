"""The policy contract from the host's side: what an evolvable policy is given, and whether its
answer may be used (the policy's own statement of the contract is the docstring of
dgm/meta/seed_policy/policy.py).

The answer is untrusted text. It is used only when it is exactly a JSON array of `n` strings,
each the id of an eligible node of the summary the policy was shown; anything else is a
`PolicyAnswerError` whose message says what was wrong, and the caller falls back to the built-in.
"""

from __future__ import annotations

import json
from typing import Any

from dgm.archive.summary import ArchiveSummary
from dgm.errors import DgmError


class PolicyAnswerError(DgmError):
    """A policy run failed or its answer breaks the contract (the message says how)."""


def policy_input(summary: ArchiveSummary, n: int, seed: str) -> dict[str, Any]:
    """The JSON object a policy reads on stdin: the archive summary plus `n` and `seed`."""
    return {**summary.to_dict(), "n": n, "seed": seed}


def check_answer(stdout: str, summary: ArchiveSummary, n: int) -> list[str]:
    """The parent ids in `stdout`, or PolicyAnswerError naming the first breach of the contract."""
    text = stdout.strip()
    if not text:
        raise PolicyAnswerError("printed nothing (expected a JSON array of ids on stdout)")
    try:
        answer = json.loads(text)
    except ValueError:
        raise PolicyAnswerError(f"printed something that is not JSON: {_clip(text)!r}") from None
    if not isinstance(answer, list) or not all(isinstance(item, str) for item in answer):
        raise PolicyAnswerError(f"answered {type(answer).__name__} {_clip(text)!r} (expected a JSON array of id strings)")
    if len(answer) != n:
        raise PolicyAnswerError(f"returned {len(answer)} ids (expected exactly {n})")
    unknown = sorted({item for item in answer if item not in summary})
    if unknown:
        raise PolicyAnswerError(f"returned unknown id(s) {', '.join(_clip(item, 20) for item in unknown[:5])}")
    ineligible = sorted({item for item in answer if not summary[item].eligible})
    if ineligible:
        raise PolicyAnswerError(f"returned id(s) that cannot be parents (not admitted or not evaluated): "
                                f"{', '.join(ineligible[:5])}")
    return answer


def _clip(text: str, width: int = 80) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
