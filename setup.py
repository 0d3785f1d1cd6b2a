"""Build step: the wheel carries agents/, sandbox/ and configs/ as package data.

Everything declarative lives in pyproject.toml. This file only copies the repository-root folders
named in `dgm.resources.BUNDLED` into `dgm/_resources/` of the build, so an installed package finds
the seed agent, the sandbox recipes (every file under sandbox/, whatever images exist) and the
presets without the checkout. Editable installs skip the copy: they use the checkout itself.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
BUNDLED = ("agents", "sandbox", "configs")  # the same tuple as dgm/resources.py (that module is not importable here)
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc")  # never part of an agent or a recipe hash


class BuildWithResources(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "dgm" / "_resources"
        shutil.rmtree(target, ignore_errors=True)
        for name in BUNDLED:
            shutil.copytree(HERE / name, target / name, ignore=JUNK)  # copy2 keeps modes: same recipe hash


setup(cmdclass={"build_py": BuildWithResources})
