"""The digest's HTML opened in a real browser (Debian's headless ``chromium``): a PNG screenshot
under the test's temp dir, the section headings in the rendered DOM, the stage colours on
screen, and no script anywhere.

Without chromium the test is skipped, or failed when ``CI=true`` (like tests/dovecot.py).
``$FOLLOWUP_CHROMIUM`` names another binary; ``$FOLLOWUP_SCREENSHOT_DIR`` keeps a copy of the PNG.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from digest_support import MORNING, enrich, pipeline

from followup.core.digest import STAGE_COLOURS
from followup.digest_job import render_digest

HEADINGS = ("Drafts to review and send", "Needs your attention", "Please confirm", "Since the last digest",
            "Due in the next 7 days", "Waiting to hear back", "Closed: no response", "All applications")
WIDTH, HEIGHT = 1000, 1600


def find_chromium() -> str | None:
    override = os.environ.get("FOLLOWUP_CHROMIUM")
    if override is not None:
        return override if os.access(override, os.X_OK) else None
    return next(filter(None, map(shutil.which, ("chromium", "chromium-browser"))), None)


@pytest.fixture(scope="module")
def chromium() -> str:
    binary = find_chromium()
    if binary is None:
        reason = "chromium is not installed (Debian: apt-get install chromium; `make test` does it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{reason}; CI=true requires the browser rendering test to run", pytrace=False)
        pytest.skip(reason)
    return binary


def headless(binary: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed argv
        [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *args],
        capture_output=True, text=True, timeout=120, check=False)


def png_pixels(data: bytes) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours of an 8-bit, non-interlaced RGB(A) PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    previous, colours, at = bytearray(stride), set(), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + b) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 0xFF
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        colours.update(tuple(line[i:i + 3]) for i in range(0, stride, bpp))
        previous = line
    return width, height, colours


def test_the_digest_renders_in_headless_chromium(tmp_path, chromium):
    world = pipeline(tmp_path / "world")
    enrich(world)
    subject, _, html = render_digest(world.config, world.store, MORNING)
    world.store.close()
    page = tmp_path / "digest.html"
    page.write_text(html, encoding="utf-8")
    url = page.as_uri()

    shot = tmp_path / "digest.png"
    done = headless(chromium, tmp_path, f"--screenshot={shot}", f"--window-size={WIDTH},{HEIGHT}", url)
    assert shot.is_file(), f"no screenshot: {done.stderr[-2000:]}"
    if os.environ.get("FOLLOWUP_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["FOLLOWUP_SCREENSHOT_DIR"]) / "digest.png")
    data = shot.read_bytes()
    assert len(data) > 30_000  # a blank page compresses to a few kB
    width, height, colours = png_pixels(data)
    assert (width, height) == (WIDTH, HEIGHT)
    assert len(colours) > 200  # text, chips, strips: far from a blank page
    for stage in ("waiting", "interviewed", "rejected"):  # chips and strip cells on screen
        bg = STAGE_COLOURS[stage][0]
        assert tuple(int(bg[i:i + 2], 16) for i in (1, 3, 5)) in colours, stage

    dom = headless(chromium, tmp_path, "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert f"<title>{subject}</title>" in dom.stdout
    for heading in HEADINGS:
        assert f">{heading} <span" in dom.stdout, heading
    assert "<script" not in dom.stdout.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout  # shown as text, never run
