"""Output folders written atomically: everything or nothing (stdlib only, cheap to import).

Every command that writes a folder (``run``, ``stress``, ``reverse-stress``, ``sensitivity``,
``capex-check``, ``compare-lives``, ``sweep``) writes into a temporary sibling directory that is
renamed into place at the end, so a run killed half-way leaves no half-written results and an
existing folder (replaced only with ``--force``) is swapped in one rename.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


def check_out_dir(out: Path, force: bool) -> None:
    """Refuse an existing output directory unless ``force`` (checked before any work)."""
    if Path(out).exists() and not force:
        raise FileExistsError(f"output directory {out} exists; pass --force to replace it")


def temp_sibling(out: Path) -> Path:
    """A new empty directory next to ``out`` (``.NAME.tmp-XXXX``) to fill before ``swap_in``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))


def swap_in(tmp: Path, out: Path) -> None:
    """Rename the filled directory ``tmp`` to ``out``; an existing ``out`` is replaced in one rename."""
    out = Path(out)
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


@contextmanager
def atomic_dir(out: Path, *, force: bool) -> Iterator[Path]:
    """Yield a temporary sibling of ``out`` to fill; on success it replaces ``out``, on error it is removed."""
    out = Path(out)
    check_out_dir(out, force)
    tmp = temp_sibling(out)
    try:
        yield tmp
        swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_folder(out: Path, files: dict[str, str | Callable[[Path], None]], *, force: bool) -> None:
    """Write ``files`` (name -> text, or a function writing that path) into ``out`` atomically."""
    with atomic_dir(out, force=force) as tmp:
        for name, content in files.items():
            p = tmp / name
            p.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(p)
            else:
                p.write_text(content)
