"""Where the framework's bundled files live, in a checkout and in an installed package.

The seed agent (`agents/`), the sandbox recipes (`sandbox/`) and the presets with the demo script
(`configs/`) stay at the repository root, where users and the other parts of the project refer to
them. A wheel carries copies of those folders under `dgm/_resources/` (the build step in setup.py
puts them there), so `pip install .` works outside the checkout. This module is the one place that
decides which of the two to use: the packaged copy when it exists (an installed wheel), else the
checkout next to the `dgm` package (the editable install of `scripts/setup.sh`).
"""

from __future__ import annotations

from pathlib import Path

# Folders at the repository root that the wheel carries; setup.py reads this tuple.
BUNDLED = ("agents", "sandbox", "configs")
PACKAGED_ROOT = Path(__file__).resolve().parent / "_resources"
CHECKOUT_ROOT = Path(__file__).resolve().parents[1]


def root() -> Path:
    """The folder that holds agents/, sandbox/ and configs/."""
    return PACKAGED_ROOT if PACKAGED_ROOT.is_dir() else CHECKOUT_ROOT


def path(*parts: str) -> Path:
    """A bundled file or folder, e.g. `path("configs", "quickstart.yaml")`."""
    return root().joinpath(*parts)


def in_checkout() -> bool:
    """True when running from a source checkout (its git commit is the framework's version)."""
    return root() == CHECKOUT_ROOT and (CHECKOUT_ROOT / "pyproject.toml").is_file()


def seed_agent() -> Path:
    return path("agents", "seed_agent")


def sandbox_recipe() -> Path:
    return path("sandbox")


def configs() -> Path:
    return path("configs")


def preset(spec: str) -> Path:
    """A config file: `spec` itself when it exists, else a bundled preset of that name
    (`quickstart`, `quickstart.yaml`, `configs/quickstart.yaml`, `ablations/no-self-improve`), so the
    presets are usable after `pip install` without the checkout."""
    given = Path(spec).expanduser()
    if given.is_file():
        return given
    name = spec[len("configs/"):] if spec.startswith("configs/") else spec
    for candidate in (configs() / name, configs() / f"{name}.yaml"):
        if candidate.is_file() and candidate.resolve().is_relative_to(configs().resolve()):
            return candidate
    return given  # the config loader names the missing file
