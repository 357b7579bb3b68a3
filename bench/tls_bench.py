#!/usr/bin/env python3
"""qscale against a Python + botocore loop, in one run, over HTTPS and plain
HTTP, on the same emulator scenario.

For each number of policies and each transport, it starts `qscale emulate`
(with --tls, a private CA that both clients trust through AWS_CA_BUNDLE),
then runs `qscale run` for DURATION seconds, then bench/botocore_loop.py
(Debian's python3-botocore) for DURATION seconds against the same emulator,
both with the same policies (ops_bench.py's scale layout: N queues and
services, ceil(N/100) clusters of 20 instances, steady state) and interval.
For each it prints peak RSS (VmHWM), CPU seconds (user + system of every
thread over the whole run, start-up included), cycles and cycles missed, AWS requests per
cycle and new TLS handshakes per cycle after the first (both counted by the
emulator), and the ratios qscale / botocore.

usage: tls_bench.py QSCALE [--policies 1,100,1000] [--interval S] [--duration S]
                          [--transports tls,plain] [--python /usr/bin/python3]
       tls_bench.py QSCALE --breakdown N [--connections 1,16,64]
       tls_bench.py QSCALE --callgrind OUT [--policies 100] [--duration 40]
       tls_bench.py QSCALE --strace OUT [--policies 100] [--duration 40]
       tls_bench.py QSCALE --perf-stat OUT [--policies 100] [--duration 40]
       tls_bench.py QSCALE --phases [--policies 100] [--duration 60]

--callgrind runs only `qscale run` (the first --policies value, the first
transport) under `valgrind --tool=callgrind`, writes the profile to OUT and
prints the AWS requests and TLS handshakes the emulator saw: instruction
counts per request do not depend on the load of the machine, CPU seconds do.

--strace does the same under `strace -f -c` (the kernel side, which
callgrind does not see): it writes strace's table to OUT and prints the
system calls per AWS request of the steady state: traced from the end of
the first cycle (start-up and the first cycle's handshakes left out) for
about --duration, to halfway between two cycles, with no metrics scrape.
--perf-stat does the same with `perf stat`: CPU time (task clock, user and
kernel together), context switches and page faults per AWS request.

--phases runs only `qscale run` (configured as for the comparison: metrics
listening, log level info, but never scraped) and samples its user and
system CPU in /proc every 20 ms against the requests the emulator has seen:
the CPU of the start-up (until the first request), of the first cycle (until
its requests are all answered: connections, handshakes, task definitions) and
of each later cycle, and what the whole run adds up to.

--breakdown runs only `qscale run` with N policies over TLS, once per
aws.max_connections value, and prints where its resident memory is: per
mapped file (or heap / anonymous), resident, private dirty and clean pages,
from /proc/PID/smaps two cycles in.

Only 127.0.0.1 is used; every process started is stopped. Never run as a test.
"""

import argparse
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ops_bench import KEY, SECRET, lower_bound, scale_config, scale_layout, scale_scenario  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """User and system CPU of the whole process: every thread, ended ones included
    (the botocore loop works on a thread pool, libcurl resolves on threads)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def hwm_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


class Emulator:
    """`qscale emulate` for one size and transport; the admin API's own
    connections are counted so that they can be taken off the clients'."""

    def __init__(self, qscale, folder, n, tls):
        self.scenario = os.path.join(folder, "scenario.yaml")
        with open(self.scenario, "w", encoding="utf-8") as f:
            f.write(scale_scenario(n))
        args = [qscale, "emulate", "--scenario", self.scenario, "--listen", "127.0.0.1:0"]
        self.ca = None
        if tls:
            self.ca = os.path.join(folder, "ca.pem")
            args += ["--tls", "--ca-out", self.ca]
        self.err = open(os.path.join(folder, "emulate.log"), "wb")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.err)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("listening on "):
            self.stop()
            raise RuntimeError("emulate did not start: " + line)
        self.url = line[len("listening on "):].strip()
        self.ctx = ssl.create_default_context(cafile=self.ca) if tls else None
        self.admin_calls = 0

    def counts(self):
        """(AWS requests, TLS handshakes, connections) so far, admin ones taken off."""
        with urllib.request.urlopen(self.url + "/_qscale/connections", timeout=30,
                                    context=self.ctx) as r:
            c = json.loads(r.read())
        self.admin_calls += 1
        tls = 1 if self.ctx is not None else 0
        return c["requests"], c["tls_handshakes"] - tls * self.admin_calls, \
            c["connections"] - self.admin_calls

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()


def client_env(em, folder):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ENDPOINT_URL": em.url, "AWS_ACCESS_KEY_ID": KEY,
                "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": os.path.join(folder, "none"),
                "AWS_SHARED_CREDENTIALS_FILE": os.path.join(folder, "none"),
                "HOME": folder})
    if em.ca:
        env["AWS_CA_BUNDLE"] = em.ca
    return env


def metric_sum(text, name):
    return sum(float(m.group(1)) for m in re.finditer(rf"^{name}(?:{{[^}}]*}})? (\S+)$", text, re.M))


def after_cycle(progress, at_least, deadline):
    """Wait until at_least cycles are done; returns (cycles, missed) right after one ended."""
    seen = progress()
    while seen[0] < at_least and time.monotonic() < deadline:
        time.sleep(0.02)
        seen = progress()
    return seen


def measure(proc, em, interval, duration, progress):
    """Run proc for about duration; progress() gives (cycles, missed) so far.

    Counts are read just after a cycle ends (the next is an interval away), so
    no cycle is half counted; the steady state starts after the first cycle
    (task definitions fetched, connections opened)."""
    start = time.monotonic()
    cyc0, _ = after_cycle(progress, 1, start + duration + 60)
    req0, hs0, conn0 = em.counts()
    time.sleep(max(0.0, duration - (time.monotonic() - start)))
    cycles, missed = after_cycle(progress, progress()[0] + 1, time.monotonic() + 2 * interval + 60)
    req1, hs1, conn1 = em.counts()
    cpu, hwm = cpu_s(proc.pid), hwm_kib(proc.pid)
    later = max(1, cycles - cyc0)
    return {"rss_kib": hwm, "cpu_s": cpu, "cycles": cycles, "missed": missed,
            "requests_per_cycle": (req1 - req0) / later, "handshakes_first": hs0,
            "handshakes_per_cycle": (hs1 - hs0) / later,
            "connections_per_cycle": (conn1 - conn0) / later}


def write_run_config(folder, n, interval):
    """The comparison's qscale.yaml: metrics listening and log level info, as a daemon runs."""
    config = scale_config(n, interval).replace('metrics: {listen: ""}',
                                               "metrics: {listen: 127.0.0.1:0}")
    config = config.replace("log: {level: warn}", "log: {level: info}")
    path = os.path.join(folder, "qscale.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(config)
    return path


def run_qscale(qscale, em, folder, n, interval, duration):
    path = write_run_config(folder, n, interval)
    log_path = os.path.join(folder, "run.log")
    log = open(log_path, "wb")
    proc = subprocess.Popen([qscale, "run", "-c", path], env=client_env(em, folder), stderr=log)
    metrics = [None]

    def progress():
        if metrics[0] is None:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                m = re.search(r"metrics=(http://\S+/metrics)", f.read())
            if not m:
                return 0, 0
            metrics[0] = m.group(1)
        with urllib.request.urlopen(metrics[0], timeout=30) as r:
            text = r.read().decode()
        return (int(metric_sum(text, "qscale_cycles_total")),
                int(metric_sum(text, "qscale_policy_cycles_missed_total")))

    try:
        r = measure(proc, em, interval, duration, progress)
        if proc.poll() is not None:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                raise RuntimeError(f"qscale run exited {proc.returncode}: {f.read()[-2000:]}")
        return r
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        log.close()


def run_botocore(python, em, folder, n, interval, duration):
    clusters, _ = scale_layout(n)
    proc = subprocess.Popen([python, os.path.join(HERE, "botocore_loop.py"), str(n), str(clusters),
                             str(interval), str(duration + 3 * interval)],
                            env=client_env(em, folder), stdout=subprocess.PIPE,
                            stderr=open(os.path.join(folder, "botocore.log"), "wb"))
    last = [{"cycles": 0, "missed": 0}]

    def reader():
        for line in proc.stdout:
            last[0] = json.loads(line)

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    try:
        r = measure(proc, em, interval, duration, lambda: (last[0]["cycles"], last[0]["missed"]))
        if proc.poll() is not None:
            raise RuntimeError(f"the botocore loop exited {proc.returncode} (see botocore.log)")
        return r
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def row(n, transport, name, r, bound):
    return (f"| {n} | {transport} | {name} | {r['rss_kib'] / 1024:.1f} | {r['cpu_s']:.2f} | "
            f"{r['cycles']} | {r['missed']} | {r['requests_per_cycle']:.1f} ({bound}) | "
            f"{r['handshakes_first']} | {r['handshakes_per_cycle']:.2f} |")


def smaps(pid):
    """{mapping name: [Rss, Private_Dirty, clean]} in KiB."""
    agg, cur = {}, None
    with open(f"/proc/{pid}/smaps", encoding="utf-8", errors="replace") as f:
        for line in f:
            m = re.match(r"^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$", line)
            if m:
                cur = os.path.basename(m.group(1)) or "[anon]"
                agg.setdefault(cur, [0, 0, 0])
                continue
            k, _, v = line.partition(":")
            if k == "Rss":
                agg[cur][0] += int(v.split()[0])
            elif k == "Private_Dirty":
                agg[cur][1] += int(v.split()[0])
            elif k in ("Shared_Clean", "Private_Clean"):
                agg[cur][2] += int(v.split()[0])
    return agg


def breakdown(args):
    n = args.breakdown
    tables = []
    for conns in [int(c) for c in args.connections.split(",")]:
        folder = tempfile.mkdtemp(prefix="qscale-tlsbench-")
        em = Emulator(args.qscale, folder, n, True)
        try:
            config = scale_config(n, args.interval).replace(
                "aws: {timeout: 5s}", f"aws: {{timeout: 5s, max_connections: {conns}}}")
            path = os.path.join(folder, "qscale.yaml")
            with open(path, "w", encoding="utf-8") as f:
                f.write(config)
            proc = subprocess.Popen([args.qscale, "run", "-c", path], env=client_env(em, folder),
                                    stderr=subprocess.DEVNULL)
            time.sleep(2 * args.interval + 1)
            agg, hwm = smaps(proc.pid), hwm_kib(proc.pid)
            _, hs, conn = em.counts()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        finally:
            em.stop()
            shutil.rmtree(folder, ignore_errors=True)
        tables.append((conns, agg, hwm, conn))
    for conns, agg, hwm, conn in tables:
        total = [sum(v[i] for v in agg.values()) for i in range(3)]
        print(f"{n} policies over TLS, aws.max_connections {conns}: {conn} connections, "
              f"VmHWM {hwm} KiB, resident {total[0]} KiB: {total[1]} KiB private dirty, "
              f"{total[2]} KiB clean (shared) file pages")
        print()
        print("| mapping | resident (KiB) | private dirty (KiB) | clean (KiB) |")
        print("|---|---|---|---|")
        rows = sorted(agg.items(), key=lambda kv: -kv[1][0])
        for name, (rss, dirty, clean) in rows[:args.top]:
            print(f"| {name} | {rss} | {dirty} | {clean} |")
        rest = rows[args.top:]
        print(f"| {len(rest)} others | {sum(v[0] for _, v in rest)} | "
              f"{sum(v[1] for _, v in rest)} | {sum(v[2] for _, v in rest)} |")
        print()


def callgrind(args):
    n = int(args.policies.split(",")[0])
    tls = args.transports.split(",")[0] == "tls"
    folder = tempfile.mkdtemp(prefix="qscale-tlsbench-")
    em = Emulator(args.qscale, folder, n, tls)
    try:
        path = os.path.join(folder, "qscale.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write(scale_config(n, args.interval))
        with open(os.path.join(folder, "run.log"), "wb") as log:
            proc = subprocess.Popen(["valgrind", "--tool=callgrind",
                                     "--callgrind-out-file=" + os.path.abspath(args.callgrind),
                                     args.qscale, "run", "-c", path],
                                    env=client_env(em, folder), stderr=log)
            time.sleep(args.duration)
            requests, handshakes, _ = em.counts()
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=120)
        print(f"policies={n} transport={'tls' if tls else 'plain'} duration_s={args.duration:g} "
              f"requests={requests} tls_handshakes={handshakes} profile={args.callgrind}")
    finally:
        em.stop()
        shutil.rmtree(folder, ignore_errors=True)


def trace(args, perf):
    n = int(args.policies.split(",")[0])
    tls = args.transports.split(",")[0] == "tls"
    folder = tempfile.mkdtemp(prefix="qscale-tlsbench-")
    em = Emulator(args.qscale, folder, n, tls)
    try:
        path = write_run_config(folder, n, args.interval)
        log_path = os.path.join(folder, "run.log")
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([args.qscale, "run", "-c", path],
                                    env=client_env(em, folder), stderr=log)
            try:
                deadline = time.monotonic() + 60
                m = None
                while m is None and time.monotonic() < deadline:
                    time.sleep(0.05)
                    with open(log_path, encoding="utf-8", errors="replace") as f:
                        m = re.search(r"metrics=(http://\S+/metrics)", f.read())
                if m is None:
                    raise RuntimeError("qscale run printed no metrics address")

                def cycles():
                    with urllib.request.urlopen(m.group(1), timeout=30) as r:
                        return int(metric_sum(r.read().decode(), "qscale_cycles_total"))

                c0 = after_cycle(lambda: (cycles(), 0), 1, time.monotonic() + 60)[0]
                t0 = time.monotonic()
                req0, _, _ = em.counts()
                out = os.path.abspath(args.perf_stat if perf else args.strace)
                cmd = ["perf", "stat", "-x", ",", "-e",
                       "task-clock,context-switches,page-faults"] if perf else \
                    ["strace", "-f", "-c"]
                tracer = subprocess.Popen(cmd + ["-o", out, "-p", str(proc.pid)],
                                          stderr=subprocess.DEVNULL)
                # Stopped halfway between two cycles, and nothing scrapes the
                # metrics meanwhile: every call counted is the cycles' own.
                k = max(1, round(args.duration / args.interval))
                time.sleep(max(0.0, t0 + (k - 0.5) * args.interval - time.monotonic()))
                tracer.send_signal(signal.SIGINT)
                tracer.wait(timeout=60)
                req1, _, _ = em.counts()
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        requests = req1 - req0
        print(f"policies={n} transport={'tls' if tls else 'plain'} requests={requests} "
              f"cycles={k - 1} table={out}")
        with open(out, encoding="utf-8") as f:
            for line in f:
                if perf:
                    cols = line.strip().split(",")
                    if len(cols) >= 3 and cols[0].replace(".", "").isdigit():
                        v = float(cols[0])
                        if cols[2] == "task-clock":  # msec in all, µs a request
                            print(f"{cols[2]:16} {v:10.1f} ms {1000 * v / max(1, requests):8.1f} "
                                  "µs per request")
                        else:
                            print(f"{cols[2]:16} {v:10.0f} {v / max(1, requests):11.2f} per request")
                    continue
                cols = line.split()
                if len(cols) >= 5 and cols[0][0].isdigit():
                    calls = int(cols[3])
                    print(f"{cols[-1]:16} {calls:8} {calls / max(1, requests):8.2f} per request")
    finally:
        em.stop()
        shutil.rmtree(folder, ignore_errors=True)

def phases(args):
    n = int(args.policies.split(",")[0])
    tls = args.transports.split(",")[0] == "tls"
    bound = sum(lower_bound(n).values())
    folder = tempfile.mkdtemp(prefix="qscale-tlsbench-")
    em = Emulator(args.qscale, folder, n, tls)
    try:
        path = write_run_config(folder, n, args.interval)
        with open(os.path.join(folder, "run.log"), "wb") as log:
            start = time.monotonic()
            proc = subprocess.Popen([args.qscale, "run", "-c", path],
                                    env=client_env(em, folder), stderr=log)

            def sample():
                with open(f"/proc/{proc.pid}/stat", encoding="ascii") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{proc.pid}/schedstat", encoding="ascii") as f:
                    ns = int(f.read().split()[0])
                return int(fields[11]) / TICK, int(fields[12]) / TICK, ns / 1e9

            marks = {}
            try:
                while time.monotonic() - start < args.duration:
                    cpu = sample()
                    requests = em.counts()[0]
                    if "startup" not in marks and requests > 0:
                        marks["startup"] = cpu
                    if "first" not in marks and requests >= bound:
                        marks["first"] = cpu
                    time.sleep(0.02)
                total = sample()
                requests = em.counts()[0]
            finally:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        later = (requests - bound) / bound
        print(f"policies={n} transport={'tls' if tls else 'plain'} duration_s={args.duration:g} "
              f"requests={requests} later_cycles={later:.1f}")
        print("| phase | CPU (s) | user (s) | system (s) |")
        print("|---|---|---|---|")
        prev = (0.0, 0.0, 0.0)
        for name, key in (("start-up, to the first request", "startup"),
                          ("first cycle", "first")):
            cur = marks.get(key, prev)
            print(f"| {name} | {cur[2] - prev[2]:.3f} | {cur[0] - prev[0]:.2f} | "
                  f"{cur[1] - prev[1]:.2f} |")
            prev = cur
        each = [(total[i] - prev[i]) / max(later, 1) for i in range(3)]
        print(f"| later cycles, each | {each[2]:.4f} | {each[0]:.3f} | {each[1]:.3f} |")
        print(f"| whole run | {total[2]:.3f} | {total[0]:.2f} | {total[1]:.2f} |")
    finally:
        em.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qscale")
    ap.add_argument("--policies", default="1,100,1000")
    ap.add_argument("--interval", type=int, default=5)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--transports", default="tls,plain")
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--breakdown", type=int)
    ap.add_argument("--connections", default="1,16,64")
    ap.add_argument("--top", type=int, default=16)
    ap.add_argument("--callgrind")
    ap.add_argument("--strace")
    ap.add_argument("--perf-stat")
    ap.add_argument("--phases", action="store_true")
    args = ap.parse_args()
    if args.phases:
        phases(args)
        return
    if args.breakdown:
        breakdown(args)
        return
    if args.callgrind:
        callgrind(args)
        return
    if args.strace or args.perf_stat:
        trace(args, bool(args.perf_stat))
        return
    rows, ratios = [], []
    for n in [int(s) for s in args.policies.split(",")]:
        bound = sum(lower_bound(n).values())
        for transport in args.transports.split(","):
            folder = tempfile.mkdtemp(prefix="qscale-tlsbench-")
            em = Emulator(args.qscale, folder, n, transport == "tls")
            try:
                q = run_qscale(args.qscale, em, folder, n, args.interval, args.duration)
                b = run_botocore(args.python, em, folder, n, args.interval, args.duration)
            finally:
                em.stop()
                shutil.rmtree(folder, ignore_errors=True)
            rows += [row(n, transport, "qscale", q, bound), row(n, transport, "botocore", b, bound)]
            ratios.append(f"| {n} | {transport} | {q['rss_kib'] / max(1, b['rss_kib']):.2f} | "
                          f"{q['cpu_s'] / max(0.001, b['cpu_s']):.3f} |")
            print(rows[-2], rows[-1], sep="\n", file=sys.stderr, flush=True)
    print("| policies | transport | client | peak RSS (MiB) | CPU (s) | cycles | missed | "
          "requests per cycle (bound) | TLS handshakes, first cycle | new TLS handshakes per "
          "later cycle |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print("| policies | transport | RSS qscale / botocore | CPU qscale / botocore |")
    print("|---|---|---|---|")
    print("\n".join(ratios))


if __name__ == "__main__":
    main()
