#!/usr/bin/env python3
"""Failover times of the HA lease: two `qscale run` on one emulated fleet
(tests/data/scenarios/run-ha.yaml at --speed 10) sharing a lease in dynalite,
each with its own DynamoDB endpoint through a proxy (tests/integration/
ha_common.py). Each run starts the two daemons afresh, waits for a leader and
a standby, then ends the leader's term one way and measures, by polling both
daemons' qscale_ha_lease_held every 20 ms:

- failover: from the event to the standby holding the lease;
- no-leader gap: from the last sample where the old leader held the lease to
  the first where the new one did (the longest stretch with nobody acting).

Events: kill (SIGKILL), term (SIGTERM: release, then create) and partition
(the leader's DynamoDB endpoint cut). Prints one line per run and a summary
(median and worst) per event.

  python3 bench/ha_failover.py [--runs 10] [--events kill,term,partition]
      [--duration 3s --renew 500ms --margin 1s]

Needs a build (QSCALE_BINARY, default build/qscale) and the test's node
modules (scripts/deps --test).
"""

import argparse
import os
import signal
import statistics
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
os.environ.setdefault("QSCALE_BINARY", os.path.join(TOP, "build", "qscale"))
os.environ.setdefault("QSCALE_TEST_DATA", os.path.join(TOP, "tests", "data"))

from ha_common import Dynamo, HaDaemon, have_dynalite  # noqa: E402
from run_common import Emulator, scenario  # noqa: E402


def held(d):
    return d.proc.poll() is None and d.held() == 1.0


class Watch:
    """Samples both daemons every step_s; remembers the last instant the old
    leader held the lease and the first the new one did."""

    def __init__(self, old, new, step_s=0.02):
        self.old, self.new, self.step_s = old, new, step_s
        self.old_last = None
        self.new_first = None
        self.both = False
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running and self.new_first is None:
            t = time.monotonic()
            o = held(self.old)
            n = held(self.new)
            if o:
                self.old_last = t
            if n:
                self.new_first = time.monotonic()
                self.both = self.both or o
            time.sleep(self.step_s)

    def stop(self, timeout_s):
        self.thread.join(timeout_s)
        self.running = False
        self.thread.join(2)


def one_run(em, db, event, ha, i):
    a = HaDaemon(em, db, f"bench-a{i}", f"A{i}", **ha)
    b = None
    try:
        if not a.wait(lambda: held(a), 30, step_s=0.02):
            raise RuntimeError("no leader")
        b = HaDaemon(em, db, f"bench-b{i}", f"B{i}", **ha)
        if not b.wait_log(r"ha=standby", 30):
            raise RuntimeError("no standby")
        time.sleep(0.5)
        w = Watch(a, b)
        t0 = time.monotonic()
        if event == "kill":
            a.proc.send_signal(signal.SIGKILL)
        elif event == "term":
            a.proc.send_signal(signal.SIGTERM)
        else:
            a.proxy.set("cut")
        w.stop(60)
        if w.new_first is None:
            raise RuntimeError("the standby never took over")
        failover = w.new_first - t0
        gap = w.new_first - (w.old_last if w.old_last is not None else t0)
        return failover, gap, w.both
    finally:
        for d in (a, b):
            if d is not None:
                d.proxy.set("open")
                d.__exit__(None, None, None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--events", default="kill,term,partition")
    ap.add_argument("--duration", default="3s")
    ap.add_argument("--renew", default="500ms")
    ap.add_argument("--margin", default="1s")
    args = ap.parse_args()
    if not have_dynalite():
        sys.exit("bench/ha_failover.py: dynalite is not installed (scripts/deps --test)")
    ha = {"duration": args.duration, "renew": args.renew, "margin": args.margin}
    print(f"# lease duration {args.duration}, renew {args.renew}, margin {args.margin}, interval 1s")
    results = {}
    with Emulator(scenario("run-ha.yaml"), speed=10) as em, Dynamo() as db:
        db.create()
        for event in args.events.split(","):
            results[event] = []
            for i in range(args.runs):
                failover, gap, both = one_run(em, db, event, ha, f"{event[0]}{i}")
                results[event].append((failover, gap, both))
                print(f"{event:9s} run {i + 1:2d}: failover {failover:6.3f} s, no-leader gap {gap:6.3f} s"
                      f"{', BOTH HELD' if both else ''}", flush=True)
    print()
    print("| event | runs | failover median | failover worst | longest no-leader gap | both held |")
    print("|---|---|---|---|---|---|")
    for event, rs in results.items():
        f = [r[0] for r in rs]
        g = [r[1] for r in rs]
        print(f"| {event} | {len(rs)} | {statistics.median(f):.2f} s | {max(f):.2f} s | {max(g):.2f} s | "
              f"{sum(1 for r in rs if r[2])} |")


if __name__ == "__main__":
    main()
