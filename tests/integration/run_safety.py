#!/usr/bin/env python3
"""The safety promises of `qscale run` against `qscale emulate` (--speed 10):
never above a maximum, never shrinking on missing data, the per-period limits
kept. Each case is a small scenario built here:

- one service written by name in one policy and by ARN in another: check,
  plan, run and simulate all refuse the configuration (exit 2) at its position;

- counts above their maxima while SQS fails: lowered at the first cycle, not
  when SQS comes back;
- an incomplete fleet (an instance in failures[], then one without MEMORY in
  its remainingResources) holds the policy, with the reason in the log and
  the metrics, while an empty queue asks for a scale-in; the scale-in comes
  once the view is whole again;
- UpdateService carried out but its answer lost: the change counts as made,
  so the applied counts never add more than the scale-out limit per period.

Every wait is bounded and polls for its condition; nothing asserts timings
beyond the ordering of world times the emulator records."""

import os
import subprocess

from run_common import (ACCESS_KEY, BINARY, DATA, SECRET_KEY, Daemon, Emulator, Tap, services,
                        updates, watchdog)

LOCAL, BURST = "order-processor", "order-processor-fargate"

SCENARIO = """region: us-east-1
account_id: "123456789012"
credentials:
  access_key_id: AKIAQSCALEEXAMPLE
  secret_access_key: qscale-emulator-example-secret
seed: 1
duration: 30m
startup: {{onprem: 2s, fargate: 5s}}
queues:
  - name: orders
    initial_messages: {messages}
    arrivals:
      segments:
        - {{at: 0s, rate: 0/s}}
clusters:
  - name: onprem
    instances:
      - {{id: mi-00000000000000001, cpu: 8192, memory: 16384, attributes: {{site: dc1}}}}
      - {{id: mi-00000000000000002, cpu: 8192, memory: 16384, attributes: {{site: dc1}}}}
  - name: cloud
task_definitions:
  - family: order-processor
    revision: 1
    cpu: "1024"
    memory: "1024"
    network_mode: bridge
    requires_compatibilities: [EXTERNAL]
    containers:
      - {{name: app, memory: 1024}}
  - family: order-processor-fargate
    revision: 1
    cpu: "1024"
    memory: "2048"
    network_mode: awsvpc
    requires_compatibilities: [FARGATE]
    containers:
      - {{name: app, memory: 2048}}
services:
  - {{name: order-processor, cluster: onprem, launch_type: EXTERNAL,
     task_definition: "order-processor:1", desired: {local}, queue: orders,
     messages_per_task: 1/h}}
  - {{name: order-processor-fargate, cluster: cloud, launch_type: FARGATE,
     task_definition: "order-processor-fargate:1", desired: {burst}, queue: orders,
     messages_per_task: 1/h}}
faults:
{faults}
"""

POLICY = """name: orders
interval: 1s
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
  reserve: {{cpu: 0, memory: 0}}
burst:
  cluster: cloud
  service: order-processor-fargate
  max_tasks: {burst_max}
behavior:
  scale_out: {{stabilization: 0s, period: {period}, max_tasks: {out_tasks}, max_percent: 0}}
  scale_in: {{stabilization: 0s, period: {period}, max_tasks: 0, max_percent: 0}}
"""


def world(messages, local, burst, faults):
    return SCENARIO.format(messages=messages, local=local, burst=burst,
                           faults="\n".join(f"  - {f}" for f in faults) or "  []")


def policy(local_max=20, burst_max=40, period="1s", out_tasks=0):
    return POLICY.format(local_max=local_max, burst_max=burst_max, period=period, out_tasks=out_tasks)


def plan(em, d):
    """`qscale plan` on the daemon's configuration against the emulator: (exit status, output)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
                "AWS_ENDPOINT_URL": em.url, "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull})
    r = subprocess.run([BINARY, "plan", "-c", d.config], capture_output=True, text=True, env=env,
                       timeout=60)
    return r.returncode, r.stdout + r.stderr


watchdog(240)
t = Tap()

# 0. One service under two spellings (a name and an ARN): refused with its
# position by every command that loads the configuration, before any call.
bad = os.path.join(DATA, "policy", "bad", "config-arn-same-service.yaml")
where = "config-arn-same-service.yaml:16:9: service 'order-processor' in cluster 'onprem' is already driven"
for args in (["check"], ["plan"], ["run", "--dry-run"],
             ["simulate", "--scenario", os.path.join(DATA, "simulate", "agree-safety.yaml")]):
    r = subprocess.run([BINARY, args[0], "-c", bad, *args[1:]], capture_output=True, text=True,
                       timeout=60, env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")})
    t.ok(r.returncode == 2 and where in r.stderr,
         f"{args[0]}: a service named by name and by ARN is driven twice: exit 2 at its position",
         r.stdout + r.stderr)

# 1. Above its maxima while SQS fails for the first 60 s (world): lowered at once.
scen = world(1000, 25, 9, ["{kind: error500, start: 0s, end: 60s, service: sqs}"])
with Emulator(scen, speed=10) as em, Daemon(em, policy_text=policy(20, 5)) as d:
    lowered = d.wait(lambda: (lambda s: s if s[LOCAL]["desired"] == 20 and s[BURST]["desired"] == 5
                              else None)(services(em)), 30)
    t.ok(lowered is not None, "held on SQS errors: local 25->20 and burst 9->5", services(em))
    ups = updates(em)
    t.ok(ups and all(u["t_ms"] < 60000 for u in ups[:2]),
         "both counts lowered while SQS still fails (before world t=60s)", ups)
    t.ok(d.wait_log(r'policy=orders error="GetQueueAttributes[^"]*" action=hold', 10) is not None,
         "the cycle that lowered them was held for missing data", d.tail())
    t.ok(all(u["to"] <= (20 if u["service"] == LOCAL else 5) for u in updates(em)), "no maximum exceeded")

# 1b. qscale plan on the same case: held (exit 1), and what it would set is inside the bounds.
with Emulator(scen, speed=1) as em, Daemon(em, args=("--dry-run",), policy_text=policy(20, 5)) as d:
    rc, out = plan(em, d)
    t.ok(rc == 1 and "lowered to max" in out and "25->20" in out and "9->5" in out,
         "plan: held on SQS errors, would lower local 25->20 and burst 9->5", out)

# 2. An incomplete fleet is missing data: an empty queue would scale 6 -> 1, and must not.
faults = ["{kind: instance_failure, start: 0s, end: 40s, operation: DescribeContainerInstances,"
          " instance: mi-00000000000000002, reason: AGENT}",
          "{kind: missing_resource, start: 40s, end: 80s, instance: mi-00000000000000002,"
          " resource: MEMORY}"]
with Emulator(world(0, 6, 0, faults), speed=10) as em, Daemon(em, policy_text=policy()) as d:
    m = d.wait_log(r'policy=orders error="ListContainerInstances: incomplete fleet: instance '
                   r'[^"]*in failures \(AGENT\)" action=hold', 20)
    t.ok(m is not None, "an instance in failures[]: held, the reason logged", d.tail())
    m = d.wait_log(r'policy=orders error="ListContainerInstances: incomplete fleet: instance '
                   r'mi-00000000000000002: remainingResources lacks MEMORY" action=hold', 20)
    t.ok(m is not None, "remainingResources without MEMORY: held, the reason logged", d.tail())
    rc, out = plan(em, d)
    t.ok(rc == 1 and "incomplete fleet" in out, "plan: an incomplete fleet holds the policy (exit 1)", out)
    held = d.metrics()
    t.ok(sum(v for (n, lb), v in held.items() if n == "qscale_decisions_total"
             and ("outcome", "held") in lb and ("reason", "missing_data") in lb) >= 2,
         "metrics: the held cycles counted with reason missing_data")
    t.ok((held.get(("qscale_policy_missing_data_total",
                    frozenset({("policy", "orders"), ("data", "instances")}))) or 0) >= 2,
         "metrics: what was missing is the instances", {k: v for k, v in held.items()
                                                        if k[0] == "qscale_policy_missing_data_total"})
    early = [u for u in updates(em) if u["t_ms"] < 80000]
    t.ok(early == [], "nothing changed while the fleet view was incomplete", early)
    done = d.wait(lambda: services(em)[LOCAL]["desired"] == 1, 30)
    t.ok(done, "once the view is whole the empty queue scales in to the minimum", services(em))
    t.ok(all(u["t_ms"] >= 80000 for u in updates(em)), "the scale-in came after the faults", updates(em))

# 3. Answers of UpdateService lost after ECS applied them: the limit of 4 per
# period (3 s of the daemon's clock, 30 s of world time) holds over the counts applied.
faults = ["{kind: lost_answer, start: 0s, end: 60s, operation: UpdateService}"]
with Emulator(world(1000, 2, 0, faults), speed=10) as em, \
        Daemon(em, policy_text=policy(period="3s", out_tasks=4)) as d:
    t.ok(d.wait(lambda: services(em)[LOCAL]["desired"] >= 10, 40) is not None,
         "the service scales out through the lost answers", services(em))
    t.ok(d.wait_log(r'policy=orders error="UpdateService order-processor: [^"]*" action=retry', 5)
         is not None, "a lost answer is a failed cycle, retried", d.tail())
    ups = [u for u in updates(em) if u["service"] == LOCAL]
    # Windows a little shorter than the period, in world time: jitter between
    # the daemon's clock and the world's cannot make a correct run fail.
    worst = max(sum(max(0, u["to"] - u["from"]) for u in ups if a["t_ms"] <= u["t_ms"] < a["t_ms"] + 25000)
                for a in ups)
    t.ok(worst <= 4, f"at most 4 tasks added per period over the applied counts (worst {worst})", ups)
t.done()
