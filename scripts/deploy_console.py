"""`make deploy-console`: put the staff console (console/) on the stack's CloudFront distribution.

Reads the stack's outputs (ApiUrl, ConsoleBucket, ConsoleUrl, ConsoleDistributionId) and its AllowedOrigins
parameter, refuses to go on while the console's origin is not among the allowed origins (the console could sign
in but read no answer: CORS), then `aws s3 sync console/ --delete`, writes config.json (the API's URL) beside
index.html and invalidates the distribution's cache. docs/deploy.md, "Staff console".
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
CONSOLE = ROOT / "console"
NOT_UPLOADED = ("README.md", "config.json")  # config.json is written from the stack, never taken from the folder


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def console_config(outputs: dict[str, str]) -> dict[str, str]:
    """config.json: where the console finds the API (the stage's URL, no trailing slash)."""
    return {"api_base": outputs["ApiUrl"].rstrip("/")}


def missing_origin(outputs: dict[str, str], allowed_origins: str) -> str | None:
    """The console's origin when AllowedOrigins lacks it (and is not "*"); None when the API lets it read."""
    allowed = {o.strip().rstrip("/") for o in allowed_origins.split(",") if o.strip()}
    wanted = origin_of(outputs["ConsoleUrl"])
    return None if "*" in allowed or wanted in allowed else wanted


def stack_facts(stack_name: str, region: str) -> tuple[dict[str, str], dict[str, str]]:
    import boto3

    stack = boto3.client("cloudformation", region_name=region).describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    parameters = {p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters", [])}
    return outputs, parameters


def deploy(stack_name: str, region: str) -> int:
    import boto3

    outputs, parameters = stack_facts(stack_name, region)
    needed = {"ApiUrl", "ConsoleBucket", "ConsoleUrl", "ConsoleDistributionId"} - set(outputs)
    if needed:
        sys.stderr.write(f"stack {stack_name} has no outputs {sorted(needed)}: deploy template.yaml first\n")
        return 2
    missing = missing_origin(outputs, parameters.get("AllowedOrigins", ""))
    if missing:
        sys.stderr.write(
            f"AllowedOrigins of {stack_name} lacks the console's origin {missing}: the console could not read the "
            f"API's answers (CORS). Add it to AllowedOrigins in samconfig.toml (parameter_overrides), run "
            f"`sam deploy --config-env <stage>`, then make deploy-console again (docs/deploy.md, Staff console).\n")
        return 3
    bucket = outputs["ConsoleBucket"]
    excludes = [arg for name in NOT_UPLOADED for arg in ("--exclude", name)]
    subprocess.run(["aws", "s3", "sync", f"{CONSOLE}/", f"s3://{bucket}/", "--delete", *excludes,
                    "--cache-control", "no-cache", "--region", region], check=True)
    boto3.client("s3", region_name=region).put_object(
        Bucket=bucket, Key="config.json", Body=json.dumps(console_config(outputs)).encode(),
        ContentType="application/json", CacheControl="no-cache")
    boto3.client("cloudfront").create_invalidation(
        DistributionId=outputs["ConsoleDistributionId"],
        InvalidationBatch={"Paths": {"Quantity": 1, "Items": ["/*"]}, "CallerReference": f"console-{time.time()}"})
    sys.stdout.write(f"staff console: {outputs['ConsoleUrl']}/ (API {outputs['ApiUrl']})\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stack-name", required=True)
    parser.add_argument("--region", required=True)
    args: Any = parser.parse_args(argv)
    return deploy(args.stack_name, args.region)


if __name__ == "__main__":
    raise SystemExit(main())
