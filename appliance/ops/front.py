"""nginx in front of the coordinators' page: the hub's `turnero hub` serves the page on its loopback only
([web] app_port), and nginx, event-driven, holds the site network's connections. A connection that has not sent
its request in a few seconds costs nginx a descriptor and is closed, never a thread of the page; the TLS
handshake is nginx's; one address holds at most CONNECTIONS_PER_ADDRESS requests at once; sign-ins are paced
per address before the page checks a password; plain HTTP is sent to the HTTPS address by the certificate's own
name, never by the Host a client sends.

`site_text(config)` is the `http {}` part: install puts it in /etc/nginx/conf.d/ for Debian's nginx;
appliance/dev/local_front.py runs a private nginx with it for the tests. The central's page has the same front
(`central_text`: `front_text` with the central's [web], and its [public]).
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from appliance.ops import broker_files
from appliance.site import PublicSettings, SetupError, SiteConfig
from appliance.web.server import HEADERS, MAX_BODY, url_host
from central.public_config import CentralPublic

HEADER_TIMEOUT_S = 5         # the TLS handshake and the request's headers, together
BODY_TIMEOUT_S = 5           # between two reads of a body (a sign-in form is one packet)
KEEPALIVE_S = 30             # an idle kept-alive connection
SEND_TIMEOUT_S = 30          # between two writes to a client that does not read (a CSV download)
ANSWER_TIMEOUT_S = 300       # the page's answer: a year's report takes a while on a Pi
CONNECTIONS_PER_ADDRESS = 16  # a coordinator's browser opens six or so; the site's NAT puts a few behind one
SIGN_INS_PER_MINUTE = 10     # per address, with a burst of SIGN_IN_BURST: the page's own throttle counts failures
SIGN_IN_BURST = 5
# The "Mi turno" page: a phone asks every 5 s (and twice more the first time, for the stylesheet and script). Each
# guest's phone has an address of its own on the guest Wi-Fi.
PUBLIC_REQUESTS_PER_SECOND = 2
PUBLIC_BURST = 10
PUBLIC_CONNECTIONS_PER_ADDRESS = 8
PUBLIC_CACHE_S = 1
PUBLIC_CACHE_DIR = Path("/var/lib/nginx/turnero-mi-turno")    # Debian's nginx makes it, for its workers
# The header the page reads the client's address from; nginx sets it, replacing whatever the client sent.
FORWARDED_FOR = "X-Forwarded-For"
_BUSY_PAGE = ('<!doctype html><html lang="es"><meta charset="utf-8"><title>Demasiadas solicitudes</title>'
              "<p>Hay demasiadas solicitudes desde este equipo. Espere un momento y vuelva a intentarlo.</p></html>")

_UNREADABLE_PAGE = ('<!doctype html><html lang="es"><meta charset="utf-8"><title>Dirección no válida</title>'
                    "<p>Esta dirección no es válida. Use la dirección impresa en su tiquete.</p></html>")


class FrontError(SetupError):
    """nginx cannot be set up from this site file; the message names the setting."""


def https_name(config: SiteConfig) -> str:
    """The name the redirect sends browsers to: the first of the page's certificate ([broker] host)."""
    return url_host(broker_files.hub_names(config)[0])


def _listen(host: str, port: int) -> str:
    if host in ("", "0.0.0.0"):
        return str(port)
    if host == "::":
        return f"[::]:{port}"
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _checked_paths(files: dict[str, object]) -> None:
    for key, path in files.items():
        if any(c.isspace() or c in ';"{}' for c in str(path)):
            raise FrontError(f"{key}: nginx cannot read the path {str(path)!r} (no spaces, quotes, braces or ';')")


def _headers() -> list[str]:
    # Cache-Control is left to the page: it says how long its script and stylesheet keep.
    return [f"add_header {name} {_quoted(value)} always;" for name, value in HEADERS.items() if name != "Cache-Control"]


def _common(zone: str, connections: int, extra: tuple[str, ...]) -> list[str]:
    """What every server block says: the timeouts, the buffers, the connections per address."""
    return [
        f"client_header_timeout {HEADER_TIMEOUT_S}s;", f"client_body_timeout {BODY_TIMEOUT_S}s;",
        f"keepalive_timeout {KEEPALIVE_S}s;", f"send_timeout {SEND_TIMEOUT_S}s;",
        "client_header_buffer_size 1k;", "large_client_header_buffers 4 8k;",
        f"client_max_body_size {MAX_BODY};",
        f"limit_conn {zone} {connections};",
        "limit_conn_status 429;", "limit_req_status 429;", "server_tokens off;",
        *extra,
    ]


def _proxy(app_port: int) -> list[str]:
    return [
        f"proxy_pass http://127.0.0.1:{app_port};",
        "proxy_http_version 1.1;", 'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",                       # the page checks a form's Origin against it
        f"proxy_set_header {FORWARDED_FOR} $remote_addr;",         # replaced, never appended to
        f"proxy_read_timeout {ANSWER_TIMEOUT_S}s;",
        *(f"proxy_hide_header {name};" for name in HEADERS if name != "Cache-Control"),
    ]


def _tls_server(host: str, port: int, cert_file, key_file, lines: list[str]) -> list[str]:
    """An HTTPS server block whose 429 (too many connections or requests from one address) is a Spanish page."""
    return [
        "server {",
        f"    listen {_listen(host, port)} ssl;",
        f"    ssl_certificate {cert_file};", f"    ssl_certificate_key {key_file};",
        "    ssl_protocols TLSv1.2 TLSv1.3;", "    ssl_session_cache shared:turnero_tls:1m;",
        *(f"    {line}" for line in lines),
        "    error_page 429 @busy;",
        "    location @busy {",
        '        default_type "text/html; charset=utf-8";', "        add_header Retry-After 30 always;",
        *(f"        {line}" for line in _headers()),
        f"        return 429 '{_BUSY_PAGE}';",
        "    }",
    ]


def _redirect_server(host: str, port: int, lines: list[str], target: str) -> list[str]:
    return ["server {", f"    listen {_listen(host, port)};", *(f"    {line}" for line in lines),
            f"    return 301 {target}$request_uri;", "}"]


def site_text(config: SiteConfig, *, extra: tuple[str, ...] = (), cache_dir: Path = PUBLIC_CACHE_DIR) -> str:
    """The `http {}` directives for the site's page (front_text), and the citizens' "Mi turno" page on the guest
    Wi-Fi when the hub serves it (public_lines). `extra`: more lines for each server, `cache_dir` the page's
    cache (a private nginx's own paths)."""
    text = front_text(config.web, https_name(config), extra=extra)
    if config.public is not None and config.public.listen:
        text += "\n".join(public_lines(config.public, extra, cache_dir)) + "\n"
    return text


def central_text(web, name: str, public: CentralPublic | None, *, extra: tuple[str, ...] = (),
                 cache_dir: Path = PUBLIC_CACHE_DIR) -> str:
    """The central's: its coordinators' page (front_text with central.toml's [web]; `name` its certificate's), and
    with [public] the sites' "Mi turno" page."""
    text = front_text(web, name, extra=extra)
    if public is not None:
        text += "\n".join(public_lines(public, extra, cache_dir)) + "\n"
    return text


def front_text(web, name: str, *, extra: tuple[str, ...] = ()) -> str:
    """The zones, the HTTPS server in front of a coordinators' page (the central's too) and its redirect: `web`
    says where nginx listens (host, port, http_port), with which certificate (cert_file, key_file) and where the
    page is (app_port); `name` is the certificate's name the redirect sends browsers to."""
    _checked_paths({"web.cert_file": web.cert_file, "web.key_file": web.key_file})
    port = "" if web.port == 443 else f":{web.port}"
    common = _common("turnero_connections", CONNECTIONS_PER_ADDRESS, extra)
    proxy = _proxy(web.app_port)
    lines = [
        "# Written by `turnero install` from the site file (appliance/ops/front.py); rewritten at every run.",
        "limit_conn_zone $binary_remote_addr zone=turnero_connections:1m;",
        f"limit_req_zone $binary_remote_addr zone=turnero_sign_in:1m rate={SIGN_INS_PER_MINUTE}r/m;",
        *_tls_server(web.host, web.port, web.cert_file, web.key_file, common + _headers()),
        "    location = /ingresar {",
        f"        limit_req zone=turnero_sign_in burst={SIGN_IN_BURST} nodelay;",
        *(f"        {line}" for line in proxy),
        "    }",
        "    location / {",
        *(f"        {line}" for line in proxy),
        "    }",
        "}",
    ]
    if web.http_port:
        lines += _redirect_server(web.host, web.http_port, common, f"https://{name}{port}")
    return "\n".join(lines) + "\n"


def public_lines(public: PublicSettings | CentralPublic, extra: tuple[str, ...], cache_dir: Path) -> list[str]:
    """The "Mi turno" page on the guest Wi-Fi (or on the central: `public` is then central.toml's [public]): its own
    certificate (one phones trust, for the address's name), its own zones, and every request paced per address. A
    phone refreshing every few seconds stays far below the rate; an address that goes beyond the burst gets the
    Spanish 429 at once, from nginx, never the page. nginx keeps each answer for PUBLIC_CACHE_S (the hub publishes
    the positions at most once a second): phones following one turn, or refreshing together, cost the page one
    request a second for it."""
    _checked_paths({"public.cert_file": public.cert_file, "public.key_file": public.key_file})
    # No access log: a phone's address beside a code would say who followed which turn.
    common = _common("turnero_public_connections", PUBLIC_CONNECTIONS_PER_ADDRESS, ("access_log off;", *extra))
    lines = [
        "limit_conn_zone $binary_remote_addr zone=turnero_public_connections:1m;",
        f"limit_req_zone $binary_remote_addr zone=turnero_public:2m rate={PUBLIC_REQUESTS_PER_SECOND}r/s;",
        f"proxy_cache_path {cache_dir} levels=1 keys_zone=turnero_public_cache:2m max_size=64m inactive=1m "
        "use_temp_path=off;",
        *_tls_server(public.host, public.port, public.cert_file, public.key_file, common + _headers()),
        # A request nginx cannot read (an address of kilobytes, a broken header) is not passed on: a Spanish page.
        "    error_page 400 414 494 /.unreadable;",        # a named location has no URI to go to here
        "    location = /.unreadable {",
        "        internal;",
        '        default_type "text/html; charset=utf-8";',
        *(f"        {line}" for line in _headers()),
        f"        return 400 '{_UNREADABLE_PAGE}';",
        "    }",
        "    location / {",
        f"        limit_req zone=turnero_public burst={PUBLIC_BURST} nodelay;",
        *(f"        {line}" for line in _proxy(public.app_port)),
        # The page tells browsers not to keep it (no-store); nginx keeps it a moment all the same.
        "        proxy_cache turnero_public_cache;", f"        proxy_cache_valid 200 404 {PUBLIC_CACHE_S}s;",
        "        proxy_cache_lock on;", "        proxy_ignore_headers Cache-Control Expires Set-Cookie;",
        "    }",
        "}",
    ]
    if public.http_port:
        address = urlsplit(public.address)
        lines += _redirect_server(public.host, public.http_port, common, f"https://{address.netloc}")
    return lines
