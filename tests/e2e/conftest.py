"""What the browser tests share: Debian's Chromium driven by Playwright (/work/shared/notes/browser-tests.md:
never `playwright install`; `--no-sandbox` because the tests run as root), one browser per test module, and the
git-ignored folder their screenshots go to for a reviewer."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

SHOTS = Path(__file__).resolve().parents[2] / ".local" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed (make test installs it: scripts/bootstrap.sh)"
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()
