"""A paho client whose plain TCP socket is read 64 KiB at a time.

paho reads an incoming packet a few bytes per `recv` (one call for the command byte, one
per length byte, one for the rest), which at thousands of QoS 1 messages a second makes
the bridge spend its time in system calls and GIL hand-overs. Reading ahead into a buffer
and answering paho's small reads from it does the same work in one call per 64 KiB.
`pending()` tells paho's loop that bytes are buffered, the way an `ssl.SSLSocket` does
(paho then reads instead of waiting in select), so nothing buffered is ever left waiting.
A TLS socket is left as it is: OpenSSL already reads whole records.
"""
from __future__ import annotations

import socket
from typing import Any

import paho.mqtt.client as mqtt

READ_AHEAD_BYTES = 64 * 1024


class ReadAheadSocket:
    """A non-blocking socket whose reads come from a buffer refilled by large reads."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def recv(self, bufsize: int) -> bytes:
        """Up to `bufsize` bytes: buffered ones first; b"" at end of stream, BlockingIOError when none yet."""
        if not self._buffer:
            data = self._sock.recv(READ_AHEAD_BYTES)
            if len(data) <= bufsize:
                return data  # end of stream (b""), or small enough to hand over whole
            self._buffer += data
        chunk = bytes(self._buffer[:bufsize])
        del self._buffer[:bufsize]
        return chunk

    def pending(self) -> int:
        """Bytes read from the socket and not yet handed to paho."""
        return len(self._buffer)

    def __getattr__(self, name: str) -> Any:
        # send, fileno (for select), setblocking, setsockopt, close...: the socket's own.
        return getattr(self._sock, name)


class ReadAheadClient(mqtt.Client):
    """paho's client, reading a plain TCP connection ahead (see the module's docstring).

    `_create_socket` is paho's hook for the connection it opens (pinned in requirements.txt);
    the tests run the bridge through a real Mosquitto with it.
    """

    def _create_socket(self) -> Any:
        sock = super()._create_socket()
        return ReadAheadSocket(sock) if type(sock) is socket.socket else sock
