"""The employer's name spelled by its domain (``_brand``) is found as by its plain reading: the
shortcuts (a line read before is not read again; a run of words none of which starts with the
domain's first letter is not spelled out) change no answer."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core.extract import (
    _DEPARTMENT_WORD,
    _HIRING_AFFIX,
    _NAME_STOP,
    _ROLE_WORD,
    _brand,
    _capital_runs,
    _spell,
    _spell_from,
)


def _reference_spell(letters: str, run: list[str]) -> tuple[int, int] | None:
    lowered = ["and" if w in ("&", "+") else "".join(c for c in w.lower() if c.isalnum()) for w in run]
    for start in range(len(run)):
        if not lowered[start] or lowered[start] in ("and", "of") or not lowered[start][0] == letters[0]:
            continue
        stop = _spell_from(letters, lowered, start, 0, initials=0)
        if stop is not None:
            return start, stop
    return None


def _reference_brand(core: str, text: str) -> str | None:
    letters = "".join(c for c in core.lower() if c.isalnum())
    letters = _HIRING_AFFIX.sub("", letters) or letters
    if len(letters) < 3:
        return None
    best: tuple[int, int, str] | None = None
    for line_no, line in enumerate(text.split("\n")):
        if letters[0] not in line.lower():
            continue
        for run in _capital_runs(line):
            found = _reference_spell(letters, run)
            if found is None:
                continue
            start, stop = found
            words = run[start:stop]
            if not any(w[0].isupper() for w in words):
                continue
            rest = run[stop:]
            if any(w[:1].isdigit() for w in run[:start]):
                rest = []
            extension: list[str] = []
            for word in rest[:3]:
                if _NAME_STOP.match(word) or _ROLE_WORD.search(word) or _DEPARTMENT_WORD.search(word) \
                        or not re.fullmatch(r"[A-Z][a-z]+", word):
                    break
                extension.append(word)
            if len(extension) < len(rest) and extension:
                extension = []
            name = " ".join(words + extension)
            score = (len(words) + len(extension), -line_no)
            if best is None or score > best[:2]:
                best = (score[0], score[1], name)
    return best[2] if best else None


CORES = ["harborpine", "tfcu", "acmelabs", "acme-labs", "uline", "hcacareers", "fernhillcu", "ab", "pine", "3m",
         "cobaltridge", "talent-acme"]
WORDS = ["Harbor", "harbor", "Pine", "&", "and", "of", "+", "Health", "Tidewater", "Federal", "Credit", "Union",
         "Acme", "ACME", "Labs", "labs", "12575", "Uline", "Drive", "Team", "Product", "the", "Fernhill", "C", "U",
         "Cobalt", "Ridge", "Software", "Inc.", "3M", "Talent", "at", "Interview", "hello", "Pine's", "A.B."]
lines = st.lists(st.sampled_from(WORDS), max_size=7).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CORES), st.lists(lines, max_size=6), st.lists(st.integers(0, 5), max_size=6))
def test_the_brand_is_found_as_by_its_plain_reading(core, text_lines, repeats):
    # lines repeated further down, as the body is (quoted and unquoted) in the text searched
    text_lines = text_lines + [text_lines[i] for i in repeats if i < len(text_lines)]
    text = "\n".join(text_lines)
    assert _brand(core, text) == _reference_brand(core, text)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CORES), lines)
def test_spelling_a_run_is_as_by_its_plain_reading(core, line):
    letters = "".join(c for c in core.lower() if c.isalnum())
    for run in _capital_runs(line):
        assert _spell(letters, run) == _reference_spell(letters, run)


def test_the_brand_examples():
    assert _brand("harborpine", "Hi\nHarbor & Pine Health\nHarbor & Pine") == "Harbor & Pine Health"
    assert _brand("tfcu", "Tidewater Federal Credit Union") == "Tidewater Federal Credit Union"
    assert _brand("tfcu", "nothing here\nnothing here") is None
