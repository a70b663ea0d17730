"""A realistic job seeker's mailbox, generated deterministically, for the benchmarks.

The mix (shares of all messages): ~55% newsletters and marketing (List-Id, List-Unsubscribe,
HTML + text), ~9% real mailing-list ham and ~3% real spam from ``corpus/nonjob`` (re-dated),
~22% personal mail in threads (replies carry In-Reply-To / References, some answered from
Sent), ~5% transactional notifications (orders, banks, no list headers), ~2% job mail (the
shared corpus's ``jobs``, the tests' ``invite(...)`` builder, the bundled sample mailbox, job
board alerts), and the user's own Sent mail (~4%: replies and applications). About 3% of all
messages carry a 1-5 MB attachment (personal mail and notifications).

Messages are written straight into Maildir files (LF line ends, mtime = INTERNALDATE, and the
``,S=`` / ``,W=`` sizes in the name so Dovecot never has to read a whole file to learn them).
"""

from __future__ import annotations

import base64
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from sync_support import invite  # noqa: E402

USER = "dana.reyes@example.net"
USER_ALT = "dana@example.net"  # the tests' builders write to this one
USER_NAME = "Dana Reyes"
SAMPLE = ROOT / "src" / "followup" / "sample" / "mailbox"

BRANDS = ["The Query Plan", "Morning Brew", "Hacker Weekly", "Data Elixir", "Python Weekly", "TLDR", "Product Hunt",
          "Medium Daily Digest", "Substack Reads", "Figma", "Notion", "Spotify", "Netflix", "Airbnb", "Uber Eats",
          "DoorDash", "Patagonia", "REI Co-op", "IKEA Family", "Target Circle", "Best Buy", "Etsy", "Zillow",
          "Strava", "Duolingo", "Coursera", "edX", "Khan Academy", "NYT Cooking", "The Atlantic", "Wired",
          "Ars Technica", "GitHub", "GitLab", "Docker", "AWS Events", "Google Cloud", "Kaggle", "dbt Labs",
          "Snowflake", "Databricks", "Tableau", "Meetup", "Eventbrite", "Goodreads", "Audible", "Kindle Deals",
          "Lyft", "Delta SkyMiles", "United MileagePlus", "Marriott Bonvoy", "Chase Offers", "Whole Foods",
          "Trader Joe's Fearless Flyer", "Apartment Therapy", "Bon Appetit", "Runner's World", "Glassdoor Digest"]
NEWS_SUBJECTS = ["{brand} #{n}: what we're reading this week", "This week at {brand}", "{n} ideas for your weekend",
                 "Last chance: {p}% off everything", "Your {month} recap is here", "New arrivals you'll love",
                 "Don't miss these deals", "The {brand} digest", "Events near you this week",
                 "Your weekly update from {brand}", "Welcome to the community!", "Webinar: scaling data pipelines",
                 "Invitation: {brand} summit {year}", "Thanks for being a member", "Top stories for you",
                 "Flash sale ends tonight", "Recommended for you", "Your {month} statement is ready",
                 "Join us for a live call on {month} {n}", "We've updated our terms"]
FIRST = ["Alex", "Jordan", "Sam", "Priya", "Chen", "Maria", "Luis", "Aisha", "Tom", "Emma", "Noah", "Olivia",
         "Liam", "Mia", "Ethan", "Sofia", "Lucas", "Hana", "Omar", "Grace", "Ravi", "Nina", "Ben", "Zoe", "Kofi"]
LAST = ["Nguyen", "Smith", "Garcia", "Patel", "Kim", "Müller", "Rossi", "Okafor", "Cohen", "Silva", "Ivanova",
        "Brown", "Tanaka", "Larsen", "O'Brien", "Dubois", "Haddad", "Kowalski", "Reyes", "Fischer"]
MAIL_DOMAINS = ["gmail.example", "outlook.example", "icloud.example", "proton.example", "fastmail.example",
                "uni.example.edu", "work.example.com"]
PERSONAL_SUBJECTS = ["dinner on {day}?", "photos from the trip", "quick question", "catching up", "moving boxes",
                     "book club: next pick", "happy birthday!", "your bike", "weekend plans", "recipe you asked for",
                     "flight details", "apartment lease", "soccer on {day}", "notes from the meeting", "hello from {city}",
                     "the wedding", "can you review this?", "house warming party", "lost keys", "podcast recommendation"]
CITIES = ["Lisbon", "Denver", "Osaka", "Toronto", "Berlin", "Austin", "Nairobi", "Oslo"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
NOTIFY = [("orders@shop.example", "Shop", "Your order #{n} has shipped"),
          ("no-reply@bank.example", "First Bank", "Your statement is available"),
          ("alerts@bank.example", "First Bank", "A payment of ${p}.{n2} was made"),
          ("noreply@delivery.example", "Parcel Co", "Your package is out for delivery"),
          ("receipts@ride.example", "Ride", "Your trip receipt"),
          ("security@accounts.example", "Accounts", "New sign-in to your account"),
          ("billing@utility.example", "City Power", "Your bill for {month}"),
          ("no-reply@pharmacy.example", "Pharmacy", "Your prescription is ready")]
LOREM = ("the quick update on the project is that we are mostly on track but a couple of things slipped and "
         "I wanted to run them by you before the weekend since there is still time to fix the order of steps "
         "and nobody has committed to anything yet so please let me know what you think when you get a chance").split()


@dataclass(frozen=True)
class Item:
    """One generated message: its folder ("INBOX" or "Sent"), bytes (LF), received time, seen flag."""

    folder: str
    raw: bytes
    received: datetime
    seen: bool
    kind: str


class MailGenerator:
    """Deterministic (``seed``) generator of the mix described in the module docstring."""

    def __init__(self, corpus: Path | None, *, seed: int = 2026, now: datetime | None = None,
                 days: int = 120) -> None:
        self.rng = random.Random(seed)
        self.now = (now or datetime.now(UTC)).replace(microsecond=0)
        self.days = days
        self.seq = 0
        self.corpus = corpus
        self._ham = self._load(corpus / "nonjob" / "easy-ham-1", corpus / "nonjob" / "hard-ham-1") if corpus else []
        self._spam = self._load(corpus / "nonjob" / "spam-1") if corpus else []
        self._jobs = self._load(corpus / "jobs") if corpus else []
        self._sample = self._load(SAMPLE / "cur")
        self._sample_sent = self._load(SAMPLE / ".Sent" / "cur")
        self._threads: list[tuple[str, list[str], str, str]] = []  # subject, ids, friend name, friend email
        pool = self.rng.randbytes(4 * 1024 * 1024)
        self._b64_lines = base64.encodebytes(pool).splitlines(keepends=True)  # 76 chars + LF each

    @staticmethod
    def _load(*dirs: Path) -> list[bytes]:
        out = []
        for d in dirs:
            if d.is_dir():
                for path in sorted(d.iterdir()):
                    if path.is_file() and not path.name.endswith((".csv", ".md")) and "LICENSE" not in path.name \
                            and "NOTICE" not in path.name:
                        out.append(path.read_bytes())
        return out

    # -- helpers ---------------------------------------------------------------------------

    def _id(self, host: str) -> str:
        self.seq += 1
        return f"<{self.seq}.{self.rng.getrandbits(40):010x}@{host}>"

    def _when(self, recent_days: float | None = None) -> datetime:
        span = (recent_days or self.days) * 86400
        return self.now - timedelta(seconds=self.rng.uniform(60, span))

    def _words(self, n: int) -> str:
        words = [self.rng.choice(LOREM) for _ in range(n)]
        lines, line = [], []
        for w in words:
            line.append(w)
            if len(line) >= 12:
                lines.append(" ".join(line))
                line = []
        lines.append(" ".join(line))
        return "\n".join(lines)

    def _person(self) -> tuple[str, str]:
        first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
        local = f"{first.lower()}.{re.sub('[^a-z]', '', last.lower())}"
        return f"{first} {last}", f"{local}@{self.rng.choice(MAIL_DOMAINS)}"

    def _attachment(self) -> str:
        size = self.rng.randint(1024 * 1024, 5 * 1024 * 1024)
        count = size // 77
        start = self.rng.randrange(0, len(self._b64_lines) - count)
        return b"".join(self._b64_lines[start:start + count]).decode("ascii")

    @staticmethod
    def _restamp(raw: bytes, date: datetime, message_id: str, to: str | None = None) -> bytes:
        """Give a corpus message a new Date, Message-ID (and To); LF line ends; no mbox From line."""
        raw = raw.replace(b"\r\n", b"\n")
        if raw.startswith(b"From "):
            raw = raw.split(b"\n", 1)[1] if b"\n" in raw else b""
        head, sep, body = raw.partition(b"\n\n")
        lines = head.split(b"\n")
        kept: list[bytes] = []
        skipping = False
        drop = (b"date:", b"message-id:") + ((b"to:",) if to else ())
        for line in lines:
            if line[:1] in (b" ", b"\t"):
                if not skipping:
                    kept.append(line)
                continue
            skipping = line.lower().startswith(drop)
            if not skipping:
                kept.append(line)
        new = [f"Date: {format_datetime(date)}".encode(), f"Message-ID: {message_id}".encode()]
        if to:
            new.append(f"To: {to}".encode())
        return b"\n".join(new + kept) + (sep or b"\n\n") + body

    # -- kinds -------------------------------------------------------------------------------

    def newsletter(self) -> Item:
        brand = self.rng.choice(BRANDS)
        slug = re.sub(r"[^a-z]", "", brand.lower()) or "news"
        when = self._when()
        subject = self.rng.choice(NEWS_SUBJECTS).format(brand=brand, n=self.rng.randint(2, 300),
                                                        p=self.rng.choice((15, 20, 30, 40, 50)),
                                                        month=MONTHS[when.month - 1], year=when.year)
        boundary = f"==={self.rng.getrandbits(48):012x}=="
        text = "\n\n".join(self._words(self.rng.randint(40, 160)) for _ in range(self.rng.randint(2, 6)))
        cards = "".join(f'<tr><td style="padding:12px;font-family:Helvetica,Arial"><a href="https://{slug}.example/'
                        f'r/{self.rng.getrandbits(64):x}?utm_source=newsletter&amp;utm_medium=email">'
                        f'<img src="https://cdn.{slug}.example/i/{self.rng.getrandbits(32):x}.png" width="560"></a>'
                        f'<p>{self._words(self.rng.randint(20, 90))}</p></td></tr>\n'
                        for _ in range(self.rng.randint(4, 18)))
        html = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{{margin:0}} td{{color:#333}}"
                f"</style></head><body><table width=\"600\" align=\"center\">\n{cards}</table>"
                f"<p><a href=\"https://{slug}.example/unsubscribe\">Unsubscribe</a></p></body></html>")
        precedence = "Precedence: bulk\n" if self.rng.random() < 0.5 else ""
        raw = (f"From: {brand} <news@{slug}.example>\nTo: {USER_NAME} <{USER}>\nSubject: {subject}\n"
               f"Date: {format_datetime(when - timedelta(minutes=3))}\nMessage-ID: {self._id('mail.' + slug + '.example')}\n"
               f"List-Id: {brand} <news.{slug}.example>\n"
               f"List-Unsubscribe: <https://{slug}.example/u/{self.rng.getrandbits(64):x}>, <mailto:unsub@{slug}.example>\n"
               f"List-Unsubscribe-Post: List-Unsubscribe=One-Click\n{precedence}MIME-Version: 1.0\n"
               f"Content-Type: multipart/alternative; boundary=\"{boundary}\"\n\n"
               f"--{boundary}\nContent-Type: text/plain; charset=utf-8\n\n{text}\n"
               f"--{boundary}\nContent-Type: text/html; charset=utf-8\n\n{html}\n--{boundary}--\n")
        return Item("INBOX", raw.encode(), when, self.rng.random() < 0.6, "newsletter")

    def list_ham(self) -> Item:
        when = self._when()
        raw = self._restamp(self.rng.choice(self._ham), when - timedelta(minutes=5), self._id("lists.example.org"))
        return Item("INBOX", raw, when, self.rng.random() < 0.7, "list")

    def spam(self) -> Item:
        when = self._when()
        raw = self._restamp(self.rng.choice(self._spam), when - timedelta(minutes=1), self._id("spam.example"),
                            to=f"{USER_NAME} <{USER}>")
        return Item("INBOX", raw, when, self.rng.random() < 0.3, "spam")

    def personal(self, attachment: bool = False) -> tuple[Item, Item | None]:
        """A personal message; sometimes a reply in a thread, sometimes answered by the user (Sent)."""
        when = self._when()
        if self._threads and self.rng.random() < 0.45:
            subject, ids, name, address = self.rng.choice(self._threads)
            subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
            threading = f"In-Reply-To: {ids[-1]}\nReferences: {' '.join(ids[-10:])}\n"
        else:
            name, address = self._person()
            subject = self.rng.choice(PERSONAL_SUBJECTS).format(day=self.rng.choice(DAYS), city=self.rng.choice(CITIES))
            ids, threading = [], ""
        message_id = self._id(address.split("@")[1])
        body = f"Hi Dana,\n\n{self._words(self.rng.randint(30, 300))}\n\n{name.split()[0]}\n"
        head = (f"From: {name} <{address}>\nTo: {USER_NAME} <{USER}>\nSubject: {subject}\n"
                f"Date: {format_datetime(when - timedelta(seconds=40))}\nMessage-ID: {message_id}\n{threading}"
                "MIME-Version: 1.0\n")
        if attachment:
            boundary = f"att{self.rng.getrandbits(40):010x}"
            raw = (head + f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n--{boundary}\n"
                   f"Content-Type: text/plain; charset=utf-8\n\n{body}\n--{boundary}\n"
                   "Content-Type: application/pdf; name=\"scan.pdf\"\nContent-Transfer-Encoding: base64\n"
                   f"Content-Disposition: attachment; filename=\"scan.pdf\"\n\n{self._attachment()}--{boundary}--\n")
        else:
            raw = head + f"Content-Type: text/plain; charset=utf-8\n\n{body}"
        ids = [*ids, message_id]
        self._threads.append((subject, ids, name, address))
        if len(self._threads) > 400:
            self._threads.pop(0)
        item = Item("INBOX", raw.encode(), when, self.rng.random() < 0.8, "personal")
        reply = None
        if self.rng.random() < 0.15:
            sent = when + timedelta(hours=self.rng.uniform(0.2, 30))
            if sent < self.now:
                reply_id = self._id("example.net")
                reply = Item("Sent", (
                    f"From: {USER_NAME} <{USER}>\nTo: {name} <{address}>\nSubject: Re: {subject.removeprefix('Re: ')}\n"
                    f"Date: {format_datetime(sent)}\nMessage-ID: {reply_id}\nIn-Reply-To: {message_id}\n"
                    f"References: {' '.join(ids[-10:])}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
                    f"{self._words(self.rng.randint(10, 80))}\n\nDana\n").encode(), sent, True, "sent")
                ids.append(reply_id)
        return item, reply

    def notification(self, attachment: bool = False) -> Item:
        sender, name, subject = self.rng.choice(NOTIFY)
        when = self._when()
        subject = subject.format(n=self.rng.randint(10000, 99999), p=self.rng.randint(3, 900),
                                 n2=self.rng.randint(10, 99), month=MONTHS[when.month - 1])
        auto = "Auto-Submitted: auto-generated\n" if self.rng.random() < 0.4 else ""
        body = f"Hello Dana,\n\n{self._words(self.rng.randint(20, 80))}\n\nThis is an automated message.\n"
        head = (f"From: {name} <{sender}>\nTo: {USER}\nSubject: {subject}\nDate: {format_datetime(when)}\n"
                f"Message-ID: {self._id(sender.split('@')[1])}\n{auto}MIME-Version: 1.0\n")
        if attachment:
            boundary = f"inv{self.rng.getrandbits(40):010x}"
            raw = (head + f"Content-Type: multipart/mixed; boundary=\"{boundary}\"\n\n--{boundary}\n"
                   f"Content-Type: text/plain; charset=utf-8\n\n{body}\n--{boundary}\n"
                   "Content-Type: application/pdf; name=\"invoice.pdf\"\nContent-Transfer-Encoding: base64\n"
                   f"Content-Disposition: attachment; filename=\"invoice.pdf\"\n\n{self._attachment()}--{boundary}--\n")
        else:
            raw = head + f"Content-Type: text/plain; charset=utf-8\n\n{body}"
        return Item("INBOX", raw.encode(), when, self.rng.random() < 0.9, "notification")

    def job(self) -> Item:
        """Job mail: the shared corpus, an interview invitation (tests' builder) or a job-board alert."""
        roll = self.rng.random()
        when = self._when(recent_days=75)
        if roll < 0.6 and self._jobs:
            raw = self._restamp(self.rng.choice(self._jobs), when - timedelta(minutes=2), self._id("ats.example.com"),
                                to=f"{USER_NAME} <{USER}>")
            return Item("INBOX", raw, when, self.rng.random() < 0.9, "job")
        if roll < 0.85:
            start = when + timedelta(days=self.rng.randint(2, 6), hours=self.rng.randint(0, 6))
            company = f"{self.rng.choice(['Acme', 'Globex', 'Initech', 'Umbrella', 'Hooli', 'Vandelay'])}{self.seq}"
            raw = invite(self.seq, company=company, start=start, user=USER,
                         interviewers=tuple(self.rng.sample(["alice", "bob", "carol", "dave"], self.rng.randint(1, 2))))
            self.seq += 1
            raw = self._restamp(raw, when - timedelta(days=3), f"<invite{self.seq}@{company.lower()}.example>")
            return Item("INBOX", raw, when - timedelta(days=3) + timedelta(minutes=1), True, "job")
        raw = (f"From: JobBoard Alerts <alerts@jobboard.example>\nTo: {USER}\n"
               f"Subject: {self.rng.randint(5, 40)} new jobs for Data Engineer\nDate: {format_datetime(when)}\n"
               f"Message-ID: {self._id('jobboard.example')}\nList-Unsubscribe: <https://jobboard.example/u>\n"
               "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
               + "\n".join(f"Data Engineer - Company {self.rng.randint(1, 999)} - Remote" for _ in range(12)) + "\n")
        return Item("INBOX", raw.encode(), when, self.rng.random() < 0.5, "job")

    def sample_items(self) -> Iterator[Item]:
        """The bundled sample mailbox, moved into the last weeks."""
        for raw in self._sample:
            when = self._when(recent_days=40)
            yield Item("INBOX", self._restamp(raw, when, self._id("sample.example")), when, True, "job")
        for raw in self._sample_sent:
            when = self._when(recent_days=40)
            yield Item("Sent", self._restamp(raw, when, self._id("example.net")), when, True, "sent")

    def application_sent(self) -> Item:
        when = self._when(recent_days=90)
        company = self.rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne"])
        raw = (f"From: {USER_NAME} <{USER}>\nTo: careers@{company.lower()}.example\n"
               f"Subject: Application: Data Engineer - {USER_NAME}\nDate: {format_datetime(when)}\n"
               f"Message-ID: {self._id('example.net')}\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n"
               f"Dear hiring team at {company},\n\nPlease find my application for the Data Engineer role.\n\n"
               f"{self._words(60)}\n\nBest regards,\nDana Reyes\n")
        return Item("Sent", raw.encode(), when, True, "sent")

    # -- the whole mix --------------------------------------------------------------------

    def generate(self, total: int) -> list[Item]:
        """``total`` messages in the mix (INBOX and Sent together), oldest first."""
        items: list[Item] = []
        if total >= 2000:
            items.extend(self.sample_items())
        attach_every = 0.85 / 0.03  # attachments go to 85% of the slots (not lists, spam, applications)
        jobs_target = int(total * 0.02)
        jobs = sum(1 for i in items if i.kind == "job")
        while len(items) < total:
            roll = self.rng.random()
            attachment = self.rng.random() < 1 / attach_every
            if jobs < jobs_target and roll < 0.02:
                items.append(self.job())
                jobs += 1
            elif roll < 0.57:
                items.append(self.newsletter() if not attachment else self.notification(attachment=True))
            elif roll < 0.66:
                items.append(self.list_ham() if self._ham else self.newsletter())
            elif roll < 0.69:
                items.append(self.spam() if self._spam else self.newsletter())
            elif roll < 0.92:
                item, reply = self.personal(attachment=attachment)
                items.append(item)
                if reply is not None:
                    items.append(reply)
            elif roll < 0.97:
                items.append(self.notification(attachment=attachment))
            else:
                items.append(self.application_sent() if self.rng.random() < 0.5 else self.newsletter())
        while jobs < jobs_target:
            items.append(self.job())
            jobs += 1
        items = items[:total]
        items.sort(key=lambda i: i.received)
        return items

    def arrivals(self, count: int, start: datetime) -> list[Item]:
        """``count`` new INBOX messages in the same mix, received after ``start``."""
        saved_now = self.now
        self.now = start + timedelta(minutes=30)
        self.days = 30 / 1440
        out: list[Item] = []
        while len(out) < count:
            out.extend(i for i in self.generate(count - len(out)) if i.folder == "INBOX")
        self.now, self.days = saved_now, 120
        return out[:count]


def maildir_name(n: int, item: Item) -> str:
    """A Maildir file name with the physical (S=) and virtual CRLF (W=) sizes and the flags."""
    size = len(item.raw)
    vsize = size + item.raw.count(b"\n")
    return f"{int(item.received.timestamp())}.M{n}P1.bench,S={size},W={vsize}:2,{'S' if item.seen else ''}"
