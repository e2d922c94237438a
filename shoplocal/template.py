"""Load template.yaml and transform it offline with samtranslator (no AWS, no Docker).

Local paths (CodeUri, ContentUri, DefinitionUri) are what `sam package` would upload; here they are
remembered, rewritten to placeholder S3 locations for the transform, and state machine definitions are
inlined (DefinitionSubstitutions are kept and become Fn::Sub in the transformed template). The transform's
output is kept in .local/transform-cache/ under a hash of all its inputs (every test process started the same
transform: ~1.5 s CPU plus ~0.4 s of samtranslator imports each).
"""

from __future__ import annotations

import copy
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from samcli.yamlhelper import _dict_constructor, intrinsics_multi_constructor

CODE_BUCKET = "shop-local-code"


@dataclass
class LoadedTemplate:
    path: Path
    original: dict[str, Any]
    transformed: dict[str, Any]
    code_dirs: dict[str, Path] = field(default_factory=dict)  # function / layer logical id -> local dir

    @property
    def root(self) -> Path:
        return self.path.parent


_parsed: dict[str, Any] = {}  # template text -> its parse (a stack start reads template.yaml three times)


class _TemplateLoader(yaml.CSafeLoader):
    """What samcli's yaml_parse builds (short-form intrinsics such as !Ref, timestamps kept as strings, ordered
    mappings) on libyaml's C parser: five times faster than the pure-Python SafeLoader samcli uses, and a stack
    start (a test worker, the fuzz run, each `shoplocal` command) parses the template once."""


_TemplateLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.constructor.SafeConstructor.construct_yaml_str)
_TemplateLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _dict_constructor)
_TemplateLoader.add_multi_constructor("!", intrinsics_multi_constructor)


def yaml_parse(text: str) -> Any:
    return yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a safe loader (CSafeLoader) with CFN tags


def load_yaml(path: Path) -> dict[str, Any]:
    """The template as data (a copy of its own: callers change it). Parsed once per distinct text."""
    text = path.read_text()
    data = _parsed.get(text)
    if data is None:
        data = yaml_parse(text)
        if not isinstance(data, dict) or "Resources" not in data:
            raise ValueError(f"{path} is not a CloudFormation/SAM template")
        _parsed[text] = data
    return copy.deepcopy(data)


def _transform(template: dict[str, Any], parameters: dict[str, str], region: str) -> dict[str, Any]:
    """samtranslator's transform (shoplocal.sam_transform: imported only when the kept output can't be used,
    its imports cost ~0.8 s)."""
    from shoplocal.sam_transform import transform

    return transform(template, parameters, region)


CACHE_DIR = ".local/transform-cache"  # (gitignored; `make clean` removes .local)


def _transform_key(template: dict[str, Any], parameters: dict[str, str], region: str) -> str | None:
    """What the transform's output depends on: the prepared template (state machine definitions inlined),
    the parameters, the region, samtranslator's version and shoplocal.sam_transform's code (its hooks into
    samtranslator). None when the template does not serialize exactly (then nothing is cached)."""
    import hashlib
    from importlib.metadata import version

    try:
        text = json.dumps([template, parameters, region], sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return None
    digest = hashlib.sha256(text.encode())
    digest.update(version("aws-sam-translator").encode())
    digest.update(Path(__file__).with_name("sam_transform.py").read_bytes())
    return digest.hexdigest()


def _cached_transform(cache_dir: Path, template: dict[str, Any], parameters: dict[str, str],
                      region: str) -> dict[str, Any]:
    """``_transform``, its output kept on disk under a key of all its inputs: every test process and `make run`
    transformed the same template again (~1.5 s of CPU each). Written to a temporary file then renamed, so two
    processes starting at once each read a whole file or none; an unreadable or unparsable file is transformed
    again. Only an output that survives a JSON round trip unchanged is kept."""
    key = _transform_key(template, parameters, region)
    target = cache_dir / f"{key}.json" if key else None
    if target is not None:
        try:
            return dict(json.loads(target.read_text()))
        except (OSError, ValueError):
            pass
    out = _transform(template, parameters, region)
    if target is not None:
        try:
            text = json.dumps(out, allow_nan=False)
            if json.loads(text) == out:
                cache_dir.mkdir(parents=True, exist_ok=True)
                temp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                temp.write_text(text)
                os.replace(temp, target)
        except (OSError, TypeError, ValueError):
            pass
    return out


def load_template(
    path: str | Path, parameters: dict[str, str] | None = None, region: str = "us-east-1",
    refs_only: tuple[str, ...] = (),
) -> LoadedTemplate:
    """``refs_only``: parameters the template only references where samtranslator leaves the Ref as it is (their
    value reaches the deployment, not the transform): transformed with an empty value, so that one kept output
    serves every value (the local Stripe's URL has a new port in every process). tests/shoplocal/
    test_template_parse.py checks that such a parameter's value changes nothing in the output."""
    parameters = {**(parameters or {}), **dict.fromkeys(refs_only, "")}
    path = Path(path).resolve()
    original = load_yaml(path)
    prepared = copy.deepcopy(original)
    code_dirs: dict[str, Path] = {}
    for logical_id, res in prepared["Resources"].items():
        props = res.get("Properties") or {}
        kind = res.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            code_dirs[logical_id] = (path.parent / props["CodeUri"]).resolve()
            props["CodeUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            code_dirs[logical_id] = (path.parent / props["ContentUri"]).resolve()
            props["ContentUri"] = f"s3://{CODE_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            definition_path = path.parent / props.pop("DefinitionUri")
            props["Definition"] = json.loads(definition_path.read_text())
    transformed = _cached_transform(path.parent / CACHE_DIR, prepared, parameters, region)
    return LoadedTemplate(path=path, original=original, transformed=transformed, code_dirs=code_dirs)
