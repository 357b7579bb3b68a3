"""Shared pieces of the HA tests: a real DynamoDB (dynalite, started by
tests/integration/node/ha_dynamo.js on a loopback port the kernel picks),
the AWS SDK for JavaScript to read the lease records back, a small HTTP-aware
loopback proxy per daemon that a test can cut (a partition: requests are held
unanswered), throttle (ProvisionedThroughputExceededException) or open again,
and `qscale run` with an `ha:` section, its own DynamoDB endpoint (through
its proxy) and its own access key (a sub-key the emulator accepts), so the
emulator's record of UpdateService calls tells who acted."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

from run_common import ACCESS_KEY, Daemon, metric

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
TABLE = "qscale-leases"


def have_dynalite():
    return (os.path.isdir(os.path.join(NODE_DIR, "node_modules", "dynalite")) and
            os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@aws-sdk", "client-dynamodb")))


def skip_without_dynalite():
    if not have_dynalite():
        print("1..0 # SKIP dynalite or @aws-sdk/client-dynamodb not installed (scripts/deps --test)")
        sys.exit(0)


def node(*args, timeout=30):
    env = dict(os.environ, NODE_NO_WARNINGS="1")
    return subprocess.run(["node", os.path.join(NODE_DIR, "ha_dynamo.js"), *args], cwd=NODE_DIR,
                          capture_output=True, text=True, timeout=timeout, env=env)


class Dynamo:
    """dynalite in memory on 127.0.0.1, for a `with` block."""

    def __init__(self):
        env = dict(os.environ, NODE_NO_WARNINGS="1")
        self.proc = subprocess.Popen(["node", os.path.join(NODE_DIR, "ha_dynamo.js"), "serve"],
                                     cwd=NODE_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, env=env)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("port "):
            self.stop()
            raise RuntimeError(f"dynalite did not start: {line!r}")
        self.port = int(line.split()[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def create(self, table=TABLE, key="lease", kind="S", sort_key=None):
        r = node("create", self.url, table, key, kind, *([sort_key] if sort_key else []))
        if r.returncode != 0:
            raise RuntimeError(f"create table: {r.stderr}")

    def get(self, name="qscale", table=TABLE):
        """The lease record as the AWS SDK reads it ({} when none)."""
        r = node("get", self.url, table, name)
        if r.returncode != 0:
            raise RuntimeError(f"get item: {r.stderr}")
        return json.loads(r.stdout)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def _read_message(sock, buf):
    """One HTTP message (head and Content-Length body) from sock; (message, rest) or (None, b'')."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            return None, b""
        buf += data
        if len(buf) > 1 << 20:
            return None, b""
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(rest) < length:
        data = sock.recv(65536)
        if not data:
            return None, b""
        rest += data
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


THROTTLE_BODY = (b'{"__type":"com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",'
                 b'"message":"The level of configured provisioned throughput for the table was exceeded."}')


class Proxy:
    """A loopback HTTP proxy to one upstream: mode "open" forwards, "cut"
    holds every request unanswered (a partition), "throttle" answers each
    with ProvisionedThroughputExceededException. Bounded: at most 64
    connections, each handled by one thread that stops with the proxy."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.mode = "open"
        self.lock = threading.Lock()
        self.served = {"open": 0, "cut": 0, "throttle": 0}
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.listener.settimeout(0.2)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.running = True
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def set(self, mode):
        with self.lock:
            self.mode = mode
            # A partition also breaks the connections already open.
            if mode == "cut":
                for c in self.conns:
                    try:
                        c.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass

    def _accept(self):
        while self.running:
            try:
                client, _ = self.listener.accept()
            except (socket.timeout, OSError):
                continue
            with self.lock:
                if len(self.conns) >= 64:
                    client.close()
                    continue
                self.conns.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = None
        buf = b""
        client.settimeout(0.5)
        try:
            while self.running:
                try:
                    msg, buf = _read_message(client, buf)
                except socket.timeout:
                    continue
                if msg is None:
                    break
                with self.lock:
                    mode = self.mode
                    self.served[mode] += 1
                if mode == "cut":
                    # Hold it: the daemon's own timeout ends the request.
                    while self.running and self.mode == "cut":
                        time.sleep(0.05)
                    break
                if mode == "throttle":
                    client.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\n"
                                   b"Content-Length: " + str(len(THROTTLE_BODY)).encode() +
                                   b"\r\n\r\n" + THROTTLE_BODY)
                    continue
                if upstream is None:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream), timeout=10)
                upstream.sendall(msg)
                reply, _ = _read_message(upstream, b"")
                if reply is None:
                    break
                client.sendall(reply)
        except OSError:
            pass
        finally:
            client.close()
            if upstream is not None:
                upstream.close()
            with self.lock:
                if client in self.conns:
                    self.conns.remove(client)

    def stop(self):
        self.running = False
        self.set("open")
        self.thread.join(2)
        self.listener.close()
        with self.lock:
            for c in self.conns:
                try:
                    c.close()
                except OSError:
                    pass


def ha_config(identity, duration="3s", renew="500ms", margin="1s", table=TABLE, lease=None):
    text = f"ha:\n  table: {table}\n  duration: {duration}\n  renew: {renew}\n  margin: {margin}\n  identity: {identity}\n"
    if lease is not None:
        text += f"  lease: {lease}\n"
    return text


class HaDaemon(Daemon):
    """`qscale run` with ha:, its DynamoDB through its own proxy, and its own access key."""

    def __init__(self, emulator, dynamo, identity, key_suffix, proxy=None, extra_env=None, **ha):
        self.identity = identity
        self.key = ACCESS_KEY + key_suffix
        self.own_proxy = proxy is None
        self.proxy = proxy or Proxy(dynamo.port)
        env = {"AWS_ACCESS_KEY_ID": self.key, "AWS_ENDPOINT_URL_DYNAMODB": self.proxy.url}
        env.update(extra_env or {})
        extra = ha_config(identity, **ha)
        super().__init__(emulator, notify=False, extra_env=env, config_edit=lambda text: text + extra)

    def held(self, lease="qscale"):
        """1.0 when /metrics says this daemon holds the lease, 0.0 when not, None if unreadable."""
        try:
            return metric(self.metrics(), "qscale_ha_lease_held", lease=lease)
        except Exception:
            return None

    def __exit__(self, *exc):
        r = super().__exit__(*exc)
        if self.own_proxy:
            self.proxy.stop()
        return r


def updates_by(emulator, key, since_ms=0):
    """The UpdateService calls the emulator recorded from access key `key`, after since_ms (wall)."""
    return [u for u in emulator.admin("/_qscale/updates")["updates"]
            if u.get("access_key_id") == key and u["wall_ms"] > since_ms]


def now_ms():
    return int(time.time() * 1000)


class Sampler:
    """Polls every daemon's qscale_ha_lease_held in rounds (a thread) and
    remembers any round in which two held at once. A round samples every
    daemon twice in order (x1 y1 x2 y2); x and y held together when x1, y1
    and x2 all say 1, since y1 was taken between x1 and x2."""

    def __init__(self, daemons, step_s=0.1):
        self.daemons = list(daemons)
        self.step_s = step_s
        self.both = []
        self.first_held = {}
        self.rounds = 0
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _sample(self, ds):
        out = []
        for d in ds:
            h = d.proc.poll() is None and d.held() == 1.0
            if h:
                self.first_held.setdefault(d.identity, now_ms())
            out.append(h)
        return out

    def _run(self):
        while self.running:
            ds = list(self.daemons)
            s1 = self._sample(ds)
            s2 = self._sample(ds)
            for i in range(len(ds)):
                for j in range(i + 1, len(ds)):
                    if s1[i] and s1[j] and s2[i]:
                        self.both.append((now_ms(), ds[i].identity, ds[j].identity))
            self.rounds += 1
            time.sleep(self.step_s)

    def stop(self):
        self.running = False
        self.thread.join(10)
