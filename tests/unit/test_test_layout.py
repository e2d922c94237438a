"""The test folders have no __init__.py (pytest's rootdir-relative imports), so two test files with the same
basename in different folders clash at collection ("import file mismatch") and stop the whole run: each name is
used once."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

TESTS = Path(__file__).resolve().parents[1]


def test_every_test_file_name_is_used_once() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    assert names, "no test files found"
    clashes = sorted(n for n, count in names.items() if count > 1)
    assert not clashes, f"test files sharing a name across folders (rename one, e.g. *_rules.py): {clashes}"
