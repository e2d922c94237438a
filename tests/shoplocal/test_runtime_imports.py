"""A stack start does not load moto.ec2 for the Step Functions interpreter's Batch enum (shoplocal.patches.
_batch_package_bare), and moto.batch still imports whole afterwards. In a fresh interpreter: a test worker has
usually imported more by the time it gets here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from shoplocal import patches
patches.apply()
from moto.stepfunctions.parser.asl.parse import asl_parser
assert asl_parser.AmazonStateLanguageParser.parse('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')
assert "moto.ec2" not in sys.modules, "the ASL interpreter loaded moto.ec2"
assert "moto.batch" not in sys.modules, "the bare moto.batch stayed behind"
import moto.batch
from moto.batch.utils import JobStatus
assert moto.batch.batch_backends is not None and moto.batch.utils.JobStatus is JobStatus and "moto.ec2" in sys.modules
print("ok")
"""


def test_the_step_functions_interpreter_loads_without_moto_ec2_and_moto_batch_still_imports():
    done = subprocess.run([sys.executable, "-c", PROBE], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


SSM_PROBE = """
import sys
from shoplocal import patches
patches.apply()
from moto.ssm.models import ssm_backends
ssm = ssm_backends["123456789012"]["us-east-1"]
ssm.put_parameter(name="/shop/probe", description="", value="v", parameter_type="String", allowed_pattern=None,
                  keyid=None, overwrite=False, tags=[], data_type="text", tier=None, policies=None)
assert ssm.get_parameter("/shop/probe").value == "v"
assert "moto.ec2" not in sys.modules, "moto.ssm loaded moto.ec2"
from moto.ssm import models
ec2 = models.ec2_backends["123456789012"]["us-east-1"]  # a maintenance window's targets: the real EC2 backend
import moto.ec2
assert type(ec2).__name__ == "EC2Backend" and moto.ec2.ec2_backends["123456789012"]["us-east-1"] is ec2
assert type(sys.modules["moto.ec2"].ec2_backends).__name__ == "BackendDict"
print("ok")
"""


def test_moto_ssm_loads_without_moto_ec2_and_reaches_the_real_one_when_used():
    """shoplocal.patches._patch_ssm_import: parameters work with moto.ec2 not loaded; the one use of EC2 in
    moto.ssm gets the real backend, and moto.ec2 is the real package afterwards."""
    done = subprocess.run([sys.executable, "-c", SSM_PROBE], check=False, cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
