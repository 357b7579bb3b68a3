#!/usr/bin/env python3
"""The HA lease when things go wrong, against a real DynamoDB (dynalite) and
qscale emulate (tests/data/scenarios/run-ha.yaml at --speed 10):

- a lease table that is missing, or has the wrong key schema: a clear error
  at start, /readyz not ready, `qscale doctor` failing with the same words,
  and the daemon never acting (it decides and logs what it would set); a
  table created later is found and used;
- `qscale iam-policy` naming the DynamoDB actions on the table's ARN;
- DynamoDB throttling the leader (ProvisionedThroughputExceededException):
  briefly, the leader keeps its lease; for longer than its lease, it stops
  before the standby takes over;
- wall-clock jumps (libfaketime, forward and back, monotonic clock left
  real) on the leader and on the standby: no double leadership, no lost
  lease."""

import json
import os
import signal
import subprocess
import time

from ha_common import (Dynamo, HaDaemon, Sampler, ha_config, now_ms, skip_without_dynalite,
                       updates_by)
from run_common import BINARY, Emulator, Tap, metric, scenario, watchdog

skip_without_dynalite()
watchdog(280)
t = Tap()
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def wait_leader(d, timeout_s=20):
    return d.wait(lambda: d.held() == 1.0, timeout_s, step_s=0.05)


def doctor(d):
    """`qscale doctor` with the daemon's config and environment: (exit code, output)."""
    env = {k: v for k, v in d.env.items() if not k.startswith(("LD_PRELOAD", "FAKETIME"))}
    r = subprocess.run([BINARY, "doctor", "-c", d.config], capture_output=True, text=True, timeout=60,
                       env=env)
    return r.returncode, r.stdout + r.stderr


with Emulator(scenario("run-ha.yaml"), speed=10) as em, Dynamo() as db:
    db.create()
    db.create(table="qscale-wrong", key="id", kind="S")

    # A missing table: a clear error at start; never acts.
    with HaDaemon(em, db, "daemon-m", "M", table="qscale-missing") as m:
        t.ok(m.wait_log(r"ha=error table=qscale-missing .*does not exist.*action=never_act", 20),
             "a missing table: a clear error at start", m.tail())
        t.ok(m.wait_log(r"policy=orders .*standby=true", 30), "it decides and logs what it would set",
             m.tail())
        t.ok(not updates_by(em, m.key), "it never calls UpdateService without a lease")
        status, body = m.get("/readyz")
        t.ok(status == 503 and "qscale-missing does not exist" in body, "/readyz is not ready and says why",
             (status, body))
        rc, out = doctor(m)
        t.ok(rc == 1 and "FAIL ha table qscale-missing: does not exist" in out,
             "doctor fails on the missing table", out)
        t.ok(len(m.lines(r"ha=error table=qscale-missing")) == 1, "the error is logged once", m.lines("ha="))
        db.create(table="qscale-missing")
        t.ok(m.wait(lambda: m.held() == 1.0, 30, step_s=0.1),
             "once the table exists, the daemon finds it and takes the lease", m.tail())

    # The wrong key schema.
    with HaDaemon(em, db, "daemon-w", "W", table="qscale-wrong") as w:
        t.ok(w.wait_log(r"ha=error table=qscale-wrong .*key schema id \(S\).*action=never_act", 20),
             "a wrong key schema: a clear error at start", w.tail())
        time.sleep(2)
        t.ok(not updates_by(em, w.key), "it never calls UpdateService")
        rc, out = doctor(w)
        t.ok(rc == 1 and "FAIL ha table qscale-wrong: wrong key schema" in out,
             "doctor fails on the wrong key schema", out)

    # A good table: doctor passes its checks, iam-policy names the actions.
    # Longer leases where leadership must hold through trouble: a holder
    # survives 4s without a renewal, however loaded the machine.
    steady = {"duration": "6s", "renew": "500ms", "margin": "2s"}
    with HaDaemon(em, db, "daemon-a", "A", **steady) as a:
        t.ok(wait_leader(a), "the daemon takes the lease", a.tail())
        rc, out = doctor(a)
        t.ok("ok   ha table qscale-leases: ACTIVE, partition key 'lease' (S)" in out and
             "GetItem qscale-leases/qscale: ok (held by daemon-a)" in out and
             "warn PutItem, UpdateItem, DeleteItem qscale-leases: not verified" in out,
             "doctor checks the table, its key schema and reads the lease", out)
        r = subprocess.run([BINARY, "iam-policy", "-c", a.config], capture_output=True, text=True,
                           timeout=30, env=a.env)
        doc = json.loads(r.stdout) if r.returncode == 0 else {}
        st = [s for s in doc.get("Statement", []) if s.get("Sid") == "QscaleHaLease"]
        t.ok(st and st[0]["Resource"] == ["arn:aws:dynamodb:us-east-1:123456789012:table/qscale-leases"] and
             set(st[0]["Action"]) == {"dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:PutItem",
                                      "dynamodb:UpdateItem", "dynamodb:DeleteItem"},
             "iam-policy grants the lease calls on the table's ARN", r.stdout + r.stderr)

        # A reload cannot turn ha off: refused, the lease kept.
        with open(a.config, encoding="utf-8") as f:
            original = f.read()
        a.write_policy(original[:original.index("ha:\n")], a.config)
        offset = len(a.text())
        a.signal(signal.SIGHUP)
        t.ok(a.wait_log(r"reload=refused reason=\"'ha' cannot be turned off by a reload; restart qscale\"",
                        20, after=offset), "a reload that turns ha off is refused", a.text()[offset:])
        t.ok(a.held() == 1, "and the lease is kept")
        a.write_policy(original, a.config)

        b = HaDaemon(em, db, "daemon-b", "B", **steady)
        sampler = Sampler([a, b])
        t.ok(b.wait_log(r"ha=standby lease=qscale identity=daemon-b holder=daemon-a", 20), "a standby joins",
             b.tail())

        # Brief throttling: the leader keeps its lease.
        offset = len(a.text())
        a.proxy.set("throttle")
        time.sleep(0.6)
        a.proxy.set("open")
        time.sleep(2)
        t.ok(a.proxy.served["throttle"] > 0, "the leader's DynamoDB calls were throttled",
             a.proxy.served)
        t.ok(a.held() == 1 and "ha=standby" not in a.text()[offset:] and b.held() == 0,
             "brief throttling: the leader keeps its lease", a.text()[offset:][-2000:])
        ma = a.metrics()
        t.ok((metric(ma, "qscale_aws_throttles_total", operation="UpdateItem") or 0) > 0,
             "metrics count the throttled attempts", [k for k in ma if "throttle" in k[0]])

        # Long throttling: the leader stops, then the standby takes over.
        since = now_ms()
        a.proxy.set("throttle")
        t.ok(wait_leader(b, 30), "long throttling: the standby takes over", b.tail())
        t.ok("reason=\"lease not renewed in time\"" in a.text()[offset:],
             "the throttled leader stopped acting when its lease ran short", a.tail())
        ma = a.metrics()
        t.ok((metric(ma, "qscale_ha_lease_failures_total", lease="qscale") or 0) > 0,
             "metrics count the failed lease calls")
        status, body = a.get("/readyz")
        t.ok(status == 503 and "no answer from DynamoDB" in body, "/readyz: a daemon DynamoDB refuses is not ready",
             (status, body))
        a.proxy.set("open")
        t.ok(a.wait_log(r"ha=standby lease=qscale identity=daemon-a holder=daemon-b", 1) or
             a.wait(lambda: a.held() == 0 and a.get("/readyz")[0] == 200, 20),
             "throttling over: it is a healthy standby", a.get("/readyz"))
        b_first = min([u["wall_ms"] for u in updates_by(em, b.key, since)] or [now_ms()])
        t.ok(all(u["wall_ms"] < b_first for u in updates_by(em, a.key, since)),
             "the throttled leader never acted after the standby took over")
        sampler.stop()
        t.ok(not sampler.both, f"never two holders at once ({sampler.rounds} rounds)", sampler.both)
        b.__exit__(None, None, None)

    # Wall-clock jumps: libfaketime moves the wall clock, the monotonic clock stays real.
    if os.path.exists(FAKETIME):
        files = {}
        daemons = {}
        for name in ("c", "d"):
            path = os.path.join(em.dir, f"faketime-{name}")
            with open(path, "w") as f:
                f.write("+0\n")
            files[name] = path
            env = {"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": path, "FAKETIME_NO_CACHE": "1",
                   "FAKETIME_DONT_FAKE_MONOTONIC": "1",
                   "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
            daemons[name] = HaDaemon(em, db, f"daemon-{name}", name.upper(), extra_env=env, **steady)
            if name == "c":
                t.ok(wait_leader(daemons["c"]), "under libfaketime: the first daemon leads", daemons["c"].tail())
        c, d = daemons["c"], daemons["d"]
        t.ok(d.wait_log(r"ha=standby lease=qscale identity=daemon-d holder=daemon-c", 20), "and the second is standby",
             d.tail())
        sampler = Sampler([c, d])
        offsets = {n: len(x.text()) for n, x in daemons.items()}
        since = now_ms()
        for who, jump in (("c", "+10m"), ("c", "-10m"), ("d", "+10m"), ("d", "-10m"), ("c", "-1h"), ("c", "+0")):
            with open(files[who], "w") as f:
                f.write(jump + "\n")
            time.sleep(7)  # longer than a lease duration
        t.ok(c.held() == 1 and "ha=standby" not in c.text()[offsets["c"]:],
             "clock jumps: the leader never lost its lease", c.text()[offsets["c"]:][-1500:])
        t.ok("ha=leader" not in d.text()[offsets["d"]:] and not updates_by(em, d.key, since),
             "clock jumps: the standby never took over nor acted")
        t.ok(updates_by(em, c.key, since), "the leader kept acting through the jumps")
        sampler.stop()
        t.ok(not sampler.both, f"clock jumps: never two holders ({sampler.rounds} rounds)", sampler.both)
        for x in daemons.values():
            x.__exit__(None, None, None)
    else:
        t.ok(True, "# SKIP libfaketime is not installed (scripts/deps --test)")
t.done()
