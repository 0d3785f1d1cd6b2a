"""agents.git: every agent's source as a commit in one bare repository.

A child's commit has its parent agent's commit as git parent, so diff, lineage and checkout are
plain git operations and the whole search tree is inspectable with stock git tools
(`git --git-dir archive/<run>/agents.git log refs/agents/g3c1`).

Every operation that needs an index uses a private temporary index file (GIT_INDEX_FILE), so
parallel jobs can build commits at the same time without sharing state. Commits carry a fixed
identity and date: the same tree, parent and message always give the same sha, so a replayed run
reproduces the archive exactly.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import git

from dgm.errors import DgmError

REF_PREFIX = "refs/agents/"
# Selection-policy versions (the meta-loop, dgm/meta): their own lineage from a separate root commit.
POLICY_REF_PREFIX = "refs/policies/"
# Caches an agent's own test runs leave behind are not part of the agent. Applied explicitly
# (not through .gitignore rules, which an evolved agent could write to hide its own files).
_CACHE_PATHSPECS = (":(glob)**/__pycache__/**", ":(glob)**/*.pyc", ":(glob)**/.pytest_cache/**")
_FIXED_DATE = "2000-01-01T00:00:00+0000"
_IDENTITY = {
    "GIT_AUTHOR_NAME": "dgm",
    "GIT_AUTHOR_EMAIL": "dgm@localhost",
    "GIT_AUTHOR_DATE": _FIXED_DATE,
    "GIT_COMMITTER_NAME": "dgm",
    "GIT_COMMITTER_EMAIL": "dgm@localhost",
    "GIT_COMMITTER_DATE": _FIXED_DATE,
    "GIT_CONFIG_NOSYSTEM": "1",
}


class PatchRejected(DgmError):
    """A patch does not apply to the commit it was made for (an agent's output, not an archive fault)."""


def _stderr_line(exc: "git.GitCommandError") -> str:
    text = exc.stderr if isinstance(exc.stderr, str) else str(exc.stderr or "")
    lines = [line.strip() for line in text.replace("stderr:", "").strip(" '\n").splitlines() if line.strip()]
    return "; ".join(lines[:3])[:300] or f"git apply exited {exc.status}"


class GitStore:
    """A bare repository of agent commits, one ref per agent (`refs/agents/<id>`)."""

    def __init__(self, path: Path) -> None:
        """Open an existing repository; raises git.InvalidGitRepositoryError/NoSuchPathError."""
        self.path = path
        self._repo = git.Repo(path)
        if not self._repo.bare:
            raise git.InvalidGitRepositoryError(f"{path} is not a bare repository")

    @classmethod
    def init(cls, path: Path) -> "GitStore":
        git.Repo.init(path, bare=True, mkdir=True).close()
        return cls(path)

    def close(self) -> None:
        self._repo.close()

    # -- writing ---------------------------------------------------------------------------

    def commit_tree(self, source: Path, parent: str | None, message: str) -> str:
        """Commit every file under `source` but caches (binary safe; the agent's own .gitignore
        files do not hide anything; deletions relative to the parent are implicit since the
        tree is taken whole). Returns the commit sha; sets no ref."""
        if not source.is_dir():
            raise FileNotFoundError(f"agent source directory not found: {source}")
        with tempfile.TemporaryDirectory(prefix="dgm-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            work = ("--work-tree", str(source.resolve()))
            self._git(*work, "add", "--all", "--force", env=env)
            self._git(*work, "rm", "-r", "--cached", "--quiet", "--ignore-unmatch", "--", *_CACHE_PATHSPECS, env=env)
            tree = self._git("write-tree", env=env)
        return self._commit(tree, parent, message)

    def commit_diff(self, parent: str, diff: bytes, message: str) -> str:
        """Apply a `git diff --binary` patch to `parent`'s tree and commit the result."""
        with tempfile.TemporaryDirectory(prefix="dgm-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._git("read-tree", parent, env=env)
            if diff.strip():
                patch = Path(tmp) / "change.patch"
                patch.write_bytes(diff)
                try:
                    self._git("apply", "--cached", "--binary", "--whitespace=nowarn", str(patch), env=env)
                except git.GitCommandError as exc:
                    raise PatchRejected(_stderr_line(exc)) from None
            tree = self._git("write-tree", env=env)
        return self._commit(tree, parent, message)

    def changed_paths(self, old: str, new: str) -> list[str]:
        """Every path whose content or mode differs between commits `old` and `new`, as this
        repository's git sees them: the truth about what a diff changed, whatever its headers say
        (NUL-separated output, so no quoting or prefix option can disguise a name)."""
        out = self._git_bytes("diff-tree", "-r", "-z", "--name-only", "--no-renames", "--no-ext-diff", old, new)
        return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]

    def _commit(self, tree: str, parent: str | None, message: str) -> str:
        args = ["commit-tree", "--no-gpg-sign", tree, "-m", message or "agent"]
        if parent is not None:
            args += ["-p", parent]
        return self._git(*args)

    def set_ref(self, name: str, commit: str) -> None:
        self._git("update-ref", REF_PREFIX + name, commit)

    def delete_ref(self, name: str) -> None:
        self._git("update-ref", "-d", REF_PREFIX + name)

    def set_policy_ref(self, name: str, commit: str) -> None:
        self._git("update-ref", POLICY_REF_PREFIX + name, commit)

    # -- reading ---------------------------------------------------------------------------

    def ref(self, name: str) -> str | None:
        """The commit `refs/agents/<name>` points at, or None."""
        return self._resolve(REF_PREFIX + name)

    def policy_ref(self, name: str) -> str | None:
        """The commit `refs/policies/<name>` points at, or None."""
        return self._resolve(POLICY_REF_PREFIX + name)

    def _resolve(self, ref: str) -> str | None:
        status, out, _ = self._repo.git.execute(
            ["git", "rev-parse", "--verify", "--quiet", ref + "^{commit}"],
            env=_IDENTITY, with_extended_output=True, with_exceptions=False,
        )
        return out.strip() if status == 0 else None

    def refs(self) -> dict[str, str]:
        """Agent name -> commit for every `refs/agents/*` ref."""
        out = self._git("for-each-ref", "--format=%(refname) %(objectname)", REF_PREFIX)
        refs: dict[str, str] = {}
        for line in out.splitlines():
            ref, sha = line.split(" ", 1)
            refs[ref[len(REF_PREFIX):]] = sha
        return refs

    def existing_commits(self, shas: list[str]) -> set[str]:
        """The subset of `shas` that are commit objects in the repository (one git process)."""
        if not shas:
            return set()
        with tempfile.TemporaryFile() as stdin:
            stdin.write(("\n".join(shas) + "\n").encode())
            stdin.seek(0)
            out = self._git("cat-file", "--batch-check=%(objectname) %(objecttype)", "--buffer", istream=stdin)
        found = set()
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[1] == "commit":
                found.add(parts[0])
        return found

    def commit_parents(self, shas: list[str]) -> dict[str, tuple[str, ...]]:
        """Commit -> its git parents, for existing commits (one git process)."""
        if not shas:
            return {}
        with tempfile.TemporaryFile() as stdin:
            stdin.write(("\n".join(shas) + "\n").encode())
            stdin.seek(0)
            out = self._git("rev-list", "--no-walk", "--parents", "--stdin", istream=stdin)
        parents: dict[str, tuple[str, ...]] = {}
        for line in out.splitlines():
            sha, *rest = line.split()
            parents[sha] = tuple(rest)
        return parents

    def commit_trees(self, shas: list[str]) -> dict[str, str]:
        """Commit -> its tree's sha (one git process): two agents with the same tree have the
        same source, whatever their history. Missing commits are left out."""
        shas = sorted(self.existing_commits(shas))
        if not shas:
            return {}
        with tempfile.TemporaryFile() as stdin:
            stdin.write(("\n".join(shas) + "\n").encode())
            stdin.seek(0)
            out = self._git("log", "--no-walk=unsorted", "--stdin", "--format=%H %T", istream=stdin)
        return dict(line.split(" ", 1) for line in out.splitlines() if line)

    def checkout(self, commit: str, dest: Path) -> None:
        """Write `commit`'s tree into `dest` (created; must be empty if it exists)."""
        if dest.exists() and any(dest.iterdir()):
            raise FileExistsError(f"checkout target is not empty: {dest}")
        dest.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="dgm-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self._git("read-tree", commit, env=env)
            self._git("--work-tree", str(dest.resolve()), "checkout-index", "--all", "--force", env=env)

    def tree(self, commit: str) -> str:
        """The tree sha of `commit`: equal trees are equal agents, file for file."""
        return self._git("rev-parse", f"{commit}^{{tree}}")

    def diff(self, old: str, new: str) -> str:
        """Readable unified diff (binary files summarised as 'Binary files ... differ')."""
        out = self._git_bytes("diff", "--no-color", "--no-ext-diff", old, new)
        return out.decode("utf-8", errors="replace")

    def binary_diff(self, old: str, new: str) -> bytes:
        """A patch that `commit_diff(old, patch)` turns back into `new`'s tree exactly."""
        return self._git_bytes("diff", "--binary", "--no-color", "--no-ext-diff", "--full-index", old, new)

    # -- plumbing --------------------------------------------------------------------------

    def _git(self, *args: str, env: dict[str, str] | None = None, istream=None) -> str:
        return self._repo.git.execute(
            ["git", *args], env={**_IDENTITY, **(env or {})}, istream=istream
        ).strip()

    def _git_bytes(self, *args: str) -> bytes:
        return self._repo.git.execute(
            ["git", *args], env=_IDENTITY, stdout_as_string=False, strip_newline_in_stdout=False
        )
