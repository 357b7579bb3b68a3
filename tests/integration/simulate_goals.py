#!/usr/bin/env python3
"""The scaling-quality goals of bench/README.md, through `qscale simulate`
(qscale's own controller and engine over the world model) with the shipped
config/qscale.yaml, on the spike scenario alone and with each shipped trace,
with the shipped policy and with its `behavior` section removed (the
defaults): at most 150 scaling actions per simulated day, Fargate task-hours
at most half of the rule before this work's, at a p99 wait no worse than
that rule's plus 10 %. The figures "before" are what the simulator of that
time printed (bench/README.md, "Before"). Results are a pure function of the
inputs, so these are exact checks, not timings. Without
target.processing_time the burst is sized as before and the spike uses more
Fargate time: the start-up model is what the goals rest on."""

import json
import os
import re
import shutil
import subprocess
import tempfile

from emulate_common import BINARY, DATA, Tap

ROOT = os.path.normpath(os.path.join(DATA, "..", ".."))
SPIKE = os.path.join(ROOT, "config", "scenarios", "spike.yaml")
TRACES = os.path.join(ROOT, "config", "traces")

# case -> (p99 s, Fargate task-hours) as printed before the work-in-progress rule
BEFORE = {
    "spike.yaml": (35.5, 4.10),
    "diurnal-flash-sale.csv": (14.5, 7.42),
    "orders-day.csv": (13.5, 0.0),
    "quiet-week.csv": (0.5, 0.0),
}


def variant(tmp, name, edit):
    """A copy of config/ with the shipped policy edited."""
    out = os.path.join(tmp, name)
    shutil.copytree(os.path.join(ROOT, "config"), out)
    pol = os.path.join(out, "policies.d", "orders.yaml")
    with open(pol, encoding="utf-8") as f:
        text = f.read()
    with open(pol, "w", encoding="utf-8") as f:
        f.write(edit(text))
    return os.path.join(out, "qscale.yaml")


def run(config, trace):
    args = [BINARY, "simulate", "--no-progress", "-c", config, "--scenario", SPIKE, "--json"]
    if trace:
        args += ["--trace", os.path.join(TRACES, trace)]
    p = subprocess.run(args, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        return None, p.stderr
    run0 = json.loads(p.stdout)["runs"][0]
    return run0, None


t = Tap()
tmp = tempfile.mkdtemp(prefix="qscale-simulate-goals-")
configs = {
    "shipped": os.path.join(ROOT, "config", "qscale.yaml"),
    "defaults": variant(tmp, "defaults", lambda s: re.sub(r"(?ms)^behavior:.*\Z", "", s)),
}
for case, (p99_before, fargate_before) in BEFORE.items():
    trace = None if case == "spike.yaml" else case
    for name, config in configs.items():
        r, err = run(config, trace)
        if r is None:
            t.ok(False, f"{case}, {name}: simulate runs", err)
            continue
        tot = r["total"]
        days = r["duration_s"] / 86400.0
        if days >= 1:
            t.ok(tot["scaling_actions"] / days <= 150,
                 f"{case}, {name}: at most 150 scaling actions a day",
                 tot["scaling_actions"] / days)
        t.ok(tot["fargate_task_hours"] <= fargate_before / 2 + 1e-9,
             f"{case}, {name}: Fargate task-hours at most half of before ({fargate_before})",
             tot["fargate_task_hours"])
        t.ok(tot["wait_p99_s"] <= p99_before * 1.1,
             f"{case}, {name}: p99 no worse than before ({p99_before} s) + 10%", tot["wait_p99_s"])

# The model is what the spike's goal rests on: without a processing time
# the burst is sized like local tasks and overshoots while its tasks start.
plain = variant(tmp, "plain", lambda s: re.sub(r"(?m)^  processing_time:.*\n", "", s))
r, err = run(plain, None)
t.ok(r is not None and r["total"]["fargate_task_hours"] > BEFORE["spike.yaml"][1] / 2,
     "without target.processing_time the spike needs more than half the Fargate time of before",
     r["total"] if r else err)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
