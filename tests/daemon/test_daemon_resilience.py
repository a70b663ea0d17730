"""The daemon against real Dovecot: IDLE reaction, a server that dies and comes back, a
connection dropped during FETCH, a refused login that pauses only its account."""

from __future__ import annotations

import logging
import time

import pytest
from daemon_support import DaemonThread, deliver, drafts_by_key, interview_mail, wait_for, write_config

from followup.daemon import Daemon
from followup.store.db import Store

pytestmark = pytest.mark.dovecot

FAST = dict(backoff_base=0.3, backoff_max=1.5, idle_tick=0.3, stop_grace=3.0)


def inbound_messages(config_path) -> list[str]:
    """Message-IDs of the stored incoming messages (a duplicate would show twice)."""
    from followup.config import load_config

    store = Store.open(load_config(config_path).database_path)
    try:
        return sorted(r[0] for r in store.db.execute("SELECT message_id FROM messages WHERE outbound=0"))
    finally:
        store.close()


def test_a_server_stopped_and_restarted_mid_run_loses_and_duplicates_nothing(tmp_path, dovecot_factory):
    server = dovecot_factory("daemon-restart")
    user, password = server.new_user()
    config = write_config(tmp_path, [("school", server, user, password)], interval=300)
    with DaemonThread(Daemon(config, **FAST)) as daemon:
        wait_for(lambda: daemon.accounts["school"].cycles >= 1, 10, what="the first cycle")
        time.sleep(0.5)  # the IDLE connection is up
        deliver(server, user, [interview_mail(1, "Before")])
        wait_for(lambda: len(drafts_by_key(server, user)) == 1, 10, what="the first draft (IDLE)")

        server.kill()
        time.sleep(1.0)
        server.restart()
        deliver(server, user, [interview_mail(2, "After")])  # before the daemon reconnects
        wait_for(lambda: len(drafts_by_key(server, user)) == 2, 15, what="the draft after the restart")
        time.sleep(1.0)  # any duplicate would be placed by now
        keys = drafts_by_key(server, user)
    assert all(n == 1 for n in keys.values()), keys
    assert inbound_messages(config) == ["<invite1@before.example>", "<invite2@after.example>"]


def test_a_refused_login_pauses_only_that_account(tmp_path, dovecot_server, caplog):
    good, good_password = dovecot_server.new_user()
    bad, _ = dovecot_server.new_user()
    config = write_config(tmp_path, [("bad", dovecot_server, bad, "not-the-password"),
                                     ("good", dovecot_server, good, good_password)], interval=300)
    deliver(dovecot_server, good, [interview_mail(3, "Goodco")])
    deliver(dovecot_server, bad, [interview_mail(4, "Badco")])
    caplog.set_level(logging.INFO, logger="followup")
    with DaemonThread(Daemon(config, poll_interval=1, **FAST)) as daemon:
        wait_for(lambda: len(drafts_by_key(dovecot_server, good)) == 1, 10, what="the good account's draft")
        wait_for(lambda: daemon.accounts["bad"].paused, 5, what="the bad account paused")
        cycles = daemon.accounts["good"].cycles
        time.sleep(2.5)  # polls every second: the good account goes on, the bad one stays paused
        assert daemon.accounts["good"].cycles > cycles
        assert daemon.accounts["bad"].paused and "good" not in daemon.status_line().split("paused:")[0]
        assert "paused: bad" in daemon.status_line()
    critical = [r.getMessage() for r in caplog.records if r.levelno == logging.CRITICAL]
    assert len(critical) == 1, critical
    assert critical[0].startswith("bad: account paused, the login failed") and "reload" in critical[0]
    assert "not-the-password" not in caplog.text
    assert drafts_by_key(dovecot_server, bad) == {}


class DropsDuringFetch:
    """Wraps the first mailbox made for the account: kills the server as the 2nd body FETCH starts."""

    def __init__(self, server) -> None:
        self.server = server
        self.made = 0
        self.killed = False

    def __call__(self, config, name):
        from followup.mailbox.factory import open_mailbox

        mailbox = open_mailbox(config, name)
        self.made += 1
        if self.made == 1:  # the poll job's mailbox (the IDLE watcher's is the second)
            original, calls = mailbox.fetch_raw, [0]

            def fetch_raw(role, refs, **options):
                calls[0] += 1
                if calls[0] == 2 and not self.killed:
                    self.killed = True
                    self.server.kill()  # the connection drops under this FETCH
                return original(role, refs, **options)

            mailbox.fetch_raw = fetch_raw
        return mailbox


def test_a_connection_dropped_during_fetch_is_retried_and_nothing_is_lost_or_doubled(tmp_path, dovecot_factory):
    server = dovecot_factory("daemon-fetchdrop")
    user, password = server.new_user()
    mails = [interview_mail(10 + n, f"Drop{n:02d}") for n in range(12)]
    deliver(server, user, mails)
    config = write_config(tmp_path, [("school", server, user, password)], interval=300, batch_size=3)
    factory = DropsDuringFetch(server)
    with DaemonThread(Daemon(config, mailbox_factory=factory, **FAST)) as daemon:
        wait_for(lambda: factory.killed and daemon.accounts["school"].failures >= 1, 10,
                 what="the failed cycle")
        assert 0 < len(inbound_messages(config)) < 12  # the batches before the drop were committed
        server.restart()
        wait_for(lambda: sum(drafts_by_key(server, user).values()) >= 12, 15, what="twelve drafts")
        time.sleep(1.0)
        keys = drafts_by_key(server, user)
    assert len(keys) == 12 and all(n == 1 for n in keys.values()), keys
    assert len(inbound_messages(config)) == 12


def test_idle_wait_times_out_quietly_wakes_on_new_mail_and_re_idles_on_one_connection(dovecot_server):
    import threading

    from followup.mailbox.imap import ImapMailbox, ImapSettings

    user, password = dovecot_server.new_user()
    box = ImapMailbox("school", ImapSettings(host=dovecot_server.host, port=dovecot_server.port,
                                             security="plain", username=user, password=password, timeout=5))
    box.connect()
    try:
        assert box.supports_idle
        started = time.monotonic()
        assert box.idle_wait(0.6, tick=0.2) is False
        assert 0.5 < time.monotonic() - started < 2
        commands = box.commands_issued
        timer = threading.Timer(0.3, deliver, args=(dovecot_server, user, [interview_mail(40, "Pushco")]))
        timer.start()
        started = time.monotonic()
        assert box.idle_wait(10, tick=1.0) is True  # the same connection IDLEs again
        assert time.monotonic() - started < 3
        timer.join()
        assert box.commands_issued == commands + 1  # one IDLE (DONE ends it; no new login or EXAMINE)
        assert box.idle_wait(0.3, should_stop=lambda: True) is False  # asked to stop: returns at once
    finally:
        box.close()
