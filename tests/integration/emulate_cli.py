#!/usr/bin/env python3
"""The `qscale emulate` command line and admin API: usage errors exit 2, the
bound address is printed, --speed runs the world faster than the wall clock,
POST /_qscale/advance moves it on, the state shows the world, unknown admin
paths are 404, and oversized or odd requests are refused cleanly."""

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

from emulate_common import BINARY, DATA, ECS_PREFIX, Emulator, Tap, base_scenario, raw_request

t = Tap()
scenario = os.path.join(DATA, "emulate", "base.yaml")

for args, why in [
    ([], "no arguments"),
    (["--scenario"], "--scenario without a file"),
    (["--scenario", scenario, "--speed", "0"], "speed 0"),
    (["--scenario", scenario, "--speed", "fast"], "speed not a number"),
    (["--scenario", scenario, "--speed", "10001"], "speed above 10000"),
    (["--scenario", scenario, "--listen", "example.com:80"], "listen on a host name"),
    (["--scenario", scenario, "--listen", "127.0.0.1"], "listen without a port"),
    (["--scenario", scenario, "extra"], "a stray argument"),
    (["--scenario", os.path.join(DATA, "emulate", "does-not-exist.yaml")], "a missing scenario"),
]:
    p = subprocess.run([BINARY, "emulate", *args], capture_output=True, timeout=30)
    t.ok(p.returncode == 2, f"usage error exits 2: {why}", p.stderr)

bad = base_scenario().replace("initial_messages: 1200", "initial_messages: lots")
with open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"qscale-bad-{os.getpid()}.yaml"), "w") as f:
    f.write(bad)
p = subprocess.run([BINARY, "emulate", "--scenario", f.name], capture_output=True, timeout=30)
os.unlink(f.name)
t.ok(p.returncode == 2 and b":" in p.stderr and b"initial_messages" in p.stderr,
     "a bad scenario exits 2 naming file:line:column", p.stderr)

p = subprocess.run([BINARY, "emulate", "--help"], capture_output=True, timeout=30)
t.ok(p.returncode == 0 and b"--scenario" in p.stdout and b"/_qscale/state" in p.stdout,
     "--help prints the usage and the admin API")

with Emulator(base_scenario(), speed=120) as em:
    t.ok(em.url.startswith("http://127.0.0.1:") and not em.url.endswith(":0"),
         "the bound port is printed", em.url)
    time.sleep(1.0)
    st = em.admin("/_qscale/state")
    t.ok(st["t_ms"] >= 120000, "--speed 120: a wall second is at least two simulated minutes", st["t_ms"])
    t.ok(st["speed"] == 120, "state reports the speed", st["speed"])
    svc = {s["name"]: s for s in st["services"]}
    t.ok(svc["order-processor"]["desired"] == 2 and svc["order-processor"]["running"] == 2
         and svc["order-processor-fargate"]["desired"] == 0,
         "state lists services with desired and running counts", st["services"])
    t.ok(len(st["instances"]) == 10 and all(i["remaining_cpu"] <= i["registered_cpu"] for i in st["instances"]),
         "state lists instances with remaining resources", st["instances"][:2])
    t.ok(st["queues"][0]["name"] == "orders" and st["queues"][0]["visible"] > 0,
         "state lists queues with their backlog", st["queues"])
    before = em.admin("/_qscale/state")["t_ms"]
    after = em.admin("/_qscale/advance?ms=3600000", method="POST")["t_ms"]
    t.ok(after >= before + 3600000, "advance moves the world an hour on", (before, after))
    for path, method in [("/_qscale/nothing", "GET"), ("/_qscale/state", "POST"),
                         ("/_qscale/advance?ms=x", "POST"), ("/_qscale/advance", "POST")]:
        try:
            em.admin(path, method=method)
            code = 200
        except urllib.error.HTTPError as e:
            code = e.code
        t.ok(code in (400, 404), f"admin {method} {path} is refused", code)

    status, hdrs, body, _ = raw_request(em, ECS_PREFIX + "DescribeServices", b"x" * (1024 * 1024 + 1))
    t.ok(status == 413, "a body over 1 MiB is refused with 413", status)
    status, hdrs, body, _ = raw_request(em, ECS_PREFIX + "DescribeServices", b"{\"services\":[")
    t.ok(status == 400 and json.loads(body)["__type"] == "SerializationException"
         and hdrs.get("x-amzn-requestid"), "malformed JSON: SerializationException with a request id",
         (status, body))
    status, hdrs, body, _ = raw_request(em, ECS_PREFIX + "RunTask", {})
    t.ok(status == 400 and json.loads(body)["__type"] == "UnknownOperationException",
         "an operation qscale never calls: UnknownOperationException", body)
    req = urllib.request.Request(em.url + "/", data=b"{}", method="POST",
                                 headers={"X-Amz-Target": ECS_PREFIX + "DescribeServices",
                                          "Content-Type": "application/x-amz-json-1.1"})
    try:
        urllib.request.urlopen(req, timeout=10)
        code, doc = 200, {}
    except urllib.error.HTTPError as e:
        code, doc = e.code, json.loads(e.read())
    t.ok(code == 400 and doc.get("__type") == "MissingAuthenticationTokenException",
         "an unsigned request: MissingAuthenticationTokenException", (code, doc))
    t.ok(em.stop() == 0, "emulate exits 0 on SIGTERM", em.errors()[-2000:])

t.done()
