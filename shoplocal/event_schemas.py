"""The JSON Schemas of the domain events' details (shop.event_contracts), as committed in docs/events/
(`python -m shoplocal events-schemas` writes them; tests/unit/test_event_contracts.py checks they are current)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIRECTORY = ROOT / "docs" / "events"


def schemas() -> dict[str, dict[str, Any]]:
    """File name (<DetailType>.v<N>.json) -> schema, for the current version of every detail type."""
    layer = str(ROOT / "layers" / "shop")
    if layer not in sys.path:  # `python -m shoplocal` from the repository root, without the test path
        sys.path.append(layer)
    from shop.event_contracts import json_schemas

    return json_schemas()


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write(directory: Path = DIRECTORY) -> list[Path]:
    """Write the current version's schema of every detail type. Files of earlier versions stay: the contract
    tests keep feeding their examples to the consumers while they are committed."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in schemas().items():
        path = directory / name
        path.write_text(render(schema))
        written.append(path)
    return written
