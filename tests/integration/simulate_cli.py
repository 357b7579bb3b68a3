#!/usr/bin/env python3
"""`qscale simulate` from the command line: the shipped traces are exactly
what the documented generator writes; a run prints a table or JSON whose
numbers add up (arrived = processed + waiting) and repeat for the same seed;
--compare prints three scalers; a sweep prints one row per value; --report
writes an SVG and a PNG; bad input exits 2 with a message, an unwritable
report exits 1."""

import json
import os
import shutil
import subprocess
import tempfile

from emulate_common import BINARY, DATA, Tap

ROOT = os.path.normpath(os.path.join(DATA, "..", ".."))
CONFIG = os.path.join(ROOT, "config", "qscale.yaml")
SPIKE = os.path.join(ROOT, "config", "scenarios", "spike.yaml")


def sim(*args, timeout=120, env=None):
    return subprocess.run([BINARY, "simulate", "--no-progress", *args], capture_output=True,
                          text=True, timeout=timeout, env=env)


t = Tap()
tmp = tempfile.mkdtemp(prefix="qscale-simulate-cli-")

for kind in ("diurnal-flash-sale", "quiet-week"):
    out = os.path.join(tmp, kind + ".csv")
    p = sim("--generate-trace", kind, "--seed", "1", "-o", out)
    with open(os.path.join(ROOT, "config", "traces", kind + ".csv"), encoding="utf-8") as f:
        shipped = f.read()
    with open(out, encoding="utf-8") as f:
        made = f.read() if p.returncode == 0 else None
    t.ok(made == shipped, f"config/traces/{kind}.csv is what --generate-trace {kind} --seed 1 writes",
         p.stderr)
p = sim("--generate-trace", "quiet-week", "--seed", "2", "--duration", "1h")
t.ok(p.returncode == 0 and p.stdout.count("\n") == 14 and p.stdout != sim(
    "--generate-trace", "quiet-week", "--seed", "3", "--duration", "1h").stdout,
    "another seed, another trace; --duration and the row length set its size", p.stdout)

p = sim("-c", CONFIG, "--scenario", SPIKE, "--json")
ok = p.returncode == 0
doc = json.loads(p.stdout) if ok else None
t.ok(ok and len(doc["runs"]) == 1 and doc["runs"][0]["mode"] == "qscale", "--json: one qscale run",
     p.stderr)
if doc:
    tot = doc["runs"][0]["total"]
    t.ok(tot["arrived"] == tot["processed"] + tot["waiting_at_end"] and tot["arrived"] == 43200,
         "messages add up: 20/s for 1m, 150/s for 4m, 20/s for 5m", tot)
    t.ok(tot["fargate_task_hours"] > 0 and tot["fargate_cost"] > 0 and tot["scaling_actions"] > 0,
         "the spike bursts to Fargate and costs money", tot)
    calls = doc["runs"][0]["aws_calls"]
    t.ok(calls["GetQueueAttributes"] == 120 and calls["DescribeServices"] == 240,
         "one GetQueueAttributes per 5 s cycle, one DescribeServices per cluster", calls)
p2 = sim("-c", CONFIG, "--scenario", SPIKE, "--json")
t.ok(p2.returncode == 0 and p2.stdout == p.stdout, "the same inputs give the same JSON, byte for byte")

p = sim("-c", CONFIG, "--scenario", SPIKE, "--compare")
t.ok(p.returncode == 0 and all(m in p.stdout for m in ("qscale", "target-tracking", "static-max"))
     and "wait p99" in p.stdout and "ECS rate limits" in p.stdout,
     "--compare: the three scalers side by side, with the AWS calls", p.stdout + p.stderr)

p = sim("-c", CONFIG, "--scenario", SPIKE, "--sweep", "instances=1:4:1")
rows = [ln for ln in p.stdout.splitlines() if ln.split()[:2] in (["1", "qscale"], ["2", "qscale"],
                                                                   ["3", "qscale"], ["4", "qscale"])]
t.ok(p.returncode == 0 and len(rows) == 4, "--sweep instances=1:4:1: one row per value", p.stdout)
p = sim("-c", CONFIG, "--scenario", SPIKE, "--sweep", "instances=1:2:1", "--json")
t.ok(p.returncode == 0 and [r["runs"][0]["fleet_task_slots"] for r in json.loads(p.stdout)["rows"]]
     == [4, 8], "--sweep --json: the fleet grows by one instance (4 slots) per row", p.stdout[:500])

for ext, magic in ((".svg", b"<?xml"), (".png", b"\x89PNG")):
    path = os.path.join(tmp, "chart" + ext)
    p = sim("-c", CONFIG, "--scenario", SPIKE, "--compare", "--report", path)
    head = open(path, "rb").read(8) if os.path.exists(path) else b""
    t.ok(p.returncode == 0 and head.startswith(magic), f"--report writes a {ext} chart", p.stderr)

for args, name in (
        (["--scenario", SPIKE, "-c", os.path.join(tmp, "none.yaml")], "a missing configuration"),
        (["-c", CONFIG, "--scenario", os.path.join(tmp, "none.yaml")], "a missing scenario"),
        (["-c", CONFIG], "no scenario"),
        (["-c", CONFIG, "--scenario", SPIKE, "--sweep", "nosuch=1:2:1"], "an unknown sweep key"),
        (["-c", CONFIG, "--scenario", SPIKE, "--duration", "soon"], "a bad duration"),
        (["-c", CONFIG, "--scenario", SPIKE, "--report", "x.pdf"], "a report that is not svg or png"),
        (["-c", CONFIG, "--scenario", os.path.join(DATA, "scenario", "minimal.yaml")],
         "a policy whose queue the scenario lacks")):
    p = sim(*args)
    t.ok(p.returncode == 2 and p.stderr.strip() != "", f"exit 2 with a message for {name}", p.stderr)
p = sim("-c", CONFIG, "--scenario", SPIKE, "--report", os.path.join(tmp, "no", "chart.svg"))
t.ok(p.returncode == 1 and "chart.svg" in p.stderr, "exit 1 when the report cannot be written",
     p.stderr)

# The chart program is found beside qscale without QSCALE_CHART, and a
# missing one is named in the error.
plain = {k: v for k, v in os.environ.items() if k != "QSCALE_CHART"}
path = os.path.join(tmp, "beside.svg")
p = sim("-c", CONFIG, "--scenario", SPIKE, "--report", path, env=plain)
t.ok(p.returncode == 0 and os.path.exists(path),
     "--report finds qscale-chart beside qscale without QSCALE_CHART", p.stderr)
p = sim("-c", CONFIG, "--scenario", SPIKE, "--report", os.path.join(tmp, "x.svg"),
        env=dict(plain, QSCALE_CHART=os.path.join(tmp, "no-such-chart")))
t.ok(p.returncode == 1 and "no-such-chart" in p.stderr,
     "exit 1 naming the chart program when it is missing", p.stderr)

# The daemon's binary maps no chart, font, X11 or systemd library.
ldd = subprocess.run(["ldd", BINARY], capture_output=True, text=True).stdout
heavy = [lib for lib in ("cairo", "fontconfig", "freetype", "pixman", "png", "X11", "xcb",
                         "systemd") if "lib" + lib in ldd]
t.ok(ldd != "" and heavy == [], "ldd qscale lists no chart, font, X11 or systemd library", heavy)

shutil.rmtree(tmp, ignore_errors=True)
t.done()
