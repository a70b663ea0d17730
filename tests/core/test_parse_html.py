"""``html_to_text`` reads HTML without building BeautifulSoup's tree and gives exactly what the
tree gave: over every HTML part of the corpus and the fixtures, over generated tag soup, and
through BeautifulSoup itself when its own reader fails."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from corpus import CORPUS
from hypothesis import given, settings
from hypothesis import strategies as st

from followup.core import parse
from followup.core.parse import MAX_TEXT_CHARS, html_to_text, parse_message

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE = Path(parse.__file__).resolve().parents[1] / "sample"


def soup_text(html: str) -> str:
    """What html_to_text gave when it built BeautifulSoup's tree (its code before the fast reader)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4's hints (XML parsed as HTML, markup that looks like a URL)
        soup = BeautifulSoup(html[: MAX_TEXT_CHARS * 4], "html.parser")
    for tag in soup(["script", "style", "head", "title"]):
        tag.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    lines = (" ".join(line.split()) for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _html_parts() -> list[tuple[str, str]]:
    roots = [FIXTURES, SAMPLE] + ([CORPUS] if CORPUS is not None else [])
    parts = {}
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and p.suffix not in (".csv", ".md", ".yaml")):
            html = parse_message(path.read_bytes()).html
            if html:
                parts.setdefault(html, path.name)
    return [(name, html) for html, name in parts.items()]


def test_html_to_text_gives_what_beautifulsoup_gave_for_every_html_part_of_the_fixtures_and_corpus():
    parts = _html_parts()
    differing = [name for name, html in parts if html_to_text(html) != soup_text(html)]
    assert len(parts) >= 5
    assert differing == []


@pytest.mark.parametrize("html, expected", [
    ("<p>We would <b>love</b> to</p><p>Best,<br>Ann</p>", "We would\nlove\nto\nBest,\nAnn"),
    ("<html><head><style>p{}</style><title>T</title></head><body><script>x()</script>Hi</body></html>", "Hi"),
    ("<head><title>t</title><p>an unclosed head holds the rest", ""),
    ("a<template>t<b>u</b></template>b<ruby>漢<rp>(</rp><rt>kan</rt><rp>)</rp></ruby>", "a\nb\n漢"),
    ("a</span>b<br>c</br>d", "a\nb\ncd"),
    ("<![CDATA[kept]]><!-- gone --><?pi gone?>x&amp;y&#150;z&nbsp;w &copy2026", "kept\nx&y\u2013z w &copy2026"),
    ("<iframe><b>in</b></iframe><noscript>ns</noscript>", "in\nns"),
    ("<pre>  keep\n\n  lines  </pre><textarea> t </textarea>", "keep\nlines\nt"),
    ("", ""),
])
def test_html_to_text_puts_each_run_of_text_on_a_line_as_beautifulsoup_did(html, expected):
    assert html_to_text(html) == expected == soup_text(html)


_NAMES = ["script", "style", "head", "title", "template", "rt", "rp", "br", "img", "p", "div", "b", "pre",
          "textarea", "iframe", "html", "body", "table", "td", "a", "hr", "o:p", "SCRIPT", "Title"]
_TOKENS = st.one_of(
    st.builds(lambda n, a: f"<{n}{a}>", st.sampled_from(_NAMES),
              st.sampled_from(["", " a=1", ' b="x>y"', " c", " /", ' style="a:b" /'])),
    st.builds(lambda n, a: f"</{n}{a}>", st.sampled_from(_NAMES), st.sampled_from(["", " ", " x"])),
    st.builds(lambda n: f"<{n}/>", st.sampled_from(_NAMES)),
    st.sampled_from(["hello", "interview", "  ", "\n", "\r\n", "\t", "x\xa0y", "\u2028", "\x0c", "\x00", "é",
                     "&amp;", "&nbsp", "&#150;", "&#x;", "&#99999999;", "&foo;", "&#0;", "&copy2026", "&", "&#",
                     "<!-- c -->", "<!-->", "<!--x", "<!DOCTYPE html>", "<![CDATA[c<b>x]]>", "<![if !mso]>",
                     "<![endif]>", "<?xml version='1.0'?>", "<!x>", "<![foo[ x ]]>", "<", "</", ">", "<a", "</>",
                     "<1>", "</script", "</style >", "<a b='"]),
    st.text(max_size=5),
)


def _outcome(read, html: str) -> str | tuple[str, str]:
    try:
        return read(html)
    except Exception as exc:  # noqa: BLE001 - markup html.parser rejects must fail the same way
        return ("raised", type(exc).__name__)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TOKENS, max_size=40))
def test_html_to_text_agrees_with_beautifulsoup_on_generated_tag_soup(tokens):
    html = "".join(tokens)
    assert _outcome(html_to_text, html) == _outcome(soup_text, html)


def test_when_the_fast_reader_fails_beautifulsoup_reads_the_html(monkeypatch):
    class Broken:
        def strings(self, html):
            raise RuntimeError("fast reader broken")

    html = "<html><head><title>x</title></head><body><p>Interview <b>on Monday</b></p></body></html>"
    monkeypatch.setattr(parse, "_html_text_reader", lambda: Broken)
    assert html_to_text(html) == "Interview\non Monday"


def test_html_that_html_parser_rejects_leaves_the_body_unread_as_before():
    message = parse_message(b"Content-Type: text/html\r\n\r\n<p>hi</p><![foo[ x ]]>")
    assert "body unreadable: ParserRejectedMarkup" in message.defects
    assert message.text == "" and message.html == ""
