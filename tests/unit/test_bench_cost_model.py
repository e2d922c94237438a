"""The bench's cost model (scripts/bench.py, issue 17): the README's cost section is pasted from it, so its
arithmetic is checked here on made-up per-order figures (the bench itself asserts nothing)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_under_test", ROOT / "scripts" / "bench.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while they are made
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # bench.py puts the repository and scripts/ first on sys.path
    return module


ORDER = {"api": 7, "lambda_requests": 24, "gb_s:arm64": 1.0, "transitions": 13, "wru": 160, "rru": 60,
         "emails": 3, "events": 13}
ROUTES = {"GET /products": {"api": 1, "lambda_requests": 1, "gb_s:arm64": 0.004, "rru": 0.5}}


def test_duration_is_priced_per_architecture_and_compared_with_the_other(bench: ModuleType) -> None:
    lines = bench.cost_model(ORDER, ROUTES, 1)
    durations = [line for line in lines if line.label.startswith("Lambda duration")]
    assert [line.key for line in durations] == ["gb_s:arm64"]  # no empty x86_64 line when every function is arm64
    gb_s = 1.0 + 25 * 0.004
    assert durations[0].per_1000 == pytest.approx(gb_s * 0.0000133334 * 1000)
    assert bench.duration_cost(lines, "x86_64") == pytest.approx(gb_s * 0.0000166667 * 1000)
    assert "`Architectures: [x86_64]` instead of `arm64`" in bench.other_arch_text(lines)

    on_x86 = bench.cost_model({**ORDER, "gb_s:x86_64": 1.0, "gb_s:arm64": 0.0}, {}, 1)
    assert [li.key for li in on_x86 if li.label.startswith("Lambda duration")] == ["gb_s:x86_64"]
    assert "`Architectures: [arm64]` instead of `x86_64`" in bench.other_arch_text(on_x86)


def test_api_line_is_the_http_api_and_the_decision_compares_the_rest_api(bench: ModuleType) -> None:
    lines = bench.cost_model(ORDER, ROUTES, 1)
    api = next(line for line in lines if line.key == "api")
    assert (api.label, api.price_key, bench.PRICE_LABELS[api.price_key]) == (
        "API Gateway HTTP API requests", "apigw_http_request", "$1.00 / M")
    requests = 7 + 25
    assert api.per_1000 == pytest.approx(requests * 1.00e-3)
    assert bench.PRICES["apigw_rest_request"] == pytest.approx(3.50e-6)  # the alternative compared against
    total = sum(line.per_1000 for line in lines)
    access = next(line for line in lines if line.key == "access_log_gb").per_1000
    text = "\n".join(bench.api_tradeoff(lines, total))
    rest_total = total - requests * 1.00e-3 - access + requests * 3.50e-3  # before: no access logs
    assert "HTTP API adopted" in text and "| | HTTP API (adopted) | REST API (before) |" in text
    assert f"| {bench.fmt_usd(total)} (" in text and f" | {bench.fmt_usd(rest_total)} |" in text
    assert f"| {bench.fmt_usd(access)} | none (access logs off) |" in text
    assert "X-Ray" in text and "WAF" in text and "request validation" in text and "500 burst / 1,000" in text
    assert "an HTTP API" not in bench.dominates(lines, bench.OrderResult(
        lines=2, parcels=1, shop=bench.Usage(), poll=bench.Usage(), steps={}, transitions=13, states=[],
        history_events=0, storage={}, pitr_bytes=0, stripe_webhooks=1, email_subjects=[]), total)


def test_access_log_bytes_come_from_the_template(bench: ModuleType, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from shoplocal.template import load_yaml

    estimate = bench.access_log_estimate()
    settings = load_yaml(ROOT / "template.yaml")["Resources"]["ShopHttpApi"]["Properties"]["AccessLogSettings"]
    assert estimate.format == settings["Format"] and not estimate.unknown
    assert "01/Dec/2026:12:00:00 +0000" in estimate.line and len(bench.TYPICAL_CONTEXT["requestId"]) == 36
    assert estimate.bytes == len(estimate.line.encode()) + 26
    lines = bench.cost_model(ORDER, ROUTES, 1)
    access = next(line for line in lines if line.key == "access_log_gb")
    assert access.label == "CloudWatch Logs ingestion, API access logs" and access.price_key == "logs_ingest_gb"
    assert access.per_1000 == pytest.approx((7 + 25) * estimate.bytes / 2**30 * 0.50 * 1000)
    assert f"{estimate.bytes} bytes ingested per API request" in bench.access_log_assumption()

    # another format, another figure: each $context variable takes its typical value (16 characters when unknown)
    other = tmp_path / "template.yaml"
    other.write_text("Resources:\n  ShopHttpApi:\n    Type: AWS::Serverless::HttpApi\n    Properties:\n"
                     "      AccessLogSettings:\n        Format: '{\"id\":\"$context.requestId\",\"route\":"
                     "\"$context.routeKey\",\"new\":\"$context.somethingNew\"}'\n")
    got = bench.access_log_estimate(other)
    line = ('{"id":"' + bench.TYPICAL_CONTEXT["requestId"] + '","route":"GET /products/{productId}","new":"'
            + "x" * 16 + '"}')
    assert (got.bytes, got.unknown) == (len(line) + 26, ("somethingNew",))

    # no access logs in the template: no line
    off = tmp_path / "off.yaml"
    off.write_text("Resources:\n  ShopHttpApi:\n    Type: AWS::Serverless::HttpApi\n    Properties: {}\n")
    assert bench.access_log_estimate(off).bytes == 0
    monkeypatch.setattr(bench, "access_log_estimate", lambda: bench.AccessLogEstimate("", "", ()))
    assert "access_log_gb" not in {line.key for line in bench.cost_model(ORDER, ROUTES, 1)}


def test_analytics_batching_nets_saved_invocations_against_queue_requests(bench: ModuleType) -> None:
    order = bench.OrderResult(lines=2, parcels=1, shop=bench.Usage(), poll=bench.Usage(), steps={}, transitions=13,
                              states=[], history_events=0, storage={}, pitr_bytes=0, stripe_webhooks=1,
                              email_subjects=[])
    order.shop.lambdas["AnalyticsFunction"] = 5
    per_invocation = 0.20e-6 + 1536 / 2**30 * 0.50  # nothing measured: the fallback
    net = 5 * (0.9 * per_invocation - 1.2 * 0.40e-6) * 1000
    text = bench.analytics_batching(order, 1.0)
    assert "5 times an order" in text and f"{bench.fmt_usd(net)} net" in text
    order.shop.log_bytes["AnalyticsFunction"] = [600, 700, 9000]  # measured: the function's median invocation
    order.shop.log_bytes["CheckoutFunction"] = [3000]
    per_invocation = 0.20e-6 + 700 / 2**30 * 0.50
    net = 5 * (0.9 * per_invocation - 1.2 * 0.40e-6) * 1000
    assert f"{bench.fmt_usd(net)} net" in bench.analytics_batching(order, 1.0)


def test_lambda_platform_lines_in_the_text_format(bench: ModuleType) -> None:
    rid = bench.TYPICAL_CONTEXT["requestId"]
    start, end, report = bench.platform_lines(12.341, 512)
    assert start == f"START RequestId: {rid} Version: $LATEST" and len(start) == 70
    assert end == f"END RequestId: {rid}" and len(end) == 51
    assert report == (f"REPORT RequestId: {rid}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\t"
                      "Max Memory Used: 100 MB\t\nXRAY TraceId: 1-5e34a614-10bd4a2bf1fb44f07bc535a1\t"
                      "SegmentId: 07f5a2b12d1f6f85\tSampled: true\t")
    assert len(bench.TYPICAL_TRACE_ID) == 35 and len(bench.TYPICAL_SEGMENT_ID) == 16
    assert len(report) == 18 + 36 + 19 + 23 + 20 + 24 + 1 + 15 + 35 + 12 + 16 + 14 + 1 == 234
    assert bench.platform_log_bytes(0.012341, 512) == 70 + 51 + 234 + 3 * 26 == 433
    assert len(bench.platform_lines(0.2, 128)[2]) == 234 - 1 - 1  # 0.20 ms, billed 1 ms, 128 MB
    # what a handler writes: each line one event (26 bytes added), the newline not counted
    assert bench.output_log_bytes("") == 0
    assert bench.output_log_bytes('{"a":1}\n') == 7 + 26
    assert bench.output_log_bytes('{"a":1}\n{"_aws":{}}\n\npartial') == 7 + 11 + 7 + 3 * 26


def test_function_logs_are_priced_from_the_measured_bytes(bench: ModuleType) -> None:
    fns = bench.Functions(memory_mb={"CatalogFunction": 512, "CheckoutFunction": 1024},
                          arch={"CatalogFunction": "arm64", "CheckoutFunction": "arm64"})
    recs = [bench.Rec("lambda", "CatalogFunction", None, seconds=0.010, log_bytes=236),
            bench.Rec("lambda", "CatalogFunction", None, seconds=0.010, log_bytes=236),
            bench.Rec("lambda", "CheckoutFunction", None, seconds=0.100, log_bytes=2000)]
    u = bench.usage(recs, lambda tag: True, fns)
    lambda_lines = bench.platform_log_bytes(0.010, 512)
    assert u.log_bytes["CatalogFunction"] == [236 + lambda_lines] * 2 and u.log_output["CatalogFunction"] == [236, 236]
    assert bench.log_bytes_per_invocation(u) == 236 + lambda_lines  # the median invocation
    assert bench.log_bytes_per_invocation(u, "CheckoutFunction") == 2000 + bench.platform_log_bytes(0.100, 1024)
    assert bench.lambda_lines_bytes(u) == lambda_lines
    q = bench.quantities(u)
    checkout_bytes = 2000 + bench.platform_log_bytes(0.100, 1024)
    # every invocation's bytes, not the median times the count
    assert q["log_gb"] == pytest.approx((2 * (236 + lambda_lines) + checkout_bytes) / 2**30)
    # an invocation recorded without its output (not measured) counts at the median of those measured
    unmeasured = bench.usage([*recs, bench.Rec("lambda", "CatalogFunction", None, seconds=0.01)], lambda t: True, fns)
    assert bench.quantities(unmeasured)["log_gb"] == pytest.approx(
        (3 * (236 + lambda_lines) + checkout_bytes) / 2**30)

    order = {**ORDER, "log_gb": 24 * 800 / 2**30}
    routes = {"GET /products": {**ROUTES["GET /products"], "log_gb": 330 / 2**30}}
    logs = next(line for line in bench.cost_model(order, routes, 1) if line.key == "log_gb")
    assert logs.label == "CloudWatch Logs ingestion, function logs" and logs.price_key == "logs_ingest_gb"
    assert (logs.flow * 2**30, logs.browsing * 2**30) == (pytest.approx(24 * 800), pytest.approx(25 * 330))
    assert logs.per_1000 == pytest.approx((24 * 800 + 25 * 330) / 2**30 * 0.50 * 1000)
    lines = bench.cost_model(order, routes, 1)
    assert bench.invocation_log_bytes(lines) == pytest.approx(800)
    per_invocation = 0.20e-6 + 800 / 2**30 * 0.50
    assert (f"each Lambda invocation about {bench.fmt_usd(per_invocation * 1000)} (request and log lines, 800 bytes "
            "ingested)") in bench.levers(lines, 1.30)
    # figures without a log figure (none measured): the fallback per invocation
    fallback = next(line for line in bench.cost_model(ORDER, ROUTES, 1) if line.key == "log_gb")
    assert (fallback.flow * 2**30, fallback.browsing * 2**30) == (pytest.approx(24 * 1536), pytest.approx(25 * 1536))


def test_function_output_is_counted_per_invocation_thread(bench: ModuleType) -> None:
    import io
    import threading

    real = io.StringIO()
    proxy = bench.FunctionOutput(real)
    proxy.write("bench says\n")  # no invocation on this thread: passed through
    got: dict[str, int | None] = {}

    def invocation(name: str, text: str) -> None:
        bench.FunctionOutput.local.__dict__.setdefault("stack", []).append([])
        try:
            proxy.write(name * 5)
            print(name * 5, file=proxy)  # one line written in parts
            proxy.write("\n" + text)  # an empty line: no event
            got[name] = bench.FunctionOutput.current()
        finally:
            bench.FunctionOutput.local.stack.pop()

    threads = [threading.Thread(target=invocation, args=(name, name * 10 + "\n")) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert real.getvalue() == "bench says\n"  # the functions' output went nowhere
    assert got == {"a": 2 * (10 + 26), "b": 2 * (10 + 26)}
    assert bench.FunctionOutput.current() is None


def test_levers_say_how_far_the_target_is(bench: ModuleType) -> None:
    lines = bench.cost_model(ORDER, ROUTES, 1)
    assert bench.levers(lines, 1.30).startswith("**Toward $0.800** (issue 17): $0.500 to go.")
    assert "is met" in bench.levers(lines, 0.75)
    assert bench.levers(lines, 1.30).endswith("(adopted).")
    per_request = 1.00e-6 + bench.access_log_estimate().bytes / 2**30 * 0.50
    assert f"each API request (browsing included) about {bench.fmt_usd(per_request * 1000)} (the HTTP API's" in (
        bench.levers(lines, 1.30))


def test_cold_import_probes_see_only_what_lambda_has(bench: ModuleType) -> None:
    """The cold-import probes run in this venv, which holds the dev tools too: packages Lambda would not have are
    hidden (stripe would import httpx and, through its command line, rich and click; botocore the AWS CRT), the
    runtime's boto3 and the layers' packages are not; the floor builds one model, as every function does."""
    targets = bench.bench_targets
    fn = ROOT / "functions" / "payments"
    code = (targets.lambda_only(fn) + targets.FLOOR + "; import stripe, app\n"
            "print(sorted(m for m in ('httpx', 'rich', 'click', 'awscrt') if m in sys.modules), "
            "'pydantic.fields' in sys.modules)\n"
            "try:\n    import httpx\nexcept ModuleNotFoundError as exc:\n    print(exc)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=targets.lambda_env(fn),
                          cwd=ROOT, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[] True", "No module named 'httpx' (not on Lambda)"]
    assert {"boto3", "botocore", "stripe", "pydantic", "aws_lambda_powertools", "aws_xray_sdk", "jinja2",
            "shop"} <= targets.lambda_packages()
    assert not {"httpx", "rich", "awscrt", "moto", "pytest"} & targets.lambda_packages()


def test_instruction_ratios_count_beyond_an_empty_interpreter(bench: ModuleType,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    targets = bench.bench_targets
    counts = {"pass": 100, "import boto3": 300, targets.FLOOR: 500, targets.MONEY_FLOOR: 600,
              targets.guide_floor(True, False): 700, targets.guide_floor(False, True): 520}
    monkeypatch.setattr(targets.shutil, "which", lambda name: "/usr/bin/valgrind")
    apps = {"payments": 740, "catalog": 540}
    monkeypatch.setattr(targets, "instructions", lambda stmt, root: counts[stmt] if root is None else apps[root.name])
    got = targets.instruction_ratios([ROOT / "functions" / "payments", ROOT / "functions" / "catalog"])
    assert got is not None and (got.floor, got.money_floor) == (2.0, 2.5)
    assert got.functions == {"payments": (3.2, 1.28), "catalog": (2.2, 1.1)}  # payments moves money: floor + stripe
    # against the guide floors: payments (a workflow task) floor + stripe + Tracer, catalog (HTTP) + the resolver
    assert got.guide == {"payments": 640 / 600, "catalog": 440 / 420}
    assert got.guide_floors == {(True, False): 1.2, (False, True): 1.05}
    monkeypatch.setattr(targets.shutil, "which", lambda name: None)
    assert targets.instruction_ratios([ROOT / "functions" / "catalog"]) is None


def test_the_guide_floor_is_the_floor_with_what_the_guide_adds(bench: ModuleType) -> None:
    """A function's guide floor: its floor (with stripe where money moves), Powertools' Tracer patching botocore,
    and for an HTTP function the validating resolver; the summary puts each against boto3 and the floor."""
    targets = bench.bench_targets
    assert targets.answers_http(ROOT / "functions" / "catalog") and not targets.answers_http(
        ROOT / "functions" / "payments")
    assert targets.guide_floor(False, True) == targets.FLOOR + targets.TRACED + targets.VALIDATING
    assert targets.guide_floor(True, False) == targets.MONEY_FLOOR + targets.TRACED
    fn = targets.ColdImport("catalog", False, 0.55, 0.6, False, 2.2, 1.375, http=True, vs_guide=1.1)
    cold = targets.ColdImports(0.25, 0.4, 0.45, 0.3, [fn], 1, None, {(False, True): 0.5})
    assert targets.guide_summary(cold).endswith(
        "floor + Tracer + validating resolver x2.00 boto3, x1.25 floor. Against these guide floors the functions' "
        "own code costs x1.10 to x1.10 in CPU time (median x1.10; column x guide floor)")
    fn.instr_guide, cold.instr_guide = 1.05, {(False, True): 1.2}
    assert "x1.25 floor (instructions x1.20 floor)" in targets.guide_summary(cold)
    assert targets.guide_summary(cold).endswith("(median x1.10; in instructions x1.05 to x1.05, median x1.05; column "
                                                "x guide floor)")
