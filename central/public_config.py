"""central.toml's optional [public]: the sites' "Mi turno" page, served by the central (docs/mi-turno.md).

Its defaults leave the coordinators' page ([web]: 443, 80, 8081) where it is: on one address the citizens' page
takes port 8444, and its process the loopback's 8082. To have 443 for it too, the central needs a second address:
[public] host on one, [web] host on the other.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from appliance.site import public_address_problem

_EVERY_INTERFACE = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class CentralPublic:
    """What appliance/ops/front.py's public_lines reads of a site's [public], for the central's."""

    KEYS: ClassVar[tuple[str, ...]] = ("address", "host", "port", "http_port", "app_port", "cert_file", "key_file")
    address: str                # what the sites' tickets print: this central's HTTPS address for the page
    host: str
    port: int
    http_port: int
    app_port: int
    cert_file: Path             # a certificate phones trust (a public CA's), brought by the technician
    key_file: Path


def _shared(one: str, other: str) -> bool:
    """Two nginx listeners on these hosts would want the same port."""
    return one == other or one in _EVERY_INTERFACE or other in _EVERY_INTERFACE


def public_settings(data: dict, get, problems: list[str], web_host: str | None,
                    web_ports: tuple[int | None, int | None, int | None]) -> CentralPublic | None:
    """[public] checked against [web] (its host and port, http_port, app_port), each problem named by its key;
    `get(table, key, kind, default)` is central.config's reader."""
    if "public" not in data:
        return None
    address = get("public", "address", str)
    if address is not None and (problem := public_address_problem(address)):
        problems.append(f"public.address: {problem}")
    host = get("public", "host", str, "")
    ports = {key: get("public", key, int, default) for key, default in (("port", 8444), ("http_port", 0),
                                                                        ("app_port", 8082))}
    for key, value in ports.items():
        low = 0 if key == "http_port" else 1
        if value is not None and not low <= value <= 65535:
            problems.append(f"public.{key}: must be a TCP port from {low} to 65535, not {value}")
    web_port, web_http_port, web_app_port = web_ports
    shared = host is not None and web_host is not None and _shared(host, web_host)
    taken = {"web.app_port": web_app_port, **({"web.port": web_port, "web.http_port": web_http_port}
                                               if shared else {})}
    for key, value in ports.items():
        clash = next((name for name, port in taken.items() if value and port == value), None)
        if clash:
            problems.append(f"public.{key}: {value} is {clash} already; give the page another port (default 8444, "
                            "and 8082 for app_port), or [public] and [web] a host each")
    if len({p for p in ports.values() if p}) < len([p for p in ports.values() if p]):
        problems.append("public: port, http_port and app_port must differ")
    files = {key: get("public", key, str) for key in ("cert_file", "key_file")}
    for key, value in files.items():
        if value is not None and not Path(value).is_absolute():
            problems.append(f"public.{key}: must be an absolute path, not {value!r}")
    if None in (address, host, *ports.values(), *files.values()):
        return None
    return CentralPublic(address=address.rstrip("/"), host=host, **ports,
                         **{key: Path(value) for key, value in files.items()})
