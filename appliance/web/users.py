"""The accounts command of a coordinators' page: `turnero web-user` on the hub, `turnero central user` at the
central (with the sites each user may see). The page reads the file at once: no restart; a new password or a
removed account ends that user's sessions."""
from __future__ import annotations

import getpass
import sys

from appliance.web.accounts import AccountError, Accounts


def account_command(accounts: Accounts, command: str, action: str, name: str | None, *, password_stdin: bool,
                    sites: list[str] | None = None) -> int:
    """list, add, passwd or remove; `sites` for a new account that may see only those (None: every site)."""
    try:
        if action == "list":
            names = accounts.names()
            print("\n".join(_described(accounts, n) for n in names) or f"no accounts yet: {command} add NAME")
            return 0
        if name is None:
            raise AccountError(f"name the account: {command} {action} NAME")
        if action == "remove":
            ended = accounts.remove(name)
            print(f"{name}: removed; {ended} session(s) ended")
        elif action == "add":
            accounts.add(name, _new_password(password_stdin), sites=sites)
            print(f"{name}: added; sign in at the coordinators' page")
        else:
            ended = accounts.set_password(name, _new_password(password_stdin))
            print(f"{name}: new password; {ended} session(s) ended")
    except AccountError as exc:
        print(f"{command}: {exc}", file=sys.stderr)
        return 2
    return 0


def _described(accounts: Accounts, name: str) -> str:
    sites = accounts.sites(name)
    return name if sites is None else f"{name} (sites: {', '.join(sites) or 'none'})"


def _new_password(from_stdin: bool) -> str:
    """The password from standard input's first line (scripts), or asked twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("The same password again: ") != first:
        raise AccountError("the two passwords differ")
    return first
