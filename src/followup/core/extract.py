"""Facts from one message: company, role, human contact, interview time, interviewers,
stated decision date, out-of-office return date.

Pure: the reference for every relative date is the message's Date, the default zone is the
``tz`` argument, and nothing here reads a clock or does IO. Conventions for dates are those of
:mod:`followup.core.textdates`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo

from followup.core.classify import (
    _MAX_CHARS,
    TIMELINE_PROMISE,
    _CONDITIONAL_BEFORE,
    _Text,
    plain,
    _sentence_bounds,
    _sentence_end,
    classify,
    reading,
)
from followup.core.model import Address, CalendarEvent, Classification, Facts, Label, Message
from followup.core.senders import (
    ats_name,
    is_freemail,
    is_hiring_mailbox,
    is_machine,
    is_role_mailbox,
    is_system_address,
    is_room_like,
    job_board_name,
    scheduler_name,
)
from followup.core.textdates import (
    _day_first,
    find_datetimes,
    find_return_date,
    resolve_timeline,
)

__all__ = ["extract_facts", "read_message"]

_I = re.IGNORECASE

# A company or product name as written: capitalised words, with &, dots, digits and a legal suffix.
_WORD = r"(?:[A-Z0-9](?:[\w&'+-]|\.(?=\w))*|[a-z]+[A-Z]\w*)"
_NAME = r"(?P<name>" + _WORD + r"(?:[ \t]+(?:&[ \t]+)?(?:" + _WORD + r"|of|and|de|the|for)){0,5}(?:,?\s+(?:Inc|LLC|Ltd|GmbH|Corp|Co|PBC|plc|S\.A|AG|SE|N\.V|B\.V)\.?)?)"
_COMPANY_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"^" + _NAME + r"\s*[|]\s",
        r"(?i:your\s+application\s+was\s+sent\s+to)\s+" + _NAME,
        r"(?i:(?:position|role|opening|opportunity|job|internship|team)\s+(?:here\s+)?(?:at|with))\s+" + _NAME,
        r"(?i:thank(?:s|\s+you)\s+(?:so\s+much\s+)?for\s+(?:applying|your\s+application|submitting\s+an\s+application|your\s+interest)\s+(?:to|at|with|in)(?:\s+(?:joining|working\s+at|a\s+career\s+at|career\s+opportunities\s+(?:at|with)))?)\s+(?:the\s+)?" + _NAME,
        r"(?i:(?:interview|call|chat|conversation)\s+with)\s+(?:the\s+)?" + _NAME + r"(?=\s+(?i:team|on|for|at|\())",
        r"(?i:(?:update|news|message|note|thank\s+you)\s+from)\s+" + _NAME,
        r"(?i:on\s+behalf\s+of)\s+(?:the\s+)?" + _NAME,
        r"(?i:(?:join|joining)\s+(?:the\s+)?)" + _NAME + r"(?=\s+(?i:team|family))",
        r"(?:^|\n)[ \t]*(?:The[ \t]+)?" + _NAME + r"[ \t]+(?i:talent\s+acquisition|recruiting|recruitment|hiring|people|careers|hr)\b",
        _NAME + r"\s+(?i:has\s+received\s+your|would\s+like\s+to\s+interview\s+you)",
    )
)
_NOT_COMPANY = re.compile(
    r"^(?:the|our|a|an|your|this|that|we|you|i|it|us|team|hiring|recruiting|talent|careers?|hr|human\s+resources|"
    r"position|role|job|application|interview|data|hi|hello|dear|thanks?|thank|linkedin|indeed|workday|greenhouse|lever|"
    r"glassdoor|[A-Z]{1}|\d+)$",
    _I,
)
_SENDER_NAME_SUFFIX = re.compile(
    r"\s*(?:[-|@:]\s*)?(?:\bvia\b.*|recruiting(?:\s+team)?|recruitment(?:\s+team)?|talent(?:\s+acquisition)?(?:\s+team)?|"
    r"hiring(?:\s+team)?|careers?(?:\s+team)?|human\s+resources|hr|people(?:\s+team)?|jobs|workday(?:\s+notifications)?|"
    r"notifications?|alerts?|no-?reply|team|university\s+recruiting|campus\s+recruiting)\s*$",
    _I,
)
_ROLE_PATTERNS = tuple(
    re.compile(p, _I)
    for p in (
        r"\b(?:for|to)\s+(?:the|our|an?)\s+(?:open\s+)?(?P<role>[A-Z][^\n.,;!?()]{1,80}?)\s+(?:position|role|opening|job|opportunity|vacancy|internship)\b",
        r"\b(?:position|role)\s+of\s+(?P<role>[A-Z][^\n.,;!?()]{1,80}?)(?:\s+(?:at|with|in|for)\b|[.,;!\n]|$)",
        r"\bapplication\s+(?:for|to)\s+(?:the\s+)?(?P<role>[A-Z][^\n.,;!?()]{1,80}?)\s+(?:position|role\s+)?(?:at|with)\s+",
        r"\binterest\s+in\s+(?:the|our)\s+(?P<role>[A-Z][^\n.,;!?()]{1,80}?)\s+(?:position|role|opening|job|opportunity)\b",
        r"\binterview\s*(?:for|:|-|–)\s*(?:the\s+)?(?P<role>[A-Z][^\n.,;!?()@]{1,60}?)(?:\s+(?:position|role))?(?:\s+(?:at|with|on|@)\b|[,;!\n]|$)",
        r"\bapplied\s+(?:for|to)\s+(?:the\s+)?(?P<role>[A-Z][^\n.,;!?()]{1,80}?)\s+(?:position|role|opening)\b",
    )
)
_ROLE_AFTER_INTERVIEW = _ROLE_PATTERNS[4]
# Words one finds in a job title (a name after "Interview - " without one is a company or a phrase).
_TITLE_WORD = re.compile(
    r"\b(analyst|engineer|scientist|developer|intern|manager|associate|specialist|designer|consultant|"
    r"coordinator|architect|administrator|representative|assistant|director|technician|programmer|"
    r"researcher|lead|officer|head|writer|editor|planner|accountant|counsel|nurse|teacher|marketer|"
    r"strategist|producer|product|data|software|sales|marketing|operations|finance|design)s?\b",
    _I,
)
_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])([\w.+-]+@[\w-]+(?:\.[\w-]+)+)(?![\w-])")
_NAME_BEFORE_EMAIL = re.compile(r"(?P<name>[A-Z][a-zA-Z'’-]+(?:\s+[A-Z][a-zA-Z'’-]+){1,3})\s*[<(\[]\s*$")
_PERSON_LINE = re.compile(r"^\s*(?P<name>[A-Z][a-zà-ÿA-Z'’-]+(?:\s+[A-Z]\.)?(?:\s+[A-Z][a-zà-ÿA-Z'’-]+){1,2})\s*[,|]?\s*$")
_NOT_PERSON = re.compile(
    r"\b(team|recruiting|recruitment|talent|acquisition|careers?|hiring|hr|human|resources|inc|llc|ltd|gmbh|group|"
    r"company|corporation|department|office|university|the|best|regards|thanks|sincerely|manager|director|recruiter|"
    r"coordinator|partner|lead|engineer|specialist|sourcer|people|operations)\b",
    _I,
)
_TIME_CONTEXT = re.compile(
    r"\b(interview|screen|call|chat|meeting|conversation|confirmed|scheduled|booked|rescheduled|moved|see\s+you|speak|"
    r"when|date|time|start|cancel\w*)\b",
    _I,
)
_CANDIDATE_DEADLINE = re.compile(
    r"\b(please|let\s+(?:us|me)\s+know|your\s+decision|you\s+(?:need|have)\s+to|expires?|deadline|no\s+later\s+than|"
    r"complete|submit|sign|return\s+the|accept|hear(?:ing)?\s+(?:back\s+)?from\s+you)\b",
    _I,
)


def extract_facts(
    message: Message,
    *,
    tz: tzinfo,
    user_addresses: frozenset[str] = frozenset(),
    label: Label | None = None,
) -> Facts:
    """Given a message, the user's timezone, the user's own addresses and (optionally) its label,
    return the facts it states. ``label`` None means "classify it first".

    Interview start/end come from a calendar part when there is one, else from the text, and
    only for scheduled / cancelled interviews (times proposed in an invitation are not an
    appointment). Decision dates come from the employer's own promise ("we'll get back to you
    by Friday"), never from a deadline set for the candidate. The contact is a human address:
    never a no-reply, ATS, job-board or scheduling-tool address, never the user.
    """
    if label is None:
        label = classify(message, user_addresses=user_addresses).label
    subject = plain(message.subject or "")
    event = _main_event(message)
    # Mail that is not about an application states no decision, no interview and names no
    # company of interest; its contact is the human sender if there is one. Reading its body
    # for more would only cost time.
    sender = message.sender
    if sender is not None and sender.email in user_addresses:
        # The user's own mail: the company her words name (a follow-up that names the wrong
        # company gets a quick correction), never a date or a contact taken from the quote.
        contact = next((h for h in map(lambda a: _human(a, user_addresses), message.reply_to) if h), None)
        people = frozenset(w.lower() for a in (*message.to, *message.cc) for w in a.name.split())
        return Facts(company=_outbound_company(reading(message).body, people), contact=contact)
    relevant = label is not Label.OTHER
    if not relevant:
        contact = next((h for h in map(lambda a: _human(a, user_addresses), (message.sender, *message.reply_to)) if h), None)
        return Facts(contact=contact)
    parts = reading(message)
    unquoted, body, signature = parts.unquoted, parts.body, parts.signature
    words = parts.words[: _MAX_CHARS * 2]

    start: datetime | None = None
    end: datetime | None = None
    interviewers: tuple[Address, ...] = ()
    if event is not None and label in (Label.INTERVIEW_SCHEDULED, Label.INTERVIEW_CANCELLED):
        start, end = _localise(event.start, tz), _localise(event.end, tz)
        interviewers = _interviewers(event, user_addresses)
    if start is None and label in (Label.INTERVIEW_SCHEDULED, Label.INTERVIEW_CANCELLED) and message.date:
        start, end = _time_from_text(subject, words, message.date, tz)

    decision = _decision_date(words, message.date, tz) if message.date else None
    ooo = None
    if label is Label.OUT_OF_OFFICE and message.date:
        ref = message.date.astimezone(tz).date()
        ooo = find_return_date(words or unquoted, ref, day_first=_day_first(None, tz))
        if ooo is None:
            ooo = find_return_date(subject, ref, day_first=_day_first(None, tz))

    return Facts(
        company=_company(message, subject, unquoted, event, quoted=message.text or ""),
        role=_role(subject, body, event),
        contact=_contact(message, body, signature, event, user_addresses),
        interview_start=start,
        interview_end=end,
        interviewers=interviewers,
        decision_date=decision,
        ooo_return=ooo,
    )


def read_message(
    message: Message, *, tz: tzinfo, user_addresses: frozenset[str] = frozenset()
) -> tuple[Classification, Facts]:
    """Given a message, return its classification and its facts (one call, one reading)."""
    classification = classify(message, user_addresses=user_addresses)
    facts = extract_facts(message, tz=tz, user_addresses=user_addresses, label=classification.label)
    return classification, facts


# --- interview time and people ------------------------------------------------------------------

def _main_event(message: Message) -> CalendarEvent | None:
    events = [e for e in message.calendar if e.start is not None]
    if not events:
        return None
    # A reschedule carries the highest SEQUENCE; a cancellation names the event it removes.
    return max(events, key=lambda e: (e.method in ("REQUEST", "CANCEL", "PUBLISH", ""), e.sequence))


def _localise(value: datetime | None, tz: tzinfo) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        # A floating DTSTART means "wall-clock time wherever you are": the user's zone.
        return value.replace(tzinfo=tz)
    return value


def _time_from_text(subject: str, words: str, ref: datetime, tz: tzinfo) -> tuple[datetime | None, datetime | None]:
    text = f"{subject}\n{words[:6000]}"
    spans = find_datetimes(text, ref=ref, tz=tz)
    if not spans:
        return None, None
    # Prefer a time in a sentence that talks about the interview or its confirmation; of
    # several sessions on that day (an onsite loop) the interview starts with the first.
    chosen = spans[0]
    for span in spans:
        lo = max(text.rfind("\n", 0, span.pos), text.rfind(". ", 0, span.pos))
        context = text[max(0, lo) : span.pos + len(span.text) + 60]
        if _TIME_CONTEXT.search(context):
            chosen = span
            break
    same_day = [s for s in spans if s.start.date() == chosen.start.date()]
    first = min(same_day, key=lambda s: s.start)
    return first.start, first.end


def _interviewers(event: CalendarEvent, user_addresses: frozenset[str]) -> tuple[Address, ...]:
    people: list[Address] = []
    seen: set[str] = set()
    for attendee in event.attendees:
        address = attendee.address
        if attendee.cutype not in ("INDIVIDUAL", "UNKNOWN", ""):
            continue
        if address.email in user_addresses or address.email in seen:
            continue
        name = "" if address.name.lower() == address.email else address.name
        if is_room_like(name) or is_room_like(address.local_part.replace(".", " ")) or "resource.calendar" in address.domain:
            continue
        if scheduler_name(address) or address.is_no_reply or job_board_name(address):
            continue
        seen.add(address.email)
        people.append(Address(name=name, email=address.email))
    return tuple(people)


def _human(address: Address | None, user_addresses: frozenset[str]) -> Address | None:
    if address is None or not address.email or address.email in user_addresses:
        return None
    if is_machine(address) or is_hiring_mailbox(address) or is_role_mailbox(address) or is_system_address(address):
        return None
    name = "" if address.name.lower() == address.email else address.name
    return Address(name=name, email=address.email)


def _contact(
    message: Message,
    body: str,
    signature: str,
    event: CalendarEvent | None,
    user_addresses: frozenset[str],
) -> Address | None:
    """The person to write to: the sender when human, else Reply-To, the calendar organizer,
    or a person named with an address in the body or signature."""
    for candidate in (message.sender, *message.reply_to):
        human = _human(candidate, user_addresses)
        if human is not None:
            return human
    if event is not None:
        human = _human(event.organizer, user_addresses)
        if human is not None:
            return human
    for text in (signature, body):
        found = _named_address(text, user_addresses)
        if found is not None:
            return found
    return None


def _named_address(text: str, user_addresses: frozenset[str]) -> Address | None:
    for m in _EMAIL_IN_TEXT.finditer(text[:20000]):
        email = m.group(1).lower().rstrip(".")
        address = Address(name="", email=email)
        if _human(address, user_addresses) is None:
            continue
        before = text[max(0, m.start() - 80) : m.start()]
        named = _NAME_BEFORE_EMAIL.search(before)
        name = named.group("name") if named else ""
        if not name:
            # A signature: the name sits on one of the lines just above the address.
            for line in reversed(before.split("\n")[:-1][-4:]):
                person = _PERSON_LINE.match(line)
                if person and not _NOT_PERSON.search(person.group("name")):
                    name = person.group("name")
                    break
        return Address(name=name, email=email)
    return None


# --- company and role ---------------------------------------------------------------------------

_DEPARTMENT_WORD = re.compile(
    r"\b(campus|experienced|hire|graduate|university|technical|senior|global|team|department|talent|"
    r"recruiting|recruitment|careers?|human|resources|early|people|operations|acquisition)\b",
    _I,
)


def _clean_company(raw: str) -> str | None:
    name = raw.strip(" .,'’-&")
    if _DEPARTMENT_WORD.search(name):
        return None
    name = re.sub(r"^(?:your|our|the)\s+", "", name, flags=_I)
    previous = None
    while previous != name:  # "Sony Pictures Entertainment and the" → "Sony Pictures Entertainment"
        previous = name
        name = re.sub(r"\s+(?:team|family|and|the|of|for|de|at|in|alerts?|notifications?)$", "", name, flags=_I).strip(" .,")
    name = re.sub(r"(?i)'s$", "", name)
    if not name or len(name) > 60 or _NOT_COMPANY.match(name) or _ROLE_WORD.search(name):
        return None
    return name


# A name that holds one of these is a job title, not an employer ("Data Quality Analyst I").
_ROLE_WORD = re.compile(
    r"\b(analyst|engineer|scientist|developer|intern|internship|manager|associate|specialist|designer|"
    r"consultant|coordinator|architect|administrator|representative|assistant|director|technician|"
    r"programmer|researcher|lead|officer|position|role)s?\b",
    _I,
)


def _company(message: Message, subject: str, body: str, event: CalendarEvent | None, *, quoted: str = "") -> str | None:
    """The employer's name: from phrases that name it, else the sender's display name (for
    ATS and hiring senders), else the employer's domain written the way the text writes it.

    The employer's domain is the sender's, or, when the sender is a tool relaying a person (a
    no-reply or notifications address whose calendar ORGANIZER or Reply-To is a human at another
    domain), that person's: a booking tool is never the company. A name the text states in full
    ("Harbor & Pine Health" in a signature, "Rachel Kim | Harbor & Pine Health" as the display
    name, "Tidewater Federal Credit Union" for tfcu.org) wins over a shorter mention or a guess
    made from the domain.
    """
    sender = message.sender
    texts = [subject, body[:2500]]
    if event is not None:
        texts.insert(0, event.summary)
    people = {a.name.lower() for a in message.to if a.name}
    stated: str | None = None
    for pattern in _COMPANY_PATTERNS:
        for text in texts:
            m = pattern.search(text)
            if m:
                name = _clean_company(m.group("name"))
                if name and name.lower() not in people:
                    stated = name
                    break
        if stated:
            break
    if sender is None:
        return stated
    relay = _relayed_human(message, event)
    domain_owner = relay or sender
    brand = None
    if not (ats_name(domain_owner) or job_board_name(domain_owner) or scheduler_name(domain_owner)
            or is_freemail(domain_owner)):
        core = _domain_core(domain_owner.domain)
        if core:
            extra = [sender.name] if relay is None else []
            if event is not None:
                extra.append(event.location)
            brand = _brand(core, "\n".join([*texts, *extra, quoted[:6000]]))
    machine_sender = bool(ats_name(sender) or scheduler_name(sender) or sender.is_no_reply
                          or is_hiring_mailbox(sender) or is_role_mailbox(sender) or is_system_address(sender))
    if brand and (relay is not None or not machine_sender):
        # A person's own domain spelled out in the text beats a phrase ("a note from Jamie"),
        # and its longest form the shortest ("at Cobalt Ridge" / "Cobalt Ridge Software"). A
        # machine sender's domain may be an unknown ATS's ("sent by Talentloop"): phrases first.
        return brand
    if stated:
        return stated
    display = sender.name.strip()
    if display and machine_sender and relay is None and not job_board_name(sender):
        stripped = _SENDER_PREFIX.sub("", display)
        for _ in range(2):
            stripped = _SENDER_NAME_SUFFIX.sub("", stripped).strip(" -|,")
        name = _clean_company(stripped) if stripped else None
        if name:
            return name
    if brand:
        return brand
    if ats_name(domain_owner) or job_board_name(domain_owner) or scheduler_name(domain_owner) or is_freemail(domain_owner):
        return None
    core = _domain_core(domain_owner.domain)
    if core is None:
        return None
    return _clean_company(core.replace("-", " ").title())


def _domain_core(domain: str) -> str | None:
    """The label of a domain that names its owner ("mail.acme-labs.co.uk" → "acme-labs")."""
    labels = [p for p in domain.split(".") if p]
    if len(labels) < 2:
        return None
    core = labels[-2]
    if len(core) <= 3 and len(labels) >= 3 and core in _SECOND_LEVEL:  # acme.co.uk, acme.com.au
        core = labels[-3]
    if core in _GENERIC_LABELS or _PLACEHOLDER.search(domain):
        return None
    return core


_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu", "or", "ne", "go"})


def _registrable(domain: str) -> str:
    labels = [p for p in domain.lower().split(".") if p]
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-2]) <= 3:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _relayed_human(message: Message, event: CalendarEvent | None) -> Address | None:
    """When the sender is a tool sending on a person's behalf (a scheduling or booking service,
    known or not), return that person: the calendar ORGANIZER or Reply-To, a human at another
    domain than the sender's. None when the sender is the employer itself (or an ATS, whose
    display name names the employer)."""
    sender = message.sender
    if sender is None or ats_name(sender):
        return None
    if not (scheduler_name(sender) or sender.is_no_reply or is_system_address(sender) or is_role_mailbox(sender)):
        return None
    home = _registrable(sender.domain)
    for candidate in ((event.organizer if event is not None else None), *message.reply_to):
        if candidate is None or not candidate.email:
            continue
        if is_machine(candidate) or is_freemail(candidate) or _registrable(candidate.domain) == home:
            continue
        return candidate
    return None


# Words that end a company name read from the text: titles, departments, dates, mail words.
_NAME_STOP = re.compile(
    r"^(?:interview\w*|panel|round|final|screen\w*|call|chat|meeting|invitation|update\w*|confirmed|"
    r"re|fwd?|dear|hi|hello|thanks?|thank|regards|best|team|talent|recruiting|recruitment|careers?|hr|people|"
    r"senior|junior|staff|principal|head|chief|vp|mon|tue|wed|thu|fri|sat|sun|"
    r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|january|february|march|april|may|june|july|"
    r"august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|"
    r"inc|llc|ltd|gmbh|corp|co|plc|ag|se|pbc|the|and|of|for|at|in|on|with|by|to|from|dana|"
    r"offer|application|position|role|job|opening|event|what|when|where|host|guests?|organizer|"
    r"calendar|invites?|e-?mail|mail|notifications?|alerts?|portal|scheduler|booking|video|zoom|office|website|site|"
    r"drive|street|st|avenue|ave|road|rd|tower|plaza|suite|floor|boulevard|blvd|lane|way|parkway|pkwy|square|"
    r"building|highway|hwy)$",
    _I,
)
_NAME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’]*(?:\.[A-Za-z]+)*|&|\+")


def _brand(core: str, text: str) -> str | None:
    """Find the domain's owner named in the text: the words whose letters or initials spell the
    domain ("harborpine" → "Harbor & Pine", "fernhillcu" → "Fernhill C… U…", "tfcu" →
    "Tidewater Federal Credit Union"), extended by up to three more capitalised words that
    finish the name ("Harbor & Pine" + "Health"). The longest such name in the text wins."""
    letters = "".join(c for c in core.lower() if c.isalnum())
    # "hcacareers", "acmejobs", "talent-acme": the hiring words are not part of the name
    letters = _HIRING_AFFIX.sub("", letters) or letters
    if len(letters) < 3:
        return None
    best: tuple[int, int, str] | None = None
    seen: set[str] = set()
    for line_no, line in enumerate(text.split("\n")):
        if letters[0] not in line.lower() or line in seen:
            # a line read before (the body is in ``text`` twice, quoted and not) gives the same
            # names again with a later line number, never a better score
            continue
        seen.add(line)
        for run in _capital_runs(line):
            found = _spell(letters, run)
            if found is None:
                continue
            start, stop = found
            words = run[start:stop]
            if not any(w[0].isupper() for w in words):
                continue
            rest = run[stop:]
            if any(w[:1].isdigit() for w in run[:start]):
                rest = []  # "12575 Uline Drive": a street address, not the company's full name
            extension: list[str] = []
            for word in rest[:3]:
                if _NAME_STOP.match(word) or _ROLE_WORD.search(word) or _DEPARTMENT_WORD.search(word) \
                        or not re.fullmatch(r"[A-Z][a-z]+", word):
                    break
                extension.append(word)
            if len(extension) < len(rest) and extension:
                # the run goes on ("Cobalt Ridge Product Team"): unsure where the name ends
                extension = []
            name = " ".join(words + extension)
            score = (len(words) + len(extension), -line_no)
            if best is None or score > best[:2]:
                best = (score[0], score[1], name)
    return best[2] if best else None


_HIRING_AFFIX = re.compile(r"^(?:careers?|jobs|talent|recruiting|hiring|apply|work(?:at|for)?|join)(?=.{3})|"
                           r"(?<=.{3})(?:careers?|jobs|talent|recruiting|hiring|hr|apply|mail)$")


def _capital_runs(line: str) -> list[list[str]]:
    """Runs of name words on one line: capitalised words joined by spaces, "&", "and", "of"."""
    runs: list[list[str]] = []
    current: list[str] = []
    last_end = -1
    for m in _NAME_TOKEN.finditer(line):
        token = m.group(0).rstrip(".")
        gap = line[last_end : m.start()] if last_end >= 0 else ""
        joinable = token in ("&", "+") or token in ("and", "of") or token[:1].isupper() or token[:1].isdigit()
        if current and (gap.strip() or not joinable):
            runs.append(current)
            current = []
        if joinable and (current or token not in ("&", "+", "and", "of")):
            current.append(token)
        last_end = m.end()
    if current:
        runs.append(current)
    for run in runs:
        while run and run[-1] in ("&", "+", "and", "of"):
            run.pop()
    return [run for run in runs if run]


def _spell(letters: str, run: list[str]) -> tuple[int, int] | None:
    """Return the span of words in ``run`` that spells ``letters``: each word gives all its
    letters or its initial ("&"/"and"/"of" may give "and"/"of" or nothing); None if no span does."""
    if not any(w[0].lower() == letters[0] for w in run):
        return None  # no word starts with the first letter (every word starts with a letter or digit, or is "&")
    lowered = ["and" if w in ("&", "+") else "".join(c for c in w.lower() if c.isalnum()) for w in run]
    for start in range(len(run)):
        if not lowered[start] or lowered[start] in ("and", "of") or not lowered[start][0] == letters[0]:
            continue
        stop = _spell_from(letters, lowered, start, 0, initials=0)
        if stop is not None:
            return start, stop
    return None


def _spell_from(letters: str, words: list[str], i: int, pos: int, *, initials: int) -> int | None:
    if pos == len(letters):
        # a name spelled only by initials needs three words at least ("tfcu")
        return i if (initials < i or initials >= 3) else None
    if i >= len(words):
        return None
    word = words[i]
    if word in ("", "and", "of"):
        if word and letters.startswith(word, pos):
            found = _spell_from(letters, words, i + 1, pos + len(word), initials=initials)
            if found is not None:
                return found
        return _spell_from(letters, words, i + 1, pos, initials=initials)
    if letters.startswith(word, pos):
        found = _spell_from(letters, words, i + 1, pos + len(word), initials=initials)
        if found is not None:
            return found
    if letters[pos] == word[0] and len(word) > 1:
        return _spell_from(letters, words, i + 1, pos + 1, initials=initials + 1)
    return None


# What the user's own words say about where she applied: "joining X", "the … role at X".
_OUTBOUND_PATTERNS = tuple(
    re.compile(p)
    for p in (
        r"(?i:\b(?:joining|join|joined)\s+(?:the\s+)?(?:team\s+(?:at|with)\s+)?)" + _NAME,
        r"(?i:\b(?:position|role|opening|opportunity|job|internship)\s+(?:here\s+)?(?:at|with))\s+" + _NAME,
        r"(?i:\bteam\s+at)\s+" + _NAME,
        r"(?i:\b(?:future|career)\s+(?:at|with))\s+" + _NAME,
        r"(?i:\b(?:about|in)\s+working\s+(?:at|for)\s+)" + _NAME,
        r"(?i:\binterview(?:ing|ed|s)?\s+at)\s+" + _NAME,
    )
)
_OWN_PAST = re.compile(r"\b(?:my|our|current|currently|previous|previously|former|formerly|last|recently)\s+(?:\w+\s+){0,2}$", _I)


def _outbound_company(body: str, people: frozenset[str] = frozenset()) -> str | None:
    """The company the user's own words name as the one she applied to, or None. Only phrases
    that name an employer count ("joining X", "the … role at X", "my interview at X"), never
    where she works now ("my role at Y") nor a person she writes to (``people``: lower-cased
    words of the recipients' names)."""
    text = body[:3000]
    best: tuple[int, str] | None = None
    for pattern in _OUTBOUND_PATTERNS:
        for m in pattern.finditer(text):
            if _OWN_PAST.search(text[max(0, m.start() - 40) : m.start()]):
                continue  # "my role at Brightline": where she works, not where she applied
            raw = m.group("name")
            if not raw[:1].isupper():
                continue
            name = _clean_company(raw)
            if name and name.split()[0].lower() in people:
                continue
            if name and (best is None or m.start() < best[0]):
                best = (m.start(), name)
    return best[1] if best else None


_GENERIC_LABELS = frozenset({"mail", "email", "careers", "career", "jobs", "job", "talent", "hr", "co", "com",
                             "invalid", "unknown", "recruiting", "recruitment", "hire", "hiring", "apply",
                             "notifications", "notification", "news", "send", "bounce", "mg", "em", "e", "m"})
_PLACEHOLDER = re.compile(r"\.(invalid|localhost)$", _I)


_SENDER_PREFIX = re.compile(r"^(?:careers|talent|jobs|recruiting|hiring|people|hr)\s+(?:at|@|from)\s+", _I)


def _role(subject: str, body: str, event: CalendarEvent | None) -> str | None:
    texts = [subject, body[:1500]]
    if event is not None:
        texts.append(event.summary)
    for pattern in _ROLE_PATTERNS:
        for text in texts:
            for m in pattern.finditer(text):
                role = " ".join(m.group("role").split()).strip(" -–:")
                if not 2 <= len(role) <= 80 or re.match(r"(?i)^(the|our|a|an|this|your|position|role)$", role):
                    continue
                if pattern is _ROLE_AFTER_INTERVIEW and not _TITLE_WORD.search(role):
                    continue  # "Case interview - Acme Mobility with Jo", "interview - thank you"
                return role
    return None


# --- decision date ------------------------------------------------------------------------------

def _decision_date(words: str, ref: datetime, tz: tzinfo) -> date | None:
    """The day the employer says it will decide or answer, or None.

    Only the employer's promise counts ("we'll get back to you by Friday", "you should hear from
    us within two weeks", "we expect to decide by the end of next week"); a deadline for the
    candidate ("let us know by Friday", "the offer expires on …") does not.
    """
    ref_day = ref.astimezone(tz).date()
    day_first = _day_first(None, tz)
    for start, end in _Text(words).spans(TIMELINE_PROMISE):
        lo, _ = _sentence_bounds(words, start, end)
        hi = _sentence_end(words, end)
        before = words[lo:start]
        if _CONDITIONAL_BEFORE.search(before) or _CANDIDATE_DEADLINE.search(words[lo:end]):
            continue
        after = words[start : min(hi, end + 120)]
        resolved = resolve_timeline(after, ref_day, day_first=day_first)
        if resolved is None and before.strip():
            resolved = resolve_timeline(before, ref_day, day_first=day_first)
        if resolved is not None and resolved >= ref_day:
            return resolved
    return None
