"""``new_words``: only the sender's own words are read (quoted history, signatures, footers cut)."""

from __future__ import annotations

import pytest

from followup.core.classify import new_words

CASES = [
    (
        "Sounds great, see you then!\n\nOn Tue, Mar 3, 2026 at 9:14 AM Jane Doe <jane@x.com> wrote:\n"
        "> We will not be moving forward.\n",
        "Sounds great, see you then!",
    ),
    (
        "Thanks Dana.\n\nOn Tue, Mar 3, 2026 at 9:14 AM Jane Doe <\njane@x.com> wrote:\n> old text\n",
        "Thanks Dana.",
    ),
    (
        "Here you go.\n\n-----Original Message-----\nFrom: HR\nSent: Monday\nSubject: old\n\nold body",
        "Here you go.",
    ),
    (
        "FYI below.\n\n---------- Forwarded message ---------\nFrom: Acme <no-reply@acme.com>\nrejection text",
        "FYI below.",
    ),
    (
        "Please see my note.\n\nFrom: Ravi Iyer <ravi@x.com>\nSent: Monday, March 2, 2026 9:00 AM\nTo: Dana\n\nolder",
        "Please see my note.",
    ),
    (
        "We'd like to invite you to an interview next week for the role.\n\nBest regards,\nJane Doe\n"
        "Senior Recruiter | Acme\n+1 555 0100",
        "We'd like to invite you to an interview next week for the role.",
    ),
    (
        "Quick update on the role: we are still interviewing.\n-- \nJane\nAcme Corp",
        "Quick update on the role: we are still interviewing.",
    ),
    (
        "Thanks for applying to Acme.\nWe will review your application.\nTo unsubscribe from these emails, click here.\n"
        "© 2026 Acme Inc. All rights reserved.",
        "Thanks for applying to Acme.\nWe will review your application.",
    ),
    (
        "Le mar. 3 mars 2026 à 09:14, Jeanne <j@x.fr> a écrit :\n> texte",
        "",
    ),
    ("Thanks!\nI'll send it tomorrow.\n\nSent from my iPhone", "Thanks!\nI'll send it tomorrow."),
    ("", ""),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[c[1][:30] or "empty" for c in CASES])
def test_new_words_keep_only_what_the_sender_wrote_now(text, expected):
    assert new_words(text) == expected


def test_a_message_flattened_onto_one_line_keeps_its_words_before_a_late_footer():
    line = ("Dear Conor, thank you for applying. We have decided to move forward with other candidates. " * 4
            + "AT&T is an Equal Opportunity Employer.")
    assert "move forward with other candidates" in new_words(line)
    assert "Equal Opportunity" not in new_words(line)


def test_a_greeting_that_looks_like_a_sign_off_does_not_cut_the_message():
    text = "Thanks!\n\nWe received your application for the Analyst role and will review it shortly."
    assert "received your application" in new_words(text)
