#!/usr/bin/env python3
"""`qscale run` when an on-prem instance's agent disconnects and reconnects
(tests/data/scenarios/run-disconnect.yaml at --speed 10): the wanted total
settles at 12; while the first instance is away its room leaves the local
capacity (8 or 9 instead of 12) and burst covers the rest; once it is back,
local takes all 12 and burst drains to zero. No count ever above what the
connected instances hold."""

from run_common import Daemon, Emulator, Tap, metric, scenario, services, updates, watchdog

LOCAL, BURST = "order-processor", "order-processor-fargate"

watchdog(120)
t = Tap()
with Emulator(scenario("run-disconnect.yaml"), speed=10) as em, Daemon(em) as d:
    def split():
        s = services(em)
        m = d.metrics()
        return (s[LOCAL]["desired"], s[BURST]["desired"],
                metric(m, "qscale_policy_local_capacity_tasks", policy="orders"),
                metric(m, "qscale_policy_wanted_tasks", policy="orders"))

    away = d.wait(lambda: (lambda x: x if x[3] == 12 and x[1] > 0 else None)(split()), 40)
    t.ok(away is not None, "disconnected: the wanted total of 12 needs burst", split())
    if away:
        local, burst, cap, wanted = away
        t.ok(cap is not None and cap <= 9, "disconnected: the instance's room left the local capacity", away)
        t.ok(local == cap and local + burst == 12, "disconnected: local at its capacity, burst covers the rest", away)
    else:
        t.ok(False, "disconnected: the instance's room left the local capacity")
        t.ok(False, "disconnected: local at its capacity, burst covers the rest")
    t.ok(d.lines(r"policy=orders .* capacity=[89] reason=\"[^\"]*to burst"),
         "the decision sending the rest to burst is logged with the lower capacity")

    back = d.wait(lambda: (lambda x: x if x[0] == 12 and x[1] == 0 else None)(split()), 60)
    t.ok(back is not None, "reconnected: local takes all 12 back and burst drains to 0", split())
    t.ok(metric(d.metrics(), "qscale_policy_local_capacity_tasks", policy="orders") == 12,
         "reconnected: local capacity 12 again")
    ups = updates(em)
    t.ok(all(u["to"] <= 12 for u in ups if u["service"] == LOCAL), "local never above 12", ups)
    early = [u for u in ups if u["service"] == LOCAL and u["t_ms"] < 55000]
    t.ok(all(u["to"] <= 9 for u in early), "while disconnected local never above 9", early)
    t.ok(d.stop() == 0, "SIGTERM: exit status 0")
t.done()
