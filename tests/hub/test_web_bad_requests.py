"""The coordinators' page against bad requests, over HTTPS: strangers on every route, bad cookies, bad dates,
odd methods, path tricks, oversized, short and slow requests and broken request lines. Each gets a clean 4xx (a
Spanish page where the page answers), never a 500, never a traceback, never data; and the page goes on serving.
(test_web.py has the browser tests.)"""
import dataclasses
import hashlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from urllib.parse import quote

import pytest

from appliance import site as site_config
from appliance.dev.local_broker import free_port
from appliance.web.accounts import SESSION_S, Accounts
from appliance.web.pages import COOKIE
from hub.web.app import CoordinatorsWeb, WebError
from appliance.web.server import THREADS, TIMEOUT_S
from tests.harness.page import PASSWORD, USER
from tests.harness.page import ask as plain_ask
from tests.harness.page import client_context, form_headers, make_page, page_config, sign_in

PRIVATE_PAGES = ("/", "/en-vivo", "/informe", "/exportar")
PRIVATE_DATA = ("/api/en-vivo", "/informe.html", "/exportar/turnos.csv")


@pytest.fixture
def web(broker, tmp_path, caplog):
    page = make_page(page_config(site_config.load(site_config.EXAMPLE), broker), tmp_path / "hub")
    page.state = tmp_path / "hub"
    page.start()
    yield page
    page.stop()
    failures = [r for r in caplog.records if r.name.startswith("hub.web") and (r.exc_info or r.levelno >= logging.ERROR)]
    assert not failures, [r.getMessage() for r in failures]     # nothing the page did not expect


def ask(web, method: str, path: str, **options) -> tuple[int, dict, str]:
    result = plain_ask(web, method, path, **options)
    assert result[0] < 500 and "Traceback" not in result[2], (method, path, result)
    return result


def tls_socket(web) -> ssl.SSLSocket:
    plain = socket.create_connection(("127.0.0.1", web.port), timeout=TIMEOUT_S * 3)
    return client_context(web.config).wrap_socket(plain, server_hostname="127.0.0.1")


def raw(web, data: bytes) -> bytes:
    """Bytes straight into the TLS connection, for requests no HTTP client would send; all the answer."""
    with tls_socket(web) as connection:
        try:
            connection.sendall(data)
        except (ssl.SSLError, ConnectionError):  # the server answered and closed before it had read it all
            pass
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except (ssl.SSLError, ConnectionError):  # the server closed without a TLS goodbye
            pass
    return answer


def refused_as_a_stranger(web, path: str, method: str = "GET", **options) -> None:
    status, headers, body = ask(web, method, path, **options)
    if path.split("?")[0] in PRIVATE_DATA:
        assert status == 401, (path, status)
        assert "Inicie sesión" in body
    else:
        assert status == 303 and headers["location"] == "/ingresar", (path, status)
        assert body == ""
    assert "turn_id" not in body and "queues" not in body and "set-cookie" not in headers


def test_a_stranger_gets_no_data_from_any_route(web):
    for path in PRIVATE_PAGES + PRIVATE_DATA:
        refused_as_a_stranger(web, path)
        refused_as_a_stranger(web, path + "?desde=2026-11-01&hasta=2026-11-30")


def cookies(web) -> dict[str, str]:
    """Every kind of cookie that must not open a session."""
    expired = Accounts(web.state, now=lambda: time.time() - SESSION_S - 60).sign_in(USER, PASSWORD)
    good = sign_in(web)
    return {"expired": expired, "one letter changed": good[:-1] + ("A" if good[-1] != "A" else "B"),
            "the digest the hub keeps": hashlib.sha256(good.encode()).hexdigest(), "empty": '""', "long": "x" * 40,
            "8 KB": "a" * 8000, "quotes and semicolons": '"a;b;c"', "non-ASCII": "coordinación.1.2"}


def test_forged_expired_and_broken_session_cookies_open_nothing(web):
    for kind, value in cookies(web).items():
        for path in ("/en-vivo", "/api/en-vivo", "/exportar/turnos.csv"):
            try:
                refused_as_a_stranger(web, path, cookie=value)
            except AssertionError as error:
                raise AssertionError(f"a cookie that is {kind}: {error}") from None
    malformed = "; ".join([f"{COOKIE}=a", 'x="unterminated', "ñ=1"])
    refused_as_a_stranger(web, "/api/en-vivo", headers={"Cookie": malformed})


DATES = [
    ("desde=2026-02-30", "«2026-02-30» no es válida"),
    ("desde=0000-01-01", "no es válida"),
    ("desde=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%96-11-24", "no es válida"),            # full-width digits
    ("desde=" + "2" * 5000, "no es válida"),
    ("desde=2026-11-24%0D%0ASet-Cookie:%20turnero_sesion=robada", "no es válida"),
    ("desde=%00", "no es válida"),
    ("desde=%FF%FE", "no es válida"),
    ("desde=2026-11-30&hasta=2026-11-01", "posterior a la final"),
    ("desde=0001-01-01&hasta=9999-12-31", "el máximo es 366"),
    ("desde=2026-11-24&hasta=2027-11-25", "el máximo es 366"),
    ("hasta=1999-01-01", "posterior a la final"),
]


@pytest.mark.parametrize("path", ["/informe", "/informe.html", "/exportar/turnos.csv"])
def test_bad_dates_and_periods_come_back_as_the_form_with_the_reason(web, path):
    cookie = sign_in(web)
    for query, reason in DATES:
        status, headers, body = ask(web, "GET", f"{path}?{query}", cookie=cookie)
        assert status == 400 and reason in body, (query, status, body[-400:])
        assert "set-cookie" not in headers and "robada" not in json.dumps(headers)
        assert '<form class="period"' in body and "<h1>" in body or "Exportar" in body


def test_the_furthest_real_days_are_answered_not_crashed_on(web):
    cookie = sign_in(web)
    for query in ("desde=0001-01-01", "desde=9999-12-31", "desde=9999-01-01&hasta=9999-12-31"):
        for path in ("/informe", "/informe.html", "/exportar/turnos.csv"):
            assert ask(web, "GET", f"{path}?{query}", cookie=cookie)[0] == 200, (path, query)


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "get"])
def test_odd_methods_are_refused_on_every_route(web, method):
    cookie = sign_in(web)
    for path in ("/en-vivo", "/api/en-vivo", "/ingresar", "/salir", "/exportar/turnos.csv", "/estilo.css"):
        status, headers, body = ask(web, method, path, cookie=cookie)
        if method == "get":     # methods are case-sensitive: the server refuses it before the page sees it
            assert status == 400 and "case-sensitive" in body, (path, status)
            continue
        assert status == 405 and "no acepta esa clase de solicitud" in body, (method, path, status)
        assert set(headers["allow"].split(", ")) in ({"GET", "HEAD"}, {"POST"}, {"GET", "HEAD", "POST"})


def test_head_answers_what_get_would_without_the_body(web):
    cookie = sign_in(web)
    for path in ("/en-vivo", "/api/en-vivo", "/estilo.css", "/exportar"):
        got, head = ask(web, "GET", path, cookie=cookie), ask(web, "HEAD", path, cookie=cookie)
        assert head[0] == got[0] == 200 and head[2] == "", path
        assert head[1]["content-type"] == got[1]["content-type"]
    assert ask(web, "HEAD", "/en-vivo")[1]["location"] == "/ingresar"     # a stranger is sent to sign in
    assert ask(web, "HEAD", "/salir", cookie=cookie)[0] == 405


def test_path_tricks_find_nothing(web):
    cookie = sign_in(web)
    for path in ("/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/.%2e/.%2e/etc/passwd", "/estilo.css%2f..%2f..%2fweb%2fapp.py",
                 "/ingresar/../en-vivo", "/..\\..\\etc\\passwd", "/en-vivo;jsessionid=1",
                 "/en-vivo%2F", "/EN-VIVO", "/en-vivo%20", "/en-vivo%09", "/api/en-vivo/..",
                 "/coordinators.json", "/../coordinators.json", "/days/", "/static/live.js", "/" + quote("ñandú")):
        for who in (None, cookie):
            status, _, body = ask(web, "GET", path, cookie=who)
            assert status == 404 and "La página que busca no existe." in body, (path, status)


def test_oversized_and_malformed_requests_get_a_clean_refusal(web):
    form = form_headers(web)
    for headers, body, reason in (
            ({"Content-Length": "1000000000"}, None, "La solicitud es demasiado grande."),
            ({}, b"usuario=" + b"a" * 5000, "La solicitud es demasiado grande."),
            ({}, "&".join(f"c{i}=1" for i in range(40)).encode(), "demasiados campos"),
            ({}, b"usuario=\xff\xfe&clave=\x00", "El usuario o la contraseña no son correctos."),
            ({}, b"usuario=coordinacion%0D%0ASet-Cookie:%20x=1&clave=x", "no son correctos")):
        status, answer_headers, page = ask(web, "POST", "/ingresar", headers={**form, **headers}, body=body)
        assert status in (400, 401, 413) and reason in page, (headers, status, page[-300:])
        assert "set-cookie" not in answer_headers
    # Refused by the server before the page reads them: cheroot's own short answer, or, when it closes on what it
    # did not read before that answer arrives, a reset (on the hub, nginx in front answers these itself).
    for line, status in ((b"GET /informe?" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: a\r\n\r\n", b"414"),
                         (b"GET /en-vivo HTTP/1.1\r\nHost: a\r\nX-Largo: " + b"a" * 70_000 + b"\r\n\r\n", b"413")):
        answers = [raw(web, line) for _ in range(3)]
        assert all(a == b"" or a.startswith(b"HTTP/1.1 " + status) for a in answers), [a[:200] for a in answers]
        assert any(answers)             # and the answer is seen, whatever the race of a single try


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET\r\n\r\n",
                                  b"GET /en-vivo HTTP/1.1\r\nsin dos puntos\r\n\r\n",
                                  b"GET /\xff\xfe HTTP/1.1\r\nHost: a\r\n\r\n",
                                  b"POST /ingresar HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n",
                                  b"POST /ingresar HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"],
                         ids=["garbage", "http 9.9", "no path", "a header without colon", "not utf-8",
                              "a negative length", "an unknown transfer coding"])
def test_broken_request_lines_are_answered_without_a_traceback(web, line):
    answer = raw(web, line)
    assert answer.startswith(b"HTTP/1.1 4") or answer.startswith(b"HTTP/1.1 303 ") and b"Location: /ingresar" in answer \
        or answer[:12] in (b"HTTP/1.1 501", b"HTTP/1.1 505"), answer[:200]
    assert b"Traceback" not in answer


def test_plain_http_on_the_https_port_gets_nothing_and_a_client_of_another_ca_is_refused(web):
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as plain:
        plain.sendall(b"GET /en-vivo HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        try:
            answer = plain.recv(4096)
        except ConnectionResetError:
            answer = b""
    assert b"<html" not in answer and b"HTTP/1.1 200" not in answer and b"303" not in answer
    with pytest.raises(ssl.SSLCertVerificationError):      # the page's certificate is only the site CA's word
        with socket.create_connection(("127.0.0.1", web.port), timeout=10) as plain:
            ssl.create_default_context().wrap_socket(plain, server_hostname="127.0.0.1")
    assert ask(web, "GET", "/ingresar")[0] == 200


def test_a_body_shorter_than_announced_is_answered_408_once_the_client_falls_silent(web):
    with tls_socket(web) as connection:
        connection.sendall(b"POST /ingresar HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: " + form_headers(web)["Origin"].encode()
                           + b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 40\r\n\r\n"
                           + b"usuario=coordinacion")
        started = time.monotonic()
        answer = connection.recv(4096)
        silent_for = time.monotonic() - started
        assert connection.recv(4096) == b""        # and the connection is closed
    assert answer.startswith(b"HTTP/1.1 408 ") and b"Traceback" not in answer
    assert TIMEOUT_S - 1 <= silent_for, silent_for       # it waited for the rest as long as the timeout says


def test_silent_and_slow_connections_hold_at_most_the_server_threads_and_the_page_still_answers(web):
    """Connections that say nothing after connecting, or send half a request and fall silent: each holds one of
    the server's threads until the timeout, never more threads than it has, and never the accept loop (a TLS
    handshake nobody finishes included); a coordinator is still served while fewer than that are held."""
    cookie = sign_in(web)
    threads_before = threading.active_count()
    silent = [socket.create_connection(("127.0.0.1", web.port)) for _ in range(THREADS // 2)]   # no TLS hello
    slow = []
    for _ in range(THREADS // 2 - 2):
        connection = tls_socket(web)
        connection.sendall(b"GET /en-vivo HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Lento: ")
        slow.append(connection)
    try:
        time.sleep(0.5)
        # Served at once, not after a timeout frees a thread: the client gives up before one would.
        status, _, body = ask(web, "GET", "/api/en-vivo", cookie=cookie, timeout=TIMEOUT_S / 2)
        assert status == 200 and "desks" in json.loads(body)
        more = [socket.create_connection(("127.0.0.1", web.port)) for _ in range(3 * THREADS)]
        time.sleep(0.5)
        assert threading.active_count() <= threads_before + 1   # a flood makes no threads
        for connection in more:
            connection.close()
    finally:
        for connection in silent + slow:
            connection.close()


def test_after_all_that_the_page_still_serves_a_coordinator(web):
    test_oversized_and_malformed_requests_get_a_clean_refusal(web)
    for line in (b"GARBAGE\r\n\r\n", b"\x16\x03\x01" + bytes(100)):
        raw(web, line)
    cookie = sign_in(web)
    status, headers, body = ask(web, "GET", "/api/en-vivo", cookie=cookie)
    assert status == 200 and "desks" in json.loads(body)
    status, headers, body = ask(web, "GET", "/exportar/turnos.csv", cookie=cookie)
    assert status == 200 and body.lstrip("\ufeff").startswith("turn_id;")


def test_a_form_posted_from_another_site_is_refused(web):
    body = f"usuario={USER}&clave={PASSWORD}".encode()
    for origin in ("https://evil.example", f"https://127.0.0.1:{web.port}.evil.example", "null", None):
        headers = {**form_headers(web), "Origin": origin}
        if origin is None:
            del headers["Origin"]
        status, answer_headers, page = ask(web, "POST", "/ingresar", headers=headers, body=body)
        assert status == 403 and "no vino de esta página" in page and "set-cookie" not in answer_headers, origin
    cookie = sign_in(web)            # from the page itself it works, and a page elsewhere cannot sign anyone out
    status, _, _ = ask(web, "POST", "/salir", cookie=cookie, body=b"",
                       headers={**form_headers(web), "Origin": "https://evil.example"})
    assert status == 403 and ask(web, "GET", "/api/en-vivo", cookie=cookie)[0] == 200


def test_signing_out_a_new_password_and_a_removed_account_end_sessions_at_once(web):
    first, second = sign_in(web), sign_in(web)
    status, headers, _ = ask(web, "POST", "/salir", cookie=first, body=b"", headers=form_headers(web))
    assert status == 303 and "Max-Age=0" in headers["set-cookie"]
    assert ask(web, "GET", "/api/en-vivo", cookie=first)[0] == 401          # the old cookie, copied before: refused
    assert ask(web, "GET", "/api/en-vivo", cookie=second)[0] == 200         # another session goes on
    accounts = Accounts(web.state)                                          # as `turnero web-user` does, elsewhere
    assert accounts.set_password(USER, "otra-clave-larga") == 1
    assert ask(web, "GET", "/api/en-vivo", cookie=second)[0] == 401
    third = sign_in(web, "otra-clave-larga")
    accounts.remove(USER)
    assert ask(web, "GET", "/api/en-vivo", cookie=third)[0] == 401
    status, _, page = ask(web, "GET", "/ingresar")
    assert status == 200 and "turnero web-user add" in page                 # nobody left: the page says how


def test_the_cookie_is_secure_httponly_samesite_and_the_record_keeps_no_token(web):
    token = sign_in(web)
    status, headers, _ = ask(web, "POST", "/ingresar", body=f"usuario={USER}&clave={PASSWORD}".encode(),
                             headers=form_headers(web))
    flags = {part.strip().split("=")[0].lower() for part in headers["set-cookie"].split(";")}
    assert {"secure", "httponly", "samesite", "path", "max-age"} <= flags and "domain" not in flags
    assert headers["set-cookie"].startswith("__Host-") and "SameSite=Strict" in headers["set-cookie"]
    assert token not in (web.state / "coordinators.json").read_text()


def test_plain_http_only_redirects_to_https(broker, tmp_path):
    page = make_page(page_config(site_config.load(site_config.EXAMPLE), broker), tmp_path / "hub")
    page.http_port = free_port()
    page.start()
    try:
        for path, where in (("/en-vivo", "/en-vivo"), ("/informe?desde=2026-11-01", "/informe?desde=2026-11-01"),
                            ("/", "/")):
            connection = http.client.HTTPConnection("127.0.0.1", page.http_port, timeout=10)
            connection.request("GET", path, headers={"Cookie": f"{COOKIE}=x"})
            answer = connection.getresponse()
            assert answer.status == 301 and answer.getheader("Location") == f"https://127.0.0.1:{page.port}{where}"
            assert answer.read() == b""
        for host in ("evil\\x/.example:80", "evil.example"):    # the certificate's name, never the Host sent
            connection = http.client.HTTPConnection("127.0.0.1", page.http_port, timeout=10)
            connection.request("GET", "/", headers={"Host": host})
            assert connection.getresponse().getheader("Location") == f"https://{page.config.broker.host}:{page.port}/"
    finally:
        page.stop()


def test_a_missing_certificate_or_a_taken_port_is_said_in_one_message(broker, tmp_path):
    config = page_config(site_config.load(site_config.EXAMPLE), broker)
    missing = dataclasses.replace(config, web=dataclasses.replace(config.web, cert_file=tmp_path / "no-web.crt"))
    with pytest.raises(WebError, match=r"cannot use its certificate .*no-web\.crt.*turnero install --role hub"):
        make_page(missing, tmp_path / "hub").start()
    first = make_page(config, tmp_path / "hub")
    first.start()
    try:
        with pytest.raises(WebError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            CoordinatorsWeb(config, tmp_path / "hub", host="127.0.0.1", port=first.port, http_port=0).start()
    finally:
        first.stop()
