"""Scaling out (DESIGN 3.9): the sandboxed-job seam and the Ray executor that ships jobs to nodes.

`jobs` is the seam both executors share; `ray_executor`, `worker`, `coordinator` and `node` are
the Ray side and import Ray only inside functions, so a local run never needs it.
"""
