"""`python -m shoplocal run | invoke | routes | openapi | carrier | report` — the local runtime's command line."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from shoplocal.scheduler import Scheduler
from shoplocal.stack import CARRIER_WEBHOOK_SECRET, DEMO_PASSWORD, ROOT, Stack, port_is_free

DEMO_USERS = (("admin@example.com", ("admin",)), ("warehouse@example.com", ("warehouse",)),
              ("shopper@example.com", ()))


def _print_summary(stack: Stack, seeded: dict[str, Any] | None) -> None:
    from shoplocal.gateway import describe_routes

    d = stack.deployment
    out = sys.stdout.write
    out("\n=== Serverless Shop running locally ===\n")
    out(f"API          {stack.base_url}   (stage {d.parameters.get('Stage')})\n")
    out(f"moto (AWS)   {stack.endpoint_url}\n")
    out(f"localstripe  {stack.stripe_base}\n\nRoutes:\n")
    for line in describe_routes(stack.gateway.routes):
        out(f"  {line}\n")
    out(f"\nUsers (password {DEMO_PASSWORD}):\n")
    for email, groups in DEMO_USERS:
        out(f"  {email:<24} {', '.join(groups) or 'shopper'}\n")
    out("\nResources:\n")
    for lid, kind in sorted(d.types.items()):
        if kind in ("AWS::DynamoDB::Table", "AWS::StepFunctions::StateMachine", "AWS::Cognito::UserPool",
                    "AWS::Events::EventBus", "AWS::Events::Rule", "AWS::S3::Bucket"):
            out(f"  {kind:<34} {lid:<28} {d.physical[lid]}\n")
    if seeded:
        out("\nDemo data (stock on hand per warehouse):\n")
        for key in ("warehouses", "categories", "products", "skus"):
            value = seeded.get(key)
            if value is not None:
                out(f"  {key:<11} {value if isinstance(value, int) else len(value)}\n")
        for sku, per_wh in sorted((seeded.get("stock") or {}).items()):
            out(f"  {sku:<18} " + "  ".join(f"{wh}={qty}" for wh, qty in sorted(per_wh.items())) + "\n")
    out(f"""
Try:
  curl -s {stack.base_url}/products | python -m json.tool
  TOKEN=$(curl -s -XPOST {stack.base_url}/auth/login -H 'Content-Type: application/json' \\
          -d '{{"email":"shopper@example.com","password":"{DEMO_PASSWORD}"}}' \\
          | python -c 'import json,sys; print(json.load(sys.stdin)["id_token"])')
  curl -s {stack.base_url}/cart -H "Authorization: Bearer $TOKEN"
  (the README walks through cart, checkout and orders)
Ctrl-C stops everything.
""")
    sys.stdout.flush()


def cmd_run(args: argparse.Namespace) -> int:
    moto_port: int | None = args.moto_port
    if moto_port is not None and not port_is_free(moto_port):
        sys.stderr.write(f"moto port {moto_port} is busy: using a free one (see the summary)\n")
        moto_port = None
    gateway_port = args.port
    if not port_is_free(gateway_port):
        sys.stderr.write(f"port {gateway_port} is busy; pass --port or set SHOPLOCAL_PORT\n")
        return 2
    parameters = dict(p.split("=", 1) for p in args.param)  # template parameters, e.g. CartReminderAfterMinutes=1
    stack = Stack(args.template, moto_port=moto_port, gateway_port=gateway_port, parameters=parameters)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    scheduler: Scheduler | None = None
    try:
        stack.start()
        for email, groups in DEMO_USERS:
            stack.user(groups=groups, email=email, password=DEMO_PASSWORD)
        seeded = None
        if not args.no_seed:
            try:
                seeded = stack.seed_demo()
            except ImportError:
                logging.getLogger("shoplocal").warning("no shoplocal.seed module: starting without demo data")
        scheduler = Scheduler(stack)
        scheduler.start()  # moto never fires EventBridge schedules
        _print_summary(stack, seeded)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        sys.stdout.write("stopping...\n")
        if scheduler is not None:
            scheduler.stop()
        stack.stop()
    return 0


def cmd_invoke(args: argparse.Namespace) -> int:
    event: Any = {}
    if args.event:
        event = json.loads(Path(args.event).read_text())
    # like `sam local invoke`: the function's logs (Powertools writes to stdout) go to stderr, so that stdout
    # is exactly the JSON result
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr), \
            Stack(args.template, serve_http=False, start_stripe=not args.no_stripe) as stack:
        if args.seed:
            stack.seed_demo()
        try:
            spec = stack.invoker.spec(args.function)
        except KeyError:
            known = ", ".join(sorted(stack.deployment.functions))
            sys.stderr.write(f"no function {args.function} in {args.template}; functions: {known}\n")
            return 2
        result, error = stack.invoker.invoke_as_lambda(spec.logical_id, event)
    if error is not None:
        out.write(json.dumps(error.payload(), indent=2) + "\n")
        return 1
    out.write(json.dumps(result, indent=2, default=str) + "\n")
    return 0


def cmd_routes(args: argparse.Namespace) -> int:
    from shoplocal.gateway import describe_routes, load_routes

    routes, _ = load_routes(args.template)
    sys.stdout.write("\n".join(describe_routes(routes)) + "\n")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    from shoplocal.openapi import write

    sys.stdout.write(f"wrote {write(Path(args.output))}\n")
    return 0


def cmd_events_schemas(args: argparse.Namespace) -> int:
    from shoplocal.event_schemas import write

    written = write(Path(args.output))
    sys.stdout.write(f"wrote {len(written)} event schemas to {args.output}\n")
    return 0


def carrier_request(base_url: str, secret: str, tracking_number: str, status: str, *, event_id: str | None = None,
                    description: str | None = None, location: str | None = None,
                    proof: dict[str, str] | None = None) -> tuple[int, str]:
    """POST one signed carrier tracking event to the gateway, as the carrier would; (status, body)."""
    import time
    import uuid

    import requests
    from shop.orderflow.webhooks import carrier_signature

    event = {"event_id": event_id or f"cevt_{uuid.uuid4().hex}", "tracking_number": tracking_number,
             "status": status, "occurred_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if description:
        event["description"] = description
    if location:
        event["location"] = location
    event.update({k: v for k, v in (proof or {}).items() if v})  # delivered: signed_by, left_at, proof_url
    body = json.dumps(event)
    resp = requests.post(f"{base_url.rstrip('/')}/webhooks/carrier", data=body, timeout=30, headers={
        "Content-Type": "application/json", "Carrier-Signature": carrier_signature(secret, int(time.time()), body)})
    return resp.status_code, resp.text


def cmd_carrier(args: argparse.Namespace) -> int:
    status, text = carrier_request(args.api, args.secret, args.tracking_number, args.status,
                                   description=args.description, location=args.location,
                                   proof={"signed_by": args.signed_by, "left_at": args.left_at,
                                          "proof_url": args.proof_url})
    sys.stdout.write(f"{status} {text}\n")
    return 0 if status < 300 else 1


def cmd_report(args: argparse.Namespace) -> int:
    """The daily report, locally: a fresh stack with the demo shop, a generated day of orders sent through the
    Analytics function as events, then the Reports function as the morning schedule runs it. Writes the HTML
    (and JSON, CSV) to --out and prints the email from the local outbox."""
    from datetime import date, timedelta
    from zoneinfo import ZoneInfo

    from shoplocal.demo_day import generate_day
    from shoplocal.seed import PRODUCTS

    day = date.fromisoformat(args.date) if args.date else date.today() - timedelta(days=1)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    # a fresh stack of its own, or one already running in this process (main(..., stack=)): the tests' worker
    # stack, so that the command's test does not pay a second stack start (~8 s CPU)
    own = args.running_stack is None
    with contextlib.redirect_stdout(sys.stderr), \
            (Stack(args.template, serve_http=False) if own else contextlib.nullcontext(args.running_stack)) as stack:
        stack.seed_demo()
        tz = ZoneInfo(stack.function_env("ReportsFunction").get("REPORT_TIME_ZONE", "UTC"))
        products = [(s["sku"], p["product_id"]) for p in PRODUCTS for s in p["skus"]]
        events, _ = generate_day(day, args.orders, args.seed, products, tz, low=(products[0][0], products[1][0]))
        for event in events:
            stack.invoke("AnalyticsFunction", event)
        result = stack.invoke("ReportsFunction", {"report": "daily", "date": day.isoformat()})
        from shop.analytics import repository
        from shop.config import function_environment

        written = []
        with function_environment(stack.function_env("ReportsFunction")):
            for kind, key in result["objects"].items():
                target = out_dir / f"daily-{day.isoformat()}.{kind}"
                target.write_text(repository.get_object(key))
                written.append(target)
        mails = [m for m in stack.sent_emails() if day.isoformat() in (m["subject"] or "")]
    for path in written:
        sys.stdout.write(f"wrote {path}\n")
    for mail in mails:
        sys.stdout.write(f"\n--- email to {', '.join(mail['destinations'])}: {mail['subject']}\n{mail['body']}\n")
    return 0 if written and mails else 1


def main(argv: list[str] | None = None, *, stack: Stack | None = None) -> int:
    """The command line; ``stack``: a started stack in this process for ``report`` to run on (tests), instead
    of starting its own."""
    parser = argparse.ArgumentParser(prog="python -m shoplocal", description=__doc__)
    parser.add_argument("--template", default=str(ROOT / "template.yaml"))
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start the local stack and serve the API")
    run.add_argument("--port", type=int, default=int(os.environ.get("SHOPLOCAL_PORT", "3000")),
                     help="gateway port (env SHOPLOCAL_PORT, default 3000)")
    run.add_argument("--moto-port", type=int, default=int(os.environ.get("SHOPLOCAL_MOTO_PORT", "5000")),
                     help="moto port (env SHOPLOCAL_MOTO_PORT, default 5000; a free one when busy)")
    run.add_argument("--no-seed", action="store_true")
    run.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                     help="a template parameter's value, e.g. CartReminderAfterMinutes=1 (repeatable)")
    run.set_defaults(func=cmd_run)
    inv = sub.add_parser("invoke", help="invoke one function with an event, like `sam local invoke`")
    inv.add_argument("function", help="logical id in template.yaml, e.g. CatalogFunction")
    inv.add_argument("-e", "--event", help="JSON event file (events/...)")
    inv.add_argument("--seed", action="store_true", help="seed demo data first")
    inv.add_argument("--no-stripe", action="store_true")
    inv.set_defaults(func=cmd_invoke)
    routes = sub.add_parser("routes", help="list the API routes declared in the template")
    routes.set_defaults(func=cmd_routes)
    oa = sub.add_parser("openapi", help="write the merged OpenAPI document")
    oa.add_argument("--output", default=str(ROOT / "docs" / "openapi.json"))
    oa.set_defaults(func=cmd_openapi)
    ev = sub.add_parser("events-schemas", help="write the JSON Schemas of the event details (docs/events/)")
    ev.add_argument("--output", default=str(ROOT / "docs" / "events"))
    ev.set_defaults(func=cmd_events_schemas)
    car = sub.add_parser("carrier", help="send a signed carrier tracking event to a running stack")
    car.add_argument("tracking_number")
    car.add_argument("status", choices=["picked_up", "in_transit", "delivered", "exception"])
    car.add_argument("--description")
    car.add_argument("--location")
    car.add_argument("--signed-by", help="delivered: the name the recipient signed with")
    car.add_argument("--left-at", help="delivered: handed_to_recipient, door, neighbour, parcel_shop, ...")
    car.add_argument("--proof-url", help="delivered: photo or signature image (https)")
    car.add_argument("--api", default=f"http://127.0.0.1:{os.environ.get('SHOPLOCAL_PORT', '3000')}")
    car.add_argument("--secret", default=os.environ.get("CARRIER_WEBHOOK_SECRET", CARRIER_WEBHOOK_SECRET),
                     help="carrier_webhook_secret of the stack's secret (default: the local one)")
    car.set_defaults(func=cmd_carrier)
    rep = sub.add_parser("report", help="generate a day of demo orders and run the daily report on it")
    rep.add_argument("--date", help="YYYY-MM-DD (default: yesterday)")
    rep.add_argument("--orders", type=int, default=200, help="orders to generate for the day")
    rep.add_argument("--seed", type=int, default=1)
    rep.add_argument("--out", default=str(ROOT / "reports"), help="where to write the HTML, JSON and CSV")
    rep.set_defaults(func=cmd_report)
    args = parser.parse_args(argv)
    args.running_stack = stack
    if args.verbose:
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
        os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
