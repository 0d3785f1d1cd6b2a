"""The meta-loop (DESIGN 3.8, docs/meta.md): the parent-selection policy is itself evolved.

An agent rewrites the policy (`step`), the candidate is validated in a sandbox (`validation`),
governs a trial window of generations (`governor`), and is kept or reverted by its meta-fitness
(`trial`, `fitness`). Policy code runs only through `sandboxed.run_policies`, never on the host.
Nothing here is imported unless `meta.enabled` is set or an archive command reads policy rows.
"""
