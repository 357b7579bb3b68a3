#!/usr/bin/env python3
"""`qscale run` sizes the burst for its start-up (tests/data/scenarios/run-spike.yaml
at --speed 10, so the policy's times are a tenth of the world's: a message
takes 20 ms, a Fargate task 3 s to run, its backlog drains over 6 s). The
daemon logs the start-up sizing in its decisions, asks for fewer burst tasks
at the peak than the same policy without target.processing_time (the
backlog that grows while the first burst tasks start asks for more of
them), exceeds no maximum, and brings the burst back to zero after the
spike. The same engine and controller run in `qscale simulate`; this is
the daemon's path through them."""

import os

from run_common import DATA, Daemon, Emulator, Tap, scenario, services, updates, watchdog

LOCAL, BURST = "order-processor", "order-processor-fargate"

watchdog(170)
t = Tap()


def with_startup(text):
    text = text.replace("  backlog_per_task: 50\n",
                        "  backlog_per_task: 50\n  processing_time: 20ms\n")
    return text.replace("  max_tasks: 80\n", "  max_tasks: 80\n  startup: 3s\n  drain_time: 6s\n")


# A burst maximum the backlog rule does not reach, so its peak is its own.
with open(os.path.join(DATA, "run", "policies.d", "orders.yaml"), encoding="utf-8") as f:
    POLICY = f.read().replace("  max_tasks: 40\n", "  max_tasks: 80\n")


def spike(policy_text):
    """Peak burst asked for, whether it went back to 0, the daemon's log lines."""
    with Emulator(scenario("run-spike.yaml"), speed=10) as em, Daemon(em, policy_text=policy_text) as d:
        burst_up = d.wait(lambda: any(u["service"] == BURST and u["to"] > 0 for u in updates(em)), 60)
        drained = burst_up and d.wait(lambda: services(em)[BURST]["desired"] == 0, 90)
        ups = updates(em)
        return (max([u["to"] for u in ups if u["service"] == BURST] or [0]), bool(drained),
                ups, d.lines(r"policy=orders "))


plain_peak, plain_drained, plain_ups, _ = spike(POLICY)
peak, drained, ups, lines = spike(with_startup(POLICY))
t.ok(plain_peak > 0 and plain_drained, "without a processing time the burst rises and drains",
     (plain_peak, plain_drained))
t.ok(any("burst sized for its start-up" in line for line in lines),
     "the daemon's decisions say the burst was sized for its start-up", lines[-5:])
print(f"# burst peak {peak} with the start-up sizing, {plain_peak} without")
t.ok(0 < peak < plain_peak, "the start-up sizing asks for fewer burst tasks at the peak",
     (peak, plain_peak))
t.ok(all(u["to"] <= 80 for u in ups if u["service"] == BURST)
     and all(u["to"] <= 12 for u in ups if u["service"] == LOCAL),
     "no count above its maximum (burst 80, local what the instances hold)", ups)
t.ok(drained, "the burst goes back to zero after the spike", ups[-5:])
t.done()
