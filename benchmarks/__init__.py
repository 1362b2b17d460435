"""Benchmarks: jwt_blueprint against a bare Flask route, inline PyJWT and
Flask-JWT-Extended.

Run them all with ``make bench`` (``python -m benchmarks``); ``--help`` lists
the options. The contender apps live in :mod:`benchmarks.apps`, the timing
loop in :mod:`benchmarks.harness` and the table in :mod:`benchmarks.report`.

``make load`` (``python -m benchmarks.load``) is a load test rather than a
benchmark: gunicorn workers sharing a token store, under virtual users, with
the invariants of revocation and refresh checked throughout.
"""

from __future__ import annotations
