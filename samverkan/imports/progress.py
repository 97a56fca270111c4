"""Progress bars for long commands: rate and ETA on a terminal, silent with ``--quiet`` (cron)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

from samverkan.imports.base import Progress, no_progress


@contextmanager
def terminal_progress(description: str, *, quiet: bool = False, unit: str = "poster") -> Iterator[Progress]:
    """A :data:`Progress` callback drawing a tqdm bar on stderr (none when ``quiet``)."""
    if quiet:
        yield no_progress
        return
    bar = tqdm(desc=description, unit=f" {unit}", file=sys.stderr, dynamic_ncols=True, mininterval=0.5)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    try:
        yield update
    finally:
        bar.close()
