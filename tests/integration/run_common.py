"""Shared pieces of the `qscale run` integration tests.

Starts the real `qscale run` against `qscale emulate` (see emulate_common.py)
on 127.0.0.1: the config of tests/data/run copied into a scratch folder (so a
test may rewrite it), the emulator's address and credentials in the
environment, a datagram socket standing in for systemd's NOTIFY_SOCKET, and
helpers to wait for log lines, read /metrics and the emulator's admin API.
Every wait is bounded; SIGALRM ends a test that hangs.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

from emulate_common import BINARY, DATA, Emulator, Tap  # noqa: F401 (re-exported)

ACCESS_KEY = "AKIAQSCALEEXAMPLE"
SECRET_KEY = "qscale-emulator-example-secret"


def scenario(name):
    with open(os.path.join(DATA, "scenarios", name), encoding="utf-8") as f:
        return f.read()


def watchdog(seconds):
    """End the whole test (failing) if it runs longer than seconds."""

    def expire(signum, frame):
        print(f"not ok - the test did not finish within {seconds}s", flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


class Notify:
    """A datagram socket receiving sd_notify messages, read continuously by a
    thread (an unread socket fills up and would block the sender)."""

    def __init__(self, folder):
        self.path = os.path.join(folder, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.lock = threading.Lock()
        self.running = True
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        while self.running:
            try:
                data = self.sock.recv(4096)
            except (socket.timeout, OSError):
                continue
            with self.lock:
                self.messages.append(data.decode("utf-8", "replace"))

    def seen(self, prefix):
        with self.lock:
            return [m for m in self.messages if any(line.startswith(prefix) for line in m.splitlines())]

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


class Daemon:
    """`qscale run` against an emulator, for a `with` block."""

    def __init__(self, emulator, args=(), policy_text=None, notify=True, extra_env=None,
                 config_edit=None, preexec=None, prepare=None):
        self.dir = tempfile.mkdtemp(prefix="qscale-run-")
        shutil.copytree(os.path.join(DATA, "run"), os.path.join(self.dir, "etc"))
        self.config = os.path.join(self.dir, "etc", "qscale.yaml")
        self.policy = os.path.join(self.dir, "etc", "policies.d", "orders.yaml")
        if policy_text is not None:
            self.write_policy(policy_text)
        if config_edit is not None:
            with open(self.config, encoding="utf-8") as f:
                text = config_edit(f.read())
            self.write_policy(text, self.config)
        if prepare is not None:
            prepare(self.dir)
        self.notify = Notify(self.dir) if notify else None
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_ENDPOINT_URL": emulator.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.path.join(self.dir, "none"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(self.dir, "none"),
            "HOME": self.dir,
        })
        if emulator.ca_path:
            env["AWS_CA_BUNDLE"] = emulator.ca_path
        env.pop("NOTIFY_SOCKET", None)
        env.pop("JOURNAL_STREAM", None)
        if self.notify is not None:
            env["NOTIFY_SOCKET"] = self.notify.path
        for k, v in (extra_env or {}).items():
            # None removes a variable; "{dir}" stands for the daemon's scratch folder.
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v.replace("{dir}", self.dir)
        self.env = env
        self.log_path = os.path.join(self.dir, "run.log")
        self.log = open(self.log_path, "w+b")
        self.proc = subprocess.Popen([BINARY, "run", "-c", self.config, *args],
                                     stdout=subprocess.DEVNULL, stderr=self.log, env=env,
                                     preexec_fn=preexec)
        self.exit_code = None
        self.terminated = False
        m = self.wait_log(r"metrics=http://(127\.0\.0\.1:\d+)/metrics", 20)
        self.metrics_url = f"http://{m.group(1)}" if m else None

    def write_policy(self, text, path=None):
        path = path or self.policy
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.rename(tmp, path)

    def text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def tail(self, n=30):
        """The last n log lines, without the HTTP client's debug lines."""
        return "\n".join([ln for ln in self.text().splitlines() if "http=" not in ln][-n:])

    def lines(self, pattern):
        return [ln for ln in self.text().splitlines() if re.search(pattern, ln)]

    def wait_log(self, pattern, timeout_s, after=0):
        """The first match of pattern past byte offset after, or None at the timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text()[after:])
            if m:
                return m
            if self.proc.poll() is not None:
                return re.search(pattern, self.text()[after:])
            time.sleep(0.1)
        return None

    def wait(self, predicate, timeout_s, step_s=0.2):
        """Poll predicate until it returns a true value (returned) or the timeout (None)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(step_s)
        return None

    def get(self, path):
        """(status, body) of a GET on the metrics endpoint."""
        try:
            with urllib.request.urlopen(self.metrics_url + path, timeout=5) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8")

    def metrics(self):
        """{(name, frozenset(labels)): value} from /metrics; raises on a malformed line."""
        status, body = self.get("/metrics")
        if status != 200:
            raise RuntimeError(f"/metrics answered {status}")
        return parse_metrics(body)

    def signal(self, signum):
        if signum == signal.SIGTERM:
            self.terminated = True
        self.proc.send_signal(signum)

    def stop(self, timeout_s=30):
        """SIGTERM (unless sent already), wait, return the exit code."""
        if self.proc.poll() is None:
            if not self.terminated:
                self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        return self.exit_code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        if exc[0] is not None or os.environ.get("QSCALE_KEEP_LOGS"):
            sys.stdout.write("".join(f"# {ln}\n" for ln in self.text().splitlines()[-60:]))
        self.log.close()
        if self.notify is not None:
            self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_metrics(body):
    """Parse the Prometheus text format strictly enough to catch a broken line."""
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        m = _SAMPLE.match(line)
        if not m:
            raise ValueError(f"malformed metrics line: {line!r}")
        labels = {}
        rest = m.group(3) or ""
        pos = 0
        while pos < len(rest):
            lm = _LABEL.match(rest, pos)
            if not lm:
                raise ValueError(f"malformed labels: {line!r}")
            labels[lm.group(1)] = lm.group(2)
            pos = lm.end()
        out[(m.group(1), frozenset(labels.items()))] = float(m.group(4))
    return out


def metric(samples, name, **labels):
    """The value of one series, or None."""
    return samples.get((name, frozenset(labels.items())))


def services(emulator):
    """{service name: its state} from the emulator."""
    return {s["name"]: s for s in emulator.admin("/_qscale/state")["services"]}


def updates(emulator):
    """Every UpdateService that set a count, oldest first."""
    return emulator.admin("/_qscale/updates")["updates"]
