"""Requests/s and memory as the number of distinct live tokens grows.

Each size runs in a fresh interpreter (``python -m benchmarks.scaling
--size N``, driven over its stdin and stdout), so the memory one size leaves
behind cannot inflate the next. Each child serves jwt_blueprint with its
default config (verification cache included), mints its tokens with PyJWT
directly (same secret, same claims as the app's own) and sends every token
once (the "live" pass), measuring the RSS that adds. Then the parent times
the children round by round, in a rotating order, one at a time; each batch
keeps cycling through all of the child's tokens.

RSS is read from ``/proc/self/statm``; the peak from ``getrusage``.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import typing as t
from pathlib import Path

from .apps import blueprint_app
from .apps import expect_protected
from .apps import has_verify_cache
from .apps import JWT_SCHEME
from .apps import protected_environ
from .common import make_claims
from .common import make_keys
from .wsgi import call
from .wsgi import Environ
from .wsgi import serve
from .wsgi import WSGIApp

ROOT = Path(__file__).resolve().parent.parent
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_bytes() -> int:
    """Resident set size now, from ``/proc/self/statm``."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE


def peak_rss_bytes() -> int:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def time_headers(app: WSGIApp, base: Environ, headers: list[str]) -> int:
    """Nanoseconds to serve one request per ``Authorization`` value."""
    gc.disable()
    try:
        start = time.perf_counter_ns()
        for header in headers:
            environ = base.copy()
            environ["HTTP_AUTHORIZATION"] = header
            serve(app, environ)
        return time.perf_counter_ns() - start
    finally:
        gc.enable()


class Server:
    """One size, inside its child process: the app and its live tokens."""

    def __init__(self, size: int, batch: int) -> None:
        self.size = size
        self.batch = batch
        self.rss_start = rss_bytes()
        keys = make_keys("HS256")
        self.app = blueprint_app(keys)
        self.wsgi = self.app.wsgi_app

        mint_start = time.perf_counter()
        now = int(time.time())
        self.headers = [
            f"{JWT_SCHEME} {keys.sign(make_claims(now=now))}" for _ in range(size)
        ]
        self.mint_s = time.perf_counter() - mint_start
        if len(set(self.headers)) != size:
            raise AssertionError("expected distinct tokens")
        self.base = protected_environ(JWT_SCHEME, "placeholder")
        self.check(self.headers[0])
        self.check(self.headers[-1])
        self.position = 0

    def check(self, header: str) -> None:
        environ = dict(self.base, HTTP_AUTHORIZATION=header)
        expect_protected(call(self.wsgi, environ))

    def live_pass(self) -> dict[str, t.Any]:
        """Send every token once, and measure the RSS this adds.

        Served in batches with a collection after each, as when timing: Flask
        leaves a few objects in reference cycles per request, and a whole
        pass with the collector off would count that garbage as growth.
        """
        gc.collect()
        rss_before = rss_bytes()
        elapsed = 0
        for start in range(0, self.size, self.batch):
            chunk = self.headers[start : start + self.batch]
            elapsed += time_headers(self.wsgi, self.base, chunk)
            gc.collect()
        rss_after = rss_bytes()
        return {
            "size": self.size,
            "verify_cache": has_verify_cache(self.app),
            "verify_cache_size": self.app.config.get("JWT_VERIFY_CACHE_SIZE"),
            "mint_s": self.mint_s,
            "live_pass_rps": self.size / (elapsed / 1e9),
            "rss_start_bytes": self.rss_start,
            "rss_before_bytes": rss_before,
            "rss_after_bytes": rss_after,
            "rss_growth_bytes": rss_after - rss_before,
        }

    def time_batch(self) -> float:
        """Requests/s over the next ``batch`` tokens, cycling through all."""
        size = self.size
        chunk = [self.headers[(self.position + i) % size] for i in range(self.batch)]
        self.position = (self.position + self.batch) % size
        elapsed = time_headers(self.wsgi, self.base, chunk)
        gc.collect()
        return self.batch / (elapsed / 1e9)

    def finish(self) -> dict[str, t.Any]:
        self.check(self.headers[0])
        return {"rss_end_bytes": rss_bytes(), "peak_rss_bytes": peak_rss_bytes()}


def child(size: int, batch: int) -> None:
    """The child's loop: set up, then answer ``batch`` and ``finish`` lines."""

    def reply(data: dict[str, t.Any]) -> None:
        sys.stdout.write(json.dumps(data) + "\n")
        sys.stdout.flush()

    server = Server(size, batch)
    reply(server.live_pass())
    for line in sys.stdin:
        command = line.strip()
        if command == "batch":
            reply({"rps": server.time_batch()})
        elif command == "finish":
            reply(server.finish())
            return
        else:
            raise ValueError(f"unknown command {command!r}")


class Child:
    """The parent's handle on one size's process."""

    def __init__(self, size: int, batch: int, env: dict[str, str]) -> None:
        self.size = size
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.scaling",
                "--size",
                str(size),
                "--batch",
                str(batch),
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def receive(self) -> dict[str, t.Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            code = self.process.wait(timeout=30)
            raise RuntimeError(f"scaling child for {self.size} tokens exited ({code})")
        data: dict[str, t.Any] = json.loads(line)
        return data

    def ask(self, command: str) -> dict[str, t.Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self.receive()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def run_sizes(
    sizes: t.Sequence[int],
    rounds: int,
    batch: int,
    progress: t.Callable[[str], None] = lambda _: None,
) -> list[dict[str, t.Any]]:
    """One child per size, set up one after another, then timed interleaved:
    each round asks every child for one batch, in a rotating order."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
    )
    children: list[Child] = []
    results: dict[int, dict[str, t.Any]] = {}
    try:
        for size in sizes:
            progress(f"scaling: {size} live tokens, minting and first pass")
            child_ = Child(size, batch, env)
            children.append(child_)
            results[size] = child_.receive()
            results[size].update(rounds=rounds, batch=batch, per_round_rps=[])
        progress(f"scaling: batch {batch} x {rounds} rounds x {len(sizes)} sizes")
        for child_ in children:  # the warm-up round
            child_.ask("batch")
        for round_ in range(rounds):
            shift = round_ % len(children)
            for child_ in children[shift:] + children[:shift]:
                rps = child_.ask("batch")["rps"]
                results[child_.size]["per_round_rps"].append(rps)
        for child_ in children:
            results[child_.size].update(child_.ask("finish"))
    finally:
        for child_ in children:
            child_.stop()
    for row in results.values():
        per_round = row["per_round_rps"]
        row.update(
            median_rps=statistics.median(per_round),
            min_rps=min(per_round),
            max_rps=max(per_round),
        )
    return [results[size] for size in sizes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One size of the scaling series.")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args(argv)
    child(args.size, args.batch)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
