"""The timing loop: contenders interleaved round by round, medians reported.

Each round times one batch per contender, in an order that rotates from
round to round, so drift in machine speed (thermal, other processes) lands
on every contender alike. The collector is off while a batch runs and
collects between batches.
"""

from __future__ import annotations

import gc
import io
import statistics
import time
import typing as t
from dataclasses import dataclass

from .apps import Contender
from .wsgi import Environ
from .wsgi import serve
from .wsgi import WSGIApp

T = t.TypeVar("T")


@dataclass(frozen=True)
class Plan:
    """How long to time a suite.

    :param rounds: timed rounds (after one untimed warm-up round).
    :param max_batch: calls per contender per round, at most.
    :param min_batch: calls per contender per round, at least.
    :param budget_s: target wall time of the timed rounds, shared equally by
        the contenders; a contender's batch shrinks from ``max_batch`` (down to
        ``min_batch``) to fit its share.
    """

    rounds: int
    max_batch: int
    min_batch: int
    budget_s: float


@dataclass
class Timing:
    """One contender's result: µs per request, one figure per round."""

    key: str
    label: str
    batch: int
    per_round_us: list[float]
    notes: list[str]

    @property
    def median_us(self) -> float:
        return statistics.median(self.per_round_us)

    @property
    def min_us(self) -> float:
        return min(self.per_round_us)

    @property
    def max_us(self) -> float:
        return max(self.per_round_us)

    def as_dict(self) -> dict[str, t.Any]:
        return {
            "label": self.label,
            "batch": self.batch,
            "rounds": len(self.per_round_us),
            "median_us": self.median_us,
            "min_us": self.min_us,
            "max_us": self.max_us,
            "median_rps": 1e6 / self.median_us,
            "per_round_us": self.per_round_us,
            "notes": self.notes,
        }


def time_get(app: WSGIApp, environs: list[Environ]) -> int:
    """Nanoseconds to serve one GET per environ."""
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for environ in environs:
            serve(app, environ.copy())
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


def time_post(app: WSGIApp, environs: list[Environ], body: bytes) -> int:
    """Nanoseconds to serve one POST of ``body`` per environ."""
    bytes_io = io.BytesIO
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for environ in environs:
            env = environ.copy()
            env["wsgi.input"] = bytes_io(body)
            serve(app, env)
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


def time_batch(contender: Contender, sequence: list[Environ]) -> float:
    """µs per request over one batch (``sequence`` gives the environs)."""
    app = contender.app.wsgi_app
    if contender.body is None:
        elapsed = time_get(app, sequence)
    else:
        elapsed = time_post(app, sequence, contender.body)
    gc.collect()
    return elapsed / 1e3 / len(sequence)


def sequence_of(contender: Contender, length: int) -> list[Environ]:
    """The environs of one batch: the contender's, cycled to ``length``.

    A contender with at least ``length`` environs never repeats one within a
    batch, so never within a round.
    """
    environs = contender.environs
    return [environs[i % len(environs)] for i in range(length)]


def rotated(items: list[T], shift: int) -> list[T]:
    shift %= len(items)
    return items[shift:] + items[:shift]


def run(
    contenders: list[Contender],
    plan: Plan,
    progress: t.Callable[[str], None] = lambda _: None,
) -> list[Timing]:
    """Check every contender, then time them interleaved.

    :raises AssertionError: if a contender does not answer as expected,
        before any timing (and again after, to catch a run gone stale).
    """
    for contender in contenders:
        contender.check()
    # What exists now lives to the end of the run: out of the collector's
    # way, the collection after each batch only sweeps what the batch made.
    gc.freeze()
    try:
        return _timed(contenders, plan, progress)
    finally:
        gc.unfreeze()


def _timed(
    contenders: list[Contender],
    plan: Plan,
    progress: t.Callable[[str], None],
) -> list[Timing]:
    # Calibrate on a short probe (the best of three, after one untimed: the
    # first requests of an app are slow). Each contender gets an equal share
    # of the budget, so a slow one runs fewer calls per batch rather than
    # stretching the run.
    share_s = plan.budget_s / (plan.rounds * len(contenders))
    batches: dict[str, int] = {}
    for c in contenders:
        short = sequence_of(c, max(plan.min_batch // 2, 5))
        time_batch(c, short)
        per_call_s = min(time_batch(c, short) for _ in range(3)) / 1e6
        batches[c.key] = max(
            plan.min_batch, min(plan.max_batch, int(share_s / per_call_s))
        )
    sequences = {c.key: sequence_of(c, batches[c.key]) for c in contenders}
    progress(
        f"{plan.rounds} rounds; calls per batch: "
        + ", ".join(f"{key} {batch}" for key, batch in batches.items())
    )

    for contender in contenders:  # the warm-up round, untimed
        time_batch(contender, sequences[contender.key])

    results: dict[str, list[float]] = {c.key: [] for c in contenders}
    for round_ in range(plan.rounds):
        for contender in rotated(contenders, round_):
            results[contender.key].append(
                time_batch(contender, sequences[contender.key])
            )

    for contender in contenders:
        contender.check()
    return [
        Timing(c.key, c.label, batches[c.key], results[c.key], list(c.notes))
        for c in contenders
    ]
