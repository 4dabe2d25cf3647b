"""Files written whole or not at all, content hashes, and the one cache root.

Every file this package writes goes through :func:`atomic_path`: a temporary file beside the
target, moved into place in one step on success. A crash, Ctrl-C or ``kill -9`` therefore leaves
either the old file or none, never a half-written one.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .errors import ConfigError

F = TypeVar("F", bound=Callable[..., Any])

TEMP_SUFFIX = ".tmp"
HOME_ENV = "IDS_EXTRACT_HOME"


def home() -> Path:
    """The cache root (exported ONNX models, learned fusions saved by name):
    ``$IDS_EXTRACT_HOME``, default ``~/.cache/ids-extract``."""
    root = os.environ.get(HOME_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "ids-extract"


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``target`` and move it into place only on success."""
    tmp = temp_beside(target)
    try:
        yield tmp
        commit_temp(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_folder(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a path beside ``target`` (not yet made) to write a whole folder into; on success it
    replaces ``target``, on failure it is removed: a folder is there whole or not at all."""
    target = Path(target)
    tmp = temp_beside(target)
    tmp.unlink()
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def temp_beside(target: str | os.PathLike[str]) -> Path:
    """An empty temporary file in the target's folder (so the final move is atomic)."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=TEMP_SUFFIX, dir=target.parent)
    os.close(fd)
    return Path(tmp)


def commit_temp(tmp: Path, target: str | os.PathLike[str]) -> None:
    """Give the temporary file the permissions a plain ``open`` would (``mkstemp`` makes it
    0600) and move it over the target in one step."""
    os.chmod(tmp, 0o666 & ~umask())
    os.replace(tmp, target)


def umask() -> int:
    """The process umask (read by setting and restoring it: there is no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(obj: Any, target: str | os.PathLike[str]) -> None:
    with atomic_path(target) as tmp:
        # allow_nan=False: NaN is not JSON; a NaN that got this far is a bug to report, not write
        tmp.write_text(json.dumps(obj, ensure_ascii=False, indent=None, allow_nan=False) + "\n",
                       encoding="utf-8")


def write_jsonl(rows: Sequence[dict[str, Any]], target: str | os.PathLike[str]) -> None:
    with atomic_path(target) as tmp, tmp.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def check_out(path: str | os.PathLike[str], *, folder: bool = True,
              option: str = "out") -> None:
    """Refuse, before any work, an output path that cannot be written: a folder that is a file,
    a file that is a folder, or a path under a file."""
    target = Path(path)
    if folder and target.exists() and not target.is_dir():
        raise ConfigError(f"`{option}` {target}: is a file, not a folder")
    if not folder and target.is_dir():
        raise ConfigError(f"`{option}` {target}: is a folder, not a file")
    for parent in target.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"`{option}` {target}: {parent} is a file, not a folder")


@contextlib.contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """Hold ``folder/.lock`` for the duration (``fcntl.flock``); a second run into the same folder
    is refused while the first holds it. The kernel drops the lock when its process dies (even
    by ``kill -9``), so a lock file left by a crash does not block the next run, and the run
    that ends removes it (a lock file names a process that runs, or is not there). A folder this
    call made is removed again when nothing else was written into it, so a run that fails before
    writing leaves nothing behind."""
    made = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ".lock"
    try:
        for _ in range(3):  # the lock file of a run that just ended is gone: take the new one
            with open(path, "a+", encoding="utf-8") as fh:
                if _take(fh, folder, path):
                    try:
                        yield
                    finally:
                        path.unlink(missing_ok=True)  # while it is held: no one else writes it
                    return
        raise ConfigError(f"{folder}: could not take its lock file; try again")
    finally:
        if made and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


def locks_output(param: str) -> Callable[[F], F]:
    """A trainer that locks its own output folder (its argument ``param``) while it runs
    (:func:`folder_lock`): a second run into the same folder is refused, whoever calls it (a
    command, a pipeline stage, a Python caller)."""

    def wrap(func: F) -> F:
        """``func`` run under the lock of the folder its ``param`` names."""
        signature = inspect.signature(func)

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with folder_lock(Path(signature.bind(*args, **kwargs).arguments[param])):
                return func(*args, **kwargs)

        return run  # type: ignore[return-value]

    return wrap


def _take(fh: Any, folder: Path, path: Path) -> bool:
    """Take the lock on the open lock file ``fh`` (or refuse: another run holds it) and write
    this process into it; False when the file was removed meanwhile (its run ended)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock, as before
        return True
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.seek(0)
        holder = fh.read().strip() or "another process"
        raise ConfigError(f"{folder} is being written by another ids-extract run ({holder}); "
                          "wait for it to finish, or choose another `out`") from None
    try:
        if os.stat(path).st_ino != os.fstat(fh.fileno()).st_ino:
            return False
    except FileNotFoundError:
        return False
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}")
    fh.flush()
    return True


@contextlib.contextmanager
def wait_lock(path: Path) -> Iterator[None]:
    """Hold the lock file ``path``, waiting for another process that holds it (for work that
    several runs may start at once but only one should do, e.g. exporting a model)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as fh:
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock
            yield
            return
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_bytes(blob: bytes, target: str | os.PathLike[str]) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(blob)


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_tree(folder: str | os.PathLike[str], skip: Sequence[str] = ()) -> str:
    """One hash of every file under ``folder`` (names and contents, in sorted order); files or
    folders whose name starts with a dot, or is in ``skip``, are left out."""
    root = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if not path.is_file() or any(p.startswith(".") or p in skip for p in rel.parts):
            continue
        digest.update(str(rel).encode() + b"\0" + sha256_file(path).encode())
    return digest.hexdigest()


def fingerprint(source: str) -> str:
    """sha256 of a file, of a folder's files, or of a name that is neither (a hub name)."""
    path = Path(source)
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():
        return sha256_tree(path)
    return hashlib.sha256(f"hub:{source}".encode()).hexdigest()


def config_key(obj: Any) -> str:
    """Short stable hash of a JSON-able config (names cache folders)."""
    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]
