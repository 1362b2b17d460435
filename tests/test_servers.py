"""The real-server helpers themselves: start, stop, restart, serve."""

from __future__ import annotations

import urllib.request

import pytest
import redis

from servers import AppServer
from servers import RedisServer
from servers import require_redis_server


def ping_allowing_one_reconnect(client: redis.Redis) -> bool:
    """A pooled connection to a server since restarted may fail once."""
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return bool(client.ping())


def test_redis_server_stops_and_restarts_on_the_same_port() -> None:
    with RedisServer(require_redis_server()) as server:
        assert server.url == f"redis://127.0.0.1:{server.port}/0"
        with server.client() as client:
            client.set("key", "value")
            assert client.get("key") == b"value"

            server.stop()
            server.stop()  # Idempotent.
            assert not server.running
            with pytest.raises(redis.ConnectionError):
                client.ping()
            with server.client() as fresh, pytest.raises(redis.ConnectionError):
                fresh.ping()

            server.start()
            port = server.port
            with redis.Redis.from_url(server.url) as fresh:
                assert fresh.ping()
                # No persistence: a restarted server starts empty.
                assert fresh.get("key") is None
            assert ping_allowing_one_reconnect(client)

            server.restart()
            assert server.port == port
            assert ping_allowing_one_reconnect(client)
            client.set("key", "value")
            server.flushall()
            assert client.get("key") is None
    assert not server.running


def test_app_server_serves_a_factory_with_its_environment() -> None:
    with AppServer("servers:hello_app", {"HELLO": "hello, world"}) as app:
        assert app.url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(app.url + "/", timeout=5) as response:
            assert response.status == 200
            assert response.read() == b"hello, world"
    app.stop()  # Idempotent.
    with pytest.raises(OSError):
        urllib.request.urlopen(app.url + "/", timeout=5)


def test_app_server_reports_a_factory_that_fails() -> None:
    with pytest.raises(RuntimeError, match="No module named 'no_such_module'"):
        AppServer("no_such_module:create_app", {})
