"""The classifier's shortcuts find what its patterns as written find.

- ``_Text`` runs each IGNORECASE phrase pattern as its lower-case twin over the text lower-cased
  once; checked character by character over all of Unicode, then on whole texts.
- ``_alternation`` lets the parts of a phrase table that start with ``\\b`` share one; checked
  against the tables written out part by part.
- ``_VOCABULARY`` (``_by_first_letter``) asks "any job word?" in one search; checked against
  ``_JOB_WORDS`` / ``_STRONG_INTERVIEW``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core import classify as C
from followup.core.parse import parse_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mail"

RULES = (*C.CANCEL_RULES, *C.REJECTION_RULES, *C.SCHEDULED_RULES, *C.INVITATION_RULES, *C.POSITIVE_RULES,
         *C.ACK_RULES, *C._STATUS_RULES)
# Every pattern the classifier and the extractor search through _Text.
TEXT_PATTERNS = tuple(r.pattern for r in RULES) + (
    C._VOCABULARY, C._JOB_WORDS, C._STRONG_INTERVIEW, C._NON_JOB, C._COLD_OUTREACH, C._OWN_APPLICATION,
    C.TIMELINE_PROMISE,
)


def _all_characters() -> str:
    return "".join(chr(i) for i in range(sys.maxunicode + 1) if not 0xD800 <= i <= 0xDFFF)


@pytest.fixture(scope="module")
def unicode_pair() -> tuple[str, str]:
    """Every character but the hazards, and the same lower-cased (one character each)."""
    text = "".join(c for c in _all_characters() if c not in C._CASE_HAZARDS)
    return text, text.lower()


def test_lower_casing_moves_no_position_except_at_the_hazards():
    assert {c for c in _all_characters() if len(c.lower()) != 1} <= set(C._CASE_HAZARDS)


def _atoms() -> list[str]:
    """The pieces the phrase patterns are made of, each as a one-character pattern: each character
    they name, each escape class, each [...] set (a negated set as the set it leaves out, its
    complement being the same check; "." as the newline it leaves out)."""
    sources = [p.pattern for p in TEXT_PATTERNS]
    sets = {m.group(0) for s in sources for m in re.finditer(r"\[(?:\\.|[^\]\\])+\]", s)}
    sets = {"[" + s[2:] if s.startswith("[^") else s for s in sets}
    escapes = {m.group(0) for s in sources for m in re.finditer(r"\\[a-zA-Z]", s)} - {r"\b", r"\B"}
    bare = {c for s in sources for c in re.sub(r"\\.|\[(?:\\.|[^\]\\])+\]", "", s)}
    return sorted(sets | escapes | {re.escape(c) for c in bare} | {r"\n", r"\w", r"\s", r"\d"})


@pytest.mark.parametrize("atom", _atoms())
def test_every_piece_matches_the_same_characters_case_folded_or_lower_cased(atom, unicode_pair):
    text, lowered = unicode_pair
    folded = [m.start() for m in re.finditer(atom, text, re.IGNORECASE)]
    twin = [m.start() for m in re.finditer(atom, lowered)]
    assert folded == twin


@pytest.mark.parametrize("pattern", TEXT_PATTERNS, ids=lambda p: p.pattern[:40])
def test_every_phrase_pattern_has_a_lower_case_twin(pattern):
    # A pattern without one (an upper-case letter crept in) would still be right, only slow.
    assert C._lower_twin(pattern) is not None


def _fixture_texts() -> list[str]:
    texts = []
    for path in sorted(FIXTURES.rglob("*.eml")):
        message = parse_message(path.read_bytes())
        texts.append(f"{message.subject}\n{message.text}")
    return texts


# Words of the phrase tables in several spellings, hazards and odd spaces between them.
WORDS = [
    "we", "We", "WE", "have", "decided", "not", "to", "move", "forward", "with", "your", "application",
    "other", "candidates", "whose", "experience", "more", "closely", "matches", "interview", "Interview",
    "INTERVIEW", "confirmed", "for", "Tuesday", "at", "10am", "please", "let", "us", "know", "availability",
    "offer", "letter", "next", "round", "received", "thank", "you", "applying", "still", "interviewing",
    "expect", "decision", "by", "Friday", "if", "should", "unfortunately", "regret", "inform", "position",
    "filled", "schedule", "calendly.com/x", "résumé", "RÉSUMÉ", "cancel", "our", "call", "\"", ".", ",", "!",
    "?", "\n", "\n\n", "- ", "reference", "check", "assessment", "hackerrank", "loan", "$1,000", "my client",
    "came", "across", "profile", "ſelected", "İnterview", "applıcation", "Kelvin\u212a", "straße", "ΣΑΣ",
]
SEPARATORS = [" ", " ", "  ", "\t", "\u00a0", "\u2009", "\x1c", "\n", "", "-"]
texts = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=60).map(
    lambda pairs: "".join(w + s for w, s in pairs))


def _assert_text_agrees(text: str) -> None:
    t = C._Text(text)
    for pattern in TEXT_PATTERNS:
        assert list(t.spans(pattern)) == [m.span() for m in pattern.finditer(text)], pattern.pattern[:60]
        found = pattern.search(text)
        assert t.search(pattern) == (found.group(0) if found else None), pattern.pattern[:60]


@settings(max_examples=200, deadline=None)
@given(texts)
def test_searching_the_lower_cased_text_finds_what_the_patterns_find(text):
    _assert_text_agrees(text)


def test_the_same_on_the_fixture_mail():
    for text in _fixture_texts():
        _assert_text_agrees(text)
        _assert_text_agrees(text.upper())


def _as_written(pattern: re.Pattern[str]) -> re.Pattern[str]:
    r"""The table as ``_rx`` would have joined it without sharing ``\b``: ``\b(?:(?:a)|(?:b))``
    back to ``(?:\ba)|(?:\bb)``."""
    out = []
    for branch in C._top_level_branches(pattern.pattern):
        inner = C._top_level_branches(branch[5:-1]) if branch.startswith(r"\b(?:") and branch.endswith(")") else []
        if inner and all(p.startswith("(?:") and p.endswith(")") for p in inner):
            out.extend(r"(?:\b" + p[3:-1] + ")" for p in inner)
        else:
            out.append(branch)
    return re.compile("|".join(out), pattern.flags)


WRITTEN = [(rule.pattern, _as_written(rule.pattern)) for rule in RULES]


def test_the_tables_do_share_a_word_boundary():
    assert all(r"\b(?:(?:" in r.pattern.pattern for r in RULES)
    assert all(shared.pattern != written.pattern for shared, written in WRITTEN)


@settings(max_examples=150, deadline=None)
@given(texts)
def test_a_shared_word_boundary_changes_no_match(text):
    for shared, written in WRITTEN:
        assert [m.span() for m in shared.finditer(text)] == [m.span() for m in written.finditer(text)]


def test_a_shared_word_boundary_changes_no_match_in_the_fixture_mail():
    for text in _fixture_texts():
        for shared, written in WRITTEN:
            assert [m.span() for m in shared.finditer(text)] == [m.span() for m in written.finditer(text)]


# Parts as phrase tables write them: with and without \b, alternations of their own, anchors.
PARTS = [r"\bnot\s+moving", r"\bno\s+longer", r"n't\s+move", r"\bmove(?:d|s)?", r"\bcalendly\.com/|\bcal\.com/|youcanbook",
         r"^\s*confirmed\s*:", r"(?:selected|chosen)\s+another", r"\b(?:a|an)\s+offer", r"offer\b", r"\ba\b",
         r"\bo", r"\b(?:x|y)|z", r"[|(]\s*\bb", r"\bb[)|]"]


PIECES = ["not moving", "no longer", "won't move", "move", "moved", "calendly.com/", "cal.com/", "youcanbook",
          "confirmed:", "\nconfirmed :", "selected another", "chosen another", "an offer", "a offer", "offer",
          "o", "x", "y", "z", "|", "(", ")", "b", " ", "\n", "xo", "a", "N'T MOVE", "Not  Moving"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PARTS), min_size=1, max_size=6),
       st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(["", " ", "\n", "x"])), max_size=20)
       .map(lambda pairs: "".join(p + g for p, g in pairs)))
def test_alternation_matches_as_the_parts_joined_plainly(parts, text):
    plain = re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE | re.MULTILINE)
    shared = re.compile(C._alternation(parts), re.IGNORECASE | re.MULTILINE)
    assert [m.span() for m in shared.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_top_level_branches_skip_groups_sets_and_escapes():
    assert C._top_level_branches(r"a|(b|c)|[|]|\||[]|]|d") == ["a", "(b|c)", "[|]", r"\|", "[]|]", "d"]
    with pytest.raises(ValueError):
        C._top_level_branches("(a|b")
    with pytest.raises(ValueError):
        C._top_level_branches("a)|(b")


def _any_job_word(text: str) -> bool:
    return bool(C._JOB_WORDS.search(text) or C._STRONG_INTERVIEW.search(text))


VOCABULARY_WORDS = [
    "applications", "applied", "applying", "candidacy", "candidate", "positions", "role", "roles", "opening",
    "vacancy", "recruiter", "recruiting", "hiring", "talent acquisition", "interview", "interviewed", "résumé",
    "resume", "cv", "requisition", "offer letter", "job offer", "offer of employment", "internship",
    "graduate scheme", "graduate programme", "assessment centre", "take-home", "takehome", "next stage",
    "final round", "third round", "phone screen", "phone screening", "tech screen", "technical screen", "onsite",
    "on-site", "on-site loop", "screening call", "recruiter call", "hiring manager", "coding exercise",
    "panel interview", "superday", "technical chat", "portfolio review",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY_WORDS + ["x", "é", "_", "3", "İ", "ſ", "ı", "-", "the", "career"])
                | st.text(max_size=3), max_size=8),
       st.lists(st.sampled_from(["", " ", "\n", "\u00a0", "\x1c", "x", "é", "-"]), min_size=9, max_size=9),
       st.sampled_from([str, str.upper, str.title]))
def test_the_vocabulary_in_one_search_is_the_two_patterns(words, gaps, case):
    text = case("".join(g + w for g, w in zip(gaps, words)) + gaps[-1])
    assert bool(C._VOCABULARY.search(text)) is _any_job_word(text)
    assert (C._Text(text).search(C._VOCABULARY) is not None) is _any_job_word(text)


def test_the_vocabulary_in_one_search_on_the_fixture_mail():
    for text in _fixture_texts():
        for line in text.split("\n"):
            assert bool(C._VOCABULARY.search(line)) is _any_job_word(line)
