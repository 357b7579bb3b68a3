#!/usr/bin/env python3
"""`qscale run` with FIFOs where it expects files, on loopback.

AWS_CONFIG_FILE names a FIFO from the start: qscale must still start (bind
the metrics port, cycle) and say which file it ignored. Then a FIFO is
renamed over the shared credentials file while the daemon runs (as a bad
rotation could): the loop must go on (cycles, watchdog pings, /healthz) on
the keys it holds, saying so once; a good file put back is used again.
Last, a FIFO as a policy file: SIGHUP reports it by name and keeps the
running set. A blocking open() anywhere here would freeze the loop.
"""

import os
import re
import signal

from run_common import ACCESS_KEY, SECRET_KEY, Daemon, Emulator, Tap, scenario, watchdog

watchdog(200)
t = Tap()

GOOD = f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"


def prepare(folder):
    path = os.path.join(folder, "credentials")
    with open(path, "w", encoding="utf-8") as f:
        f.write(GOOD)
    os.chmod(path, 0o600)
    os.mkfifo(os.path.join(folder, "config"), 0o600)


env = {
    "AWS_ACCESS_KEY_ID": None,
    "AWS_SECRET_ACCESS_KEY": None,
    "AWS_SHARED_CREDENTIALS_FILE": "{dir}/credentials",
    "AWS_CONFIG_FILE": "{dir}/config",
    "WATCHDOG_USEC": "400000",
}
with Emulator(scenario("run-spike.yaml"), speed=10) as em, Daemon(em, extra_env=env, prepare=prepare) as d:
    creds = os.path.join(d.dir, "credentials")
    t.ok(d.metrics_url is not None, "a FIFO at AWS_CONFIG_FILE: qscale starts and binds the metrics port",
         d.tail())
    t.ok(d.wait_log(r'aws=config file=\S+/config line=0 error="not a regular file \(a FIFO\)" action=ignore', 5),
         "the FIFO config file is named in a warning", d.tail())
    t.ok(d.wait(lambda: d.get("/readyz")[0] == 200, 20), "cycles succeed on the file's credentials",
         d.get("/readyz"))

    # A FIFO renamed over the credentials file mid-run.
    fifo = os.path.join(d.dir, "fifo")
    os.mkfifo(fifo, 0o600)
    mark = len(d.text())
    pings = len(d.notify.seen("WATCHDOG=1"))
    os.rename(fifo, creds)
    said = d.wait_log(r'credentials=file path=\S+/credentials problem="not a regular file \(a FIFO\)"', 20,
                      after=mark)
    t.ok(said is not None, "the FIFO in place of the credentials file is named", d.text()[mark:][-1500:])
    t.ok(d.wait(lambda: len(d.lines(r"policy=orders backlog=\d")) - len(
        re.findall(r"policy=orders backlog=\d", d.text()[:mark])) >= 5, 30),
         "cycles go on with the keys held")
    t.ok(len(d.notify.seen("WATCHDOG=1")) - pings >= 5, "the watchdog goes on pinging")
    t.ok(d.get("/healthz")[0] == 200, "/healthz answers")
    t.ok(len(re.findall(r"credentials=file path=\S+/credentials problem=", d.text()[mark:])) == 1,
         "said once, not at every read")

    # A good file again.
    tmp = creds + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(GOOD)
    os.chmod(tmp, 0o600)
    os.rename(tmp, creds)
    mark = len(d.text())
    t.ok(d.wait_log(r"policy=orders backlog=\d", 10, after=mark) and d.get("/readyz")[0] == 200,
         "a good file back: cycles go on", d.get("/readyz"))

    # A FIFO as a policy file.
    os.mkfifo(os.path.join(os.path.dirname(d.policy), "zz.yaml"), 0o600)
    mark = len(d.text())
    d.signal(signal.SIGHUP)
    t.ok(d.wait_log(r'reload=failed error="\S+/zz\.yaml: not a regular file \(a FIFO\)" action=keep policies=1',
                    10, after=mark), "a FIFO policy file: the reload fails naming it", d.text()[mark:][-800:])
    t.ok(d.wait_log(r"policy=orders backlog=\d", 10, after=len(d.text())), "the running policy keeps deciding")
    t.ok(d.stop() == 0, "SIGTERM exits 0")
t.done()
