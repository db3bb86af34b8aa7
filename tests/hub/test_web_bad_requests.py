"""The coordinators' page against bad requests, in plain HTTP: strangers on every route, bad cookies, bad dates,
odd methods, path tricks, oversized requests and broken request lines. Each gets a clean 4xx (a Spanish page
where a page is shown), never a 500, never a traceback, never data; and the page goes on serving.
(test_web.py has the browser tests and the first round of these.)"""
import dataclasses
import http.client
import json
import logging
import socket
import time
from urllib.parse import quote

import pytest

from appliance import site as site_config
from appliance.site import WebUser
from hub.web.app import CoordinatorsWeb
from hub.web.auth import COOKIE, SESSION_S, Sessions, hash_password, load_secret

PASSWORD = "clave-de-prueba-1"
PRIVATE_PAGES = ("/", "/en-vivo", "/informe", "/exportar")
PRIVATE_DATA = ("/api/en-vivo", "/informe.html", "/exportar/turnos.csv")


@pytest.fixture
def web(broker, tmp_path, caplog):
    config = site_config.load(site_config.EXAMPLE).with_broker(broker.host, broker.port, broker.ca_file)
    config = dataclasses.replace(config, web=dataclasses.replace(
        config.web, users=(WebUser("coordinacion", hash_password(PASSWORD)),)))
    page = CoordinatorsWeb(config, tmp_path / "hub", host="127.0.0.1", port=0)
    page.state = tmp_path / "hub"
    page.start()
    yield page
    page.stop()
    failures = [r for r in caplog.records if r.name.startswith("hub.web") and (r.exc_info or r.levelno >= logging.ERROR)]
    assert not failures, [r.getMessage() for r in failures]     # nothing the page did not expect


def ask(web, method: str, path: str, *, cookie: str | None = None, headers: dict | None = None,
        body: bytes | None = None) -> tuple[int, dict, str]:
    """One request as written (no client-side normalisation): status, headers, body as text."""
    connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=10)
    sent = {**({"Cookie": f"{COOKIE}={cookie}"} if cookie else {}), **(headers or {})}
    connection.request(method, path, body=body, headers=sent)
    answer = connection.getresponse()
    result = answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode("utf-8", "replace")
    connection.close()
    assert result[0] < 500 and "Traceback" not in result[2], (method, path, result)
    return result


def raw(web, data: bytes) -> bytes:
    """Bytes straight onto the socket, for request lines no HTTP client would send."""
    with socket.create_connection(("127.0.0.1", web.port), timeout=10) as connection:
        connection.sendall(data)
        connection.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return answer


def form_headers(web) -> dict:
    """What a browser sends with this page's form: its type, and the page's own origin."""
    return {"Content-Type": "application/x-www-form-urlencoded", "Origin": f"http://127.0.0.1:{web.port}"}


def sign_in(web) -> str:
    status, headers, _ = ask(web, "POST", "/ingresar", body=f"usuario=coordinacion&clave={PASSWORD}".encode(),
                             headers=form_headers(web))
    assert status == 303
    return headers["set-cookie"].split(";")[0].split("=", 1)[1]


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
    users = {u.name: u.password_hash for u in web.config.web.users}
    secret = load_secret(web.state)
    expired = Sessions(secret, users, now=lambda: time.time() - SESSION_S - 60).sign_in("coordinacion", PASSWORD)
    elsewhere = Sessions(load_secret(web.state / "otra-instalacion"), users).sign_in("coordinacion", PASSWORD)
    good = sign_in(web)
    name, expiry, mac = good.split(".")
    return {"expired": expired, "another install's": elsewhere, "a longer life": f"{name}.{int(expiry) + 3600}.{mac}",
            "another user": f"YWRtaW4=.{expiry}.{mac}", "empty": '""', "no dots": "x" * 40, "too many dots": "a.b.c.d",
            "not base64": f"%%%.{expiry}.{mac}", "expiry not a number": f"{name}.mañana.{mac}",
            "a huge expiry": f"{name}.{'9' * 5000}.{mac}", "no mac": f"{name}.{expiry}.", "8 KB": "a" * 8000,
            "quotes and semicolons": '"a;b;c"', "non-ASCII": "coordinación.1.2"}


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


@pytest.mark.parametrize("method", ["HEAD", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND",
                                    "get"])
def test_odd_methods_are_refused_on_every_route(web, method):
    cookie = sign_in(web)
    for path in ("/en-vivo", "/api/en-vivo", "/ingresar", "/salir", "/exportar/turnos.csv", "/estilo.css", "*"):
        status, _, body = ask(web, method, path, cookie=cookie)
        assert status in (404, 405), (method, path, status)
        if method != "HEAD":
            assert any(text in body for text in ("no acepta esa clase de solicitud", "La página que busca no existe"))


def test_path_tricks_find_nothing(web):
    cookie = sign_in(web)
    for path in ("/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/.%2e/.%2e/etc/passwd", "/estilo.css%2f..%2f..%2fweb%2fapp.py",
                 "/ingresar/../en-vivo", "/..\\..\\etc\\passwd", "/en-vivo;jsessionid=1",
                 "/en-vivo%2F", "/%65n-vivo", "/EN-VIVO", "/en-vivo%20", "/en-vivo%09", "/api/en-vivo/..",
                 "/web-secret", "/../web-secret", "/days/", "/" + quote("ñandú")):
        for who in (None, cookie):
            status, _, body = ask(web, "GET", path, cookie=who)
            assert status == 404 and "La página que busca no existe." in body, (path, status)


def test_oversized_and_malformed_requests_get_a_clean_refusal(web):
    form = form_headers(web)
    for headers, body, reason in (
            ({"Content-Length": "1000000000"}, None, "La solicitud es demasiado grande."),
            ({"Content-Length": "-1"}, None, "La solicitud debe indicar su longitud."),
            ({"Content-Length": "abc"}, None, "La solicitud debe indicar su longitud."),
            ({}, b"usuario=" + b"a" * 5000, "La solicitud es demasiado grande."),
            ({}, "&".join(f"c{i}=1" for i in range(40)).encode(), "demasiados campos"),
            ({}, b"usuario=\xff\xfe&clave=\x00", "El usuario o la contraseña no son correctos."),
            ({}, b"usuario=coordinacion%0D%0ASet-Cookie:%20x=1&clave=x", "no son correctos")):
        status, answer_headers, page = ask(web, "POST", "/ingresar", headers={**form, **headers}, body=body)
        assert status in (400, 401) and reason in page, (headers, status, page[-300:])
        assert "set-cookie" not in answer_headers
    status, _, page = ask(web, "GET", "/informe?" + "a" * 70_000)
    assert status == 414 and "demasiado larga" in page
    status, _, page = ask(web, "GET", "/en-vivo", headers={"X-Largo": "a" * 70_000})
    assert status == 431 and "encabezados demasiado grandes" in page
    status, _, page = ask(web, "GET", "/en-vivo", headers={f"X-{i}": "1" for i in range(120)})
    assert status == 431


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET\r\n\r\n",
                                  b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(40),
                                  b"GET /en-vivo HTTP/1.1\r\nsin dos puntos\r\n\r\n",
                                  b"GET /\xff\xfe HTTP/1.1\r\n\r\n", b"POST /ingresar HTTP/1.1\r\nContent-Length: 5\r\n\r\n"
                                  b"a=1"], ids=["garbage", "http 9.9", "no path", "tls hello", "a header without colon",
                                                "not utf-8", "a body shorter than said"])
def test_broken_request_lines_are_answered_without_a_traceback(web, line):
    answer = raw(web, line)
    assert b"Traceback" not in answer and b" 500 " not in answer[:20]
    if answer.startswith(b"HTTP/"):  # a refusal, or for a stranger the way to the sign-in, never the page
        assert answer[9:10] == b"4" or answer[9:13] == b"303 " and b"\r\nLocation: /ingresar\r\n" in answer, answer[:200]
    else:   # a request line without a version is HTTP/0.9, answered without a status line: the page alone
        assert "Solicitud no válida" in answer.decode("utf-8") or "no acepta esa clase" in answer.decode("utf-8")


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
    body = f"usuario=coordinacion&clave={PASSWORD}".encode()
    for origin in ("http://evil.example", f"http://127.0.0.1:{web.port}.evil.example", "null", None):
        headers = {**form_headers(web), "Origin": origin}
        if origin is None:
            del headers["Origin"]
        status, answer_headers, page = ask(web, "POST", "/ingresar", headers=headers, body=body)
        assert status == 403 and "no vino de esta página" in page and "set-cookie" not in answer_headers, origin
    cookie = sign_in(web)            # from the page itself it works, and a page elsewhere cannot sign anyone out
    status, _, _ = ask(web, "POST", "/salir", cookie=cookie, body=b"",
                       headers={**form_headers(web), "Origin": "http://evil.example"})
    assert status == 403 and ask(web, "GET", "/api/en-vivo", cookie=cookie)[0] == 200
