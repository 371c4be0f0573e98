"""The bridge's read-ahead socket: paho's small reads answered from one large read, nothing lost or reordered."""
from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mqtt_bridge.socket_reader import READ_AHEAD_BYTES, ReadAheadSocket


@pytest.fixture
def pair() -> Iterator[tuple[ReadAheadSocket, socket.socket]]:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)  # as paho sets it
    yield ReadAheadSocket(ours), theirs
    ours.close()
    theirs.close()


def test_small_reads_come_from_one_large_read_and_pending_says_so(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    peer.sendall(b"\x30\x05hello\x40\x02\x00\x01")
    assert reader.recv(1) == b"\x30"
    assert reader.pending() == 10  # the rest is buffered: paho's loop reads again without select
    assert (reader.recv(1), reader.recv(5), reader.recv(4)) == (b"\x05", b"hello", b"\x40\x02\x00\x01")
    assert reader.pending() == 0
    with pytest.raises(BlockingIOError):
        reader.recv(1)  # nothing buffered, nothing sent: the socket's own answer


def test_a_stream_longer_than_a_read_comes_back_whole(pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    data = bytes(range(256)) * (3 * READ_AHEAD_BYTES // 256 + 7)
    peer.setblocking(True)
    got = bytearray()
    sent = 0
    while len(got) < len(data):
        if sent < len(data):
            sent += peer.send(data[sent:sent + 50_000])
        try:
            got += reader.recv(3 if len(got) % 2 else 4096)
        except BlockingIOError:
            continue
    assert bytes(got) == data


def test_end_of_stream_is_an_empty_read_and_the_socket_answers_the_rest(
        pair: tuple[ReadAheadSocket, socket.socket]) -> None:
    reader, peer = pair
    peer.sendall(b"ab")
    peer.shutdown(socket.SHUT_WR)
    assert reader.recv(1) == b"a" and reader.recv(8) == b"b"
    assert reader.recv(1) == b""
    assert reader.fileno() >= 0  # select, setsockopt, send, close: the wrapped socket's
