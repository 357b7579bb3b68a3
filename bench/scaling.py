#!/usr/bin/env python3
"""Scaling quality of qscale over the shipped traffic, and over other traffic.

For the shipped spike scenario alone and with each trace in config/traces/
(plus, with --other, traces the generator writes for other seeds and rates),
runs `qscale simulate --compare --json --updates` with:

  shipped     config/policies.d/orders.yaml as it is
  defaults    the same with its `behavior` section removed
  old-rule    the sizing rule before the work-in-progress term, as the
              example was then: target.concurrency 0, no burst window of its
              own (burst.scale_in_stabilization 1h, above the scale-in
              window, is unused) and the old behaviour
              (scale_in {max_tasks: 5, max_percent: 100} reproduces the
              limit that never bound); old-rule-defaults: with the
              behaviour defaults as they were then (HPA's)

and prints one row per run: p99 and max wait, Fargate task-hours and cost,
task starts (every raise of a desired count starts that many tasks) and
scaling actions, per run and per simulated day. --baseline adds the
target-tracking baseline's row (the same for every policy variant).

    bench/scaling.py build/qscale [--baseline] [--markdown] [--other] [--variants a,b]
"""
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OLD_BEHAVIOR = """behavior:
  scale_out: {stabilization: 0s, period: 15s, max_tasks: 10, max_percent: 100}
  scale_in:  {stabilization: 300s, period: 60s, max_tasks: 5, max_percent: 100}
"""
# the behaviour defaults as they were (HPA's), written out
OLD_DEFAULTS = """behavior:
  scale_out: {stabilization: 0s, period: 15s, max_tasks: 4, max_percent: 100}
  scale_in:  {stabilization: 300s, period: 15s, max_tasks: 0, max_percent: 100}
"""


def strip_behavior(text):
    return re.sub(r"^behavior:\n(?:[ \t]+.*\n?)*", "", text, flags=re.M)


def variant_policy(name):
    pol = open(os.path.join(ROOT, "config", "policies.d", "orders.yaml")).read()
    if name == "shipped":
        return pol
    if name == "defaults":
        return strip_behavior(pol)
    old = re.sub(r"^  concurrency: .*\n", "  concurrency: 0\n", pol, flags=re.M)
    # no burst window of its own: the burst left with the scale-in window
    old = re.sub(r"^  scale_in_stabilization: .*\n", "  scale_in_stabilization: 1h\n", old,
                 flags=re.M)
    old = strip_behavior(old)
    return old + (OLD_BEHAVIOR if name == "old-rule" else OLD_DEFAULTS)


def config_for(tmp, name):
    d = os.path.join(tmp, name)
    os.makedirs(os.path.join(d, "policies.d"))
    with open(os.path.join(d, "policies.d", "orders.yaml"), "w") as f:
        f.write(variant_policy(name))
    with open(os.path.join(d, "qscale.yaml"), "w") as f:
        f.write(open(os.path.join(ROOT, "config", "qscale.yaml")).read())
    return os.path.join(d, "qscale.yaml")


def cases(qscale, tmp, other):
    scen = os.path.join(ROOT, "config", "scenarios", "spike.yaml")
    out = [("spike.yaml", scen, None)]
    tdir = os.path.join(ROOT, "config", "traces")
    for t in sorted(os.listdir(tdir)):
        if t.endswith(".csv"):
            out.append((t, scen, os.path.join(tdir, t)))
    if other:
        gens = [("flash-sale seed 2", ["diurnal-flash-sale", "--seed", "2"]),
                ("flash-sale seed 3 x1.5", ["diurnal-flash-sale", "--seed", "3",
                                             "--trace-rate", "30"]),
                ("weekday seed 4 (no sale)", ["diurnal-flash-sale", "--seed", "4",
                                              "--trace-rate", "12"]),
                ("busy week seed 2", ["quiet-week", "--seed", "2", "--trace-rate",
                                      "10", "--trace-row", "60s"])]
        for name, args in gens:
            path = os.path.join(tmp, re.sub(r"\W+", "-", name) + ".csv")
            subprocess.run([qscale, "simulate", "--generate-trace"] + args +
                           ["-o", path], check=True, capture_output=True)
            out.append((name, scen, path))
    return out


def starts(updates, service):
    return sum(u["to"] - u["from"] for u in updates
               if u["service"] == service and u["to"] > u["from"])


def run(qscale, cfg, scen, trace):
    cmd = [qscale, "simulate", "-c", cfg, "--scenario", scen, "--compare",
           "--json", "--updates", "--no-progress"]
    if trace:
        cmd += ["--trace", trace]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True,
                                     text=True).stdout)


def cells(case, variant, r):
    t = r["total"]
    day = 86400.0 / r["duration_s"]
    ups = r.get("updates", [])
    return (case, variant, r["mode"], "%.1f" % t["wait_p99_s"], "%.1f" % t["wait_max_s"],
            "%.2f" % t["fargate_task_hours"], "%.2f" % t["fargate_cost"],
            "%d" % starts(ups, "order-processor"),
            "%d" % starts(ups, "order-processor-fargate"),
            "%d" % t["scaling_actions"], "%.0f" % (t["scaling_actions"] * day))


def main():
    args = sys.argv[1:]
    qscale = args[0]
    md = "--markdown" in args
    variants = ["shipped", "defaults", "old-rule", "old-rule-defaults"]
    if "--variants" in args:
        variants = args[args.index("--variants") + 1].split(",")
    hdr = ("case", "policy", "scaler", "p99 s", "max s", "Fargate h", "cost $",
           "on-prem starts", "Fargate starts", "actions", "actions/day")
    fmt = "%-26s %-18s %-16s %7s %7s %9s %7s %8s %8s %8s %8s"
    if md:
        print("| " + " | ".join(hdr) + " |")
        print("|" + "---|" * len(hdr))
    else:
        print(fmt % hdr)
    with tempfile.TemporaryDirectory() as tmp:
        cfgs = [(v, config_for(tmp, v)) for v in variants]
        for name, scen, trace in cases(qscale, tmp, "--other" in args):
            for i, (vname, cfg) in enumerate(cfgs):
                for r in run(qscale, cfg, scen, trace)["runs"]:
                    if r["mode"] == "static-max":
                        continue
                    if r["mode"] != "qscale" and ("--baseline" not in args or i > 0):
                        continue
                    row = cells(name, vname if r["mode"] == "qscale" else "AWS only", r)
                    print(("| " + " | ".join(row) + " |") if md else fmt % row)


if __name__ == "__main__":
    main()
