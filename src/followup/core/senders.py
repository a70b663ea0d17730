"""What the sender's address says: applicant-tracking systems, scheduling tools, job boards.

Pure lookups on :class:`~followup.core.model.Address` values. Nothing here decides a label on
its own; the classifier combines these facts with what the message says. Knowledge is kept as
domain suffixes so that regional hosts (``us.greenhouse-mail.io``, ``wd5.myworkday.com``) match.
"""

from __future__ import annotations

import functools
import re

from followup.core.model import Address

#: Applicant-tracking systems (and the career-site hosts they mail from). Mail from these
#: domains is about a job application; the human behind it is named in the body, not the From.
ATS_DOMAINS: dict[str, str] = {
    "greenhouse.io": "Greenhouse",
    "greenhouse-mail.io": "Greenhouse",
    "lever.co": "Lever",
    "myworkday.com": "Workday",
    "myworkdayjobs.com": "Workday",
    "workday.com": "Workday",
    "ashbyhq.com": "Ashby",
    "ashby.io": "Ashby",
    "icims.com": "iCIMS",
    "smartrecruiters.com": "SmartRecruiters",
    "jobvite.com": "Jobvite",
    "taleo.net": "Taleo",
    "workable.com": "Workable",
    "workablemail.com": "Workable",
    "bamboohr.com": "BambooHR",
    "rippling.com": "Rippling",
    "ats.rippling.com": "Rippling",
    "successfactors.com": "SuccessFactors",
    "successfactors.eu": "SuccessFactors",
    "oraclecloud.com": "Oracle Recruiting",
    "taleo.com": "Taleo",
    "avature.net": "Avature",
    "brassring.com": "BrassRing",
    "kenexa.com": "BrassRing",
    "jazzhr.com": "JazzHR",
    "applytojob.com": "JazzHR",
    "recruitee.com": "Recruitee",
    "teamtailor.com": "Teamtailor",
    "teamtailor-mail.com": "Teamtailor",
    "personio.de": "Personio",
    "personio.com": "Personio",
    "breezy.hr": "Breezy HR",
    "breezyhr.com": "Breezy HR",
    "pinpointhq.com": "Pinpoint",
    "jobdiva.com": "JobDiva",
    "paylocity.com": "Paylocity",
    "ultipro.com": "UKG",
    "ukg.com": "UKG",
    "adp.com": "ADP",
    "newtonsoftware.com": "Newton",
    "paradox.ai": "Paradox",
    "phenompeople.com": "Phenom",
    "eightfold.ai": "Eightfold",
    "tal.net": "Oleeo",
    "hirebridge.com": "Hirebridge",
    "homebase.com": "Homebase",
    "joinhomebase.com": "Homebase",
    "dover.com": "Dover",
    "gem.com": "Gem",
    "beamery.com": "Beamery",
    "hiringthing.com": "HiringThing",
    "clearcompany.com": "ClearCompany",
    "comeet.co": "Comeet",
    "freshteam.com": "Freshteam",
    "zohorecruit.com": "Zoho Recruit",
    "hirehive.com": "HireHive",
    "trakstar.com": "Trakstar",
    "cornerstoneondemand.com": "Cornerstone",
    "csod.com": "Cornerstone",
    "csodmail.com": "Cornerstone",
}

#: Scheduling tools: they send confirmations and calendar invites on a recruiter's behalf.
#: Their addresses are never a contact and never an interviewer.
SCHEDULER_DOMAINS: dict[str, str] = {
    "calendly.com": "Calendly",
    "goodtime.io": "GoodTime",
    "modernloop.io": "ModernLoop",
    "modernloop.com": "ModernLoop",
    "prelude.co": "Prelude",
    "yello.co": "Yello",
    "doodle.com": "Doodle",
    "youcanbook.me": "YouCanBookMe",
    "savvycal.com": "SavvyCal",
    "cal.com": "Cal.com",
    "zcal.co": "zcal",
    "acuityscheduling.com": "Acuity",
    "hubspot.com": "HubSpot Meetings",
    "meetings.hubspot.com": "HubSpot Meetings",
    "chilipiper.com": "Chili Piper",
    "calendar-notification.google.com": "Google Calendar",
    "resources.calendar.google.com": "Google Calendar",
    "group.calendar.google.com": "Google Calendar",
    "hirevue.com": "HireVue",
    "spark-hire.com": "Spark Hire",
    "sparkhire.com": "Spark Hire",
    "willo.video": "Willo",
}

#: Job boards and professional networks: they relay applications (an acknowledgement says
#: "your application was sent") but also send alerts and digests, which are never about a
#: submitted application.
JOB_BOARD_DOMAINS: dict[str, str] = {
    "linkedin.com": "LinkedIn",
    "indeed.com": "Indeed",
    "indeedemail.com": "Indeed",
    "glassdoor.com": "Glassdoor",
    "ziprecruiter.com": "ZipRecruiter",
    "monster.com": "Monster",
    "dice.com": "Dice",
    "wellfound.com": "Wellfound",
    "angel.co": "Wellfound",
    "handshake.com": "Handshake",
    "joinhandshake.com": "Handshake",
    "hired.com": "Hired",
    "otta.com": "Otta",
    "welcometothejungle.com": "Welcome to the Jungle",
    "stepstone.de": "StepStone",
    "xing.com": "XING",
    "careerbuilder.com": "CareerBuilder",
    "simplyhired.com": "SimplyHired",
    "builtin.com": "Built In",
    "weworkremotely.com": "We Work Remotely",
    "remoteok.com": "Remote OK",
    "upwork.com": "Upwork",
    "jobright.ai": "Jobright",
}

#: Free-mail providers: the domain names no company.
FREEMAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "hotmail.com", "outlook.com",
        "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
        "protonmail.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "mail.com", "yandex.ru",
        "fastmail.com", "zoho.com", "hey.com", "qq.com", "163.com", "orange.fr", "free.fr",
        "btinternet.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
    }
)

# Local parts that name a hiring function rather than a person (careers@, talent@, jobs@...).
_HIRING_LOCAL = re.compile(
    r"^(careers?|jobs?|talent|recruit\w*|hiring\w*|hr|people|staffing|apply|applications?|"
    r"candidates?|campus|university|talentacquisition|ta|graduates?|earlycareers|internships?)([._+-]|\d|$)",
    re.IGNORECASE,
)
# Local parts that name a shared function, not a person (nobody to write a follow-up to).
_ROLE_LOCAL = re.compile(
    r"^(info|hello|hi|contact|support|help|helpdesk|orders?|shop|store|newsletters?|news|updates?|events?|"
    r"marketing|sales|billing|accounts?|admin|office|team|service|customerservice|feedback|appointments?|"
    r"bookings?|reservations?|approvals?|alerts?|digest|webmaster|media|press|community)([._+-]|\d|$)",
    re.IGNORECASE,
)
_ROOM_NAME = re.compile(
    r"\b(room|conf(erence)?|meeting room|boardroom|board room|floor|bldg|building|suite|"
    r"huddle|zoom room|phone booth|auditorium|lobby|desk|resource)\b|^\d+[a-z]?[-\s]",
    re.IGNORECASE,
)


def _match(domain: str, table: dict[str, str]) -> str | None:
    domain = domain.lower().rstrip(".")
    parts = domain.split(".")
    for i in range(len(parts) - 1):
        found = table.get(".".join(parts[i:]))
        if found:
            return found
    if table is ATS_DOMAINS:
        # Regional or unusual top-level domains (acme.icims.eu, talent.icims.co) still carry the
        # system's own label.
        for part in parts[:-1] if len(parts) > 1 else parts:
            found = _ATS_LABELS.get(part)
            if found:
                return found
    return None


_ATS_LABELS = {
    "myworkday": "Workday", "myworkdayjobs": "Workday", "greenhouse-mail": "Greenhouse", "greenhouse": "Greenhouse",
    "icims": "iCIMS", "taleo": "Taleo", "successfactors": "SuccessFactors", "smartrecruiters": "SmartRecruiters",
    "jobvite": "Jobvite", "ashbyhq": "Ashby", "avature": "Avature", "brassring": "BrassRing", "workablemail": "Workable",
}


_TABLES = {"ats": ATS_DOMAINS, "scheduler": SCHEDULER_DOMAINS, "job board": JOB_BOARD_DOMAINS}


@functools.lru_cache(maxsize=4096)
def _lookup(domain: str, table: str) -> str | None:
    # Cached: the classifier and the extractor ask about the same sender a dozen times a message.
    return _match(domain, _TABLES[table])


def ats_name(address: Address | None) -> str | None:
    """Given a sender address, return the applicant-tracking system it belongs to, or None."""
    if address is None:
        return None
    return _lookup(address.domain, "ats")


def scheduler_name(address: Address | None) -> str | None:
    """Given an address, return the scheduling tool it belongs to (Calendly, GoodTime…), or None."""
    if address is None:
        return None
    return _lookup(address.domain, "scheduler")


def job_board_name(address: Address | None) -> str | None:
    """Given an address, return the job board / network it belongs to (LinkedIn, Indeed…), or None."""
    if address is None:
        return None
    return _lookup(address.domain, "job board")


def is_hiring_mailbox(address: Address | None) -> bool:
    """True when the local part names a hiring function (careers@, talent@, recruiting@…)."""
    return address is not None and bool(_HIRING_LOCAL.match(address.local_part))


def is_freemail(address: Address | None) -> bool:
    """True when the address is at a free-mail provider (the domain says nothing of an employer)."""
    return address is not None and address.domain in FREEMAIL_DOMAINS


def is_machine(address: Address | None) -> bool:
    """True when replies to ``address`` reach no person: no-reply, ATS, scheduling tool, job board."""
    if address is None or not address.email:
        return True
    return bool(
        address.is_no_reply
        or scheduler_name(address)
        or (ats_name(address) and not _looks_personal(address))
        or job_board_name(address)
    )


def _looks_personal(address: Address) -> bool:
    # Recruiters do reply from ATS relay addresses that carry their name ("Jane Doe"
    # <jane.doe@acme.lever.co>); any other local part is the system itself.
    local = address.local_part.lower().split("+")[0]
    if not re.fullmatch(r"[a-z]+[._-][a-z]+(?:[._-][a-z]+)?", local):
        return False  # "amat@", "cvshealth@": the company's mailbox on the system
    names = [part for part in re.split(r"[^a-z]+", address.name.lower()) if len(part) >= 3]
    return bool(names) and any(part in local for part in names) and not _SYSTEM_LOCAL.search(local)


# Fragments that mark an address as a system's, wherever they sit in the local part
# ("noreplyr@", "no-replyaldi@", "cignanotifications@", "hcajobapplication@", "workday@").
_SYSTEM_LOCAL = re.compile(
    r"no.?reply|do.?not.?reply|notif|mailer|daemon|bounce|workday|taleo|icims|greenhouse|lever|jobvite|"
    r"successfactors|smartrecruiters|applicat|careers?|jobs|recruit|talent|hiring|support|system|automat|sender",
    re.IGNORECASE,
)
_PLACEHOLDER_DOMAIN = re.compile(r"\.(invalid|localhost)$", re.IGNORECASE)


def is_system_address(address: Address | None) -> bool:
    """True when the local part or domain shows a system, not a person: it contains no-reply,
    notifications, workday, careers…, or the domain is a placeholder (.invalid)."""
    if address is None or not address.email:
        return True
    return bool(_SYSTEM_LOCAL.search(address.local_part) or _PLACEHOLDER_DOMAIN.search(address.domain))


def is_role_mailbox(address: Address | None) -> bool:
    """True when the local part names a shared function (info@, support@, orders@, events@…)."""
    return address is not None and bool(_ROLE_LOCAL.match(address.local_part))


def is_room_like(name: str) -> bool:
    """True when a calendar attendee's name reads like a room or resource, not a person."""
    return bool(name) and bool(_ROOM_NAME.search(name))


#: Scheduling tools used only for hiring: mail from them is about an interview by itself.
#: (Calendly, Doodle, Google Calendar and friends also book dentists and book clubs.)
RECRUITING_SCHEDULERS = frozenset({"GoodTime", "ModernLoop", "Prelude", "Yello", "HireVue", "Spark Hire", "Willo"})


def is_recruiting_sender(address: Address | None) -> bool:
    """True when the sender is an ATS, a hiring-only scheduling tool, or a hiring mailbox (careers@…)."""
    return bool(
        ats_name(address)
        or scheduler_name(address) in RECRUITING_SCHEDULERS
        or is_hiring_mailbox(address)
    )
