"""dgm: a framework for Darwin Gödel Machines.

Host-side only: nothing in this package is imported inside a sandbox.
"""

__version__ = "0.1.0"
