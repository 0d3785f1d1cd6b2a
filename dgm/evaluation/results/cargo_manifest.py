"""Which changes to a Rust exercise's Cargo.toml a diff may make without being pinned.

Why this exists: the manifest decides what cargo builds and runs. `[[test]] path = ...` with
`autotests = false` swaps the hidden test target for the agent's own, `build = ...` or a path
dependency runs the agent's code at build time (before the hidden tests compile), `[patch]`
replaces a crate. So a touched Cargo.toml is pinned to its starting version while cargo runs. But
the Exercism Rust track lists Cargo.toml among the solution files, and a reference whose example
uses crates (`regex`, `rand`, ...) needs them in `[dependencies]`. A change confined to
`[dependencies]`, where every changed entry names a crate of the image's registry (Debian's crate
sources, offline: no path, git or other registry), runs only code the image ships: that file is
read as the agent wrote it. Anything else, or a file that does not parse, keeps it pinned.
"""

from __future__ import annotations

import tomllib

# Keys of a dependency table that only choose a registry crate, its version and its features.
REGISTRY_KEYS = frozenset({"version", "features", "default-features", "default_features", "package"})


def _manifest(data: bytes | None) -> dict | None:
    if data is None:
        return None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None


def _registry_dependency(value: object) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, dict) and set(value) <= REGISTRY_KEYS and isinstance(value.get("version", ""), str)


def harmless_change(name: str, before: bytes | None, after: bytes | None) -> bool:
    """True when cargo may read the agent's `Cargo.toml` as it is: it differs from the starting
    one only in `[dependencies]`, and each added or changed entry there is a registry crate."""
    old, new = _manifest(before), _manifest(after)
    if name != "Cargo.toml" or old is None or new is None:
        return False
    if {k: v for k, v in old.items() if k != "dependencies"} != {k: v for k, v in new.items() if k != "dependencies"}:
        return False
    old_deps, new_deps = old.get("dependencies", {}), new.get("dependencies", {})
    if not isinstance(new_deps, dict) or not isinstance(old_deps, dict):
        return False
    return all(_registry_dependency(value) for crate, value in new_deps.items() if old_deps.get(crate) != value)
