"""Progress of the long commands on a terminal: the step in progress, the time spent and
the time left, in French, on stderr (tqdm draws it). Nothing at all when stderr is not a
terminal: a scheduled job's log stays as it was.

A command declares its steps with the time each takes on a quiet machine (``Steps``); the
time left is the time the steps still to come took, scaled by how much slower or faster
the steps done went on this machine. A step in progress moves the bar as its time goes
by (never past its end), so that the display keeps moving during a long step (the report
notebook, tens of seconds).
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterable, Iterator

# Steps several commands share.
READING = "lecture des données"

# « Étape 3/5 : exécution du rapport |███▌   | écoulé 00:12, reste 00:20 »
STEPS_FORMAT = "{desc} |{bar}| écoulé {elapsed}, reste {remaining}"
# The bar of many reports (batch, monthly run): how many are done, out of how many.
COUNT_FORMAT = "{desc} |{bar}| {n_fmt}/{total_fmt} {unit} — écoulé {elapsed}, reste {remaining}"
_TICK = 0.5  # seconds between two redraws during a step


def shown(progress: bool | None = None) -> bool:
    """Whether to show progress: asked for, or else when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else progress


def count_bar(total: int | None, unit: str, progress: bool | None = None, **options):
    """A French tqdm bar counting ``unit`` (« rapports »), on a terminal only."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        unit=unit,
        disable=not shown(progress),
        bar_format=COUNT_FORMAT,
        dynamic_ncols=True,
        **options,
    )


class Steps:
    """The steps of a command, shown one after the other on one bar.

    ``plan``: (step, seconds it takes on a quiet machine), in order; ``extend`` adds
    those known only once the data are read (the months of the panel). Use ``step`` as
    a context manager around each.
    """

    def __init__(self, plan: Iterable[tuple[str, float]] = (), progress: bool | None = None):
        from tqdm import tqdm

        self._plan: list[tuple[str, float]] = []
        self._done = 0.0  # expected seconds of the steps done
        self._spent = 0.0  # real seconds they took
        self._current: tuple[float, float] | None = None  # start, expected seconds
        self._name = ""  # the step in progress, « Étape i/n : … »
        self._fraction: float | None = None  # of the step in progress, when counted
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._bar = tqdm(
            total=1,
            disable=not shown(progress),
            bar_format=STEPS_FORMAT,
            dynamic_ncols=True,
            leave=False,
            delay=0.001,  # drawn by the first step, not empty before it
        )
        self._ticker: threading.Thread | None = None
        self.extend(plan)

    @property
    def active(self) -> bool:
        return not self._bar.disable

    def extend(self, plan: Iterable[tuple[str, float]]) -> None:
        """Add steps at the end; a step already planned gets its new duration."""
        with self._lock:
            planned = dict(self._plan)
            for name, seconds in plan:
                planned[name] = max(float(seconds), 0.01)
            self._plan = list(planned.items())
            self._bar.total = sum(planned.values())

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Show ``name`` (a step of the plan) while the block runs."""
        if not self.active:
            yield
            return
        index = next(i for i, (step, _) in enumerate(self._plan) if step == name)
        expected = self._plan[index][1]
        with self._lock:
            self._name = f"Étape {index + 1}/{len(self._plan)} : "
            self._bar.set_description_str(self._name + name)
            self._current = (time.monotonic(), expected)
            self._fraction = None
            self._draw()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, name="progression", daemon=True)
            self._ticker.start()
        try:
            yield
        finally:
            with self._lock:
                start, _ = self._current
                self._current = None
                self._fraction = None
                self._done += expected
                self._spent += time.monotonic() - start
                self._draw()

    def within(self, position: int, total: int, what: str) -> None:
        """Inside the step in progress: item ``position`` (from 1) of ``total`` begins,
        ``what`` says which (« intercommunalités à fin mars 2021 »)."""
        if not self.active or self._current is None:
            return
        with self._lock:
            self._fraction = (position - 1) / total if total else 0.0
            self._bar.set_description_str(f"{self._name}{what} ({position}/{total})", False)
            self._draw()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """Print (to stdout or stderr) without breaking the bar: it is cleared, then
        drawn again below what was printed."""
        if not self.active:
            yield
            return
        with self._lock:
            self._bar.clear()
            try:
                yield
            finally:
                self._bar.refresh()

    def _speed(self) -> float:
        """Real seconds per expected second, from the steps done (1 before any)."""
        return self._spent / self._done if self._done and self._spent else 1.0

    def _draw(self) -> None:
        progress = self._done
        if self._current is not None:
            start, expected = self._current
            if self._fraction is not None:  # counted: its items done
                progress += self._fraction * expected
            else:  # a step moves with its time, never past 90 % of itself before it ends
                progress += min((time.monotonic() - start) / self._speed(), 0.9 * expected)
        self._bar.n = min(progress, self._bar.total)
        self._bar.refresh()

    def _tick(self) -> None:
        while not self._stop.wait(_TICK):
            with self._lock:
                if self._current is not None:
                    self._draw()

    def close(self) -> None:
        """Clear the bar from the terminal (the command then prints its summary)."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        self._bar.close()

    def __enter__(self) -> Steps:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
