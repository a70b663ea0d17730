"""Keys for threading and grouping: subjects, companies, roles, employer domains."""

from __future__ import annotations

import pytest

from followup.core.threads import employer_domain, same_application, subject_key


@pytest.mark.parametrize("subject, key", [
    ("RE: Fwd: [jobs] Interview  next week", "interview next week"),
    ("AW: WG: Ihr Vorstellungsgespräch", "ihr vorstellungsgespräch"),
    ("Re[2]: Offer", "offer"),
    ("Interview", "interview"),
])
def test_subject_keys_drop_reply_prefixes_and_list_tags(subject, key):
    assert subject_key(subject) == key


@pytest.mark.parametrize("a, b, same", [
    (("Acme, Inc.", "Data Engineer"), ("ACME", None), True),
    (("Lumen Freight", None), ("Lumenfreight", "Senior Data Analyst"), True),
    (("Harbor & Pine", "Analytics Engineer"), ("Harbor & Pine Health", "Analytics Engineer"), True),
    (("Acme", "Data Engineer"), ("Acme", "Product Manager"), False),
    (("Acme", None), ("Globex", None), False),
    (("Ace", None), ("Acme", None), False),
    ((None, "Data Engineer"), ("Acme", "Data Engineer"), False),
    (("Acme", "Sr. Data Engineer"), ("Acme", "Senior Data Engineer"), True),
])
def test_two_company_and_role_pairs_name_the_same_application(a, b, same):
    assert same_application(*a, *b) is same


@pytest.mark.parametrize("email, domain", [
    ("katrin@mx.nordlicht-mobility.example", "nordlicht-mobility.example"),
    ("hr@acme.co.uk", "acme.co.uk"),
    ("someone@gmail.com", ""),
    ("no-reply@greenhouse.io", ""),
    (None, ""),
])
def test_employer_domains_ignore_free_mail_and_hiring_tools(email, domain):
    assert employer_domain(email) == domain
