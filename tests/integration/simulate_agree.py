#!/usr/bin/env python3
"""`qscale simulate` and `qscale run` against `qscale emulate` (sped up ten
times) take the same scaling decisions on the same scenario
(tests/data/simulate/agree.yaml).

Both run the same policy: the daemon's durations in wall-clock time (interval
1s, windows of seconds), the simulator's the same durations times ten in
world time, since the emulator's world moves ten times faster than the wall
clock. The simulator lists every UpdateService it made (--updates --json);
the emulator's admin API lists those the daemon made. Each gives a desired
count per service over world time. They agree when at every second the
daemon's count lies within the simulator's counts over a window of three
intervals plus the daemon's start-up offset either side (the timing jitter:
the daemon starts a moment after the emulator and its cycles land a few
hundred world milliseconds apart; during a steep spike those milliseconds of
world time are messages and work in progress the simulator's cycle did not
see yet, and one decision a cycle earlier or later moves the rate-limit
periods and windows after it by a cycle too), when both reach the same
peaks, and when both end at the same counts."""

import json
import os
import shutil
import subprocess
import tempfile

from run_common import BINARY, DATA, Daemon, Emulator, Tap, updates, watchdog

SPEED = 10
DURATION_S = 300
LOCAL, BURST = "order-processor", "order-processor-fargate"

POLICY = """name: orders
interval: {interval}
max_data_age: {age}
queue:
  url: https://sqs.us-east-1.amazonaws.com/123456789012/orders
target:
  backlog_per_task: 50
local:
  cluster: onprem
  service: order-processor
  min_tasks: 1
  max_tasks: {local_max}
  instance_filter: "attribute:site == dc1"
  reserve: {{cpu: 0, memory: 256}}
burst:
  cluster: cloud
  service: order-processor-fargate
  max_tasks: {burst_max}
behavior:
  scale_out: {{stabilization: 0s, period: {period}, max_tasks: {out_tasks}, max_percent: 0}}
  scale_in: {{stabilization: {stab}, period: {period}, max_tasks: 0, max_percent: 0}}
"""

# The cases: scenario file, the policy's maxima and scale-out limit, the counts at t=0.
CASES = [
    {"name": "spike", "scenario": "agree.yaml", "local_max": 20, "burst_max": 40, "out_tasks": 0,
     "period": 10, "start": {LOCAL: 4, BURST: 0}, "burst_used": True},
    {"name": "safety", "scenario": "agree-safety.yaml", "local_max": 20, "burst_max": 5,
     "out_tasks": 4, "period": 25, "start": {LOCAL: 25, BURST: 9}, "burst_used": False},
]
policy_case = CASES[0]


def policy(scale):
    """The policy with every duration (in tenths of a second of wall time) times scale."""
    c = policy_case
    ms = lambda tenths: f"{tenths * 100 * scale}ms"  # noqa: E731
    return POLICY.format(interval=ms(10), age=ms(30), period=ms(c["period"]), stab=ms(30),
                         local_max=c["local_max"], burst_max=c["burst_max"], out_tasks=c["out_tasks"])


def simulate(scenario):
    """The simulator's UpdateService list, in world time."""
    folder = tempfile.mkdtemp(prefix="qscale-simulate-")
    os.mkdir(os.path.join(folder, "policies.d"))
    with open(os.path.join(folder, "policies.d", "orders.yaml"), "w", encoding="utf-8") as f:
        f.write(policy(SPEED))
    config = os.path.join(folder, "qscale.yaml")
    with open(config, "w", encoding="utf-8") as f:
        f.write("region: us-east-1\nmetrics: {listen: ''}\naws: {timeout: 10s}\n"
                "policies_dir: policies.d\n")
    p = subprocess.run([BINARY, "simulate", "-c", config, "--scenario", scenario, "--duration",
                        f"{DURATION_S}s", "--json", "--updates", "--no-progress"],
                       capture_output=True, timeout=120, text=True)
    shutil.rmtree(folder, ignore_errors=True)
    if p.returncode != 0:
        return None, p.stderr
    run = json.loads(p.stdout)["runs"][0]
    return run["updates"], run


def trajectory(ups, service, start):
    """[(t_ms, desired)] of one service, starting from its scenario count."""
    out = [(0, start)]
    for u in sorted((u for u in ups if u["service"] == service), key=lambda u: u["t_ms"]):
        out.append((u["t_ms"], u["to"]))
    return out


def at(traj, t_ms):
    """The desired count at t_ms."""
    value = traj[0][1]
    for when, to in traj:
        if when > t_ms:
            break
        value = to
    return value


def disagreements(sim, run, window_ms, end_ms):
    """Seconds at which the daemon's count is outside the simulator's over the window."""
    bad = []
    for t in range(0, end_ms, 1000):
        seen = [at(sim, s) for s in range(max(0, t - window_ms), t + window_ms + 1, 500)]
        # Near the start the window reaches back before t=0: the scenario's own count.
        if t < window_ms:
            seen.append(sim[0][1])
        lo, hi = min(seen), max(seen)
        value = at(run, t)
        if not lo <= value <= hi:
            bad.append((t, value, lo, hi))
    return bad


watchdog(280)
t = Tap()
p = subprocess.run([BINARY, "run", "--help"], capture_output=True, timeout=30)
if p.returncode != 0:
    print("1..0 # SKIP this qscale has no run command")
    raise SystemExit(0)


def limit_breaches(ups, service, start, period_ms, limit):
    """Updates adding more than limit to the count one period earlier (HPA's period
    start), judged leniently: the highest count over a fifth of a period either side."""
    traj = trajectory(ups, service, start)
    bad = []
    for when, to in traj[1:]:
        base = max(at(traj, s) for s in range(max(0, when - period_ms * 12 // 10),
                                                max(0, when - period_ms * 8 // 10) + 1, 100))
        if to > base + limit:
            bad.append((when, to, base))
    return bad


def agree(case):
    global policy_case
    policy_case = case
    name = case["name"]
    scenario = os.path.join(DATA, "simulate", case["scenario"])
    sim_ups, sim_run = simulate(scenario)
    t.ok(sim_ups is not None, f"{name}: qscale simulate runs the scenario",
         sim_run if sim_ups is None else None)
    if sim_ups is None:
        return
    with open(scenario, encoding="utf-8") as f:
        scenario_text = f.read()
    with Emulator(scenario_text, speed=SPEED) as em, Daemon(em, policy_text=policy(1)) as d:
        t.ok(d.metrics_url is not None, f"{name}: qscale run starts against the emulator",
             d.text()[-2000:])
        # Let the daemon go through the whole scenario (world time = wall time x SPEED).
        d.wait(lambda: em.admin("/_qscale/state")["t_ms"] >= DURATION_S * 1000, DURATION_S / SPEED + 20)
        d.stop()
        run_ups = [u for u in updates(em) if u["t_ms"] <= DURATION_S * 1000]

    t.ok(len(run_ups) > 0, f"{name}: the daemon scaled through the emulator")
    for service, start in case["start"].items():
        sim = trajectory(sim_ups, service, start)
        run = trajectory(run_ups, service, start)
        # The daemon's first cycle comes a moment after the emulator started: that offset is jitter too.
        offset = run[1][0] if len(run) > 1 else 0
        window = 3 * 10000 + min(offset, 10000)
        print(f"# {name} {service} simulate (t_ms, desired): {sim}", flush=True)
        print(f"# {name} {service} run+emulate (t_ms, desired): {run}", flush=True)
        bad = disagreements(sim, run, window, DURATION_S * 1000)
        t.ok(not bad, f"{name} {service}: the daemon's counts follow the simulator's within the jitter",
             {"disagree (t, run, sim lo, sim hi)": bad[:10], "sim": sim, "run": run})
        t.ok(max(v for _, v in sim) == max(v for _, v in run),
             f"{name} {service}: both reach the same peak ({max(v for _, v in sim)})",
             {"sim": sim, "run": run})
        t.ok(at(sim, DURATION_S * 1000) == at(run, DURATION_S * 1000),
             f"{name} {service}: both end at the same count", {"sim": sim, "run": run})
        top = case["local_max"] if service == LOCAL else case["burst_max"]
        t.ok(all(u["to"] <= top for u in sim_ups + run_ups if u["service"] == service),
             f"{name} {service}: neither sets a count above its maximum")
        if case["out_tasks"] > 0:
            period_ms = case["period"] * 100 * SPEED
            bad = (limit_breaches(sim_ups, service, start, period_ms, case["out_tasks"]),
                   limit_breaches(run_ups, service, start, period_ms, case["out_tasks"]))
            t.ok(bad == ([], []),
                 f"{name} {service}: both keep the scale-out limit over the applied counts", bad)
    if case["burst_used"]:
        t.ok(any(u["service"] == BURST and u["to"] > 0 for u in sim_ups),
             f"{name}: the scenario exercises burst in the simulator")


for case in CASES:
    agree(case)
t.done()
