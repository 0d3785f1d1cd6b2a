"""The run store: agents.git + run.db + artifact directories of one run (DESIGN 3.6).

Import from the modules: `dgm.archive.store.RunStore` (the facade), `dgm.archive.ids`,
`dgm.archive.records`, `dgm.archive.summary.ArchiveSummary` (what selection policies read),
`dgm.archive.check` (integrity). This package file stays empty so the CLI can import the light
modules (ids, records) while building its parser without loading GitPython.
"""
