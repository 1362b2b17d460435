"""What a load run saw: latencies per operation, and the invariants.

The virtual users (:mod:`benchmarks.load_users`) record every answer here
and state what each one proves; this module knows nothing of HTTP. A run
fails when any invariant has a violation, and :func:`render` says which,
with the first few cases.
"""

from __future__ import annotations

import math
import typing as t
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field

#: The operations, in the order of the table, with their labels.
OPERATIONS = {
    "login": "login",
    "protected": "protected",
    "refresh": "refresh",
    "race": "refresh (race)",
    "replay": "refresh (replay)",
    "logout": "logout",
    "probe": "probe (revoked)",
    "final": "final checks",
}
#: The invariants, in the order of the table, with what each one means.
INVARIANTS = {
    "no_5xx": "zero 5xx responses (503 included)",
    "answered": "every request answered (no connection error, no timeout)",
    "revoked_refused": "no revoked token accepted during the run",
    "no_lost_revocation": "no lost revocation: every revoked token refused at the end",
    "one_winner": "concurrent refreshes of one token: at most one 200",
    "one_successor": "after a race, at most one successor refresh token works",
    "spent_refused": "a spent refresh token never refreshes again",
    "live_accepted": "a live token, or a valid login, is accepted",
}
#: How many violations of each invariant the report spells out.
SHOWN_VIOLATIONS = 5
PERCENTILES = (50, 95, 99)


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile of values sorted ascending."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Invariant:
    """How often one invariant was checked, and each time it did not hold."""

    description: str
    checks: int = 0
    violations: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return not self.violations


class Ledger:
    """Every answer of a run, and every check made on one.

    An answer is recorded once with :meth:`answer`, which checks the two
    invariants every request has (an answer, and no 5xx); the caller then
    states what that answer proves with :meth:`expect` or :meth:`check`.
    """

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        self.invariants = {
            name: Invariant(description) for name, description in INVARIANTS.items()
        }
        #: PIDs of the workers that answered each operation, from the app's
        #: header.
        self.workers: dict[str, set[str]] = {op: set() for op in OPERATIONS}
        #: Counts of things worth reporting that are not invariants.
        self.events: dict[str, int] = {}

    def answer(
        self,
        op: str,
        status: int | None,
        seconds: float,
        detail: str = "",
        worker: str | None = None,
    ) -> None:
        """Record one request of ``op``: its status (``None`` if no answer
        came: a connection error or a timeout) and how long it took."""
        self.latencies[op].append(seconds)
        if worker is not None:
            self.workers[op].add(worker)
        described = f"{OPERATIONS[op]}{': ' if detail else ''}{detail}"
        self.check("answered", status is not None, f"{described}: no answer")
        if status is not None:
            self.check("no_5xx", status < 500, f"{described}: {status}")

    def check(self, invariant: str, ok: bool, violation: str) -> bool:
        """Count one check of ``invariant``; ``violation`` says what failed."""
        record = self.invariants[invariant]
        record.checks += 1
        if not ok:
            record.violations.append(violation)
        return ok

    def expect(
        self, invariant: str, status: int | None, expected: int, what: str
    ) -> bool:
        """Check that ``status`` is ``expected``, proving ``invariant``.

        An answer that never came, or a 5xx, proves nothing here: it is
        already a violation of its own (:meth:`answer`).
        """
        if status is None or status >= 500:
            return False
        return self.check(
            invariant, status == expected, f"{what}: {status}, expected {expected}"
        )

    def count(self, event: str, n: int = 1) -> None:
        self.events[event] = self.events.get(event, 0) + n

    def requests(self, op: str) -> int:
        return len(self.latencies[op])

    def violated(self) -> list[str]:
        """The names of the invariants that did not hold."""
        return [name for name, record in self.invariants.items() if not record.held]


class Row(t.NamedTuple):
    label: str
    requests: int
    rate: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def rows(ledger: Ledger, seconds: float, final_seconds: float) -> list[Row]:
    """One row per operation that ran, then the total of the timed phase.

    Rates are per second of the timed phase; the final checks, made after
    it, over their own time.
    """

    def row(label: str, values: list[float], elapsed: float) -> Row:
        ordered = sorted(values)
        p50, p95, p99 = (percentile(ordered, p) * 1e3 for p in PERCENTILES)
        rate = len(values) / elapsed if elapsed > 0 else math.nan
        return Row(label, len(values), rate, p50, p95, p99)

    table = []
    timed: list[float] = []
    for op, label in OPERATIONS.items():
        values = ledger.latencies[op]
        if not values or op == "final":
            continue
        timed.extend(values)
        table.append(row(label, values, seconds))
    table.append(row("total", timed, seconds))
    if ledger.latencies["final"]:
        table.append(row(OPERATIONS["final"], ledger.latencies["final"], final_seconds))
    return table


def render(
    ledger: Ledger, title: list[str], seconds: float, final_seconds: float
) -> str:
    """The report: ``title`` lines, the latency table, the invariants, the
    events, and the verdict."""
    lines = [*title, ""]
    header = f"{'operation':<18} {'requests':>9} {'req/s':>9}"
    header += "".join(f" {f'p{p} ms':>8}" for p in PERCENTILES)
    lines += [header, "-" * len(header)]
    for label, requests, rate, p50, p95, p99 in rows(ledger, seconds, final_seconds):
        if label == "total" or label == OPERATIONS["final"]:
            lines.append("-" * len(header))
        lines.append(
            f"{label:<18} {requests:>9} {rate:>9.1f}"
            f" {p50:>8.2f} {p95:>8.2f} {p99:>8.2f}"
        )
    lines.append("")
    width = max(len(record.description) for record in ledger.invariants.values())
    lines.append(f"{'invariant':<{width}} {'checks':>8} {'violations':>10}")
    lines.append("-" * (width + 20))
    for record in ledger.invariants.values():
        verdict = "ok" if record.held else "FAIL"
        lines.append(
            f"{record.description:<{width}} {record.checks:>8}"
            f" {len(record.violations):>10}  {verdict}"
        )
    if ledger.events:
        lines.append("")
        lines += [f"{event}: {n}" for event, n in sorted(ledger.events.items())]
    violated = ledger.violated()
    lines.append("")
    if not violated:
        lines.append("PASS: every invariant held")
        return "\n".join(lines)
    for name in violated:
        record = ledger.invariants[name]
        lines.append(f"FAIL: {record.description}: {len(record.violations)} times")
        lines += [f"    {case}" for case in record.violations[:SHOWN_VIOLATIONS]]
        if len(record.violations) > SHOWN_VIOLATIONS:
            lines.append(
                f"    ... and {len(record.violations) - SHOWN_VIOLATIONS} more"
            )
    return "\n".join(lines)
