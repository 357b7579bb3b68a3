#!/usr/bin/env python3
"""`qscale run` with its metrics port under attack, on loopback.

HEAD answers carry Content-Length and no body, so the next request on the
connection works; pipelined requests, oversized heads, bodies, chunked
uploads and junk get their answers. Then, with the descriptor limit at 64
(as a low LimitNOFILE would set it), 200 connections trickle a request head
one byte at a time for 12 s, reconnecting when closed (at most 1,500
connections, about 50 KB in all). Meanwhile the control loop's cycles (its
decision lines) and the watchdog's pings (WATCHDOG=1 on NOTIFY_SOCKET) are
counted: both must go on; /healthz must still answer; no trickling
connection may outlive the head deadline however many bytes it sends; the
log must not flood; the daemon must not spin.
"""

import os
import re
import resource
import selectors
import socket
import time

from run_common import Daemon, Emulator, Tap, scenario, watchdog

NOFILE = 64
ATTACKERS = 200
ATTACK_S = 12
CONNECT_BUDGET = 1500
HEAD_DEADLINE_S = 5  # METRICS_HTTP_HEAD_DEADLINE_MS

watchdog(200)
t = Tap()


def low_nofile():
    resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))


def addr(d):
    host, port = d.metrics_url[len("http://"):].rsplit(":", 1)
    return host, int(port)


def exchange(d, data, timeout_s=10):
    """Send data on a fresh connection; everything read until the server closes (or the timeout)."""
    s = socket.create_connection(addr(d), timeout=timeout_s)
    try:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server answered and closed before taking it all
        out = b""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except (socket.timeout, ConnectionResetError):
                break
            if not chunk:
                break
            out += chunk
        return out
    finally:
        s.close()


def responses(raw, heads=0):
    """[(status, {header: value}, body)] of consecutive HTTP/1.1 answers, bodies by
    Content-Length, except for the first heads answers (to HEAD requests), which have none."""
    out = []
    while raw:
        head, sep, rest = raw.partition(b"\r\n\r\n")
        if not sep:
            break
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        n = int(headers.get("content-length", "0")) if len(out) >= heads else 0
        out.append((status, headers, rest[:n]))
        raw = rest[n:]
    return out


def cpu_s(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


with Emulator(scenario("run-spike.yaml"), speed=10) as em, \
        Daemon(em, extra_env={"WATCHDOG_USEC": "400000"}, preexec=low_nofile) as d:
    t.ok(d.metrics_url is not None, "the metrics endpoint is up with 64 descriptors", d.tail())
    t.ok(d.wait(lambda: d.get("/readyz")[0] == 200, 20), "/readyz 200 before the attack", d.get("/readyz"))

    # HEAD keeps the connection usable: Content-Length of the body it leaves out.
    for path in ("/metrics", "/healthz", "/readyz"):
        raw = exchange(d, f"HEAD {path} HTTP/1.1\r\nHost: x\r\n\r\nGET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        r = responses(raw, heads=1)
        ok = (len(r) == 2 and r[0][0] == 200 and r[0][2] == b"" and r[1][0] == 200
              and int(r[0][1]["content-length"]) > 0
              and r[1][1]["content-type"] == r[0][1]["content-type"]
              and (path == "/metrics" or int(r[0][1]["content-length"]) == len(r[1][2])))
        t.ok(ok, f"HEAD {path}: no body, its Content-Length; the next request on the connection works",
             raw[:600])
    r = responses(exchange(d, b"GET /healthz HTTP/1.1\r\n\r\n" * 3))
    t.ok([x[0] for x in r] == [200, 200, 200] and all(x[2] == b"ok\n" for x in r),
         "three pipelined requests get three answers", r)
    r = responses(exchange(d, b"GET /healthz HTTP/1.0\r\n\r\n"))
    t.ok(len(r) == 1 and r[0][1].get("connection") == "close", "HTTP/1.0 without keep-alive is closed", r)

    refused = {
        "a head larger than 8 KiB": (b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
        "a request body": (b"POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 413),
        "a chunked upload": (b"POST /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501),
        "junk": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 400),
        "a folded header": (b"GET /metrics HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400),
        "POST": (b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        "an unknown path": (b"GET /nope HTTP/1.1\r\n\r\n", 404),
    }
    for name, (data, want) in refused.items():
        r = responses(exchange(d, data))
        t.ok(len(r) >= 1 and r[0][0] == want, f"{name}: {want}", r)

    # The attack.
    before_text = len(d.text())
    cycles_before = len(d.lines(r"policy=orders backlog=\d"))
    pings_before = len(d.notify.seen("WATCHDOG=1"))
    cpu_before = cpu_s(d.proc.pid)
    sel = selectors.DefaultSelector()
    opened = {}  # socket -> time opened
    started = set()  # sockets that sent the start of their head
    lifetimes = []
    connects = 0
    sent = 0

    def open_one():
        global connects, sent
        if connects >= CONNECT_BUDGET:
            return
        connects += 1
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(addr(d))
        except BlockingIOError:
            pass
        opened[s] = time.monotonic()
        sel.register(s, selectors.EVENT_READ)

    def closed(s):
        lifetimes.append(time.monotonic() - opened.pop(s))
        started.discard(s)
        sel.unregister(s)
        s.close()
        open_one()

    for _ in range(ATTACKERS):
        open_one()
    start = time.monotonic()
    health_ok = health_tries = 0
    next_drip = next_health = start
    while time.monotonic() - start < ATTACK_S:
        now = time.monotonic()
        if now >= next_drip:
            next_drip = now + 0.25
            for s in list(opened):
                # A valid start, then one byte of a header value per drip.
                data = b"a" if s in started else b"GET /metrics HTTP/1.1\r\nX-Slow: "
                try:
                    sent += s.send(data)
                    started.add(s)
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    closed(s)
        if now >= next_health:
            next_health = now + 1
            health_tries += 1
            try:
                r = responses(exchange(d, b"GET /healthz HTTP/1.1\r\n\r\n", timeout_s=3))
                health_ok += 1 if r and r[0][0] == 200 else 0
            except OSError:
                pass
        for key, _ in sel.select(timeout=0.05):
            try:
                data = key.fileobj.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:
                closed(key.fileobj)
    elapsed = time.monotonic() - start
    still = [time.monotonic() - t0 for t0 in opened.values()]
    for s in list(opened):
        sel.unregister(s)
        s.close()
    opened.clear()
    cpu = cpu_s(d.proc.pid) - cpu_before
    cycles = len(d.lines(r"policy=orders backlog=\d")) - cycles_before
    pings = len(d.notify.seen("WATCHDOG=1")) - pings_before
    attack_log = d.text()[before_text:]

    print(f"# attack: {connects} connections, {sent} bytes, {elapsed:.1f}s; {cycles} cycles, "
          f"{pings} watchdog pings, /healthz {health_ok}/{health_tries}, daemon CPU {cpu:.2f}s, "
          f"log {len(attack_log)} bytes, longest trickle {max(lifetimes + still):.1f}s", flush=True)
    t.ok(cycles >= 3, "the control loop keeps observing and deciding during the attack", cycles)
    t.ok(pings >= 5, "the watchdog keeps pinging during the attack", pings)
    t.ok(health_ok >= 1, "/healthz still answers during the attack", f"{health_ok}/{health_tries}")
    t.ok(not re.search(r"Couldn't connect|Error from accept", attack_log),
         "AWS calls are not cut off and accept() does not fail in a loop", attack_log[-1500:])
    t.ok(len(re.findall(r"metrics_http=accept", attack_log)) <= 2 and len(attack_log) < 2_000_000,
         "no log flood", len(attack_log))
    t.ok(lifetimes and max(lifetimes + still) < HEAD_DEADLINE_S + 5,
         "no trickling connection outlives the head deadline", max(lifetimes + still) if lifetimes else None)
    t.ok(cpu < 0.2 * elapsed, "the daemon does not spin", f"{cpu:.2f}s of CPU in {elapsed:.1f}s")
    t.ok(d.wait(lambda: d.get("/readyz")[0] == 200, 20), "/readyz 200 after the attack", d.get("/readyz"))
    t.ok(d.proc.poll() is None, "the daemon is still running")
    t.ok(d.stop() == 0, "SIGTERM exits 0")
t.done()
