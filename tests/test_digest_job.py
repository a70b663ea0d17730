"""The digest's shell: gathered from a real store, rendered, delivered at most once a day through a
real SMTP server (aiosmtpd), a real Dovecot INBOX and a Maildir INBOX; escaping; the CLI."""

from __future__ import annotations

import ast
import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from digest_support import EVIL_NAME, MORNING, SCRIPT, enrich, make_config, pipeline
from sync_support import USER, maildir_config

from followup.cli import main
from followup.config import parse_config
from followup.core.model import FolderRole
from followup.delivery import DIGEST_HEADER
from followup.digest_job import render_digest, send_digest_if_due
from followup.errors import ConfigError
from followup.mailbox.imap import ImapMailbox, ImapSettings
from followup.store.db import Store

SRC = Path(__file__).resolve().parents[1] / "src" / "followup"
SECTIONS = ("DRAFTS TO REVIEW AND SEND", "NEEDS YOUR ATTENTION", "PLEASE CONFIRM", "SINCE THE LAST DIGEST",
            "DUE IN THE NEXT 7 DAYS", "WAITING TO HEAR BACK", "CLOSED: NO RESPONSE", "ALL APPLICATIONS")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def inbox_digests(root: Path) -> list[email.message.EmailMessage]:
    found = []
    for sub in ("new", "cur"):
        for path in sorted((root / sub).iterdir()):
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if message[DIGEST_HEADER]:
                found.append(message)
    return found


@pytest.fixture
def world(tmp_path):
    w = pipeline(tmp_path)
    enrich(w)
    yield w
    w.store.close()


# -- content and escaping --------------------------------------------------------------------


def test_the_real_pipeline_gives_every_section_and_the_subject_counts(world):
    subject, text, html = render_digest(world.config, world.store, MORNING)
    assert subject == "Job search: 4 drafts to send today, 1 reply, 1 to confirm"
    for heading in SECTIONS:
        assert heading in text
    assert "followup confirm '<g1@globex.example>' interview_invitation" in text
    assert "Thank-you note: Hooli — Data Engineer  [waiting 14 days: left unsent]" in text
    assert "To:      nobody yet" not in text  # every draft here has its recipient
    assert "Initech — Platform Engineer: Not moving forward" in text
    assert "Umbrella — SRE: No reply after 3 follow-ups" in text
    for heading in ("Drafts to review and send", "Needs your attention", "Please confirm", "Since the last digest",
                    "Due in the next 7 days", "Waiting to hear back", "Closed: no response", "All applications"):
        assert f">{heading} <span" in html


def test_everything_from_mail_is_escaped_in_the_html_and_one_line_in_the_text(world):
    _, text, html = render_digest(world.config, world.store, MORNING)
    assert SCRIPT not in html and "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;g1@globex.example&gt;" in html
    assert "Eve Evil Bcc: attacker@evil.example" in text and EVIL_NAME not in text
    assert "\r" not in text
    for forbidden in ("<img", "<svg", "<link", "<iframe", "src=", "javascript:"):
        assert forbidden not in html.lower()


# -- once a day, INBOX of a Maildir account --------------------------------------------------


def test_maildir_inbox_delivery_happens_once_a_day_across_restarts_and_clock_changes(world, tmp_path):
    config, store = world.config, world.store
    assert send_digest_if_due(config, store, MORNING - timedelta(hours=1)).status == "not_due"  # 07:30 < 08:00
    outcome = send_digest_if_due(config, store, MORNING)
    assert (outcome.status, outcome.delivery) == ("sent", "imap")
    (delivered,) = inbox_digests(world.root)
    assert delivered["Subject"] == outcome.subject == "Job search: 4 drafts to send today, 1 reply, 1 to confirm"
    assert delivered["To"] == USER and delivered["From"].addresses[0].addr_spec == USER
    assert delivered["Auto-Submitted"] == "auto-generated" and delivered[DIGEST_HEADER] == "2026-03-06"
    assert [p.get_content_type() for p in delivered.iter_parts()] == ["text/plain", "text/html"]

    assert send_digest_if_due(config, store, MORNING + timedelta(hours=3)).status == "already_sent"
    store.close()
    world.store = store = Store.open(config.database_path)  # a restart: a new Store on the same file
    assert send_digest_if_due(config, store, MORNING + timedelta(hours=9)).status == "already_sent"
    back = send_digest_if_due(config, store, MORNING - timedelta(days=1))  # the clock went back a day
    assert back.status == "already_sent" and "clock" in back.detail
    assert len(inbox_digests(world.root)) == 1

    tomorrow = MORNING + timedelta(days=1)
    assert send_digest_if_due(config, store, tomorrow - timedelta(hours=2)).status == "not_due"
    second = send_digest_if_due(config, store, tomorrow)
    assert second.sent and len(inbox_digests(world.root)) == 2
    # Yesterday's outcomes were told yesterday.
    assert "reply" not in second.subject.split(",", 1)[1] if "," in second.subject else True
    _, text, _ = render_digest(config, store, tomorrow)
    assert "SINCE THE LAST DIGEST" not in text


def test_the_digest_read_back_from_the_watched_inbox_opens_no_application(world):
    before = [r["id"] for r in world.store.applications()]
    assert send_digest_if_due(world.config, world.store, MORNING).sent
    world.cycle(MORNING + timedelta(minutes=5))
    assert [r["id"] for r in world.store.applications()] == before
    (digest,) = inbox_digests(world.root)
    row = world.store.message("home", digest["Message-ID"])
    assert row is not None and row.label is None  # the user's own mail: never classified


def test_a_quiet_day_is_skipped_when_asked_and_counted_as_that_days_digest(tmp_path):
    config = make_config(tmp_path, "digest: {skip_when_empty: true}")
    store = Store.open(config.database_path)
    outcome = send_digest_if_due(config, store, MORNING)
    assert outcome.status == "skipped_empty" and outcome.subject == "Job search: nothing to send today"
    assert send_digest_if_due(config, store, MORNING + timedelta(hours=1)).status == "already_sent"
    assert inbox_digests(tmp_path / "mail") == []
    forced = send_digest_if_due(config, store, MORNING + timedelta(hours=2), force=True)
    assert forced.sent and len(inbox_digests(tmp_path / "mail")) == 1


def test_delivery_none_only_previews_and_disabled_sends_nothing(tmp_path):
    config = make_config(tmp_path, "digest: {delivery: none}")
    store = Store.open(config.database_path)
    assert send_digest_if_due(config, store, MORNING).status == "preview_only"
    config = make_config(tmp_path, "digest: {enabled: false}")
    assert send_digest_if_due(config, store, MORNING).status == "disabled"
    assert inbox_digests(tmp_path / "mail") == [] and store.latest_digest() is None


# -- SMTP through a real server ----------------------------------------------------------------


class Sink:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed: no certificate for the TLS tests")
    where = tmp_path_factory.mktemp("cert")
    subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(where / "key.pem"), "-out", str(where / "cert.pem")],
                   check=True, capture_output=True)
    return where / "cert.pem", where / "key.pem"


def server_context(certificate) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, certificate))
    return context


@pytest.fixture
def smtp_server():
    started = []

    def start(**kwargs) -> tuple[Sink, int]:
        sink, port = Sink(), free_port()
        controller = Controller(sink, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return sink, port

    yield start
    for controller in started:
        controller.stop()


def smtp_world(tmp_path, smtp: str) -> tuple:
    w = pipeline(tmp_path, f"digest:\n  delivery: smtp\n  to: Dana <{USER}>\n  smtp: {smtp}\n")
    enrich(w)
    return w


def received(envelope) -> email.message.EmailMessage:
    return email.message_from_bytes(envelope.original_content, policy=email.policy.default)


def test_smtp_plain_to_a_server_on_this_machine(tmp_path, smtp_server):
    sink, port = smtp_server()
    w = smtp_world(tmp_path, f"{{host: 127.0.0.1, port: {port}, security: plain, from: digest@example.net}}")
    outcome = send_digest_if_due(w.config, w.store, MORNING)
    assert outcome.sent and outcome.delivery == "smtp"
    (envelope,) = sink.envelopes
    assert envelope.mail_from == "digest@example.net" and envelope.rcpt_tos == [USER]
    message = received(envelope)
    assert message["Subject"] == "Job search: 4 drafts to send today, 1 reply, 1 to confirm"
    assert message["Precedence"] == "bulk" and message["Message-ID"] == outcome.message_id
    assert "Bcc" not in message and "attacker@evil.example" not in str(message["To"])
    html = message.get_body(("html",)).get_content()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and SCRIPT not in html
    assert "Eve Evil Bcc: attacker@evil.example" in message.get_body(("plain",)).get_content()
    assert send_digest_if_due(w.config, w.store, MORNING + timedelta(hours=1)).status == "already_sent"
    assert len(sink.envelopes) == 1


def test_smtp_starttls_with_a_login_whose_password_is_a_reference(tmp_path, smtp_server, certificate, monkeypatch):
    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    sink, port = smtp_server(tls_context=server_context(certificate), require_starttls=True,
                             authenticator=authenticator, auth_require_tls=True)
    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "s3cret")
    w = smtp_world(tmp_path, f"{{host: 127.0.0.1, port: {port}, security: starttls, username: dana, "
                             f"password_env: DIGEST_SMTP_PASSWORD, ca_file: {certificate[0]}, timeout_seconds: 5}}")
    assert send_digest_if_due(w.config, w.store, MORNING).sent
    assert logins == [(b"dana", b"s3cret")] and len(sink.envelopes) == 1

    monkeypatch.setenv("DIGEST_SMTP_PASSWORD", "wrong")
    failed = send_digest_if_due(w.config, w.store, MORNING + timedelta(days=1))
    assert failed.status == "failed" and "login refused" in failed.detail and "wrong" not in failed.detail


def test_smtp_implicit_tls_and_an_untrusted_certificate(tmp_path, smtp_server, certificate):
    sink, port = smtp_server(ssl_context=server_context(certificate))
    w = smtp_world(tmp_path, f"{{host: 127.0.0.1, port: {port}, security: tls, ca_file: {certificate[0]}}}")
    assert send_digest_if_due(w.config, w.store, MORNING).sent and len(sink.envelopes) == 1
    untrusted = smtp_world(tmp_path / "again", f"{{host: 127.0.0.1, port: {port}, security: tls}}")
    outcome = send_digest_if_due(untrusted.config, untrusted.store, MORNING)
    assert outcome.status == "failed" and "not trusted" in outcome.detail


def test_starttls_is_never_skipped_when_the_server_does_not_offer_it(tmp_path, smtp_server):
    sink, port = smtp_server()
    w = smtp_world(tmp_path, f"{{host: 127.0.0.1, port: {port}, security: starttls}}")
    outcome = send_digest_if_due(w.config, w.store, MORNING)
    assert outcome.status == "failed" and "does not offer STARTTLS" in outcome.detail
    assert sink.envelopes == []


def test_a_failed_delivery_releases_the_day_and_the_next_call_sends(tmp_path, smtp_server):
    port = free_port()  # nothing listens yet
    w = smtp_world(tmp_path, f"{{host: 127.0.0.1, port: {port}, security: plain, timeout_seconds: 2}}")
    failed = send_digest_if_due(w.config, w.store, MORNING)
    assert failed.status == "failed" and w.store.digest_record("2026-03-06") is None
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert send_digest_if_due(w.config, w.store, MORNING + timedelta(minutes=5)).sent
    finally:
        controller.stop()
    assert len(sink.envelopes) == 1


def test_an_interrupted_smtp_delivery_is_never_repeated(tmp_path, smtp_server):
    sink, port = smtp_server()
    w = smtp_world(tmp_path, f"{{host: 127.0.0.1, port: {port}, security: plain}}")
    with w.store.transaction():  # a process killed between the claim and the mark
        w.store.record_digest("2026-03-06", status="sending", delivery="smtp", claimed_at=MORNING)
    outcome = send_digest_if_due(w.config, w.store, MORNING + timedelta(hours=1))
    assert outcome.status == "already_sent" and "not sent twice" in outcome.detail and sink.envelopes == []


# -- a real Dovecot INBOX ----------------------------------------------------------------------


def test_imap_append_into_a_real_dovecot_inbox_and_an_interrupted_one_is_settled(tmp_path, dovecot_server,
                                                                                 dovecot_user):
    user, password = dovecot_user
    config = parse_config(f"""
timezone: America/New_York
state_dir: {tmp_path / 'state'}
user: {{name: Dana Reyes, addresses: [{user}@example.net]}}
accounts: [{{name: school, type: imap, host: 127.0.0.1, port: {dovecot_server.port}, security: plain,
            username: {user}, password_env: UNUSED_IN_THIS_TEST}}]
""")
    store = Store.open(config.database_path)
    box = ImapMailbox("school", ImapSettings(host=dovecot_server.host, port=dovecot_server.port, security="plain",
                                             username=user, password=password, timeout=10))
    box.connect()
    try:
        outcome = send_digest_if_due(config, store, MORNING, mailboxes={"school": box})
        assert outcome.sent and outcome.subject == "Job search: nothing to send today"
        assert box.find_by_header(FolderRole.INBOX, DIGEST_HEADER, "2026-03-06")
        client = dovecot_server.client(user)
        try:
            client.select_folder("INBOX", readonly=True)
            (uid,) = client.search(["HEADER", "Message-ID", outcome.message_id])
            fetched = client.fetch([uid], ["FLAGS", "RFC822"])[uid]
        finally:
            client.logout()
        assert b"\\Seen" not in fetched[b"FLAGS"]  # unread, so the user sees it
        assert email.message_from_bytes(fetched[b"RFC822"])["Subject"] == outcome.subject

        # The next day's delivery was claimed, appended, and the process died before marking it.
        day2 = MORNING + timedelta(days=1)
        assert send_digest_if_due(config, store, day2, mailboxes={"school": box}).sent
        with store.transaction():
            store.update_digest("2026-03-07", status="sending", sent_at=None, claimed_at=day2.isoformat())
        assert send_digest_if_due(config, store, day2 + timedelta(minutes=5),
                                  mailboxes={"school": box}).status == "already_sent"  # too recent to judge
        settled = send_digest_if_due(config, store, day2 + timedelta(hours=1), mailboxes={"school": box})
        assert settled.status == "already_sent" and "reached the INBOX" in settled.detail
        assert store.digest_record("2026-03-07")["status"] == "sent"
        assert len(box.find_by_header(FolderRole.INBOX, DIGEST_HEADER, "2026-03-07")) == 1

        # Claimed but never appended: delivered once more after the stale claim.
        day3 = MORNING + timedelta(days=2)
        with store.transaction():
            store.record_digest("2026-03-08", status="sending", delivery="imap", claimed_at=day3)
        assert send_digest_if_due(config, store, day3 + timedelta(hours=1), mailboxes={"school": box}).sent
        assert len(box.find_by_header(FolderRole.INBOX, DIGEST_HEADER, "2026-03-08")) == 1
    finally:
        box.close()
        store.close()


# -- the rule that nothing else sends mail, the config, the CLI --------------------------------


def test_only_the_delivery_module_talks_smtp():
    offenders = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                hit = any(a.name.split(".")[0] == "smtplib" for a in node.names)
            elif isinstance(node, ast.ImportFrom):
                hit = (node.module or "").split(".")[0] == "smtplib"
            elif isinstance(node, ast.Attribute):
                hit = node.attr in ("sendmail", "send_message") or (
                    isinstance(node.value, ast.Name) and node.value.id == "smtplib")
            else:
                hit = False
            if hit:
                offenders.add(path.relative_to(SRC).as_posix())
    assert offenders == {"delivery.py"}


@pytest.mark.parametrize(("smtp", "problem"), [
    ("{host: smtp.example.net, security: plain}", "security: plain is only allowed"),
    ("{host: smtp.example.net, username: dana}", "a username needs one of password_file"),
    ("{host: smtp.example.net, password_env: X}", "a password needs a username"),
    ("{host: smtp.example.net, username: dana, password: hunter2}", "digest.smtp.password: secrets are never"),
])
def test_smtp_settings_are_checked(tmp_path, smtp, problem):
    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, f"digest: {{delivery: smtp, smtp: {smtp}}}")
    assert problem in str(caught.value) and "hunter2" not in str(caught.value)


def test_smtp_delivery_needs_its_settings(tmp_path):
    with pytest.raises(ConfigError, match="delivery: smtp needs the smtp settings"):
        make_config(tmp_path, "digest: {delivery: smtp}")


def test_cli_preview_writes_the_html_and_send_sends_once(tmp_path, capsys):
    config = maildir_config(tmp_path)
    html = tmp_path / "digest.html"
    assert main(["--config", str(config), "digest", "--preview", "--html", str(html)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Subject: Job search: ") and "Good morning, Dana." in out
    assert html.read_text().startswith("<!DOCTYPE html>")
    assert inbox_digests(tmp_path / "mail") == []
    assert main(["--config", str(config), "digest", "--send"]) == 0
    assert capsys.readouterr().out.startswith("sent by imap: Job search: ")
    assert main(["--config", str(config), "digest", "--send"]) == 0
    assert "not sent (already sent)" in capsys.readouterr().out
    assert len(inbox_digests(tmp_path / "mail")) == 1
    assert main(["--config", str(config), "digest", "--send", "--force"]) == 0
    assert len(inbox_digests(tmp_path / "mail")) == 2


def test_cli_send_failure_is_one_line_and_exit_75(tmp_path, capsys):
    config = maildir_config(tmp_path, f"digest: {{delivery: smtp, smtp: {{host: 127.0.0.1, port: {free_port()}, "
                                    "security: plain, timeout_seconds: 2}}")
    assert main(["--config", str(config), "digest", "--send"]) == 75
    err = capsys.readouterr().err
    assert err.startswith("followup: the digest was not sent: SMTP 127.0.0.1:") and err.count("\n") == 1


def test_the_example_configs_smtp_block_is_valid_once_uncommented():
    text = (Path(__file__).resolve().parents[1] / "config.example.yaml").read_text()
    head, tail = text.split("  # smtp:")
    text = (head + "  smtp:" + tail.replace("\n  #   ", "\n    ")).replace("  delivery: imap", "  delivery: smtp")
    smtp = parse_config(text).digest.smtp
    assert (smtp.host, smtp.effective_port, smtp.security, smtp.sender) == (
        "smtp.example.net", 587, "starttls", "dana.reyes@example.net")


def test_header_values_are_sanitised_before_they_reach_the_message():
    from datetime import date

    from followup.delivery import build_message, parse_address

    with pytest.raises(ConfigError, match="not one email address"):
        parse_address("Job\r\nBcc: a@evil.example <dana@example.net>", where="t")
    sender = parse_address("Dana\r\nReyes <dana@example.net>", where="t")
    message, _ = build_message(subject=f"Job search: {SCRIPT}\r\nBcc: b@evil.example", text="t", html="<p>h</p>",
                               sender=sender, to=parse_address(f"Dana <{USER}>", where="t"), now=MORNING,
                               local_date=date(2026, 3, 6))
    raw = message.as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in head and b"\nBcc:" not in head
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == f"Job search: {SCRIPT} Bcc: b@evil.example"
    assert parsed["From"].addresses[0].addr_spec == "dana@example.net"
    assert parsed["From"].addresses[0].display_name == "Dana Reyes"
    with pytest.raises(ConfigError, match="not one email address"):
        parse_address("dana@example.net\r\nBcc: x@evil.example", where="digest.to")


def test_a_digest_from_another_address_is_still_read_as_other_by_the_classifier(world):
    """An SMTP digest may come back into a watched INBOX from a relay address: never job mail."""
    from zoneinfo import ZoneInfo

    from followup.core.extract import read_message
    from followup.core.parse import parse_message
    from followup.delivery import build_message, parse_address
    from followup.digest_job import build, render

    digest = build(world.config, world.store, MORNING)
    text, html = render(digest)
    message, _ = build_message(subject=digest.subject, text=text, html=html,
                               sender=parse_address("digest@relay.example", where="t"),
                               to=parse_address(USER, where="t"), now=MORNING, local_date=digest.local_date)
    classification, _ = read_message(parse_message(message.as_bytes()), tz=ZoneInfo("UTC"),
                                     user_addresses=frozenset({USER}))
    assert classification.label.value == "other"
