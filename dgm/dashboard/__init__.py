"""`dgm serve`: a read-only web view of a run (JSON API in `data`, HTTP in `server`)."""
