#!/usr/bin/env python3
"""`qscale run` command line, dry-run and reload (tests/data/scenarios/run-spike.yaml
at --speed 10): usage and config errors exit 2 with file:line:column;
--dry-run decides and logs but never calls UpdateService; SIGHUP with a bad
policy file logs the error with file:line:column and keeps the running set;
SIGHUP with a good one swaps it in (its new maximum is obeyed). A reload
that would leave no policy (the default policies folder missing) is refused
and the running set kept; two reloads during one cycle (a policy added, then
removed) leave /readyz right."""

import os
import re
import signal
import subprocess
import tempfile
import time

from run_common import (BINARY, DATA, Daemon, Emulator, Tap, metric, scenario, services, updates,
                        watchdog)

LOCAL, BURST = "order-processor", "order-processor-fargate"

watchdog(280)
t = Tap()

# The command line, without any AWS.
p = subprocess.run([BINARY, "run", "--help"], capture_output=True, timeout=30)
t.ok(p.returncode == 0 and b"--dry-run" in p.stdout, "run --help prints the usage")
p = subprocess.run([BINARY, "run", "--bogus"], capture_output=True, timeout=30)
t.ok(p.returncode == 2, "run with an unknown option exits 2")
with tempfile.TemporaryDirectory(prefix="qscale-run-bad-") as tmp:
    bad = os.path.join(tmp, "qscale.yaml")
    with open(bad, "w", encoding="utf-8") as f:
        f.write("region: us-east-1\ninterval: soon\npolicies: []\n")
    p = subprocess.run([BINARY, "run", "-c", bad], capture_output=True, timeout=30)
    t.ok(p.returncode == 2 and re.search(rb"qscale\.yaml:2:\d+: ", p.stderr),
         "a bad config exits 2 with file:line:column", p.stderr)

with open(os.path.join(DATA, "run", "policies.d", "orders.yaml"), encoding="utf-8") as f:
    policy = f.read()

# Dry-run: decisions logged, no UpdateService.
with Emulator(scenario("run-spike.yaml"), speed=10) as em, Daemon(em, args=["--dry-run"]) as d:
    changed = d.wait(lambda: len(d.lines(r"policy=orders .*local=\d+->\d+ .* dry_run=true")) >= 3, 30)
    t.ok(changed, "dry-run: decisions are logged as dry_run=true", d.lines("policy=orders")[-3:])
    t.ok(d.lines(r"policy=orders .*local=4->1 .*dry_run=true"), "dry-run: the change it would make is logged")
    t.ok(em.admin("/_qscale/updates")["total"] == 0, "dry-run: zero UpdateService calls")
    t.ok(d.wait(lambda: [m for m in d.notify.seen("STATUS=") if "dry-run" in m], 10),
         "dry-run: STATUS= says so")
    t.ok(d.stop() == 0, "dry-run: SIGTERM exits 0")

# Reload.
with Emulator(scenario("run-spike.yaml"), speed=10) as em, Daemon(em) as d:
    t.ok(d.wait_log(r"policy=orders backlog=", 20), "the first policy decides")
    d.write_policy(policy.replace("  max_tasks: 20", "  max_tasks: -5"))
    mark = len(d.text())
    d.signal(signal.SIGHUP)
    failed = d.wait_log(r'reload=failed error="([^"]*orders\.yaml):(\d+):(\d+): [^"]+" action=keep', 10, after=mark)
    t.ok(failed is not None, "bad reload: the error is logged with file:line:column", d.text()[mark:][-1500:])
    t.ok(failed is not None and failed.group(2) == str(policy.splitlines().index("  max_tasks: 20") + 1),
         "bad reload: the line is the bad value's", failed.groups() if failed else None)
    after = len(d.text())
    t.ok(d.wait_log(r"policy=orders backlog=", 10, after=after), "bad reload: the running policy keeps deciding")
    t.ok(d.wait(lambda: d.notify.seen("RELOADING=1"), 5), "RELOADING=1 on SIGHUP")
    t.ok(metric(d.metrics(), "qscale_config_reloads_total", result="failed") == 1,
         "metrics: the failed reload is counted")

    d.write_policy(policy.replace("name: orders", "name: orders2").replace("  max_tasks: 20", "  max_tasks: 10"))
    mark = len(d.text())
    d.signal(signal.SIGHUP)
    t.ok(d.wait_log(r"reload=ok policies=1", 10, after=mark), "good reload: logged", d.text()[mark:][-800:])
    t.ok(d.wait_log(r"policy=orders2 backlog=", 10, after=mark), "good reload: the new policy decides")
    capped = d.wait(lambda: (lambda s: s if s[LOCAL]["desired"] == 10 and s[BURST]["desired"] > 0 else None)(services(em)), 60)
    t.ok(capped is not None, "good reload: the new local maximum of 10 is used, burst takes the rest", services(em))
    m = d.metrics()
    t.ok(metric(m, "qscale_config_reloads_total", result="ok") == 1, "metrics: the good reload is counted")
    t.ok(metric(m, "qscale_policy_wanted_tasks", policy="orders2") is not None
         and metric(m, "qscale_policy_wanted_tasks", policy="orders") is None,
         "metrics: the removed policy's series are gone, the new one's present")
    late = [u for u in updates(em) if u["service"] == LOCAL and u["t_ms"] > 40000]
    t.ok(all(u["to"] <= 10 for u in late), "local never above the new maximum", late)
    t.ok(d.stop() == 0, "SIGTERM exits 0")

# The default policies folder, as qscale resolves it.
with tempfile.TemporaryDirectory(prefix="qscale-run-default-") as tmp:
    bare = os.path.join(tmp, "qscale.yaml")
    with open(bare, "w", encoding="utf-8") as f:
        f.write("region: us-east-1\n")
    p = subprocess.run([BINARY, "check", "-c", bare], capture_output=True, timeout=30, text=True)
    m = re.search(r"^policies_dir: (\S+)", p.stdout, re.M)
    default_dir = m.group(1).strip('"') if m else None

# A reload that would drop every policy: the default folder is missing.
with Emulator(scenario("run-spike.yaml"), speed=10) as em, Daemon(em) as d:
    t.ok(default_dir is not None, "check prints the default policies_dir", p.stdout[-500:])
    if default_dir is not None and os.path.isdir(default_dir):
        t.ok(True, f"# skip: {default_dir} exists on this machine")
    else:
        t.ok(d.wait(lambda: d.get("/readyz")[0] == 200, 20), "before: /readyz 200", d.get("/readyz"))
        with open(d.config, encoding="utf-8") as f:
            main_text = f.read()
        d.write_policy(re.sub(r"(?m)^policies_dir:.*$", "", main_text), d.config)
        mark = len(d.text())
        d.signal(signal.SIGHUP)
        refused = d.wait_log(r'reload=refused reason="the new configuration has no policy, 1 running" '
                             r'action=keep policies=1', 10, after=mark)
        t.ok(refused is not None, "no policy left: the reload is refused, with the reason",
             d.text()[mark:][-800:])
        t.ok(not re.search(r"reload=ok policies=0", d.text()), "no policy left: never reload=ok policies=0")
        after = len(d.text())
        t.ok(d.wait_log(r"policy=orders backlog=", 10, after=after), "no policy left: orders keeps deciding")
        t.ok(d.get("/readyz")[0] == 200, "no policy left: /readyz still 200 for the running set",
             d.get("/readyz"))
        t.ok(metric(d.metrics(), "qscale_config_reloads_total", result="refused") == 1,
             "metrics: the refused reload is counted")
    t.ok(d.stop() == 0, "SIGTERM exits 0")

# Two reloads during one cycle. Every GetQueueAttributes answers after 3 s
# (30 s at speed 10) until 60 s of scenario time, so a cycle is in flight
# for about 3 s: the first reload (a second policy) waits for its end, the
# second (that policy gone again) replaces it. Readiness must forget it.
slow = scenario("run-spike.yaml") + """
faults:
  - kind: latency
    start: 0s
    end: 60s
    service: sqs
    operation: GetQueueAttributes
    latency: 30s
"""
other = policy.replace("name: orders", "name: orders2").replace(
    "service: order-processor-fargate", "service: other-fargate").replace(
    "service: order-processor\n", "service: other\n")
with Emulator(slow, speed=10) as em, \
        Daemon(em, config_edit=lambda c: c.replace("timeout: 1s", "timeout: 10s")) as d:
    start = d.wait_log(r"http=start method=POST", 20)
    mark = len(d.text())
    started = d.wait_log(r"http=start method=POST", 10, after=mark)
    d.write_policy(other, os.path.join(os.path.dirname(d.policy), "orders2.yaml"))
    d.signal(signal.SIGHUP)
    first = d.wait_log(r"reload=ok policies=2", 5, after=mark)
    os.unlink(os.path.join(os.path.dirname(d.policy), "orders2.yaml"))
    d.signal(signal.SIGHUP)
    second = d.wait_log(r"reload=ok policies=1", 5, after=mark)
    t.ok(started and first and second, "both reloads during one slow cycle are accepted",
         d.text()[mark:][-1200:])
    t.ok(not d.lines(r"policy=orders2 "), "the policy added and removed never ran")
    # Once the latency window is over, cycles succeed and nothing stale remains.
    ready = d.wait(lambda: em.admin("/_qscale/state")["t_ms"] > 65000 and d.get("/readyz")[0] == 200, 60)
    t.ok(ready, "after both reloads /readyz returns to 200", d.get("/readyz"))
    t.ok(d.stop() == 0, "SIGTERM exits 0")
t.done()
