"""The coordinators' page as the tests run it: over HTTPS with a certificate from the test broker's own site CA
(as the installer issues the hub's), an account made as `turnero web-user add` makes it, and a client that
trusts that CA and nothing else."""
from __future__ import annotations

import dataclasses
import http.client
import ssl
from pathlib import Path

from appliance.ops import site_ca
from appliance.site import SiteConfig
from appliance.web.accounts import Accounts
from appliance.web.pages import COOKIE
from hub.web.app import CoordinatorsWeb

USER, PASSWORD = "coordinacion", "clave-de-prueba-1"


def page_certificate(broker) -> tuple[Path, Path]:
    """The page's certificate and key for 127.0.0.1, from the broker's CA (made the first time)."""
    folder = Path(broker.ca_file).parent
    if site_ca.server_certificate(folder, site_ca.WEB) is None:
        site_ca.issue_server(folder, ["127.0.0.1", "localhost"], stem=site_ca.WEB)
    return site_ca.cert_file(folder, site_ca.WEB), site_ca.key_file(folder, site_ca.WEB)


def page_config(config: SiteConfig, broker) -> SiteConfig:
    """The site against the test broker, its page with a certificate from the broker's CA."""
    cert, key = page_certificate(broker)
    config = config.with_broker(broker.host, broker.port, broker.ca_file)
    return dataclasses.replace(config, web=dataclasses.replace(config.web, cert_file=cert, key_file=key))


def page_text(text: str, broker, port: int, http_port: int = 0) -> str:
    """A site file's text (the example's [web]) with its page on `port`, its certificate from the broker's CA."""
    cert, key = page_certificate(broker)
    return text.replace("port = 8443", f'port = {port}\ncert_file = "{cert}"\nkey_file = "{key}"', 1).replace(
        "http_port = 8080", f"http_port = {http_port}", 1)


def make_page(config: SiteConfig, state: Path, **options) -> CoordinatorsWeb:
    """A page on free ports with the one account USER / PASSWORD (not started)."""
    accounts = Accounts(state)
    if USER not in accounts.names():
        accounts.add(USER, PASSWORD)
    return CoordinatorsWeb(config, state, host="127.0.0.1", port=0, http_port=0, **options)


def client_context(config: SiteConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.broker.ca_file))


def ask(web: CoordinatorsWeb, method: str, path: str, *, cookie: str | None = None, headers: dict | None = None,
        body: bytes | None = None, timeout: float = 15) -> tuple[int, dict, str]:
    """One request as written (no client-side normalisation), over HTTPS trusting the site CA: status, headers
    (lower-case names), body as text."""
    return request(web.config, web.port, method, path, cookie=cookie, headers=headers, body=body, timeout=timeout)


def request(config: SiteConfig, port: int, method: str, path: str, *, cookie: str | None = None,
            headers: dict | None = None, body: bytes | None = None, timeout: float = 15,
            source: str | None = None) -> tuple[int, dict, str]:
    """`ask` to any HTTPS port of the page (nginx's too), from a loopback address of its own if `source`."""
    connection = http.client.HTTPSConnection("127.0.0.1", port, timeout=timeout, context=client_context(config),
                                             source_address=(source, 0) if source else None)
    sent = {**({"Cookie": f"{COOKIE}={cookie}"} if cookie else {}), **(headers or {})}
    connection.request(method, path, body=body, headers=sent)
    answer = connection.getresponse()
    result = answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode("utf-8", "replace")
    connection.close()
    return result


def origin(web: CoordinatorsWeb) -> str:
    return f"https://127.0.0.1:{web.port}"


def form_headers(web: CoordinatorsWeb) -> dict:
    """What a browser sends with this page's form: its type, and the page's own origin."""
    return {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin(web)}


def sign_in(web: CoordinatorsWeb, password: str = PASSWORD) -> str:
    """The session token of a right sign-in."""
    status, headers, _ = ask(web, "POST", "/ingresar", body=f"usuario={USER}&clave={password}".encode(),
                             headers=form_headers(web))
    assert status == 303, status
    return headers["set-cookie"].split(";")[0].split("=", 1)[1]
