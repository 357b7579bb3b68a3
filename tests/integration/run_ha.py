#!/usr/bin/env python3
"""Two `qscale run` on one emulated fleet (tests/data/scenarios/run-ha.yaml at
--speed 10) sharing one lease in a real DynamoDB (dynalite), each daemon with
its own DynamoDB endpoint (a proxy the test can cut) and its own access key,
so the emulator's record of UpdateService calls says who acted.

Checked: one leader, one standby that decides and logs what it would set;
the record as the AWS SDK reads it; /metrics and /readyz of both; failover
after SIGKILL of the leader; the leader partitioned from DynamoDB but not
from ECS stops before the standby takes over and never acts again while cut;
a leader paused (SIGSTOP) past its lease does not act on waking; SIGTERM
hands over at once (a release, then a create); SIGHUP keeps the lease; both
daemons restarted repeatedly with never two holders at once."""

import signal
import time

from ha_common import (Dynamo, HaDaemon, Sampler, TABLE, now_ms, skip_without_dynalite,
                       updates_by)
from run_common import Emulator, Tap, metric, scenario, watchdog

skip_without_dynalite()
watchdog(280)
t = Tap()
# A lease of 4s renewed every 500ms: a healthy holder survives 3s without a
# renewal (duration - margin), so a loaded machine does not lose it by chance.
DURATION_MS, RENEW_MS, INTERVAL_MS = 4000, 500, 1000
HA = {"duration": "4s", "renew": "500ms", "margin": "1s"}
# Generous: a loaded machine delays every step; the point is the bound's shape.
FAILOVER_BOUND_MS = DURATION_MS + 2 * RENEW_MS + INTERVAL_MS + 6000


def wait_leader(d, timeout_s=20):
    return d.wait(lambda: d.held() == 1.0, timeout_s, step_s=0.05)


with Emulator(scenario("run-ha.yaml"), speed=10) as em, Dynamo() as db:
    db.create()
    a = HaDaemon(em, db, "daemon-a", "A", **HA)
    t.ok(wait_leader(a), "the first daemon takes the lease", a.tail())
    b = HaDaemon(em, db, "daemon-b", "B", **HA)
    sampler = Sampler([a, b])
    t.ok(b.wait_log(r"ha=standby lease=qscale identity=daemon-b holder=daemon-a", 20),
         "the second daemon logs that it is standby and who holds the lease", b.tail())

    rec = db.get()
    t.ok(rec.get("holder", {}).get("S") == "daemon-a" and rec.get("duration_ms", {}).get("N") == "4000"
         and len(rec.get("version", {}).get("S", "")) == 32,
         "the AWS SDK reads the record qscale wrote: holder, version, duration", rec)
    v1 = rec.get("version", {}).get("S")
    time.sleep(1.5)
    t.ok(db.get().get("version", {}).get("S") not in (None, v1), "the holder renews: the version changes")

    t.ok(a.wait(lambda: len(updates_by(em, a.key)) >= 2, 30), "the leader calls UpdateService",
         em.admin("/_qscale/updates"))
    t.ok(b.wait_log(r"policy=orders .*standby=true", 30), "the standby decides and logs what it would set",
         b.tail())
    t.ok(not updates_by(em, b.key), "the standby never calls UpdateService", updates_by(em, b.key))
    ma, mb = a.metrics(), b.metrics()
    t.ok(metric(ma, "qscale_ha_lease_held", lease="qscale") == 1 and
         metric(mb, "qscale_ha_lease_held", lease="qscale") == 0, "metrics: which daemon holds the lease")
    t.ok(metric(mb, "qscale_ha_lease_holder", lease="qscale", holder="daemon-a") == 1 and
         metric(mb, "qscale_ha_identity_info", identity="daemon-b") == 1,
         "metrics: the standby names the holder and itself")
    t.ok((metric(ma, "qscale_ha_lease_renewals_total", lease="qscale") or 0) >= 2 and
         metric(ma, "qscale_ha_lease_failures_total", lease="qscale") == 0,
         "metrics: renewals counted, no failures")
    t.ok(b.wait(lambda: b.get("/readyz")[0] == 200, 20), "/readyz: a healthy standby is ready", b.get("/readyz"))

    # SIGHUP on the leader: the reload keeps the lease.
    offset = len(a.text())
    a.signal(signal.SIGHUP)
    t.ok(a.wait_log(r"reload=ok", 20, after=offset), "SIGHUP reloads the leader", a.tail())
    time.sleep(1.5)
    t.ok(a.held() == 1 and b.held() == 0 and "ha=" not in a.text()[offset:],
         "SIGHUP: the leader keeps its lease, nothing changes hands", a.text()[offset:][-1500:])

    # SIGKILL the leader: the standby takes over within a lease duration and a bit.
    killed = now_ms()
    a.proc.send_signal(signal.SIGKILL)
    a.proc.wait()
    t.ok(wait_leader(b, 30), "after SIGKILL of the leader the standby takes the lease", b.tail())
    took = sampler.first_held.get("daemon-b", now_ms()) - killed
    t.ok(took <= FAILOVER_BOUND_MS, f"failover within the bound ({took} ms <= {FAILOVER_BOUND_MS} ms)")
    t.ok(b.wait_log(r"ha=leader lease=qscale identity=daemon-b via=take_over", 5),
         "journald gets one line for the change: leader via take_over", b.tail())
    t.ok(b.wait(lambda: updates_by(em, b.key), 30), "the new leader calls UpdateService", b.tail())
    t.ok(b.held() == 1 and not updates_by(em, a.key, killed), "nothing acted for the dead daemon")
    a.__exit__(None, None, None)

    # The first daemon comes back: standby.
    a = HaDaemon(em, db, "daemon-a", "A", **HA)
    sampler.daemons = [a, b]
    t.ok(a.wait_log(r"ha=standby lease=qscale identity=daemon-a holder=daemon-b", 20),
         "the first daemon comes back as standby", a.tail())

    # Partition the leader from DynamoDB, not from ECS.
    since = now_ms()
    b.proxy.set("cut")
    t.ok(wait_leader(a, 30), "with the leader cut off from DynamoDB the standby takes over", a.tail())
    t.ok(a.wait(lambda: updates_by(em, a.key, since), 30), "the new leader acts", a.tail())
    a_first = min(u["wall_ms"] for u in updates_by(em, a.key, since))
    b_during = updates_by(em, b.key, since)
    t.ok(all(u["wall_ms"] < a_first for u in b_during),
         "the partitioned leader's last UpdateService came before the new leader's first",
         (b_during, a_first))
    t.ok(b.wait_log(r"ha=standby lease=qscale identity=daemon-b .*reason=\"lease not renewed in time\"", 10),
         "the partitioned leader logs that it stopped acting", b.tail())
    t.ok(b.held() == 0, "metrics: the partitioned daemon holds nothing")
    time.sleep(2)
    t.ok(not updates_by(em, b.key, a_first), "the partitioned daemon never acts while cut off",
         updates_by(em, b.key, a_first))
    healed = now_ms()
    b.proxy.set("open")
    t.ok(b.wait_log(r"ha=standby lease=qscale identity=daemon-b holder=daemon-a", 20) or
         b.wait(lambda: b.held() == 0 and b.metrics().get(("qscale_ha_lease_holder", frozenset(
             {"lease": "qscale", "holder": "daemon-a"}.items()))) == 1, 20),
         "healed, it sees the new holder and stays standby", b.tail())
    t.ok(not updates_by(em, b.key, healed), "healed, it does not act")

    # Pause the leader (a) longer than its lease.
    sampler.daemons = [b]
    a.proc.send_signal(signal.SIGSTOP)
    paused = now_ms()
    t.ok(wait_leader(b, 30), "while the leader is paused the standby takes over", b.tail())
    time.sleep(max(0, (DURATION_MS + 1000 - (now_ms() - paused)) / 1000))
    woke = now_ms()
    offset = len(a.text())
    a.proc.send_signal(signal.SIGCONT)
    t.ok(a.wait_log(r"ha=standby lease=qscale identity=daemon-a .*reason=\"lease not renewed in time\"", 20,
                    after=offset) and a.wait(lambda: a.held() == 0, 10),
         "the paused leader wakes, sees its lease is stale and logs standby", a.tail())
    time.sleep(2)
    late = updates_by(em, a.key, woke)
    t.ok(not late, "on waking it does not act on its stale lease", late)
    sampler.daemons = [a, b]

    # SIGTERM hands over at once: a release, then the standby creates the lease.
    b.stop()
    t.ok(b.exit_code == 0 and b.lines(r"ha=released lease=qscale identity=daemon-b"),
         "SIGTERM: the leader releases its lease and exits 0", b.tail())
    t.ok(wait_leader(a, 20), "the standby takes over after the release", a.tail())
    t.ok(a.lines(r"ha=leader lease=qscale identity=daemon-a via=create"),
         "it created the lease anew (no wait for expiry)", a.lines("ha="))
    b.__exit__(None, None, None)

    # Restart both repeatedly: never two holders.
    daemons = {"a": a}
    for i in range(3):
        name = "b" if "b" not in daemons else "a"
        other = "a" if name == "b" else "b"
        daemons[name] = HaDaemon(em, db, f"daemon-{name}", name.upper(), **HA)
        sampler.daemons = list(daemons.values())
        daemons[name].wait_log(r"ha=(standby|leader)", 20)
        daemons[other].stop()
        daemons[other].__exit__(None, None, None)
        del daemons[other]
        sampler.daemons = list(daemons.values())
        t.ok(wait_leader(daemons[name], 20), f"restart {i + 1}: the remaining daemon leads",
             daemons[name].tail())
    sampler.stop()
    t.ok(sampler.rounds > 50 and not sampler.both, f"never two holders at once ({sampler.rounds} sample rounds)",
         sampler.both)
    for d in daemons.values():
        d.__exit__(None, None, None)
t.done()
