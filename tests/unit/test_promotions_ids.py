"""A sale's id is a shop slug: shop.promotions.models.SaleId is declared apart from shop.models.Slug (the
promotions function does not define the shop's entities at its cold start; issue 17), with the same rule."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError
from shop.models import Slug
from shop.promotions.models import SaleId

pytestmark = pytest.mark.unit


def test_a_sale_id_is_validated_as_a_slug() -> None:
    assert SaleId.__metadata__ == Slug.__metadata__
    assert TypeAdapter(SaleId).json_schema() == TypeAdapter(Slug).json_schema()
    for good in ("summer-sale", "a", "x" * 64):
        assert TypeAdapter(SaleId).validate_python(good) == TypeAdapter(Slug).validate_python(good)
    for bad in ("Summer", "-sale", "x" * 65, ""):
        with pytest.raises(ValidationError):
            TypeAdapter(SaleId).validate_python(bad)


def test_the_promotions_function_defines_no_entity() -> None:
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", "import sys, app; print('shop.models' in sys.modules)"],
                          env={"PATH": "/usr/bin:/bin",
                               "PYTHONPATH": f"{root / 'functions' / 'promotions'}:{root / 'layers' / 'shop'}"},
                          capture_output=True, text=True, timeout=120, check=True, cwd=root)
    assert done.stdout.strip().splitlines()[-1] == "False"
