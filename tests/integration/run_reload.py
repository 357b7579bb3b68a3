#!/usr/bin/env python3
"""`qscale run` command line, dry-run and reload (tests/data/scenarios/run-spike.yaml
at --speed 10): usage and config errors exit 2 with file:line:column;
--dry-run decides and logs but never calls UpdateService; SIGHUP with a bad
policy file logs the error with file:line:column and keeps the running set;
SIGHUP with a good one swaps it in (its new maximum is obeyed)."""

import os
import re
import signal
import subprocess
import tempfile

from run_common import (BINARY, DATA, Daemon, Emulator, Tap, metric, scenario, services, updates,
                        watchdog)

LOCAL, BURST = "order-processor", "order-processor-fargate"

watchdog(170)
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
t.done()
