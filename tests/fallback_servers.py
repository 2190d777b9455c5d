"""Failing package indexes on 127.0.0.1, for the fall-back tests: one that refuses connections
(a closed port), one that accepts and never answers, one that answers every request with 503.
Each counts what reached it, so a test can tell how many attempts a tool made."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from servers import free_port


class RefusingIndex:
    """A port nothing listens on: every connection is refused at once."""

    kind = "refused"

    def __init__(self) -> None:
        self.port = free_port()  # bound, then closed: the kernel answers RST
        self.url = f"http://127.0.0.1:{self.port}/simple/"

    def __enter__(self) -> "RefusingIndex":
        return self

    def __exit__(self, *exc) -> None:
        pass

    @property
    def attempts(self) -> None:  # a refused connection leaves no trace to count
        return None


class HangingIndex:
    """Accepts every connection and never sends a byte (a stalled server or a black-holing proxy)."""

    kind = "hang"

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/simple/"
        self.connections: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections.append(conn)  # held open, never read, never answered

    def __enter__(self) -> "HangingIndex":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for conn in self.connections:
            conn.close()
        self.sock.close()

    @property
    def attempts(self) -> int:
        return len(self.connections)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        body = b"Service Unavailable\n"
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args) -> None:
        pass


class ErrorIndex:
    """Answers every request with one HTTP status (503 by default) at once, no Retry-After."""

    kind = "503"

    def __init__(self, status: int = 503) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.status = status  # type: ignore[attr-defined]
        self.server.paths = []  # type: ignore[attr-defined]
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/simple/"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    def __enter__(self) -> "ErrorIndex":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def paths(self) -> list[str]:
        return list(self.server.paths)  # type: ignore[attr-defined]

    @property
    def attempts(self) -> int:
        return len(self.server.paths)  # type: ignore[attr-defined]


FAILURES = {"refused": RefusingIndex, "hang": HangingIndex, "503": ErrorIndex}
