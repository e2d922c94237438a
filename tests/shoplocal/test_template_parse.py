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
