"""The report tests' browser: Playwright driving the system Chromium (Debian package ``chromium``; Playwright's
own browser download is never used, so the tests need no network).

``browser`` (one per module) and ``page`` (a fresh page per test) are pytest fixtures; ``page.errors`` collects
the console errors and uncaught exceptions of everything the page loads.
"""

from __future__ import annotations

import shutil

import pytest
from playwright.sync_api import sync_playwright

# what a page shows: every <img> with whether it loaded, as [src, loaded] pairs
IMAGES_SHOWN = "imgs => imgs.map(i => [i.getAttribute('src'), i.complete && i.naturalWidth > 0])"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise RuntimeError("Chromium is not installed (Debian package 'chromium'; `make test` installs it as root)")


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("console", lambda m: page.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()
