"""The per-language sandbox images of the Polyglot suite: recipes, recipe-hashed tags, builds.

Each image is the Python sandbox image (same user, same environment, git and bash) plus one
language's toolchain from Debian's packages, built by `sandbox/languages/build.sh` without pulling
any base image: the sandbox image's tree is exported, the packages are installed into it in a
chroot, and the tree is imported again. A language's recipe is `sandbox/languages/<lang>/`
(`packages`, optional `env` and host-side `post.sh`); its tag hashes that folder, the shared build
script and the base image's tag, so editing any of them rebuilds, and an unchanged one is a no-op.

Python needs no image of its own: it runs in the sandbox image. Tags are computed without the
docker SDK (the config layer and `dgm --help` use them).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from dataclasses import dataclass

from dgm import log
from dgm.sandbox import image

LANGUAGES = ("cpp", "go", "java", "javascript", "python", "rust")
BUILT = tuple(lang for lang in LANGUAGES if lang != "python")   # languages with an image of their own
RECIPES = image.RECIPE_DIR / image.LANGUAGES_SUBDIR


def parse_languages(text: str) -> list[str]:
    """`all` or a comma-separated list of known languages -> the list, in LANGUAGES order."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    if "all" in names:
        return list(LANGUAGES)
    unknown = sorted(names - set(LANGUAGES))
    if unknown or not names:
        raise image.ImageBuildError(f"--languages: unknown language(s) {', '.join(unknown) or '(none)'} "
                                    f"(expected 'all' or a comma-separated list of {', '.join(LANGUAGES)})")
    return [lang for lang in LANGUAGES if lang in names]


def tag(language: str) -> str:
    """The image the current recipe of `language` builds, e.g. `dgm-sandbox-go:1a2b3c4d5e6f`."""
    if language == "python":
        return image.current_tag()
    if language not in BUILT:
        raise image.ImageBuildError(f"no sandbox image recipe for language {language!r} (expected one of {', '.join(LANGUAGES)})")
    digest = hashlib.sha256((RECIPES / "build.sh").read_bytes()).hexdigest()
    base = image.current_tag()
    return f"{image.REPOSITORY}-{language}:{image.recipe_hash(RECIPES / language, prefix=base + digest)}"


@dataclass(frozen=True)
class LanguageBuild:
    language: str
    tag: str
    built: bool
    seconds: float


def build(language: str, *, force: bool = False) -> LanguageBuild:
    """Build `language`'s image unless its tag exists (the base image first, when missing)."""
    started = time.monotonic()
    if language == "python":
        result = image.build(force=force)
        return LanguageBuild(language, result.tag, result.built, time.monotonic() - started)
    want = tag(language)
    if not force and image.is_present(want):
        return LanguageBuild(language, want, False, 0.0)
    base = image.build().tag
    if os.geteuid() != 0:
        raise image.ImageBuildError(f"building the {language} image needs root (chroot, mount); re-run as root")
    if language == "javascript" and shutil.which("npm") is None:
        raise image.ImageBuildError("building the javascript image needs npm on the host (apt-get install -y npm)")
    log.get(__name__).info("building language image", language=language, tag=want)
    done = subprocess.run(["bash", str(RECIPES / "build.sh"), base, str(RECIPES / language), want],
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise image.ImageBuildError(f"build of {want} failed (exit {done.returncode}): {tail}")
    return LanguageBuild(language, want, True, time.monotonic() - started)
