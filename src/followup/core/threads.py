"""Pure helpers for grouping messages into threads and applications."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

_PREFIX = re.compile(
    r"^\s*((re|fw|fwd|aw|wg|sv|vs|ref|tr|rv|antw|odp|r)\s*(\[\d+\])?\s*:\s*|\[[^\]]{1,40}\]\s*)+",
    re.IGNORECASE,
)
_COMPANY_NOISE = re.compile(
    r"\b(inc|incorporated|llc|ltd|limited|gmbh|ag|corp|corporation|co|company|plc|sa|bv|srl|"
    r"the|careers|recruiting|talent|team|hiring|jobs)\b\.?",
    re.IGNORECASE,
)


def subject_key(subject: str) -> str:
    """Return the subject without reply/forward prefixes and list tags, lower-cased, spaces squeezed.

    >>> subject_key("RE: Fwd: [jobs] Interview  next week")
    'interview next week'
    """
    return " ".join(_PREFIX.sub("", subject or "").split()).lower()


@functools.lru_cache(maxsize=8192)  # pure and called per application per message in a sync
def company_key(company: str | None) -> str:
    """Return a comparable form of a company name ("Acme, Inc." and "ACME" give "acme")."""
    if not company:
        return ""
    text = unicodedata.normalize("NFKD", company).encode("ascii", "ignore").decode().lower()
    text = _COMPANY_NOISE.sub(" ", text)
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@functools.lru_cache(maxsize=8192)  # pure and called per application per message in a sync
def role_key(role: str | None) -> str:
    """Return a comparable form of a role title ("Sr. Data Engineer" and "senior data engineer" match)."""
    if not role:
        return ""
    text = role.lower().replace("sr.", "senior").replace("sr ", "senior ").replace("jr.", "junior")
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


def slug(text: str | None, *, limit: int = 24) -> str:
    key = company_key(text).replace(" ", "-")
    return key[:limit].strip("-")


def application_id_for(account: str, thread_key: str, company: str | None) -> str:
    """A short, stable, readable id: the company's slug and a hash of where the application began."""
    digest = hashlib.sha1(f"{account}\0{thread_key}".encode()).hexdigest()[:6]
    return f"{slug(company) or 'application'}-{digest}"


def same_application(company_a: str | None, role_a: str | None, company_b: str | None, role_b: str | None) -> bool:
    """True when two (company, role) pairs name the same application.

    Companies must match; roles must match when both are known (one unknown role is a match:
    an ATS rejection often names only the company).
    """
    ca, cb = company_key(company_a).replace(" ", ""), company_key(company_b).replace(" ", "")
    if not ca or not cb:
        return False
    # "Lumen Freight" / "LumenFreight"; "Harbor & Pine" / "Harbor & Pine Health" (a name taken
    # from a domain is often the start of the full name).
    short, long = sorted((ca, cb), key=len)
    if ca != cb and not (len(short) >= 5 and long.startswith(short)):
        return False
    ra, rb = role_key(role_a), role_key(role_b)
    return not ra or not rb or ra == rb or ra in rb or rb in ra


@functools.lru_cache(maxsize=8192)  # pure and called per application per message in a sync
def employer_domain(email: str | None) -> str:
    """The organisation part of an employer's address ("mail.acme.example" gives "acme.example"),
    or '' for addresses that say nothing of the employer (free mail, ATSs, schedulers, job boards).
    """
    from followup.core.model import Address
    from followup.core.senders import ats_name, is_freemail, job_board_name, scheduler_name

    if not email or "@" not in email:
        return ""
    address = Address("", email.lower())
    if is_freemail(address) or ats_name(address) or scheduler_name(address) or job_board_name(address):
        return ""
    labels = address.domain.split(".")
    # Two-letter country zones under a generic second level (acme.co.uk) keep three labels.
    keep = 3 if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in ("co", "com", "ac", "org", "net") else 2
    return ".".join(labels[-keep:])
