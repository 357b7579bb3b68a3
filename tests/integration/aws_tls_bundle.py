"""The CA bundle settings end to end, over real TLS on loopback.

An HTTPS server on 127.0.0.1 (port 0) with a self-signed certificate made
for the test stands in for the SQS and ECS endpoints. `qscale doctor` must
name the bundle in use and the settings that choose another when the
certificate does not verify; with ca_bundle in the AWS profile, or
AWS_CA_BUNDLE, pointing at the certificate, the endpoints are reachable; a
bundle that cannot be read is refused before any request, by name.
"""

import http.server
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_common import BINARY, Tap  # noqa: E402


class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the stdlib's name)
        body = b"{}"
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def make_cert(folder):
    cert, key = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def doctor(home, port, extra_env):
    conf = os.path.join(home, "qscale.yaml")
    with open(conf, "w", encoding="utf-8") as f:
        f.write("region: eu-west-1\nmetrics: {listen: ''}\npolicies: []\n"
                "aws:\n  timeout: 5s\n  endpoints:\n"
                f"    sqs: https://127.0.0.1:{port}\n    ecs: https://127.0.0.1:{port}\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
           "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "AKIDTLS",
           "AWS_SECRET_ACCESS_KEY": "tls-secret"}
    env.update(extra_env)
    p = subprocess.run([BINARY, "doctor", "-c", conf], env=env, capture_output=True, text=True,
                       timeout=120)
    return p.returncode, p.stdout + p.stderr


def main():
    tap = Tap()
    if shutil.which("openssl") is None:
        print("1..0 # SKIP openssl not installed")
        return
    home = tempfile.mkdtemp(prefix="qscale-tls-")
    server = None
    try:
        cert, key = make_cert(home)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        port = server.server_address[1]
        os.makedirs(os.path.join(home, ".aws"))
        config = os.path.join(home, ".aws", "config")

        rc, out = doctor(home, port, {})
        line = next((x for x in out.splitlines() if "endpoint sqs" in x), "")
        tap.ok(rc == 1 and line.startswith("FAIL"), "an unverified certificate fails", out)
        tap.ok("CA bundle: the system's" in line and "AWS_CA_BUNDLE" in line
               and "ca_bundle" in line, "the failure names the bundle and both settings", line)

        with open(config, "w", encoding="utf-8") as f:
            f.write(f"[default]\nca_bundle = {cert}\n")
        rc, out = doctor(home, port, {})
        line = next((x for x in out.splitlines() if "endpoint sqs" in x), "")
        tap.ok(line.startswith("ok") and "reachable" in line,
               "ca_bundle in the profile is trusted", out)
        tap.ok(f"CA bundle {cert}" in out, "doctor's settings line shows the bundle", out)

        os.remove(config)
        rc, out = doctor(home, port, {"AWS_CA_BUNDLE": cert})
        line = next((x for x in out.splitlines() if "endpoint ecs" in x), "")
        tap.ok(line.startswith("ok") and "reachable" in line, "AWS_CA_BUNDLE is trusted", out)

        with open(config, "w", encoding="utf-8") as f:
            f.write(f"[default]\nca_bundle = {home}/nowhere.pem\n")
        rc, out = doctor(home, port, {})
        tap.ok(rc == 1 and "FAIL settings: ca_bundle" in out and "cannot be read" in out
               and "config:2" in out, "an unreadable ca_bundle is refused by name", out)
        rc, out = doctor(home, port, {"AWS_CA_BUNDLE": cert})
        tap.ok("reachable" in out, "AWS_CA_BUNDLE beats the profile's ca_bundle", out)
    finally:
        if server is not None:
            server.shutdown()
            server.server_close()
        shutil.rmtree(home)
    tap.done()


if __name__ == "__main__":
    main()
