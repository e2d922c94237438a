"""Issue 17's targets for scripts/bench.py: cold imports against bare boto3 and each function's own dependency
floor (with the ``-X importtime`` offenders), the bare-boto3 floor of a route's DynamoDB calls, and the target
lines (figure, ratio, met / not met). Figures only; nothing here asserts.

Cold imports are timed as whole fresh interpreters in a Lambda-like environment (only the packages Lambda would
have: the runtime's boto3, the layers, the standard library; LAMBDA_TASK_ROOT set, so Powertools' Tracer is on
and patches at import as it does in AWS; X-Ray's SDK then skips its centralized sampler), every case once per
round, rounds interleaved, the median per case. The figure is the child's CPU time for the import
(``time.process_time``): on a shared machine wall time mostly measures the neighbours.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, TextIO

ROOT = Path(__file__).resolve().parent.parent

# what every function cannot avoid: boto3, pydantic, the Powertools event handler, Logger and Metrics. pydantic
# as a function uses it: ``from pydantic import BaseModel`` and one model built (a bare ``import pydantic`` loads a
# lazy shell of 12 modules, and importing BaseModel leaves out pydantic.fields, pydantic.types and annotated_types,
# which the first model defined loads, about 0.1x boto3: every function validates its input with a model)
FLOOR = ("import boto3, aws_lambda_powertools.event_handler; from pydantic import BaseModel, create_model; "
         "create_model('Floor', x=(int, ...)); from aws_lambda_powertools import Logger, Metrics")
MONEY_FLOOR = FLOOR + "; import stripe"  # functions that move money also need the Stripe SDK
# what the developers' guide adds to every function (Powertools' Tracer, X-Ray's SDK patching botocore, as
# shop.observability builds it) and to an HTTP function (the validating resolver, as shop.api.make_resolver builds
# it): not in the floor, so a function's ratio to its guide floor is what its own code costs on top of what
# it must load
TRACED = "; from aws_lambda_powertools import Tracer; Tracer(service='floor', patch_modules=('botocore',))"
VALIDATING = ("; from aws_lambda_powertools.event_handler import APIGatewayRestResolver; "
              "APIGatewayRestResolver(enable_validation=True)")


@cache
def lambda_packages() -> frozenset[str]:
    """The top-level modules a function can import on Lambda besides the standard library: the python3.13
    runtime's boto3 and what it needs, the deps layer (layers/deps/requirements.txt) and what that needs, the
    shop layer. This venv holds much more (the dev tools), and some packages load optional extras when they are
    there: stripe imports httpx, whose command line loads click, rich and pygments (about a quarter of a bare
    boto3 import); botocore imports the AWS CRT (aws-sam-cli needs boto3[crt]; Lambda ships boto3 without it)."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lines = (ROOT / "layers" / "deps" / "requirements.txt").read_text().splitlines()
    todo = [Requirement("boto3"), *(Requirement(ln.split("#")[0]) for ln in lines if ln.split("#")[0].strip())]
    dists: set[str] = set()
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in dists:
            continue
        dists.add(name)
        for spec in metadata.distribution(req.name).requires or []:
            dep = Requirement(spec)
            if dep.marker is None or any(dep.marker.evaluate({"extra": e}) for e in (req.extras or {""})):
                todo.append(dep)
    tops = {top for top, owners in metadata.packages_distributions().items()
            if any(canonicalize_name(o) in dists for o in owners)}
    return frozenset({top for top in tops if top.isidentifier() and top != "__pycache__"} | {"shop"})


@cache
def lambda_only(task_root: Path | None) -> str:
    """Python that makes every later import of a package of this venv that Lambda would not have fail as it
    would there (a meta path finder in front), so the dev tools' packages can't slow or speed a probe. Built once
    per function (it reads every installed distribution's metadata), prepended to each of its probes."""
    from importlib import metadata

    own = {p.stem for p in task_root.iterdir()} if task_root else set()
    hidden = sorted(set(metadata.packages_distributions()) - lambda_packages() - own)
    return ("import sys\n"
            "class NotOnLambda:\n"
            f"    hidden = frozenset({hidden!r})\n"
            "    @classmethod\n"
            "    def find_spec(cls, name, path=None, target=None):\n"
            "        if name.partition('.')[0] not in cls.hidden: return None\n"
            "        raise ModuleNotFoundError(f'No module named {name!r} (not on Lambda)', name=name)\n"
            "sys.meta_path.insert(0, NotOnLambda)\n")


PROBE = ("import time; c=time.process_time(); w=time.perf_counter(); {stmt}; "
         "print(time.process_time()-c, time.perf_counter()-w, 'stripe' in sys.modules)")

TARGET_VS_BOTO3 = 1.3
TARGET_VS_FLOOR = 1.05
TARGET_ROUTE_VS_BARE = 1.5
TARGET_ORDER_DDB_REQUESTS = 45
TARGET_ORDER_ITEM_READS = 8
TARGET_COST_PER_1000 = 0.80
STOREFRONT_ROUTES = ("GET /products", "GET /products/{productId}", "GET /cart", "PUT /cart/items/{sku}")


def guide_floor(money: bool, http: bool) -> str:
    """The statement of a function's guide floor: its floor, the Tracer, and for an HTTP function the resolver."""
    return (MONEY_FLOOR if money else FLOOR) + TRACED + (VALIDATING if http else "")


def answers_http(fn: Path) -> bool:
    """An HTTP function builds the shop's validating resolver (shop.api.make_resolver)."""
    return "make_resolver" in (fn / "app.py").read_text()


def moves_money(fn: Path) -> bool:
    """A function moves money when its declared settings include Stripe's (observability(..., needs=...))."""
    return "stripe" in (fn / "app.py").read_text()


@cache
def globals_env() -> dict[str, str]:
    """The literal variables of template.yaml's Globals (what every deployed function gets, e.g. pydantic's
    PYDANTIC_DISABLE_PLUGINS); a ``!Ref`` (a stage's choice) is left out: no import reads one."""
    from shoplocal.template import load_yaml  # the template's own loader (CloudFormation's short-form tags)

    env = ((load_yaml(ROOT / "template.yaml").get("Globals") or {}).get("Function") or {}).get("Environment") or {}
    return {k: str(v) for k, v in (env.get("Variables") or {}).items() if isinstance(v, str | int | bool)}


def lambda_env(task_root: Path | None) -> dict[str, str]:
    """A function's import runs with the Globals environment as in AWS. The floors (``task_root`` None) get it
    too, which is fair both ways: their one model is built as a function's are (PYDANTIC_DISABLE_PLUGINS, the one
    variable that changes an import's work, skips pydantic's plugin lookup for both), and the other variables
    are read at invocation."""
    return {**globals_env(),
            "PYTHONPATH": ":".join([*([str(task_root)] if task_root else []), str(ROOT / "layers" / "shop")]),
            "PATH": "/usr/bin:/bin", "LAMBDA_TASK_ROOT": str(task_root or ROOT), "AWS_REGION": "us-east-1",
            "AWS_LAMBDA_FUNCTION_NAME": task_root.name if task_root else "floor", "AWS_DEFAULT_REGION": "us-east-1"}


@dataclass
class Probe:
    cpu: float
    wall: float
    stripe: bool


def probe(stmt: str, task_root: Path | None) -> Probe:
    done = subprocess.run([sys.executable, "-c", lambda_only(task_root) + PROBE.format(stmt=stmt)],
                          capture_output=True, text=True,
                          env=lambda_env(task_root), check=True, timeout=180, cwd=ROOT)
    cpu, wall, stripe = done.stdout.strip().splitlines()[-1].split()
    return Probe(float(cpu), float(wall), stripe == "True")


def importtime(stmt: str, task_root: Path | None) -> dict[str, int]:
    """Module -> self time in microseconds, from one ``-X importtime`` run."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", lambda_only(task_root) + stmt],
                          capture_output=True, text=True, env=lambda_env(task_root), check=True, timeout=180, cwd=ROOT)
    out: dict[str, int] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s*(\S+)", line)
        if m:
            out[m[2]] = out.get(m[2], 0) + int(m[1])
    return out


def instructions(stmt: str, task_root: Path | None) -> int:
    """Instructions a fresh interpreter runs for ``stmt`` (valgrind's callgrind, whole process): the same count
    run after run, whatever else the machine does, where CPU time on a shared 2-core machine swings +-15%."""
    done = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                           lambda_only(task_root) + stmt], capture_output=True, text=True, env=lambda_env(task_root),
                          check=True, timeout=600, cwd=ROOT)
    m = re.search(r"Collected : (\d+)", done.stderr)
    if m is None:
        raise RuntimeError(f"callgrind printed no count: {done.stderr[-500:]}")
    return int(m[1])


@dataclass
class InstructionRatios:
    floor: float  # x boto3
    money_floor: float  # x boto3
    functions: dict[str, tuple[float, float]]  # name -> (x boto3, x its own floor)
    guide: dict[str, float] = field(default_factory=dict)  # name -> x its guide floor
    guide_floors: dict[tuple[bool, bool], float] = field(default_factory=dict)  # (money, http) -> x its floor


def instruction_ratios(functions: list[Path]) -> InstructionRatios | None:
    """The floors' and each function's import's instructions beyond an empty interpreter's, as ratios; None
    without valgrind. One count per case (they repeat exactly), as many at a time as there are cores."""
    if shutil.which("valgrind") is None:
        return None
    kinds = sorted({(moves_money(fn), answers_http(fn)) for fn in functions})
    cases: list[tuple[str, Path | None]] = [("pass", None), ("import boto3", None), (FLOOR, None),
                                            (MONEY_FLOOR, None)] + [(guide_floor(*kind), None) for kind in kinds]
    cases += [("import app", fn) for fn in functions]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        counts = list(pool.map(lambda case: instructions(*case), cases))
    empty, boto3, floor, money_floor = counts[:4]
    guides = dict(zip(kinds, counts[4:4 + len(kinds)], strict=True))
    out: dict[str, tuple[float, float]] = {}
    guide: dict[str, float] = {}
    for fn, n in zip(functions, counts[4 + len(kinds):], strict=True):
        own_floor = money_floor if moves_money(fn) else floor
        out[fn.name] = ((n - empty) / (boto3 - empty), (n - empty) / (own_floor - empty))
        guide[fn.name] = (n - empty) / (guides[moves_money(fn), answers_http(fn)] - empty)
    return InstructionRatios((floor - empty) / (boto3 - empty), (money_floor - empty) / (boto3 - empty), out, guide,
                             {k: (n - empty) / ((money_floor if k[0] else floor) - empty) for k, n in guides.items()})


def package_of(module: str) -> str:
    """The offender's name: the shop's module by context (shop.orders), a dependency by its top package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "shop" and len(parts) > 1 else parts[0]


def offenders(fn_modules: Mapping[str, int], floor_modules: Iterable[str], top: int = 4) -> list[tuple[str, float]]:
    """The packages that cost the most self time beyond the floor's modules, in ms."""
    floor = set(floor_modules)
    by: dict[str, int] = {}
    for module, us in fn_modules.items():
        if module not in floor:
            by[package_of(module)] = by.get(package_of(module), 0) + us
    return [(name, us / 1000) for name, us in sorted(by.items(), key=lambda kv: -kv[1])[:top]]


@dataclass
class ColdImport:
    name: str
    money: bool
    cpu: float
    wall: float
    stripe_loaded: bool
    vs_boto3: float
    vs_floor: float
    offenders: list[tuple[str, float]] = field(default_factory=list)
    # the same two ratios in instructions (repeatable; None without valgrind): what to compare changes by
    instr: tuple[float, float] | None = None
    http: bool = False
    vs_guide: float = 0.0  # against its guide floor (guide_floor): what the function's own code adds
    instr_guide: float | None = None  # the same in instructions

    @property
    def met(self) -> bool:
        return self.vs_boto3 <= TARGET_VS_BOTO3 and self.vs_floor <= TARGET_VS_FLOOR


@dataclass
class ColdImports:
    boto3: float
    floor: float
    money_floor: float
    boto3_wall: float
    functions: list[ColdImport]
    runs: int
    instr_floor: tuple[float, float] | None = None  # floor and floor + stripe in instructions, x boto3
    guide: dict[tuple[bool, bool], float] = field(default_factory=dict)  # (money, http) -> guide floor CPU time
    instr_guide: dict[tuple[bool, bool], float] = field(default_factory=dict)  # the same, instructions x its floor


def cold_imports(functions: list[Path], runs: int, say: Callable[[str], None] | None = None,
                 count_instructions: bool = True) -> ColdImports:
    """Every case once per round, ``runs`` rounds; medians of CPU time (and of wall time, for reference); and,
    where valgrind is installed, each case's instructions counted once (``count_instructions``)."""
    cases: list[tuple[str, str, Path | None]] = [("boto3", "import boto3", None), ("floor", FLOOR, None),
                                                 ("money floor", MONEY_FLOOR, None)]
    kinds = sorted({(moves_money(fn), answers_http(fn)) for fn in functions})
    cases += [(f"guide {money} {http}", guide_floor(money, http), None) for money, http in kinds]
    cases += [(fn.name, "import app", fn) for fn in functions]
    got: dict[str, list[Probe]] = {name: [] for name, _, _ in cases}
    for i in range(runs):
        for name, stmt, root in cases:
            got[name].append(probe(stmt, root))
        if say:
            say(f"   (cold imports: round {i + 1} of {runs} done)")

    def cpu(name: str) -> float:
        return statistics.median(p.cpu for p in got[name])

    floor_mods = importtime(FLOOR, None)
    money_mods = importtime(MONEY_FLOOR, None)
    boto3, floor, money_floor = cpu("boto3"), cpu("floor"), cpu("money floor")
    guide = {(money, http): cpu(f"guide {money} {http}") for money, http in kinds}
    out = []
    for fn in functions:
        money, http = moves_money(fn), answers_http(fn)
        t = cpu(fn.name)
        out.append(ColdImport(fn.name, money, t, statistics.median(p.wall for p in got[fn.name]),
                              any(p.stripe for p in got[fn.name]), t / boto3, t / (money_floor if money else floor),
                              offenders(importtime("import app", fn), money_mods if money else floor_mods),
                              http=http, vs_guide=t / guide[money, http]))
    counted = instruction_ratios(functions) if count_instructions else None
    if counted is not None:
        for f in out:
            f.instr, f.instr_guide = counted.functions[f.name], counted.guide.get(f.name)
    return ColdImports(boto3, floor, money_floor, statistics.median(p.wall for p in got["boto3"]), out, runs,
                       (counted.floor, counted.money_floor) if counted else None, guide,
                       counted.guide_floors if counted else {})


def guide_summary(c: ColdImports) -> str:
    """The guide floors against boto3 and the issue's floor, and the functions' spread against theirs."""
    def named(money: bool, http: bool) -> str:
        return ("floor + stripe" if money else "floor") + " + Tracer" + (" + validating resolver" if http else "")

    floors = "; ".join(f"{named(money, http)} x{t / c.boto3:.2f} boto3, "
                       f"x{t / (c.money_floor if money else c.floor):.2f} floor"
                       + (f" (instructions x{c.instr_guide[money, http]:.2f} floor)"
                          if (money, http) in c.instr_guide else "")
                       for (money, http), t in sorted(c.guide.items()))
    spread = sorted(f.vs_guide for f in c.functions)
    counted = sorted(f.instr_guide for f in c.functions if f.instr_guide is not None)
    return (f"what the developers' guide adds to every function (Powertools' Tracer with X-Ray's SDK patching "
            f"botocore) and to an HTTP one (the validating resolver) is not in the floor: {floors}. Against these "
            f"guide floors the functions' own code costs x{spread[0]:.2f} to x{spread[-1]:.2f} in CPU time (median "
            f"x{statistics.median(spread):.2f}"
            + (f"; in instructions x{counted[0]:.2f} to x{counted[-1]:.2f}, median x{statistics.median(counted):.2f}"
               if counted else "") + "; column x guide floor)")


def print_cold_imports(say: Callable[[str], None], c: ColdImports) -> None:
    say(f"1. cold import per function (CPU time of a fresh interpreter's import, Lambda-like environment, median of "
        f"{c.runs} interleaved rounds): bare `import boto3` = {c.boto3 * 1000:.0f} ms (wall {c.boto3_wall * 1000:.0f}"
        f" ms); floor (boto3 + pydantic, one model built + Powertools event handler, Logger, Metrics) = "
        f"{c.floor * 1000:.0f} ms "
        f"x{c.floor / c.boto3:.2f} boto3; floor + stripe = {c.money_floor * 1000:.0f} ms "
        f"x{c.money_floor / c.boto3:.2f}")
    if c.instr_floor:
        say(f"   in instructions (valgrind, beyond an empty interpreter; repeatable): floor x{c.instr_floor[0]:.2f} "
            f"boto3, floor + stripe x{c.instr_floor[1]:.2f}")
    if c.guide:
        say(f"   {guide_summary(c)}")
    say(f"   {'function':<22} {'import':>8} {'/boto3':>7} {'/floor':>7} {'/guide':>7} {'instr. /boto3 /floor':>20}  "
        "target <= "
        f"x{TARGET_VS_BOTO3} boto3 and <= x{TARGET_VS_FLOOR} floor; top -X importtime offenders beyond the floor "
        "(self ms)")
    for f in c.functions:
        floor = "floor+stripe" if f.money else "floor"
        extra = "" if f.money or not f.stripe_loaded else " [loads stripe without moving money]"
        instr = f"{f.instr[0]:9.2f}x {f.instr[1]:6.2f}x" if f.instr else f"{'-':>18}"
        say(f"   {f.name:<22} {f.cpu * 1000:6.0f}ms {f.vs_boto3:6.2f}x {f.vs_floor:6.2f}x {f.vs_guide:6.2f}x {instr}  "
            f"{'met' if f.met else 'not met':<7} vs {floor:<12} "
            + ", ".join(f"{name} {ms:.0f}" for name, ms in f.offenders) + extra)


# ------------------------------------------------------------------------------------- bare DynamoDB floor
def bare_calls_seconds(client: Any, calls: list[tuple[str, dict[str, Any]]], n: int) -> float:
    """Median time of one request's DynamoDB calls replayed in turn with a bare boto3 client (a refused
    conditional write still counts: it is a round trip like any other)."""
    from botocore.exceptions import ClientError

    for op, kwargs in calls:  # warm: connections and the client's operation models
        try:
            getattr(client, op)(**kwargs)
        except ClientError:
            pass
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        for op, kwargs in calls:
            try:
                getattr(client, op)(**kwargs)
            except ClientError:
                pass
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------------------------------------- targets
@dataclass
class Target:
    label: str
    figure: str
    ratio: float  # figure / target: met when <= 1
    target: str

    @property
    def met(self) -> bool:
        return self.ratio <= 1.0


def print_targets(out: TextIO, say: Callable[[TextIO, str], None], targets: list[Target]) -> None:
    met = sum(t.met for t in targets)
    say(out, f"6. issue 17's targets: {met} of {len(targets)} met (ratio = figure / target)")
    for t in targets:
        say(out, f"   {t.label:<46} {t.figure:<34} target {t.target:<14} x{t.ratio:5.2f}  "
                 f"{'met' if t.met else 'NOT MET'}")


def targets(cold: ColdImports | None, routes: Mapping[str, tuple[float, float]], ddb_requests: int,
            order_item_reads: int, cost_per_1000: float, usd: Callable[[float], str]) -> list[Target]:
    """The target lines from the bench's figures; ``routes``: route -> (handler ms, bare DynamoDB calls ms)."""
    out: list[Target] = []
    for f in cold.functions if cold else []:
        floor = "floor+stripe" if f.money else "floor"
        out.append(Target(f"cold import {f.name}", f"x{f.vs_boto3:.2f} boto3, x{f.vs_floor:.2f} {floor}",
                          max(f.vs_boto3 / TARGET_VS_BOTO3, f.vs_floor / TARGET_VS_FLOOR),
                          f"x{TARGET_VS_BOTO3} / x{TARGET_VS_FLOOR}"))
    for route in STOREFRONT_ROUTES:
        if route in routes:
            handler, bare = routes[route]
            ratio = handler / bare if bare else float("inf")
            out.append(Target(f"warm {route} vs its DynamoDB calls bare",
                              f"{handler:.1f} ms / {bare:.1f} ms = x{ratio:.2f}", ratio / TARGET_ROUTE_VS_BARE,
                              f"x{TARGET_ROUTE_VS_BARE}"))
    out += [
        Target("one order: DynamoDB requests", f"{ddb_requests}", ddb_requests / TARGET_ORDER_DDB_REQUESTS,
               f"{TARGET_ORDER_DDB_REQUESTS}"),
        Target("one order: reads of the order item (OrdersTable)", f"{order_item_reads}",
               order_item_reads / TARGET_ORDER_ITEM_READS, f"{TARGET_ORDER_ITEM_READS}"),
        Target("cost per 1,000 orders", usd(cost_per_1000), cost_per_1000 / TARGET_COST_PER_1000,
               usd(TARGET_COST_PER_1000)),
    ]
    return out


def markdown(targets: list[Target], cold: ColdImports | None, flash: Sequence[Sequence[Any]], ran_at: str) -> str:
    """The README section "Performance targets": the target lines, the cold imports and the flash sale."""
    met = sum(t.met for t in targets)
    md = ["## Performance targets", "",
          f"Generated by `.venv/bin/python scripts/bench.py --markdown` on {ran_at} (issue 17's targets; "
          f"{met} of {len(targets)} met). Ratios are measured in one run on the machine at hand: cold imports "
          "are the CPU time of fresh interpreters in a Lambda-like environment (only what Lambda would have: the "
          "runtime's boto3, without the AWS CRT, the layers' packages and the standard library, the venv's dev "
          "tools hidden; the template's Globals environment) against a bare `import boto3` and against the "
          "function's own floor (boto3 + pydantic with one model built + the Powertools event handler, Logger "
          "and Metrics; + stripe where money moves: the guide's Tracer, X-Ray's SDK patching botocore, and an HTTP "
          "function's validating resolver are not in it). Warm latency is the handler's median against the same "
          "DynamoDB calls made bare with boto3 against the local stack.", "",
          "| target | figure | target | figure / target | |", "|---|---|---:|---:|---|"]
    md += [f"| {t.label} | {t.figure} | {t.target} | {t.ratio:.2f} | {'met' if t.met else 'not met'} |"
           for t in targets]
    if cold is not None:
        md += ["", f"Cold imports (median of {cold.runs} rounds): bare `import boto3` {cold.boto3 * 1000:.0f} ms CPU, "
                   f"floor x{cold.floor / cold.boto3:.2f}, floor + stripe x{cold.money_floor / cold.boto3:.2f}; "
                   + (f"in instructions (valgrind's count beyond an empty interpreter, the same run after run: "
                      f"compare changes by these) floor x{cold.instr_floor[0]:.2f}, floor + stripe "
                      f"x{cold.instr_floor[1]:.2f}; " if cold.instr_floor else "")
                   + (guide_summary(cold) + "; " if cold.guide else "")
                   + "the biggest offenders beyond the floor, per function (self ms of `-X importtime`):", "",
               "| function | x boto3 | x floor | x guide floor | instructions x boto3 | instructions x floor | "
               "instructions x guide floor | offenders |",
               "|---|---:|---:|---:|---:|---:|---:|---|"]
        md += [f"| {f.name}{' (money)' if f.money else ''}{' (HTTP)' if f.http else ''} | {f.vs_boto3:.2f} | "
               f"{f.vs_floor:.2f} | {f.vs_guide:.2f} | "
               + (f"{f.instr[0]:.2f} | {f.instr[1]:.2f} | " if f.instr else "- | - | ")
               + (f"{f.instr_guide:.2f} | " if f.instr_guide is not None else "- | ")
               + ", ".join(f"{name} {ms:.0f}" for name, ms in f.offenders) + " |" for f in cold.functions]
    if flash:
        md += ["", "Flash sale on one SKU, simulated (`scripts/flash_sale_sim.py`: 1,000 write units a second per "
                   "item, a reservation is a transactional write of one slot under `available >= q`):", "",
               "| stock items | checkouts/s (ceiling) | sell-out: units sold / stock | oversell | "
               "oversell without the condition |", "|---|---:|---:|---:|---:|"]
        for long, sale, naive in flash:
            items = "1 (the level item)" if long.shards == 0 else f"{long.shards} shards"
            md.append(f"| {items} | {long.per_second:,.0f} ({long.ceiling:,.0f}) | {sale.units_sold:,} / "
                      f"{sale.stock:,} | {sale.oversell} | {naive.oversell} |")
        best = flash[-1][0]
        md += ["", f"One stock item holds about {flash[0][0].ceiling:,.0f} checkouts a second; a flash sale above "
                   f"that needs shards: {best.shards} shards hold about {best.ceiling:,.0f} a second."]
    return "\n".join(md) + "\n"
