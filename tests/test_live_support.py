"""The relay the live tests use to take a real server away and bring it back, checked against
a local echo server (so the live tests' own tooling is known to work before a server sees it)."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator

import pytest

from tests.live_support import TcpRelay, relayed_dsn


class _Echo(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while data := self.request.recv(4096):
            self.request.sendall(data)


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Echo)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def relay(echo_port: int) -> Iterator[TcpRelay]:
    relay = TcpRelay("127.0.0.1", echo_port)
    try:
        yield relay
    finally:
        relay.close()


def echo_through(port: int, payload: bytes = b"ping") -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
        conn.sendall(payload)
        return conn.recv(4096)


def test_the_relay_passes_bytes_both_ways(relay: TcpRelay) -> None:
    relay.start()
    assert echo_through(relay.port) == b"ping"


def test_stopping_cuts_open_connections_and_refuses_new_ones(relay: TcpRelay) -> None:
    relay.start()
    conn = socket.create_connection(("127.0.0.1", relay.port), timeout=5)
    try:
        conn.sendall(b"a")
        assert conn.recv(16) == b"a"
        relay.stop()
        try:
            cut = conn.recv(16) == b""
        except ConnectionResetError:
            cut = True
        assert cut
    finally:
        conn.close()
    with pytest.raises(ConnectionRefusedError):
        echo_through(relay.port)


def test_starting_again_serves_the_same_port(relay: TcpRelay) -> None:
    relay.start()
    port = relay.port
    relay.stop()
    relay.start()
    assert relay.port == port
    assert echo_through(port, b"back") == b"back"


def test_close_ends_the_relay_thread(echo_port: int) -> None:
    relay = TcpRelay("127.0.0.1", echo_port)
    relay.start()
    relay.close()
    assert not any(t.name == "live-relay" and t.is_alive() for t in threading.enumerate())


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("gel://admin:pw@db.example.com:5656/main",
         "gel://admin:pw@127.0.0.1:7000/main?tls_server_name=db.example.com"),
        ("gel://admin:p@w@db.example.com/main?tls_security=strict",
         "gel://admin:p@w@127.0.0.1:7000/main?tls_security=strict&tls_server_name=db.example.com"),
        ("edgedb://db.example.com", "edgedb://127.0.0.1:7000?tls_server_name=db.example.com"),
    ],
)
def test_relayed_dsn_points_at_the_relay_and_keeps_the_tls_name(dsn: str, expected: str) -> None:
    assert relayed_dsn(dsn, 7000, "db.example.com") == expected
