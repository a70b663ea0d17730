"""A tiny ``sd_notify(3)``: tells systemd (``Type=notify``) that the daemon is ready, what it is
doing, that it is alive, and that it is stopping. Standard library only.

systemd passes ``$NOTIFY_SOCKET`` (a path, or ``@name`` for the abstract namespace) and, with
``WatchdogSec=``, ``$WATCHDOG_USEC`` (and ``$WATCHDOG_PID``). Without them every call is a no-op,
so the daemon runs the same under a terminal, in tests and under systemd. Sending never raises:
a lost notification must not take the daemon down.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state lines to systemd's notification socket (see :func:`sd_notify`)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or ""
        if address.startswith("@"):
            address = "\0" + address[1:]  # abstract namespace
        self.address = address
        self.watchdog_seconds = _watchdog_seconds(env)
        self._sock: socket.socket | None = None
        self._warned = False
        self._lock = threading.Lock()  # jobs report STATUS from their threads

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, **fields: object) -> bool:
        """Send ``KEY=value`` lines (``ready=1`` -> ``READY=1``); return True when it went out."""
        if not self.address:
            return False
        payload = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode("utf-8")
        try:
            with self._lock:
                if self._sock is None:
                    self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.sendto(payload, self.address)
        except OSError as exc:
            if not self._warned:  # once: systemd may simply be gone (shutdown)
                log.warning("cannot notify systemd at %s: %s", self.address.replace("\0", "@"), exc)
                self._warned = True
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        return self.send(ready=1, **({"status": status} if status else {}))

    def status(self, text: str) -> bool:
        return self.send(status=text)

    def watchdog(self) -> bool:
        return self.send(watchdog=1) if self.watchdog_seconds else False

    def reloading(self) -> bool:
        return self.send(reloading=1)

    def stopping(self, status: str | None = None) -> bool:
        return self.send(stopping=1, **({"status": status} if status else {}))

    def close(self) -> None:
        with self._lock:
            if self._sock is not None:
                self._sock.close()
                self._sock = None


def _watchdog_seconds(env: Mapping[str, str]) -> float | None:
    """The watchdog interval systemd expects pings within, when it is meant for this process."""
    usec = env.get("WATCHDOG_USEC")
    pid = env.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        value = int(usec)
    except ValueError:
        return None
    return value / 1_000_000 if value > 0 else None


def sd_notify(environ: Mapping[str, str] | None = None, **fields: object) -> bool:
    """One-shot: ``sd_notify(ready=1, status="…")``."""
    notifier = Notifier(environ)
    try:
        return notifier.send(**fields)
    finally:
        notifier.close()
