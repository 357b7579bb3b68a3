#!/usr/bin/env python3
"""`qscale run` while AWS misbehaves (tests/data/scenarios/run-faults.yaml at
--speed 10): ECS throttles every call, then the link is cut. The backlog only
grows, so any count going down would be qscale shrinking for missing data:
none may. Failures are logged once per policy and cycle with action=hold and
counted; once AWS answers again the policy succeeds and is ready again."""

import signal

from run_common import Daemon, Emulator, Tap, metric, scenario, services, updates, watchdog

LOCAL, BURST = "order-processor", "order-processor-fargate"

watchdog(150)
t = Tap()
with Emulator(scenario("run-faults.yaml"), speed=10) as em, Daemon(em) as d:
    up = d.wait(lambda: (lambda s: s if s[LOCAL]["desired"] == 12 and s[BURST]["desired"] == 40 else None)(services(em)), 30)
    t.ok(up is not None, "before the faults: local 12 and burst at its max of 40", services(em))

    throttled = d.wait_log(r'policy=orders error="[A-Za-z]+[^"]*ThrottlingException[^"]*" action=hold', 30)
    t.ok(throttled is not None, "throttling: the failure is logged with action=hold",
         d.lines("error=")[-3:])
    t.ok(d.wait(lambda: d.get("/readyz")[0] == 503, 15),
         "throttling: /readyz answers 503 while every cycle fails", d.get("/readyz"))
    m = d.metrics()
    t.ok((metric(m, "qscale_policy_consecutive_failures", policy="orders") or 0) >= 1,
         "metrics: consecutive failures counted")
    t.ok(sum(v for (n, lb), v in m.items() if n == "qscale_aws_throttles_total") >= 1,
         "metrics: throttled attempts counted")
    t.ok(sum(v for (n, lb), v in m.items() if n == "qscale_aws_retries_total") >= 1,
         "metrics: retries counted")
    t.ok(sum(v for (n, lb), v in m.items() if n == "qscale_decisions_total"
             and ("outcome", "held") in lb and ("reason", "missing_data") in lb) >= 1,
         "metrics: held decisions counted with reason missing_data")

    # The partition (world time 90s to 150s): calls time out; counts still held.
    def in_partition():
        return em.admin("/_qscale/state")["t_ms"] > 100000

    t.ok(d.wait(in_partition, 30), "the world reaches the partition")
    mark = len(d.text())
    timed_out = d.wait_log(r'policy=orders error="[^"]*" action=hold', 30, after=mark)
    t.ok(timed_out is not None, "partition: the failure is logged with action=hold", d.text()[mark:][-1500:])

    def recovered():
        return em.admin("/_qscale/state")["t_ms"] > 170000 and d.get("/readyz")[0] == 200

    t.ok(d.wait(recovered, 40), "after the faults the policy succeeds again and /readyz is 200",
         d.get("/readyz"))
    m = d.metrics()
    t.ok(metric(m, "qscale_policy_consecutive_failures", policy="orders") == 0,
         "metrics: failures back to 0 after recovery")
    s = services(em)
    t.ok(s[LOCAL]["desired"] == 12 and s[BURST]["desired"] == 40, "after recovery: counts as before", s)
    ups = updates(em)
    t.ok(all(u["to"] >= u["from"] for u in ups if u["t_ms"] > 5000),
         "no count ever went down for missing data", ups)
    t.ok(all(u["to"] <= (20 if u["service"] == LOCAL else 40) for u in ups), "no maximum exceeded")
    errors = d.lines(r"policy=orders error=")
    t.ok(all(" action=" in ln for ln in errors), "every policy failure line says the action taken")
    t.ok(d.stop() == 0, "SIGTERM: exit status 0")

# SIGTERM while a cycle waits on a partitioned AWS: the cycle is let finish
# (held, logged), then run exits 0 before its drain deadline.
with Emulator(scenario("run-faults.yaml"), speed=1) as em:
    em.admin("/_qscale/advance?ms=95000", method="POST")
    with Daemon(em) as d:
        t.ok(d.wait_log(r"X-Amz-Target", 10), "partitioned: the first cycle's calls are in flight")
        d.signal(signal.SIGTERM)
        begin = d.wait_log(r"shutdown=begin signal=15 in_flight=(\d+)", 10)
        t.ok(begin is not None and int(begin.group(1)) > 0, "SIGTERM: the drain starts with calls in flight",
             begin.group(0) if begin else d.text()[-800:])
        t.ok(d.proc.wait(timeout=30) == 0, "SIGTERM: exit status 0 after the drain")
        text = d.text()
        held = text.find('policy=orders error="')
        t.ok(0 <= held < text.find("shutdown=done"), "SIGTERM: the in-flight cycle ended (held) before exit",
             text[-1500:])
        t.ok("shutdown=deadline" not in text, "SIGTERM: done before the drain deadline")
t.done()
