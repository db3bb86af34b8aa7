"""nginx in front of the coordinators' page: the hub's `turnero hub` serves the page on its loopback only
([web] app_port), and nginx, event-driven, holds the site network's connections. A connection that has not sent
its request in a few seconds costs nginx a descriptor and is closed, never a thread of the page; the TLS
handshake is nginx's; one address holds at most CONNECTIONS_PER_ADDRESS requests at once; sign-ins are paced
per address before the page checks a password; plain HTTP is sent to the HTTPS address by the certificate's own
name, never by the Host a client sends.

`site_text(config)` is the `http {}` part: install puts it in /etc/nginx/conf.d/ for Debian's nginx;
appliance/dev/local_front.py runs a private nginx with it for the tests. The central's page has the same front
(`front_text` with the central's [web]).
"""
from __future__ import annotations

from appliance.ops import broker_files
from appliance.site import SetupError, SiteConfig
from appliance.web.server import HEADERS, MAX_BODY, url_host

HEADER_TIMEOUT_S = 5         # the TLS handshake and the request's headers, together
BODY_TIMEOUT_S = 5           # between two reads of a body (a sign-in form is one packet)
KEEPALIVE_S = 30             # an idle kept-alive connection
SEND_TIMEOUT_S = 30          # between two writes to a client that does not read (a CSV download)
ANSWER_TIMEOUT_S = 300       # the page's answer: a year's report takes a while on a Pi
CONNECTIONS_PER_ADDRESS = 16  # a coordinator's browser opens six or so; the site's NAT puts a few behind one
SIGN_INS_PER_MINUTE = 10     # per address, with a burst of SIGN_IN_BURST: the page's own throttle counts failures
SIGN_IN_BURST = 5
# The header the page reads the client's address from; nginx sets it, replacing whatever the client sent.
FORWARDED_FOR = "X-Forwarded-For"
_BUSY_PAGE = ('<!doctype html><html lang="es"><meta charset="utf-8"><title>Demasiadas solicitudes</title>'
              "<p>Hay demasiadas solicitudes desde este equipo. Espere un momento y vuelva a intentarlo.</p></html>")


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


def site_text(config: SiteConfig, *, extra: tuple[str, ...] = ()) -> str:
    """The `http {}` directives for the site's page: the zones, the HTTPS server in front of the page and the
    redirect. `extra`: more lines for each server (a private nginx's own paths)."""
    return front_text(config.web, https_name(config), extra=extra)


def front_text(web, name: str, *, extra: tuple[str, ...] = ()) -> str:
    """The same for any coordinators' page (the central's too): `web` says where nginx listens (host, port,
    http_port), with which certificate (cert_file, key_file) and where the page is (app_port); `name` is the
    certificate's name the redirect sends browsers to."""
    for key, path in (("web.cert_file", web.cert_file), ("web.key_file", web.key_file)):
        if any(c.isspace() or c in ';"{}' for c in str(path)):
            raise FrontError(f"{key}: nginx cannot read the path {str(path)!r} (no spaces, quotes, braces or ';')")
    port = "" if web.port == 443 else f":{web.port}"
    headers = [f"add_header {name} {_quoted(value)} always;" for name, value in HEADERS.items()
               if name != "Cache-Control"]     # the page says how long its script and stylesheet keep
    common = [
        f"client_header_timeout {HEADER_TIMEOUT_S}s;", f"client_body_timeout {BODY_TIMEOUT_S}s;",
        f"keepalive_timeout {KEEPALIVE_S}s;", f"send_timeout {SEND_TIMEOUT_S}s;",
        "client_header_buffer_size 1k;", "large_client_header_buffers 4 8k;",
        f"client_max_body_size {MAX_BODY};",
        f"limit_conn turnero_connections {CONNECTIONS_PER_ADDRESS};",
        "limit_conn_status 429;", "limit_req_status 429;", "server_tokens off;",
        *extra,
    ]
    proxy = [
        f"proxy_pass http://127.0.0.1:{web.app_port};",
        "proxy_http_version 1.1;", 'proxy_set_header Connection "";',
        "proxy_set_header Host $http_host;",                       # the page checks a form's Origin against it
        f"proxy_set_header {FORWARDED_FOR} $remote_addr;",         # replaced, never appended to
        f"proxy_read_timeout {ANSWER_TIMEOUT_S}s;",
        *(f"proxy_hide_header {name};" for name in HEADERS if name != "Cache-Control"),
    ]
    lines = [
        "# Written by `turnero install` from the site file (appliance/ops/front.py); rewritten at every run.",
        "limit_conn_zone $binary_remote_addr zone=turnero_connections:1m;",
        f"limit_req_zone $binary_remote_addr zone=turnero_sign_in:1m rate={SIGN_INS_PER_MINUTE}r/m;",
        "server {",
        f"    listen {_listen(web.host, web.port)} ssl;",
        f"    ssl_certificate {web.cert_file};", f"    ssl_certificate_key {web.key_file};",
        "    ssl_protocols TLSv1.2 TLSv1.3;", "    ssl_session_cache shared:turnero_tls:1m;",
        *(f"    {line}" for line in common + headers),
        "    error_page 429 @busy;",
        "    location @busy {",
        '        default_type "text/html; charset=utf-8";', "        add_header Retry-After 30 always;",
        *(f"        {line}" for line in headers),
        f"        return 429 '{_BUSY_PAGE}';",
        "    }",
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
        lines += [
            "server {",
            f"    listen {_listen(web.host, web.http_port)};",
            *(f"    {line}" for line in common),
            f"    return 301 https://{name}{port}$request_uri;",
            "}",
        ]
    return "\n".join(lines) + "\n"
