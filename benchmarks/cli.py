"""The command line: pick the suites, run them, print and save the figures."""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import typing as t
from pathlib import Path

from . import harness
from . import httpbench
from . import lifecycle
from . import report
from . import scaling
from .apps import CACHE_KEY
from .apps import Contender
from .apps import issuance_contenders
from .apps import protected_contenders
from .backends import Backends
from .backends import open_backends
from .common import ALGORITHMS
from .common import KeySet
from .common import make_keys
from .common import SECRET
from .meta import environment

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results.json"
ONLY_CHOICES = (*ALGORITHMS, "scaling", "issuance", "refresh")
#: The algorithm of the token store contenders and of the refresh suite:
#: a store lookup does not depend on it.
STORE_ALGORITHM = report.TARGET_ALGORITHM


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every knob of one run, full or ``--quick``."""

    protected_hs: harness.Plan
    protected_asym: harness.Plan
    issuance_hs: harness.Plan
    issuance_asym: harness.Plan
    scaling_sizes: tuple[int, ...]
    scaling_rounds: int
    scaling_batch: int
    refresh_rounds: int
    refresh_batch: int
    http_rounds: int
    http_seconds: int
    http_warmup_seconds: int


FULL = Settings(
    protected_hs=harness.Plan(rounds=15, max_batch=2000, min_batch=200, budget_s=30),
    protected_asym=harness.Plan(rounds=15, max_batch=2000, min_batch=50, budget_s=15),
    issuance_hs=harness.Plan(rounds=15, max_batch=2000, min_batch=200, budget_s=12),
    issuance_asym=harness.Plan(rounds=15, max_batch=2000, min_batch=5, budget_s=15),
    scaling_sizes=(1, 1_000, 100_000),
    scaling_rounds=15,
    scaling_batch=2000,
    refresh_rounds=15,
    refresh_batch=400,
    http_rounds=5,
    http_seconds=4,
    http_warmup_seconds=1,
)
QUICK = Settings(
    protected_hs=harness.Plan(rounds=3, max_batch=200, min_batch=20, budget_s=1),
    protected_asym=harness.Plan(rounds=3, max_batch=200, min_batch=10, budget_s=1),
    issuance_hs=harness.Plan(rounds=3, max_batch=200, min_batch=20, budget_s=1),
    issuance_asym=harness.Plan(rounds=3, max_batch=200, min_batch=5, budget_s=1),
    scaling_sizes=(1, 1_000, 10_000),
    scaling_rounds=3,
    scaling_batch=200,
    refresh_rounds=3,
    refresh_batch=20,
    http_rounds=1,
    http_seconds=2,
    http_warmup_seconds=1,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time jwt_blueprint against a bare Flask route, inline PyJWT"
        " and Flask-JWT-Extended, interleaved, in one run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a few short rounds: a smoke test"
    )
    parser.add_argument(
        "--http",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also load gunicorn (2 workers, 127.0.0.1) with wrk: A, C, D and the"
        " token store contenders (default: when wrk is installed; skipped loudly"
        " if it is not)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="where to write the raw figures (default: %(default)s)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=ONLY_CHOICES,
        help="run only this part; repeat to run several. An algorithm runs its"
        " protected and issuance suites (hs256 with the token store contenders);"
        " 'issuance' runs issuance for every algorithm; 'refresh' times the"
        " refresh endpoint on each store",
    )
    return parser.parse_args(argv)


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


class Selection(t.NamedTuple):
    """What to run: the algorithms of the protected and issuance suites."""

    protected: list[str]
    issuance: list[str]
    scaling: bool
    refresh: bool

    @property
    def needs_redis(self) -> bool:
        return self.refresh or STORE_ALGORITHM in self.protected


def selection(only: list[str] | None) -> Selection:
    """The algorithms of the protected and issuance suites, scaling, refresh."""
    chosen = set(only or ONLY_CHOICES)
    protected = [ALGORITHMS[name] for name in ALGORITHMS if name in chosen]
    everything = "issuance" in chosen
    issuance = [ALGORITHMS[name] for name in ALGORITHMS if everything or name in chosen]
    return Selection(protected, issuance, "scaling" in chosen, "refresh" in chosen)


def suite_result(
    algorithm: str, timings: list[harness.Timing], pairs: t.Iterable[tuple[str, str]]
) -> dict[str, t.Any]:
    rows = {timing.key: timing.as_dict() for timing in timings}
    return {
        "algorithm": algorithm,
        "contenders": rows,
        "ratios": report.throughput_ratios(rows, pairs),
    }


def run_suite(
    kind: str, keys: KeySet, contenders: list[Contender], plan: harness.Plan
) -> dict[str, t.Any]:
    progress(f"{kind} {keys.algorithm}: {', '.join(c.key for c in contenders)}")
    timings = harness.run(contenders, plan, progress)
    pairs = report.PROTECTED_RATIOS if kind == "protected" else report.ISSUANCE_RATIOS
    return suite_result(keys.algorithm, timings, pairs)


def notes_for(results: dict[str, t.Any]) -> list[str]:
    notes = [
        "ratios are throughput ratios: X/Y = req/s of X over req/s of Y, the"
        " median over the rounds of the ratio within each round (X and Y timed"
        " back to back), which cancels the machine's drift",
    ]
    if not (results["protected"] or results["issuance"] or results["refresh"]):
        return notes + http_notes(results) + git_notes(results)
    notes += [
        f"E runs with {CACHE_KEY}=0 so it measures the true cold path (every"
        " request verifies the signature); D runs with the default config",
        "every contender: the same claims (identity, sub, iat, nbf, exp, jti;"
        " Flask-JWT-Extended adds its fresh and type), a 1 h lifetime, the same"
        f" HS256 secret ({len(SECRET)} bytes), the same route body, app.testing False,"
        " app.wsgi_app called with a copied prebuilt environ",
        "A gets D's Authorization header and ignores it",
        "D3/E3: D/E with a key set of 3 (JWT_SECRET_KEY, or JWT_PRIVATE_KEY as"
        " PEM text, given as a list: the signing key first, then two that only"
        " verify), timing tokens of the signing key; D3/A against D/A, paired"
        " round by round, is D3/D, which the 'within 5%' targets check",
        "C/fjwte use JWT_COOKIE_CSRF_PROTECT=False (header tokens; no csrf claim)",
    ]
    store_suite = results["protected"].get(STORE_ALGORITHM, {})
    if "D-sqlite" in store_suite.get("contenders", {}) or results["refresh"]:
        notes += [
            f"token stores ({STORE_ALGORITHM} only: a lookup does not depend on"
            " the algorithm): SQLite in a temporary directory; Redis is a local"
            " redis-server (--save '' --appendonly no) on loopback TCP, sharing"
            " the machine's CPUs with the benchmark",
            "D-sqlite/D-redis: refresh enabled (tokens carry a login family) and a"
            " revoke-all of user 1 made before the timed token was issued, so each"
            " request's single lookup answers for the token, its family and the"
            " revoke-all; their checks refuse a revoked-all and a logged out"
            " token, and count one MGET per request on the server (D-redis)",
            "C-redis: C plus Flask-JWT-Extended's documented Redis blocklist"
            " recipe (token_in_blocklist_loader doing"
            " jwt_redis_blocklist.get(jti)); its check refuses a blocklisted jti"
            " and counts one GET per request on the server",
            "refresh: each call spends a refresh token never presented before,"
            " from a pool filled by POST /auth logins before the timing; every"
            " timed answer was checked to be a 200",
        ]
    if any(alg != "HS256" for alg in results.get("protected", {})) or any(
        alg != "HS256" for alg in results.get("issuance", {})
    ):
        notes.append(
            "asymmetric: jwt_blueprint and C/fjwte get PEM text (as their docs"
            " show); jwt_blueprint prepares the keys once, Flask-JWT-Extended"
            " hands the PEM to PyJWT, which parses it on every call (for RS256"
            " signing that includes RSA key validation). C*/fjwte* get prepared"
            " cryptography key objects instead; B uses the prepared public key"
        )
    return notes + http_notes(results) + git_notes(results)


def http_notes(results: dict[str, t.Any]) -> list[str]:
    http = results.get("http") or {}
    if "contenders" not in http:
        return []
    notes = [
        "HTTP: gunicorn sync workers close the connection after each response,"
        " so every request wrk makes opens a new TCP connection; wrk, the"
        " workers and redis-server share the machine's CPUs; a ratio over HTTP"
        " pairs X and Y timed in the same round",
        "HTTP: A, C and D as in-process (HS256); every server was checked to"
        " answer 200 and user 1's body for the token wrk sends, before and"
        " after the timing",
    ]
    if any(key in http["contenders"] for key in ("D-sqlite", "D-redis", "C-redis")):
        notes.append(
            "HTTP store contenders: configured as in-process, the two workers of"
            f" D-sqlite sharing one SQLite file ({httpbench.SQLITE_FILE}), those"
            " of D-redis and C-redis the run's redis-server; their tokens were"
            " minted in-process by an app with the same config on the same"
            " store, after a revoke-all of user 1 (D-*) or beside a blocklisted"
            " one (C-redis); each server refused that revoked token with 401,"
            " and ran one MGET (D-redis) or GET (C-redis) per request"
        )
    return notes


def git_notes(results: dict[str, t.Any]) -> list[str]:
    if results["meta"]["git"].get("dirty"):
        return [
            "jwt_blueprint/ had uncommitted changes: these figures are for the"
            " work tree, not the commit recorded"
        ]
    return []


def run_http(settings: Settings, backends: Backends) -> dict[str, t.Any]:
    """The HTTP part with its ratios, or ``{"skipped": reason}``."""
    http = httpbench.run_http(
        settings.http_rounds,
        settings.http_seconds,
        backends,
        warmup_seconds=settings.http_warmup_seconds,
        progress=progress,
    )
    if "skipped" in http:
        progress(f"!!! the HTTP part is SKIPPED: {http['skipped']}")
    else:
        http["ratios"] = report.throughput_ratios(
            http["contenders"], report.HTTP_RATIOS
        )
    return http


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = QUICK if args.quick else FULL
    started = time.perf_counter()
    selected = selection(args.only)
    results: dict[str, t.Any] = {
        "meta": environment(),
        "args": {
            "quick": args.quick,
            "http": args.http,  # None: when wrk is installed
            "only": args.only,
            "output": str(args.output),
        },
        "settings": dataclasses.asdict(settings),
        "protected": {},
        "issuance": {},
        "refresh": {},
        "scaling": [],
        "http": None,
        "skipped": [],
    }

    algorithms = list(dict.fromkeys(selected.protected + selected.issuance))
    if selected.refresh and STORE_ALGORITHM not in algorithms:
        algorithms.append(STORE_ALGORITHM)
    progress(f"generating keys: {', '.join(algorithms)}")
    keys = {algorithm: make_keys(algorithm) for algorithm in algorithms}

    with_http = args.http is not False
    with open_backends(selected.needs_redis or with_http, progress) as backends:
        if backends.redis_skipped is not None:
            results["skipped"].append(
                "the Redis contenders (D-redis, C-redis, refresh on redis, and"
                f" over HTTP): {backends.redis_skipped}"
            )
        for algorithm in algorithms:
            hs = keys[algorithm].symmetric
            if algorithm in selected.protected:
                plan = settings.protected_hs if hs else settings.protected_asym
                contenders = protected_contenders(
                    keys[algorithm], cold_tokens=plan.max_batch, fjwte_key_objects=True
                )
                if algorithm == STORE_ALGORITHM:
                    contenders += lifecycle.store_contenders(keys[algorithm], backends)
                results["protected"][algorithm] = run_suite(
                    "protected", keys[algorithm], contenders, plan
                )
                del contenders
            if algorithm in selected.issuance:
                plan = settings.issuance_hs if hs else settings.issuance_asym
                contenders = issuance_contenders(
                    keys[algorithm], fjwte_key_objects=True
                )
                results["issuance"][algorithm] = run_suite(
                    "issuance", keys[algorithm], contenders, plan
                )
                del contenders
        if selected.refresh:
            refreshers = lifecycle.refresh_contenders(keys[STORE_ALGORITHM], backends)
            progress(
                f"refresh {STORE_ALGORITHM}: {', '.join(c.key for c in refreshers)}"
            )
            timings = lifecycle.run_refresh(
                refreshers, settings.refresh_rounds, settings.refresh_batch, progress
            )
            results["refresh"][STORE_ALGORITHM] = suite_result(
                STORE_ALGORITHM, timings, report.REFRESH_RATIOS
            )
            del refreshers

        if selected.scaling:
            results["scaling"] = scaling.run_sizes(
                settings.scaling_sizes,
                settings.scaling_rounds,
                settings.scaling_batch,
                progress,
            )

        # Last, and inside the backends: its store contenders' workers share
        # the SQLite directory and the redis-server.
        if with_http:
            results["http"] = run_http(settings, backends)
            if "skipped" in results["http"]:
                results["skipped"].append(
                    f"the HTTP part (gunicorn under wrk): {results['http']['skipped']}"
                )

    results["targets"] = report.evaluate_targets(results)
    results["notes"] = notes_for(results)
    results["elapsed_s"] = time.perf_counter() - started
    print(report.format_report(results))
    print(f"\ntotal {results['elapsed_s']:.0f} s; raw figures in {args.output}")
    report.write_json(results, args.output)
    return 0
