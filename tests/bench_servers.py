"""Loopback package indexes for the bench tests and benchmarks: nothing leaves 127.0.0.1.

One background thread runs an asyncio loop hosting any number of tiny HTTP/1.1
servers (keep-alive, Content-Length framing). Each server behaves as told by a
:class:`Behaviour`: a Simple-API project page (HTML or JSON) after a fixed or
jittered delay, an HTTP error, an HTML page that is not a Simple-API page, a
connection that is accepted and never answered, a body that drips slowly, a
redirect loop, a connection closed without an answer, any page given as bytes
(``RAW``: hostile pages), or another project's page. Any server also answers
absolute-form targets (as an HTTP proxy would) and records them as such.

    with LoopbackServers() as servers:
        fast = servers.start(Behaviour(delay=0.01))
        run_bench([Mirror("fast", fast.url)])
        assert fast.request_count == 5
"""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import ssl
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple
from urllib.parse import urlsplit

SIMPLE = "simple"  # a PEP 503 HTML page (or PEP 691 JSON, with json=True)
NOT_SIMPLE = "not-simple"  # 200 with an HTML page that lists no files (a portal, a default page)
BLACKHOLE = "blackhole"  # accepts, reads the request, never answers
DRIP = "drip"  # answers headers at once, then one byte of body every drip_interval
REDIRECT_LOOP = "redirect-loop"  # /simple/pip/ -> /loop/pip/ -> /simple/pip/ -> ...
CLOSE = "close"  # reads the request and closes the connection without a word
RAW = "raw"  # project pages answer 200 with Behaviour.body as Behaviour.content_type (hostile pages)


@dataclass
class Behaviour:
    kind: str = SIMPLE
    delay: float = 0.0  # seconds before the answer to a project page
    jitter: float = 0.0  # +- this fraction of delay, uniformly drawn
    status: int = 200  # the status of project pages
    json: bool = False  # answer PEP 691 JSON when the client accepts it
    serial: Optional[int] = 1000
    serial_in: Optional[str] = "comment"  # "comment", "header", "json" or None (no serial at all)
    versions: Tuple[str, ...] = ("23.3", "24.0")
    file_size: int = 256 * 1024  # size of each linked file
    file_rate: Optional[float] = None  # bytes per second for files (None: as fast as possible)
    drip_interval: float = 0.05
    fail_after: Optional[int] = None  # answer 500 to project pages after this many good ones
    redirect_to: Optional[str] = None  # answer project pages with 301 to this index URL + "/<project>/"
    file_base: str = "../.."  # where the page's file links point (relative to /simple/<project>/)
    body: bytes = b""  # kind=RAW: the project page, whatever the project asked for
    content_type: str = "text/html"  # kind=RAW: its Content-Type
    page_project: Optional[str] = None  # serve this project's page whatever project is asked for
    seed: int = 0


@dataclass
class Request:
    method: str
    target: str
    path: str
    headers: Dict[str, str]
    absolute: bool  # absolute-form target: sent to us as a proxy


def simple_html(project: str, versions: Sequence[str], serial: Optional[int], file_base: str = "../..") -> bytes:
    links = []
    for version in versions:
        for filename in (f"{project}-{version}-py3-none-any.whl", f"{project}-{version}.tar.gz"):
            links.append(f'    <a href="{file_base}/files/{filename}#sha256={"0" * 64}">{filename}</a><br />')
    comment = f"\n<!--SERIAL {serial}-->" if serial is not None else ""
    return (
        "<!DOCTYPE html>\n<html>\n  <head>\n"
        '    <meta name="pypi:repository-version" content="1.1">\n'
        f"    <title>Links for {project}</title>\n  </head>\n  <body>\n    <h1>Links for {project}</h1>\n"
        + "\n".join(links)
        + f"\n  </body>\n</html>{comment}\n"
    ).encode()


def simple_json(project: str, versions: Sequence[str], serial: Optional[int], file_base: str = "../..") -> bytes:
    files = []
    for version in versions:
        for filename in (f"{project}-{version}-py3-none-any.whl", f"{project}-{version}.tar.gz"):
            files.append({"filename": filename, "url": f"{file_base}/files/{filename}", "hashes": {"sha256": "0" * 64}})
    meta: Dict[str, object] = {"api-version": "1.1"}
    if serial is not None:
        meta["_last-serial"] = serial
    return json.dumps({"meta": meta, "name": project, "files": files, "versions": list(versions)}).encode()


NOT_SIMPLE_PAGE = (
    b"<!DOCTYPE html><html><head><title>Welcome to nginx!</title></head><body>"
    b"<h1>Welcome to nginx!</h1><p>For online documentation please refer to "
    b'<a href="http://nginx.org/">nginx.org</a>.</p></body></html>'
)


class IndexServer:
    """One loopback server; ``url`` is its index URL (``http://127.0.0.1:PORT/simple``)."""

    def __init__(self, owner: "LoopbackServers", behaviour: Behaviour, ssl_context: Optional[ssl.SSLContext],
                 host: str = "127.0.0.1", port: int = 0):
        self.owner = owner
        self.host = host  # 127.0.0.1, or ::1 (IPv6 loopback)
        self.behaviour = behaviour
        self.ssl_context = ssl_context
        self.random = random.Random(behaviour.seed)
        self.port = port
        self.connections = 0
        self.pages_served = 0
        self.requests: List[Request] = []
        self._server: Optional[asyncio.AbstractServer] = None
        self._lock = threading.Lock()

    @property
    def scheme(self) -> str:
        return "https" if self.ssl_context else "http"

    @property
    def base(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/simple"

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.requests)

    def page_requests(self) -> List[Request]:
        with self._lock:
            return [r for r in self.requests if not r.path.startswith("/files/")]

    async def _start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self.host, self.port, ssl=self.ssl_context)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()

    # -- HTTP ----------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        task = asyncio.current_task()
        self.owner._tasks.add(task)
        try:
            while True:
                request = await self._read_request(reader)
                if request is None:
                    break
                with self._lock:
                    self.requests.append(request)
                keep_going = await self._answer(request, writer)
                if not keep_going or request.headers.get("connection", "").lower() == "close":
                    break
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, OSError):
            pass
        finally:
            self.owner._tasks.discard(task)
            try:
                writer.close()
            except Exception:  # pragma: no cover - best effort
                pass

    async def _read_request(self, reader: asyncio.StreamReader) -> Optional[Request]:
        line = await reader.readline()
        if not line:
            return None
        try:
            method, target, _version = line.decode("latin-1").split()
        except ValueError:
            return None
        headers: Dict[str, str] = {}
        while True:
            raw = await reader.readline()
            if raw in (b"\r\n", b"\n", b""):
                break
            key, _, value = raw.decode("latin-1").partition(":")
            headers[key.strip().lower()] = value.strip()
        absolute = "://" in target
        path = urlsplit(target).path if absolute else target.split("?", 1)[0]
        return Request(method, target, path, headers, absolute)

    async def _send(self, writer: asyncio.StreamWriter, status: int, body: bytes = b"",
                    headers: Optional[Dict[str, str]] = None, content_length: Optional[int] = None) -> None:
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
        all_headers = {"Content-Length": str(len(body) if content_length is None else content_length)}
        all_headers.update(headers or {})
        head += [f"{k}: {v}" for k, v in all_headers.items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        await writer.drain()

    async def _answer(self, request: Request, writer: asyncio.StreamWriter) -> bool:
        b = self.behaviour
        kind = b.kind
        if kind == BLACKHOLE:
            await self.owner._stopping.wait()  # until the servers are stopped
            return False
        if kind == CLOSE:
            return False
        if kind == REDIRECT_LOOP:
            other = request.path.replace("/simple/", "/loop/") if request.path.startswith("/simple/") \
                else request.path.replace("/loop/", "/simple/")
            await self._send(writer, 302, headers={"Location": other})
            return True
        if request.path.startswith("/files/"):
            await self._send_file(request, writer)
            return True
        if request.path.endswith("/repodata.json"):  # a conda channel (behaviour.delay applies)
            await self._send_repodata(request, writer)
            return True
        parts = [p for p in request.path.split("/") if p]
        if len(parts) != 2 or parts[0] != "simple" or not request.path.endswith("/"):
            await self._send(writer, 404, b"not found", {"Content-Type": "text/plain"})
            return True
        project = parts[1]
        if b.redirect_to:
            await self._send(writer, 301, headers={"Location": f"{b.redirect_to.rstrip('/')}/{project}/"})
            return True
        self.pages_served += 1
        delay = b.delay
        if b.jitter:
            delay *= 1 + self.random.uniform(-b.jitter, b.jitter)
        if delay > 0:
            await asyncio.sleep(delay)
        if kind == NOT_SIMPLE:
            await self._send(writer, 200, NOT_SIMPLE_PAGE, {"Content-Type": "text/html"})
            return True
        if kind == RAW:
            await self._send(writer, 200, b.body, {"Content-Type": b.content_type})
            return True
        project = b.page_project or project
        if b.status != 200 or (b.fail_after is not None and self.pages_served > b.fail_after):
            await self._send(writer, b.status if b.status != 200 else 500, b"<html><body>Internal error</body></html>", {"Content-Type": "text/html"})
            return True
        serial = b.serial
        headers = {}
        if serial is not None and b.serial_in == "header":
            headers["X-PyPI-Last-Serial"] = str(serial)
        page_serial = serial if b.serial_in in ("comment", "json") else None
        wants_json = "application/vnd.pypi.simple.v1+json" in request.headers.get("accept", "")
        if b.json and wants_json:
            body = simple_json(project, b.versions, page_serial, b.file_base)
            headers["Content-Type"] = "application/vnd.pypi.simple.v1+json"
        else:
            body = simple_html(project, b.versions, page_serial, b.file_base)
            headers["Content-Type"] = "text/html"
        if kind == DRIP:
            await self._send(writer, 200, b"", headers, content_length=len(body))
            for i in range(len(body)):
                if self.owner._stopping.is_set():
                    return False
                writer.write(body[i:i + 1])
                await writer.drain()
                await asyncio.sleep(b.drip_interval)
            return True
        await self._send(writer, 200, body, headers)
        return True

    async def _send_repodata(self, request: Request, writer: asyncio.StreamWriter) -> None:
        """A conda repodata.json of ~300 KB (its first 64 KB when asked with Range: bytes=0-65535)."""
        b = self.behaviour
        with self._lock:
            self.pages_served += 1
        if b.delay:
            await asyncio.sleep(b.delay * (1 + self.random.uniform(-b.jitter, b.jitter) if b.jitter else 1))
        if b.kind == RAW:
            await self._send(writer, 200, b.body, {"Content-Type": b.content_type})
            return
        body = repodata_json()
        wanted = request.headers.get("range", "")
        if b.status != 200:
            await self._send(writer, b.status, b"{}", {"Content-Type": "application/json"})
        elif wanted.startswith("bytes=0-") and b.serial_in != "no-range":
            end = min(int(wanted[len("bytes=0-"):]), len(body) - 1)
            await self._send(writer, 206, body[:end + 1], {"Content-Type": "application/json",
                                                           "Content-Range": f"bytes 0-{end}/{len(body)}"})
        else:
            await self._send(writer, 200, body, {"Content-Type": "application/json"})

    async def _send_file(self, request: Request, writer: asyncio.StreamWriter) -> None:
        b = self.behaviour
        size = b.file_size
        await self._send(writer, 200, b"", {"Content-Type": "application/octet-stream"}, content_length=size)
        chunk = 16 * 1024
        sent = 0
        while sent < size:
            n = min(chunk, size - sent)
            writer.write(b"\0" * n)
            await writer.drain()
            sent += n
            if b.file_rate:
                if self.owner._stopping.is_set():
                    return
                await asyncio.sleep(n / b.file_rate)


def repodata_json(count: int = 1500) -> bytes:
    """A conda repodata.json shaped like noarch's (info, packages, packages.conda)."""
    packages = {f"pkg{i}-1.0-py_0.tar.bz2": {"name": f"pkg{i}", "version": "1.0", "build": "py_0", "depends": [],
                                            "md5": "0" * 32, "size": 1000 + i, "subdir": "noarch"}
                for i in range(count)}
    return json.dumps({"info": {"subdir": "noarch"}, "packages": packages, "packages.conda": {},
                       "repodata_version": 1}).encode()


_REASONS = {200: "OK", 206: "Partial Content", 301: "Moved Permanently", 302: "Found", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


async def _new_event() -> asyncio.Event:
    return asyncio.Event()  # made inside the loop (Python 3.9 binds events to a loop when made)


class LoopbackServers:
    """A loop thread hosting :class:`IndexServer` instances; a context manager."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="loopback-indexes", daemon=True)
        self.servers: List[IndexServer] = []
        self._tasks: set = set()
        self.thread.start()
        self._stopping: asyncio.Event = asyncio.run_coroutine_threadsafe(_new_event(), self.loop).result(10)

    def start(self, behaviour: Optional[Behaviour] = None, *, ssl_context: Optional[ssl.SSLContext] = None,
              host: str = "127.0.0.1", port: int = 0) -> IndexServer:
        server = IndexServer(self, behaviour or Behaviour(), ssl_context, host, port)
        asyncio.run_coroutine_threadsafe(server._start(), self.loop).result(10)
        self.servers.append(server)
        return server

    def close(self) -> None:
        async def stop_all() -> None:
            self._stopping.set()
            for server in self.servers:
                await server._stop()
            if self._tasks:  # let the handlers see the stop and finish
                await asyncio.wait(list(self._tasks), timeout=2)

        if self.loop.is_running():
            asyncio.run_coroutine_threadsafe(stop_all(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(10)
        if not self.loop.is_running():
            self.loop.close()

    def __enter__(self) -> "LoopbackServers":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (for "connection refused")."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def self_signed_cert(folder: Path) -> Optional[Tuple[Path, Path]]:
    """A certificate for 127.0.0.1 signed by nobody, made with the openssl command (None without it)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        capture_output=True,
    )
    if result.returncode != 0:
        return None
    return cert, key


def server_ssl_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(str(cert), str(key))
    return context

