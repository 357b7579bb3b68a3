#!/usr/bin/env python3
"""`qscale run` through a spike and its drain (tests/data/scenarios/run-spike.yaml
at --speed 10): local grows to exactly the 12 tasks the three instances hold,
burst takes the rest, no count ever exceeds a maximum; once the queue is empty
burst goes to zero before local shrinks, and local returns to its minimum.
Along the way: READY=1, STATUS= and WATCHDOG=1 on NOTIFY_SOCKET, /healthz, /readyz and a
parsable /metrics with the policy's numbers, and SIGTERM exiting 0.

With --tls the emulator serves HTTPS with a private CA that qscale trusts
through AWS_CA_BUNDLE, and the connections are seen kept and reused: a few
TLS handshakes for the whole run, not one per request."""

import signal
import sys

from run_common import Daemon, Emulator, Tap, metric, scenario, services, updates, watchdog


def url_is_https(url):
    return url.startswith("https://127.0.0.1:")

LOCAL, BURST = "order-processor", "order-processor-fargate"

TLS = "--tls" in sys.argv[1:]
watchdog(170)
t = Tap()
with Emulator(scenario("run-spike.yaml"), speed=10, tls="good" if TLS else None) as em, Daemon(em, extra_env={"WATCHDOG_USEC": "400000"}) as d:
    t.ok(d.metrics_url is not None, "run logs the metrics address it bound", d.tail())
    t.ok(d.wait(lambda: d.notify.seen("READY=1"), 20), "READY=1 once the config is loaded and the loop runs")
    t.ok(d.wait(lambda: len(d.notify.seen("WATCHDOG=1")) >= 2, 10), "WATCHDOG=1 pings from the loop")
    t.ok(d.wait(lambda: [m for m in d.notify.seen("STATUS=") if "last cycle" in m], 20),
         "STATUS= summarises the last cycle", d.notify.messages)

    # The spike: local at the capacity of the instances, burst for the rest.
    peak = d.wait(lambda: (lambda s: s if s[LOCAL]["desired"] == 12 and s[BURST]["desired"] > 0 else None)(services(em)), 60)
    t.ok(peak is not None, "spike: local reaches 12 and burst takes over", d.lines("policy=orders")[-5:])
    # The metrics of the peak: the decision seen by the emulator may already be
    # followed by the drain's first one on a slow machine, so read at the peak.
    m = d.wait(lambda: (lambda ms: ms if metric(ms, "qscale_policy_desired_tasks", policy="orders",
                                                service="local") == 12
                        and (metric(ms, "qscale_policy_desired_tasks", policy="orders",
                                    service="burst") or 0) > 0 else None)(d.metrics()), 30) or d.metrics()
    t.ok(metric(m, "qscale_policy_local_capacity_tasks", policy="orders") == 12,
         "metrics: local capacity is what the three instances hold (12)",
         metric(m, "qscale_policy_local_capacity_tasks", policy="orders"))
    wanted = metric(m, "qscale_policy_wanted_tasks", policy="orders")
    local = metric(m, "qscale_policy_desired_tasks", policy="orders", service="local")
    burst = metric(m, "qscale_policy_desired_tasks", policy="orders", service="burst")
    t.ok(wanted is not None and local == 12 and burst is not None and local + burst >= min(wanted, 60),
         "metrics: local 12 and burst cover the wanted total", (wanted, local, burst))
    t.ok(d.lines(r"policy=orders backlog=\d+ local=\d+->12 burst=\d+->\d+ capacity=12 reason=\".*burst"),
         "the scale-out decision is logged with its reason")
    t.ok(d.get("/healthz")[0] == 200, "/healthz answers 200")
    t.ok(d.wait(lambda: d.get("/readyz")[0] == 200, 10), "/readyz answers 200 once every policy succeeded",
         d.get("/readyz"))

    # The drain: burst to zero first, then local down to its minimum of 1.
    drained = d.wait(lambda: (lambda s: s if s[LOCAL]["desired"] == 1 and s[BURST]["desired"] == 0 else None)(services(em)), 120)
    t.ok(drained is not None, "drain: burst back to 0 and local back to its minimum",
         services(em) if drained is None else None)

    ups = updates(em)
    t.ok(any(u["service"] == BURST and u["to"] > 0 for u in ups), "UpdateService raised burst during the spike")
    t.ok(max(u["to"] for u in ups if u["service"] == LOCAL) == 12,
         "local never set above what the instances hold", [u for u in ups if u["service"] == LOCAL])
    t.ok(all(u["to"] <= 40 for u in ups if u["service"] == BURST), "burst never set above its max of 40")
    # Updates of one cycle carry (almost) the same world time: judge per cycle.
    order_ok, peaked = True, False
    for u in ups:
        if u["service"] == BURST:
            peaked = peaked or u["to"] > 0
        elif peaked and u["to"] < u["from"]:
            burst_then = [b["to"] for b in ups if b["service"] == BURST and b["t_ms"] <= u["t_ms"] + 500]
            if burst_then and burst_then[-1] != 0:
                order_ok = False
    t.ok(order_ok, "after the spike local shrinks only in a cycle that takes burst to zero", ups)

    m = d.metrics()
    t.ok((metric(m, "qscale_aws_requests_total", operation="UpdateService", outcome="ok") or 0) >= 3,
         "metrics: UpdateService requests counted by outcome")
    t.ok((metric(m, "qscale_aws_requests_total", operation="GetQueueAttributes", outcome="ok") or 0) >= 5,
         "metrics: GetQueueAttributes requests counted")
    t.ok((metric(m, "qscale_aws_request_duration_seconds_count", operation="DescribeServices") or 0) >= 5,
         "metrics: AWS latency histogram filled")
    t.ok(sum(v for (n, lb), v in m.items() if n == "qscale_decisions_total"
             and ("outcome", "scaled") in lb) >= 3, "metrics: scaling decisions counted by outcome and reason")
    t.ok((metric(m, "qscale_policy_last_success_timestamp_seconds", policy="orders") or 0) > 1.6e9,
         "metrics: time of the last successful cycle")
    t.ok(metric(m, "qscale_policy_consecutive_failures", policy="orders") == 0, "metrics: no failing cycle")
    t.ok((metric(m, "qscale_aws_credentials_age_seconds") or -1) >= 0, "metrics: credential age")
    t.ok(metric(m, "qscale_policy_cycles_missed_total", policy="orders") == 0, "metrics: no missed cycle")
    t.ok(metric(m, "qscale_aws_requests_waiting") == 0, "metrics: no request waiting between cycles")
    opened = metric(m, "qscale_aws_connections_opened_total")
    handshakes = metric(m, "qscale_aws_tls_handshakes_total")
    requests = sum(v for (n, lb), v in m.items() if n == "qscale_aws_requests_total")
    # One policy's cycle has at most a handful of calls in flight: that many connections, reused.
    t.ok(opened is not None and 1 <= opened <= 8 and requests >= 5 * opened,
         "connections are kept and reused across cycles", (opened, requests))
    if TLS:
        t.ok(url_is_https(em.url), "the emulator serves HTTPS", em.url)
        t.ok(handshakes == opened, "every new connection is a TLS handshake", (handshakes, opened))
        seen = em.admin("/_qscale/connections")
        t.ok(seen["tls"] and 1 <= seen["tls_handshakes"] <= seen["connections"],
             "the emulator served the handshakes (its admin API counts them)", seen)
    else:
        t.ok(handshakes == 0, "plain HTTP: no TLS handshake", handshakes)

    d.signal(signal.SIGTERM)
    t.ok(d.stop() == 0, "SIGTERM: exit status 0", d.tail())
    t.ok(d.wait(lambda: d.notify.seen("STOPPING=1"), 5), "STOPPING=1 on the way out")
    t.ok(em.proc.poll() is None, "the emulator is still up (run stopped on its own)")
t.done()
