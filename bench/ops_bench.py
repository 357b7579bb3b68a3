#!/usr/bin/env python3
"""End-to-end benchmarks of `qscale run` against `qscale emulate` on loopback.

  reaction  time from a backlog jump to the UpdateService call it causes
  scale     resident memory, CPU time per cycle per policy, and AWS calls per
            cycle against their lower bound, for 1, 100 and 1,000 policies

usage: ops_bench.py reaction QSCALE [--trials N] [--interval S]
       ops_bench.py scale QSCALE [--policies 1,100,1000] [--interval S] [--cycles N]

Numbers go to stdout as Markdown table rows (bench/README.md has the
commands and the results). Only 127.0.0.1 is used; every process started is
stopped at the end. Never run as a test.
"""

import argparse
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

KEY = "AKIDQSCALEBENCH"
SECRET = "qscale-bench-secret"
ACCOUNT = "123456789012"


class Procs:
    """The emulator and the daemon of one measurement; stopped on exit."""

    def __init__(self, qscale, scenario_text, config_text, speed=1):
        self.qscale = qscale
        self.dir = tempfile.mkdtemp(prefix="qscale-bench-")
        self.scenario = os.path.join(self.dir, "scenario.yaml")
        self.config = os.path.join(self.dir, "qscale.yaml")
        with open(self.scenario, "w", encoding="utf-8") as f:
            f.write(scenario_text)
        with open(self.config, "w", encoding="utf-8") as f:
            f.write(config_text)
        self.emu_err = open(os.path.join(self.dir, "emulate.log"), "wb")
        self.emu = subprocess.Popen(
            [qscale, "emulate", "--scenario", self.scenario, "--listen", "127.0.0.1:0",
             "--speed", str(speed)], stdout=subprocess.PIPE, stderr=self.emu_err)
        line = self.emu.stdout.readline().decode()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("emulate did not start: " + line + self.log("emulate.log"))
        self.url = line[len("listening on "):].strip()
        self.run = None

    def start_run(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ENDPOINT_URL": self.url, "AWS_ACCESS_KEY_ID": KEY,
                    "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_EC2_METADATA_DISABLED": "true",
                    "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
        self.run_err = open(os.path.join(self.dir, "run.log"), "wb")
        self.run = subprocess.Popen([self.qscale, "run", "-c", self.config], env=env,
                                    stderr=self.run_err)
        self.run_started = time.time()

    def log(self, name):
        try:
            with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def admin(self, path):
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())

    def stop(self):
        for p in (self.run, self.emu):
            if p is not None and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


# --- reaction ---------------------------------------------------------------

def reaction_scenario(jump_ms):
    # 1,000 messages arrive within 5 ms at jump_ms; nothing is processed meanwhile.
    return f"""region: us-east-1
account_id: "{ACCOUNT}"
credentials: {{access_key_id: {KEY}, secret_access_key: {SECRET}}}
startup: {{onprem: 1s, fargate: 10s}}
queues:
  - name: jobs
    arrivals:
      segments:
        - {{at: 0s, rate: 0}}
        - {{at: {jump_ms}ms, rate: 200000/s}}
        - {{at: {jump_ms + 5}ms, rate: 0}}
clusters:
  - name: onprem
    instances:
      - {{count: 4, cpu: 4096, memory: 8192}}
task_definitions:
  - {{family: worker, revision: 1, cpu: "256", memory: "512", network_mode: bridge,
     requires_compatibilities: [EXTERNAL], containers: [{{name: w, memory: 512}}]}}
services:
  - {{name: worker, cluster: onprem, launch_type: EXTERNAL, task_definition: worker:1,
     desired: 1, queue: jobs, messages_per_task: 0.001/s}}
"""


def reaction_config(interval_s):
    return f"""region: us-east-1
interval: {interval_s}s
metrics: {{listen: ""}}
aws: {{timeout: 2s}}
policies:
  - name: jobs
    queue: {{url: 'https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/jobs'}}
    target: {{backlog_per_task: 100}}
    local: {{cluster: onprem, service: worker, min_tasks: 1, max_tasks: 20,
             reserve: {{cpu: 0, memory: 0}}}}
    behavior:
      scale_out: {{stabilization: 0s, max_tasks: 0, max_percent: 0}}
"""


def bench_reaction(args):
    interval = args.interval
    rows = []
    for k in range(args.trials):
        # Spread the jumps over one interval so every phase of the poll is met.
        jump_ms = 8000 + int(k * interval * 1000 / args.trials) + 137
        with Procs(args.qscale, reaction_scenario(jump_ms), reaction_config(interval)) as p:
            p.start_run()
            deadline = time.time() + jump_ms / 1000 + interval + 10
            update = None
            while time.time() < deadline and update is None:
                time.sleep(0.5)
                ups = p.admin("/_qscale/updates")["updates"]
                update = next((u for u in ups if u["service"] == "worker" and u["to"] > 1), None)
            state = p.admin("/_qscale/state")
            reqs = p.admin("/_qscale/requests")["requests"]
            if update is None:
                rows.append((k, jump_ms, None, None, None))
                print(f"trial {k}: no UpdateService; run log:\n{p.log('run.log')}", file=sys.stderr)
                continue
            # World time runs with the wall clock (speed 1): map the jump to wall ms.
            jump_wall = state["wall_ms"] - (state["t_ms"] - jump_ms)
            seen = next((r for r in reqs if r["target"].endswith("GetQueueAttributes")
                         and r["wall_ms"] >= jump_wall), None)
            seen_wall = seen["wall_ms"] if seen else None
            rows.append((k, jump_ms, update["wall_ms"] - jump_wall,
                         None if seen_wall is None else seen_wall - jump_wall,
                         None if seen_wall is None else update["wall_ms"] - seen_wall))
    print(f"| trial | jump at (ms) | jump -> UpdateService (ms) | jump -> first GetQueueAttributes "
          f"(ms) | that answer -> UpdateService (ms) |")
    print("|---|---|---|---|---|")
    for k, j, total, poll, act in rows:
        print(f"| {k} | {j} | {total} | {poll} | {act} |")
    ok = [r[2] for r in rows if r[2] is not None]
    if ok:
        print(f"\ninterval {interval} s: max {max(ok)} ms, mean {sum(ok) / len(ok):.0f} ms; target "
              f"<= {interval * 1000 + 1000} ms: {'met' if max(ok) <= interval * 1000 + 1000 else 'MISSED'}"
              f" ({len(ok)}/{len(rows)} trials scaled)")


# --- scale ------------------------------------------------------------------

def scale_layout(n):
    clusters = max(1, math.ceil(n / 100))
    return clusters, 20  # clusters, instances per cluster


def scale_scenario(n):
    clusters, per = scale_layout(n)
    out = [f'region: us-east-1\naccount_id: "{ACCOUNT}"\n'
           f"credentials: {{access_key_id: {KEY}, secret_access_key: {SECRET}}}\n"
           "startup: {onprem: 1s, fargate: 10s}\nqueues:\n"]
    out += [f"  - {{name: q{i}}}\n" for i in range(n)]
    out.append("clusters:\n")
    out += [f"  - name: c{c}\n    instances: [{{count: {per}, cpu: 16384, memory: 65536}}]\n"
            for c in range(clusters)]
    out.append('task_definitions:\n  - {family: worker, revision: 1, cpu: "128", memory: "256",'
               " network_mode: bridge, requires_compatibilities: [EXTERNAL],"
               " containers: [{name: w, memory: 256}]}\nservices:\n")
    out += [f"  - {{name: s{i}, cluster: c{i % clusters}, launch_type: EXTERNAL,"
            f" task_definition: worker:1, desired: 1, queue: q{i}, messages_per_task: 1/s}}\n"
            for i in range(n)]
    return "".join(out)


def scale_config(n, interval_s):
    clusters, _ = scale_layout(n)
    out = [f'region: us-east-1\ninterval: {interval_s}s\nmetrics: {{listen: ""}}\n'
           "log: {level: warn}\naws: {timeout: 5s}\npolicies:\n"]
    out += [f"  - name: p{i}\n"
            f"    queue: {{url: 'https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/q{i}'}}\n"
            f"    target: {{backlog_per_task: 10}}\n"
            f"    local: {{cluster: c{i % clusters}, service: s{i}, min_tasks: 1, max_tasks: 5,"
            f" reserve: {{cpu: 0, memory: 0}}}}\n"
            for i in range(n)]
    return "".join(out)


def proc_status(pid):
    vals = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                vals[k] = int(v.split()[0])
    return vals


def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat", encoding="ascii") as f:
        return int(f.read().split()[0])


def split_cycles(reqs, gap_ms):
    """Group requests into cycles: a new cycle starts after a quiet gap."""
    cycles, cur, last = [], [], None
    for r in reqs:
        if last is not None and r["wall_ms"] - last > gap_ms:
            cycles.append(cur)
            cur = []
        cur.append(r)
        last = r["wall_ms"]
    if cur:
        cycles.append(cur)
    return cycles


def lower_bound(n):
    clusters, per = scale_layout(n)
    services = [sum(1 for i in range(n) if i % clusters == c) for c in range(clusters)]
    return {
        "GetQueueAttributes": n,
        "DescribeServices": sum(math.ceil(s / 10) for s in services),
        "ListContainerInstances": clusters * math.ceil(per / 100),
        "DescribeContainerInstances": clusters * math.ceil(per / 100),
        "DescribeTaskDefinition": 0,
        "UpdateService": 0,
    }


def bench_scale(args):
    sizes = [int(s) for s in args.policies.split(",")]
    interval = args.interval
    mem_rows, call_rows = [], []
    for n in sizes:
        with Procs(args.qscale, scale_scenario(n), scale_config(n, interval)) as p:
            p.start_run()
            pid = p.run.pid
            # Skip the first cycle (task definition fetch, allocations of the first run).
            time.sleep(interval + 2)
            if p.run.poll() is not None:
                raise RuntimeError(f"qscale run exited: {p.log('run.log')}")
            total0 = p.admin("/_qscale/requests")["total"]
            cpu0 = cpu_ns(pid)
            t0 = time.time()
            time.sleep(interval * args.cycles)
            cpu1 = cpu_ns(pid)
            t1 = time.time()
            status = proc_status(pid)
            reqs = p.admin("/_qscale/requests")
            done = reqs["total"] - total0
            gqa = [r for r in reqs["requests"] if r["target"].endswith("GetQueueAttributes")
                   and r["wall_ms"] >= t0 * 1000 and r["wall_ms"] < t1 * 1000]
            cycles = max(1, round(len(gqa) / n)) if len(reqs["requests"]) >= done else None
            if cycles is None:
                # The log keeps 4096 requests: count GetQueueAttributes over the whole window.
                cycles = max(1, round(args.cycles))
            per_cycle_ms = (cpu1 - cpu0) / 1e6 / cycles
            mem_rows.append((n, status["VmRSS"], status["VmHWM"], cycles, per_cycle_ms,
                             per_cycle_ms * 1000 / n))
            # Calls per cycle: the complete cycles among the last 4096 requests.
            groups = split_cycles(reqs["requests"], gap_ms=interval * 1000 // 2)
            full = groups[1:-1] if len(groups) > 2 else groups
            counts = {}
            for g in full:
                for r in g:
                    op = r["target"].split(".")[-1]
                    counts[op] = counts.get(op, 0) + 1
            per_cycle = {op: c / max(1, len(full)) for op, c in counts.items()}
            ups = p.admin("/_qscale/updates")["total"]
            call_rows.append((n, len(full), per_cycle, lower_bound(n), ups,
                              sum(1 for r in reqs["requests"] if r["status"] != 200)))
    print("| policies | VmRSS (KiB) | VmHWM (KiB) | cycles measured | CPU per cycle (ms) | "
          "CPU per cycle per policy (µs) |")
    print("|---|---|---|---|---|---|")
    for n, rss, hwm, cyc, ms, us in mem_rows:
        print(f"| {n} | {rss} | {hwm} | {cyc} | {ms:.2f} | {us:.1f} |")
    print()
    ops = ["GetQueueAttributes", "DescribeServices", "ListContainerInstances",
           "DescribeContainerInstances", "DescribeTaskDefinition", "UpdateService"]
    print("| policies | cycles | " + " | ".join(f"{o} (bound)" for o in ops) +
          " | UpdateService total | non-200 |")
    print("|---|---|" + "---|" * len(ops) + "---|---|")
    for n, cyc, per, bound, ups, bad in call_rows:
        cells = [f"{per.get(o, 0):g} ({bound[o]})" for o in ops]
        print(f"| {n} | {cyc} | " + " | ".join(cells) + f" | {ups} | {bad} |")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("reaction")
    r.add_argument("qscale")
    r.add_argument("--trials", type=int, default=5)
    r.add_argument("--interval", type=int, default=5)
    s = sub.add_parser("scale")
    s.add_argument("qscale")
    s.add_argument("--policies", default="1,100,1000")
    s.add_argument("--interval", type=int, default=10)
    s.add_argument("--cycles", type=int, default=3)
    args = ap.parse_args()
    if args.cmd == "reaction":
        bench_reaction(args)
    else:
        bench_scale(args)


if __name__ == "__main__":
    main()
