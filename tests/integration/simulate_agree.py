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
daemon's count lies within the simulator's counts over a window of two
intervals plus the daemon's start-up offset either side (the timing jitter:
the daemon starts a moment after the emulator and its cycles land a few
hundred world milliseconds apart), when both reach the same peaks, and when
both end at the same counts."""

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
  max_tasks: 20
  instance_filter: "attribute:site == dc1"
  reserve: {{cpu: 0, memory: 256}}
burst:
  cluster: cloud
  service: order-processor-fargate
  max_tasks: 40
behavior:
  scale_out: {{stabilization: 0s, period: {period}, max_tasks: 0, max_percent: 0}}
  scale_in: {{stabilization: {stab}, period: {period}, max_tasks: 0, max_percent: 0}}
"""


def policy(scale):
    """The policy with every duration (in tenths of a second of wall time) times scale."""
    ms = lambda tenths: f"{tenths * 100 * scale}ms"  # noqa: E731
    return POLICY.format(interval=ms(10), age=ms(30), period=ms(10), stab=ms(30))


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
        lo = min(at(sim, s) for s in range(max(0, t - window_ms), t + window_ms + 1, 500))
        hi = max(at(sim, s) for s in range(max(0, t - window_ms), t + window_ms + 1, 500))
        value = at(run, t)
        if not lo <= value <= hi:
            bad.append((t, value, lo, hi))
    return bad


watchdog(200)
t = Tap()
p = subprocess.run([BINARY, "run", "--help"], capture_output=True, timeout=30)
if p.returncode != 0:
    print("1..0 # SKIP this qscale has no run command")
    raise SystemExit(0)
scenario = os.path.join(DATA, "simulate", "agree.yaml")
sim_ups, sim_run = simulate(scenario)
t.ok(sim_ups is not None, "qscale simulate runs the scenario", sim_run if sim_ups is None else None)
if sim_ups is None:
    t.done()

with open(scenario, encoding="utf-8") as f:
    scenario_text = f.read()
with Emulator(scenario_text, speed=SPEED) as em, Daemon(em, policy_text=policy(1)) as d:
    t.ok(d.metrics_url is not None, "qscale run starts against the emulator", d.text()[-2000:])
    # Let the daemon go through the whole scenario (world time = wall time x SPEED).
    d.wait(lambda: em.admin("/_qscale/state")["t_ms"] >= DURATION_S * 1000, DURATION_S / SPEED + 20)
    d.stop()
    run_ups = [u for u in updates(em) if u["t_ms"] <= DURATION_S * 1000]

t.ok(len(run_ups) > 0, "the daemon scaled through the emulator")
for service, start in ((LOCAL, 4), (BURST, 0)):
    sim = trajectory(sim_ups, service, start)
    run = trajectory(run_ups, service, start)
    # The daemon's first cycle comes a moment after the emulator started: that offset is jitter too.
    offset = run[1][0] if len(run) > 1 else 0
    window = 2 * 10000 + min(offset, 10000)
    print(f"# {service} simulate (t_ms, desired): {sim}", flush=True)
    print(f"# {service} run+emulate (t_ms, desired): {run}", flush=True)
    bad = disagreements(sim, run, window, DURATION_S * 1000)
    t.ok(not bad, f"{service}: the daemon's counts follow the simulator's within the jitter",
         {"disagree (t, run, sim lo, sim hi)": bad[:10], "sim": sim, "run": run})
    t.ok(max(v for _, v in sim) == max(v for _, v in run),
         f"{service}: both reach the same peak ({max(v for _, v in sim)})", {"sim": sim, "run": run})
    t.ok(at(sim, DURATION_S * 1000) == at(run, DURATION_S * 1000),
         f"{service}: both end at the same count", {"sim": sim, "run": run})
t.ok(any(u["service"] == BURST and u["to"] > 0 for u in sim_ups),
     "the scenario exercises burst in the simulator")
t.done()
