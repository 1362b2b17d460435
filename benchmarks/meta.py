"""Where the figures come from: versions, CPU, commit."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import subprocess
import typing as t
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = (
    "jwt_blueprint",
    "Flask",
    "Werkzeug",
    "PyJWT",
    "Flask-JWT-Extended",
    "cryptography",
    "marshmallow",
    "gunicorn",
    "redis",
    "hiredis",
)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version(package: str) -> str | None:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_state() -> dict[str, t.Any]:
    """The commit benchmarked, and whether the work tree had changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        return {
            "commit": git("rev-parse", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "jwt_blueprint")),
        }
    except (OSError, subprocess.CalledProcessError):
        return {"commit": None, "dirty": None}


def environment() -> dict[str, t.Any]:
    return {
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "versions": {package: version(package) for package in PACKAGES},
        "git": git_state(),
    }
