"""The page's HTTP server: cheroot, a pure-Python WSGI server that runs inside the hub's process, in a fixed pool
of threads with a timeout on every connection, and speaks TLS with the standard library's ssl module. On the hub
it listens on the loopback only, in plain HTTP, behind nginx (appliance/ops/front.py), which holds the site
network's connections: a thread here is taken only by a request nginx has read whole.

A kept-alive connection waiting for its next request holds no thread (cheroot watches those with a selector); a
new one, or one that sends its request slowly, holds a thread for at most TIMEOUT_S between two packets. Beyond
THREADS at once the rest wait their turn: the threads are capped, a flood of silent connections delays the page
(each freed after TIMEOUT_S) but cannot grow the hub. A second, plain-HTTP listener only sends the browser to
the HTTPS address.
"""
from __future__ import annotations

import io
import logging
import ssl
import threading
from pathlib import Path
from urllib.parse import quote

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

log = logging.getLogger(__name__)
THREADS = 16                # requests served at once: a handful of coordinators, each with a few open requests
TIMEOUT_S = 10              # the longest a connection may stay silent in the middle of a request
MAX_BODY = 4096             # the largest form the page takes (sign-in); a longer one is refused by the app (413)
# What every answer carries (nginx adds the same to its own answers: appliance/ops/front.py).
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; script-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" with the page's own forms.
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000",
}


class _Gateway(wsgi.Gateway_10):
    """Reads a form's body before the application runs. A body shorter than its Content-Length is answered
    408 once the client has been silent for TIMEOUT_S, and the connection is closed: the application never reads
    from a socket that timed out."""

    def respond(self):
        length = self.env.get("CONTENT_LENGTH") or ""
        if length.isdigit() and 0 < int(length) <= MAX_BODY:
            try:
                body = self.req.rfile.read(int(length))
            except OSError:           # the client went silent: the socket timed out
                body = b""
            if len(body) < int(length):
                self.req.close_connection = True
                log.warning("web: a request from %s sent %d of the %s bytes it announced; answered 408",
                            self.env.get("REMOTE_ADDR"), len(body), length)
                self.req.simple_response("408 Request Timeout", "La solicitud llego incompleta.")
                return
            self.env["wsgi.input"] = io.BytesIO(body)
        super().respond()


class _Server(wsgi.Server):
    def error_log(self, msg="", level=logging.INFO, traceback=False):
        # cheroot reports a client's broken connection or failed TLS handshake with a traceback: one bounded line
        # says it. The application's own errors are logged, with their traceback, where they happen (app.py).
        log.log(min(level, logging.WARNING), "web server: %s", str(msg)[:300])


class PageServer:
    """One listener: `start()` binds (OSError when it cannot) and serves in a thread; `stop()` ends it."""

    def __init__(self, app, host: str, port: int, *, tls: tuple[Path, Path] | None = None):
        """`tls`: the certificate and key files (read here: OSError or ValueError when they cannot be used)."""
        self._server = _Server((host, port), app, numthreads=THREADS, max=THREADS, timeout=TIMEOUT_S,
                               server_name="turnero", accepted_queue_timeout=TIMEOUT_S)
        self._server.gateway = _Gateway
        self._server.max_request_header_size = 16 * 1024
        if tls is not None:
            self._server.ssl_adapter = _tls(*tls)
        self._name = "web-https" if tls else "web-http"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    def start(self) -> None:
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name=self._name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.stop()
            self._thread.join(5)


class _HandshakeInTheWorker(BuiltinSSLAdapter):
    """cheroot shakes hands in its accept loop, where a client that connects and says nothing would stop every
    other connection for TIMEOUT_S. Here the handshake happens at the first read, in the worker thread that serves
    the connection: such a client holds one worker until the timeout, never the server."""

    def wrap(self, sock):
        return (self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False),
                {"wsgi.url_scheme": "https", "HTTPS": "on"})


def _tls(cert_file: Path, key_file: Path) -> BuiltinSSLAdapter:
    adapter = _HandshakeInTheWorker(str(cert_file), str(key_file))
    adapter.context.minimum_version = ssl.TLSVersion.TLSv1_2
    return adapter


def redirect_app(https_port: int, name: str):
    """The plain-HTTP listener's whole application: every request is sent to the same path over HTTPS, at `name`,
    the name the page's certificate carries ([broker] host), never at the Host a client sends (a link to this
    port with `Host: evil.example` would otherwise send the browser elsewhere)."""
    host = url_host(name)

    def app(environ, start_response):
        path = quote(environ.get("PATH_INFO") or "/", safe="/-._~")
        query = quote(environ.get("QUERY_STRING") or "", safe="=&%+-._~")
        location = f"https://{host}:{https_port}{path}"
        start_response("301 Moved Permanently", [("Location", location + (f"?{query}" if query else "")),
                                                 ("Content-Length", "0"), ("Cache-Control", "no-store")])
        return [b""]
    return app


def url_host(name: str) -> str:
    """A host name or address as a URL writes it: an IPv6 address in brackets."""
    return f"[{name}]" if ":" in name else name
