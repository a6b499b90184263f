"""Check a dask scheduler address before ``distributed`` sees it, with a bounded wait.

``distributed`` fails badly on a wrong address: a malformed one is a ValueError traceback, a silent
peer that accepts the connection hangs its handshake forever, and an HTTP server's reply is read as
a frame length (it tried to allocate 3 EiB). :func:`check_scheduler` parses the address, connects
with a timeout and, for ``tcp://``, reads the greeting a dask scheduler sends first (an 8-byte
frame length and a small msgpack handshake naming ``compression`` and ``pickle-protocol``), which it
echoes back so the scheduler sees a complete handshake. Every failure is one :class:`InputError`.
"""

from __future__ import annotations

import re
import socket
import struct

from common.errors import InputError

SCHEMES = ("tcp", "tls")  #: transports a sweep can use (tls takes its keys from dask's config)
MAX_GREETING_BYTES = 65_536  #: a dask handshake is ~60 bytes; anything this long is not one
_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?(?P<host>\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(?P<port>[0-9]{1,5})/?$")


def parse_scheduler_address(address: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of ``tcp://HOST:PORT``, ``tls://HOST:PORT`` or ``HOST:PORT`` (tcp)."""
    match = _ADDRESS.match(address.strip())
    if not match:
        raise InputError(f"not a dask scheduler address {address!r}; expected tcp://HOST:PORT or tls://HOST:PORT",
                         field="--scheduler")
    scheme = match["scheme"] or "tcp"
    if scheme not in SCHEMES:
        raise InputError(f"{address!r} uses {scheme}://; a dask scheduler is reached by tcp://HOST:PORT or tls://HOST:PORT",
                         field="--scheduler")
    port = int(match["port"])
    if not 1 <= port <= 65_535:
        raise InputError(f"port {port} of {address!r} is outside 1..65535", field="--scheduler")
    return scheme, match["host"].strip("[]"), port


def check_scheduler(address: str, timeout_s: float) -> None:
    """Raise :class:`InputError` unless a dask scheduler answers at ``address`` within ``timeout_s`` (s)."""
    scheme, host, port = parse_scheduler_address(address)
    where = f"{address}: "
    try:
        sock = socket.create_connection((host, port), timeout=timeout_s)
    except socket.gaierror as exc:
        raise InputError(f"{where}cannot resolve host {host!r} ({exc.strerror})", field="--scheduler") from None
    except TimeoutError:
        raise InputError(f"{where}no answer to a connection within {timeout_s:g} s (unroutable address or a firewall?)",
                         field="--scheduler") from None
    except OSError as exc:
        raise InputError(f"{where}cannot connect ({exc.strerror or exc}); is the dask scheduler running?",
                         field="--scheduler") from None
    with sock:
        if scheme == "tcp":
            _check_greeting(sock, where, timeout_s)


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _check_greeting(sock: socket.socket, where: str, timeout_s: float) -> None:
    sock.settimeout(timeout_s)
    not_dask = "the server there is not a dask scheduler"
    try:
        header = _read_exactly(sock, 8)
        if len(header) < 8:
            raise InputError(f"{where}{not_dask} (it closed the connection without a greeting)", field="--scheduler")
        (length,) = struct.unpack("<Q", header)
        if not 0 < length <= MAX_GREETING_BYTES:
            raise InputError(f"{where}{not_dask} (it sent {header!r})", field="--scheduler")
        body = _read_exactly(sock, length)
        if len(body) < length or b"pickle-protocol" not in body:
            raise InputError(f"{where}{not_dask} (unexpected greeting)", field="--scheduler")
        sock.sendall(header + body)  # complete the handshake, so the scheduler sees a client that simply left
    except TimeoutError:
        raise InputError(f"{where}accepted the connection but sent no dask greeting within {timeout_s:g} s "
                         f"(not a dask scheduler, or it is stuck)", field="--scheduler") from None
    except OSError as exc:
        raise InputError(f"{where}connection failed during the greeting ({exc.strerror or exc})", field="--scheduler") from None
