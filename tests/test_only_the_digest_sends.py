"""The program never sends mail for the user: the only code that may send is the digest's
delivery (src/followup/delivery.py: ``send_smtp`` and ``send_gmail``).

The Gmail ``gmail.compose`` scope the drafts need can also send, and Google offers no scope
for drafts alone, so this is enforced on the source: every ``….messages().send(…)``,
``….drafts().send(…)``, SMTP use (``smtplib``, ``sendmail``, ``send_message``), a dynamic
``getattr(…, "send")`` and a raw ``…/send`` API path is found with the ``ast`` module and must sit
in one of those two functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

from followup.config import GmailAccount
from followup.mailbox import gmail_auth

SRC = Path(__file__).resolve().parents[1] / "src" / "followup"
ALLOWED = {("delivery.py", "send_smtp"), ("delivery.py", "send_gmail")}


def sending_calls(source: str) -> list[tuple[str | None, int, str]]:
    """(enclosing function, line, what) for every construct that can send mail."""
    tree = ast.parse(source)
    found: list[tuple[str | None, int, str]] = []

    def visit(node: ast.AST, function: str | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            function = node.name
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                inner = func.value
                if func.attr == "send" and isinstance(inner, ast.Call) and isinstance(inner.func, ast.Attribute) \
                        and inner.func.attr in ("messages", "drafts"):
                    found.append((function, node.lineno, f"{inner.func.attr}().send"))
                if func.attr in ("sendmail", "send_message"):
                    found.append((function, node.lineno, func.attr))
                if func.attr in ("SMTP", "SMTP_SSL", "LMTP"):
                    found.append((function, node.lineno, f"smtplib.{func.attr}"))
            if isinstance(func, ast.Name) and func.id == "getattr" and len(node.args) >= 2 \
                    and isinstance(node.args[1], ast.Constant) and "send" in str(node.args[1].value).lower():
                found.append((function, node.lineno, "getattr send"))
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            if any(n and n.split(".")[0] == "smtplib" for n in names):
                found.append((function, node.lineno, "import smtplib"))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "/send" in node.value \
                and "users/" in node.value:
            found.append((function, node.lineno, "raw send path"))
        for child in ast.iter_child_nodes(node):
            visit(child, function)

    visit(tree, None)
    return found


def test_the_checker_catches_each_way_of_sending():
    source = '''
import smtplib
def sneaky(service, client):
    service.users().messages().send(userId="me", body={}).execute()
    service.users().drafts().send(userId="me", body={}).execute()
    client.sendmail("a", "b", "c")
    getattr(service.users().messages(), "send")
    url = "gmail/v1/users/me/messages/send"
'''
    kinds = sorted(what for _, _, what in sending_calls(source))
    assert kinds == ["drafts().send", "getattr send", "import smtplib", "messages().send", "raw send path", "sendmail"]


def test_no_code_but_the_digest_delivery_sends_mail():
    offenders = []
    seen_allowed = set()
    for path in sorted(SRC.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        for function, line, what in sending_calls(path.read_text(encoding="utf-8")):
            if what == "import smtplib" and relative == "delivery.py" and function is None:
                continue
            if (relative, function) in ALLOWED:
                seen_allowed.add((relative, function, what))
                continue
            offenders.append(f"{relative}:{line} {what} in {function}()")
    assert offenders == [], "mail may only be sent by the digest delivery:\n" + "\n".join(offenders)
    # The checker does look at the real senders (it would be blind if these were not found).
    assert ("delivery.py", "send_gmail", "messages().send") in seen_allowed
    assert ("delivery.py", "send_smtp", "send_message") in seen_allowed


def test_the_gmail_token_never_asks_for_the_send_scope_or_the_whole_mailbox():
    for labels in (False, True):
        account = GmailAccount(type="gmail", name="g", address="dana@gmail.example", labels=labels)
        scopes = gmail_auth.scopes_for(account)
        assert not any(s.endswith("gmail.send") or s == "https://mail.google.com/" for s in scopes)
        assert (gmail_auth.MODIFY_SCOPE in scopes) is labels
