"""The run store: agents.git + run.db + artifact directories of one run (DESIGN 3.6).

`RunStore` (dgm.archive.store) is the facade; `ArchiveSummary` (dgm.archive.summary) is what
selection policies read; `check` (dgm.archive.check) verifies a run's integrity.
"""

from dgm.archive.ids import SEED_ID, agent_id, parse_agent_id
from dgm.archive.records import Agent, Evaluation, Event, Job, StageScore
from dgm.archive.store import RunStore

__all__ = ["SEED_ID", "Agent", "Evaluation", "Event", "Job", "RunStore", "StageScore", "agent_id", "parse_agent_id"]
