"""Shared pieces of the qscale emulate integration tests.

Starts `qscale emulate` on 127.0.0.1 port 0 with a scenario, signs raw requests
with an independent SigV4 implementation (so the emulator is not checked only
against our own signer), runs the real AWS clients (awscli, the AWS SDK for
JavaScript) and reports results as TAP.
"""

import datetime
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ACCESS_KEY = "AKIDQSCALETEST"
SECRET_KEY = "qscale-test-secret/K7MDENG+bPxRfiCY"
REGION = "us-east-1"
ACCOUNT = "123456789012"
ECS_PREFIX = "AmazonEC2ContainerServiceV20141113."

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("QSCALE_TEST_DATA", os.path.join(HERE, "..", "data"))
BINARY = os.environ.get("QSCALE_BINARY", "qscale")


class Tap:
    """Minimal TAP producer: one line per check, plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, detail=None):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {name}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {name}", flush=True)
            if detail is not None:
                for line in str(detail).splitlines()[:40]:
                    print(f"# {line}", flush=True)
        return cond

    def done(self):
        print(f"1..{self.n}", flush=True)
        sys.exit(1 if self.failed else 0)


def base_scenario():
    with open(os.path.join(DATA, "emulate", "base.yaml"), encoding="utf-8") as f:
        return f.read()


class Emulator:
    """`qscale emulate` on a scenario text, for a `with` block.

    tls: None for plain HTTP; "good" for HTTPS with a generated private CA
    (its certificate at self.ca_path, for AWS_CA_BUNDLE); "expired" or
    "wrong-host" for a generated certificate that clients must refuse."""

    def __init__(self, scenario_text, speed=None, tls=None):
        self.dir = tempfile.mkdtemp(prefix="qscale-emulate-")
        self.path = os.path.join(self.dir, "scenario.yaml")
        with open(self.path, "w", encoding="utf-8") as f:
            f.write(scenario_text)
        args = [BINARY, "emulate", "--scenario", self.path, "--listen", "127.0.0.1:0"]
        if speed is not None:
            args += ["--speed", str(speed)]
        self.ca_path = None
        if tls is not None:
            self.ca_path = os.path.join(self.dir, "ca.pem")
            args += ["--tls", "--ca-out", self.ca_path]
            if tls != "good":
                args += ["--bad-cert", tls]
        self.stderr = open(os.path.join(self.dir, "stderr"), "w+b")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=self.stderr)
        line = self._first_line(20)
        if not line.startswith("listening on http"):
            self.stop()
            raise RuntimeError(f"emulate did not start: {line!r} {self.errors()}")
        self.url = line[len("listening on "):].strip()
        self.host_port = self.url.split("://", 1)[1]
        self.exit_code = None

    def _first_line(self, timeout_s):
        import selectors

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            return ""
        return self.proc.stdout.readline().decode("utf-8", "replace")

    def errors(self):
        self.stderr.flush()
        self.stderr.seek(0)
        return self.stderr.read().decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, wait, return the exit code (sanitizer failures show here)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        return self.exit_code

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        self.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False

    def admin(self, path, method="GET"):
        req = urllib.request.Request(self.url + path, method=method, data=b"" if method == "POST" else None)
        context = None
        if self.url.startswith("https://"):
            import ssl

            # The admin API is the test's own: it reads even a deliberately bad certificate.
            context = ssl.create_default_context(cafile=self.ca_path)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        with urllib.request.urlopen(req, timeout=10, context=context) as r:
            return json.loads(r.read())

    def queue_url(self, name="orders"):
        return f"{self.url}/{ACCOUNT}/{name}"


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def sign(host_port, target, body, service, content_type, secret=SECRET_KEY, access_key=ACCESS_KEY,
         when=None, region=REGION):
    """Headers of a SigV4-signed POST / (an implementation independent of qscale's)."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    headers = {
        "content-type": content_type,
        "host": host_port,
        "x-amz-date": amz_date,
        "x-amz-target": target,
    }
    names = sorted(headers)
    canonical = "\n".join([
        "POST", "/", "",
        "".join(f"{n}:{headers[n]}\n" for n in names),
        ";".join(names),
        hashlib.sha256(body).hexdigest(),
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), date)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={sig}")
    return headers


def raw_request(em, target, payload, timeout=10.0, **sign_args):
    """Send one signed request on a fresh socket; return (status, headers, body, complete).

    status is None when the connection closed without a byte; socket.timeout
    propagates when nothing arrives in time.
    """
    body = json.dumps(payload).encode() if not isinstance(payload, bytes) else payload
    service = "sqs" if target.startswith("AmazonSQS.") else "ecs"
    ctype = "application/x-amz-json-1.0" if service == "sqs" else "application/x-amz-json-1.1"
    headers = sign(em.host_port, target, body, service, ctype, **sign_args)
    host, port = em.host_port.rsplit(":", 1)
    lines = ["POST / HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
    lines += [f"content-length: {len(body)}", "connection: close", "", ""]
    s = socket.create_connection((host, int(port)), timeout=timeout)
    try:
        s.sendall("\r\n".join(lines).encode() + body)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if not data:
        return None, {}, b"", False
    head, _, rest = data.partition(b"\r\n\r\n")
    head_lines = head.decode("latin-1").split("\r\n")
    status = int(head_lines[0].split()[1])
    hdrs = {}
    for h in head_lines[1:]:
        k, _, v = h.partition(":")
        hdrs[k.strip().lower()] = v.strip()
    complete = "content-length" not in hdrs or int(hdrs["content-length"]) == len(rest)
    return status, hdrs, rest, complete


def aws_binary():
    """Debian's awscli when installed, else whatever `aws` is on PATH."""
    if os.path.exists("/usr/bin/aws"):
        return "/usr/bin/aws"
    return shutil.which("aws")


def aws(em, *args, secret=SECRET_KEY, access_key=ACCESS_KEY, timeout=60, ca_bundle=None):
    """Run the AWS CLI against the emulator; returns (rc, parsed JSON or None, stderr).

    Over TLS it trusts ca_bundle, else the emulator's own CA."""
    home = tempfile.mkdtemp(prefix="qscale-aws-")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": home,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": os.path.join(home, "config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(home, "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
        "AWS_RETRY_MODE": "standard",
        "LC_ALL": "C.UTF-8",
    }
    if ca_bundle or em.ca_path:
        env["AWS_CA_BUNDLE"] = ca_bundle or em.ca_path
    try:
        p = subprocess.run([aws_binary(), "--endpoint-url", em.url, "--output", "json", *args],
                           env=env, capture_output=True, timeout=timeout)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    out = None
    if p.stdout.strip():
        try:
            out = json.loads(p.stdout)
        except ValueError:
            out = None
    return p.returncode, out, p.stderr.decode("utf-8", "replace")


NODE_DIR = os.path.join(HERE, "node")


def node_ready():
    """Install the SDK from the lockfile when node_modules is missing; True when usable."""
    import fcntl

    if shutil.which("node") is None or shutil.which("npm") is None:
        return False
    # Tests run in parallel: one npm ci at a time, the others wait for it.
    with open(os.path.join(tempfile.gettempdir(), "qscale-npm-ci.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.isdir(os.path.join(NODE_DIR, "node_modules", "@aws-sdk", "client-sqs")):
            p = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR,
                               capture_output=True, timeout=600)
            if p.returncode != 0:
                sys.stderr.write(p.stderr.decode("utf-8", "replace"))
                return False
    return True


def node_sqs(em, queue_url, *names, secret=SECRET_KEY, access_key=ACCESS_KEY, timeout_ms=10000,
             attempts=1):
    """GetQueueAttributes through @aws-sdk/client-sqs; returns the script's JSON line."""
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": REGION,
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "QSCALE_MAX_ATTEMPTS": str(attempts),
        "QSCALE_TIMEOUT_MS": str(timeout_ms),
        "NODE_NO_WARNINGS": "1",
    })
    env.pop("AWS_PROFILE", None)
    p = subprocess.run(["node", os.path.join(NODE_DIR, "sqs.mjs"), em.url, queue_url, *names],
                       env=env, capture_output=True, timeout=120)
    try:
        return json.loads(p.stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return {"ok": False, "name": "no-output", "stderr": p.stderr.decode("utf-8", "replace")}


def with_faults(*faults):
    """The base scenario plus a faults: section (each fault a dict)."""
    lines = ["faults:"]
    for f in faults:
        items = ", ".join(f"{k}: {v}" for k, v in f.items())
        lines.append(f"  - {{{items}}}")
    return base_scenario() + "\n" + "\n".join(lines) + "\n"
