"""The local runtime parses template.yaml with libyaml (shoplocal.template.yaml_parse) instead of samcli's
pure-Python loader: the result must be what samcli reads, intrinsics and all."""

from __future__ import annotations

from pathlib import Path

import pytest
from samcli.yamlhelper import yaml_parse as samcli_yaml_parse

from shoplocal.template import yaml_parse

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_the_template_parses_as_samcli_parses_it():
    text = (ROOT / "template.yaml").read_text()
    assert yaml_parse(text) == samcli_yaml_parse(text)


def test_short_form_intrinsics_and_timestamps_read_as_samcli_reads_them():
    text = "A: !Sub '${X}-y'\nB: !GetAtt R.Arn\nC: 2026-12-01\nD: !If [c, !Ref p, !Ref 'AWS::NoValue']\n"
    ours = yaml_parse(text)
    assert ours == samcli_yaml_parse(text)
    assert ours == {"A": {"Fn::Sub": "${X}-y"}, "B": {"Fn::GetAtt": ["R", "Arn"]}, "C": "2026-12-01",
                    "D": {"Fn::If": ["c", {"Ref": "p"}, {"Ref": "AWS::NoValue"}]}}


def test_the_transform_kept_on_disk_is_the_transform(tmp_path, monkeypatch):
    """shoplocal.template keeps samtranslator's output per key of its inputs: a second load reads the file and
    gets what transforming gives; other parameters are another entry; a damaged entry is transformed again."""
    import copy

    from shoplocal import template

    calls: list[dict[str, str]] = []
    real = template._transform

    def counting(doc, parameters, region):
        calls.append(dict(parameters))
        return real(doc, parameters, region)

    monkeypatch.setattr(template, "_transform", counting)
    monkeypatch.setattr(template, "CACHE_DIR", str(tmp_path / "cache"))
    params = {"PaymentAuthTimeoutSeconds": "6"}
    first = template.load_template(ROOT / "template.yaml", params)
    assert len(calls) == 1
    entries = list((tmp_path / "cache").glob("*.json"))
    assert len(entries) == 1
    second = template.load_template(ROOT / "template.yaml", params)
    assert len(calls) == 1  # read from disk
    assert second.transformed == first.transformed
    assert second.code_dirs == first.code_dirs and second.original == first.original
    again = copy.deepcopy(first.transformed)
    assert real(copy.deepcopy(_prepared(template)), params, "us-east-1") == again  # the file is the transform

    template.load_template(ROOT / "template.yaml", {"PaymentAuthTimeoutSeconds": "7"})
    assert len(calls) == 2 and len(list((tmp_path / "cache").glob("*.json"))) == 2
    entries[0].write_text('{"Resources": ')  # cut short
    assert template.load_template(ROOT / "template.yaml", params).transformed == first.transformed
    assert len(calls) == 3
    assert not list((tmp_path / "cache").glob(".*.tmp"))


def _prepared(template):
    """template.yaml as load_template hands it to the transform (local paths rewritten, definitions inlined)."""
    import json

    path = ROOT / "template.yaml"
    doc = template.load_yaml(path)
    for logical_id, res in doc["Resources"].items():
        props = res.get("Properties") or {}
        kind = res.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = f"s3://{template.CODE_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(props.get("ContentUri"), str):
            props["ContentUri"] = f"s3://{template.CODE_BUCKET}/{logical_id}.zip"
        elif kind == "AWS::Serverless::StateMachine" and isinstance(props.get("DefinitionUri"), str):
            props["Definition"] = json.loads((path.parent / props.pop("DefinitionUri")).read_text())
    return doc


def test_the_parameters_transformed_empty_change_nothing_in_the_transform():
    """shoplocal.stack.REFS_ONLY are transformed with an empty value (one kept output for every local Stripe
    port): samtranslator must leave their Refs alone, so their value changes nothing in its output."""
    from shoplocal import template
    from shoplocal.stack import REFS_ONLY

    base = {"Stage": "local", "AutoConfirmSignups": "true", "PaymentAuthTimeoutSeconds": "6"}
    outputs = [template._transform(_prepared(template), {**base, **dict.fromkeys(REFS_ONLY, value)}, "us-east-1")
               for value in ("", "http://127.0.0.1:41234")]
    assert outputs[0] == outputs[1]
