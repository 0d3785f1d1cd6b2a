"""Tar archives for moving files in and out of a sandbox through `exec` stdin/stdout.

`docker cp` (put_archive/get_archive) does not see the tmpfs mounts of a running container, and
every writable place in the sandbox is a tmpfs, so files travel as a tar stream instead.

Going in, ownership is set to the sandbox user (or root for read-only copies) and modes are
normalised to 0644/0755 so a host temp dir's 0700 cannot lock the agent out. Coming out, the tar
was written by untrusted code: it is unpacked with the `data` filter (no absolute paths, no `..`,
no links leaving the destination, no device files).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping
from pathlib import Path

_KEPT_TYPES = (tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE)


def _owner(uid: int):
    def apply(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if info.type not in _KEPT_TYPES:
            return None  # fifos and devices cannot be created without capabilities
        info.uid = info.gid = uid
        info.uname = info.gname = ""
        if info.isdir() or (info.isreg() and info.mode & 0o100):
            info.mode = 0o755
        elif not info.issym():
            info.mode = 0o644
        return info

    return apply


def pack_file(name: str, data: bytes, uid: int) -> bytes:
    """A one-member archive holding `data` as the file `name`."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(_owner(uid)(info), io.BytesIO(data))
    return buf.getvalue()


def pack_dir(src: Path, uid: int) -> bytes:
    """The tree under `src` (its contents, not the folder itself), symlinks kept as links."""
    if not src.is_dir():
        raise NotADirectoryError(f"{src}: expected a directory to copy into the sandbox")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.add(src, arcname=".", recursive=True, filter=_owner(uid))
    return buf.getvalue()


def pack_tree(entries: Mapping[str, bytes | Path], uid: int) -> bytes:
    """Several members in one archive (one round trip): a relative name -> the bytes of a file,
    or a host directory whose contents go under that name."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in entries.items():
            if isinstance(data, Path):
                if not data.is_dir():
                    raise NotADirectoryError(f"{data}: expected a directory to copy into the sandbox")
                tar.add(data, arcname=name, recursive=True, filter=_owner(uid))
            else:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(_owner(uid)(info), io.BytesIO(data))
    return buf.getvalue()


def unpack(data: bytes, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
        tar.extractall(dest, filter="data")
