"""Every credential setup the AWS CLI understands, through `qscale doctor`.

Each setup gets its own HOME, config and credentials files and a clean
environment, against `qscale emulate` (which answers STS and SSO): role
profiles (source_profile, chained, credential_source), web identity,
credential_process, SSO, and the failures each must name (a hanging or
chatty process, malformed JSON, expired credentials, a missing token file,
a refused role, mfa_serial, a misspelt profile). Where botocore (the AWS
CLI's core) and the AWS SDK for JavaScript are installed, they resolve the
same setups against the same emulator and must find the same identity.
"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_common import (ACCESS_KEY, ACCOUNT, BINARY, NODE_DIR, REGION,  # noqa: E402
                            SECRET_KEY, Emulator, Tap, aws_binary, base_scenario, node_ready)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/"
HERE = os.path.dirname(os.path.abspath(__file__))


def botocore_python():
    """An interpreter with Debian's python3-botocore, or None."""
    for py in ("/usr/bin/python3", sys.executable):
        if os.path.exists(py) and subprocess.run([py, "-c", "import botocore"],
                                                 capture_output=True).returncode == 0:
            return py
    return None


BOTOCORE_PYTHON = botocore_python()
CONFIG = """region: us-east-1
interval: 5s
metrics: {{listen: ''}}
aws: {{timeout: 5s, credential_process_timeout: 2s{extra}}}
policies:
  - name: orders
    interval: 5s
    queue: {{url: 'https://sqs.us-east-1.amazonaws.com/{account}/orders'}}
    target: {{backlog_per_task: 100}}
    local: {{cluster: onprem, service: order-processor, min_tasks: 1, max_tasks: 8}}
"""


class Setup:
    """One HOME with its AWS files, a qscale config and a clean environment."""

    def __init__(self, em, config="", credentials="", env=None, qscale_extra=""):
        self.home = tempfile.mkdtemp(prefix="qscale-creds-")
        self.write(".aws/config", config)
        self.write(".aws/credentials", credentials)
        self.cfg = self.write("qscale.yaml", CONFIG.format(extra=qscale_extra, account=ACCOUNT))
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": self.home,
            "AWS_ENDPOINT_URL": em.url,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "LC_ALL": "C.UTF-8",
        }
        self.env.update(env or {})

    def write(self, rel, text, mode=0o600):
        path = os.path.join(self.home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def doctor(self):
        r = subprocess.run([BINARY, "doctor", "-c", self.cfg], capture_output=True, text=True,
                           env=self.env, timeout=120)
        return r.returncode, r.stdout + r.stderr

    def awscli(self, *args):
        env = dict(self.env, AWS_PAGER="", AWS_DEFAULT_REGION=REGION)
        p = subprocess.run([aws_binary(), "--endpoint-url", self.env["AWS_ENDPOINT_URL"],
                            "--output", "json", *args], env=env,
                           capture_output=True, text=True, timeout=120)
        try:
            return p.returncode, json.loads(p.stdout) if p.stdout.strip() else None, p.stderr
        except ValueError:
            return p.returncode, None, p.stderr

    def botocore(self):
        env = dict(self.env, AWS_DEFAULT_REGION=REGION)
        p = subprocess.run([BOTOCORE_PYTHON, os.path.join(HERE, "botocore_identity.py"),
                            self.env["AWS_ENDPOINT_URL"]], env=env, capture_output=True,
                           text=True, timeout=120)
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {"error": p.stdout + p.stderr}

    def node(self):
        """The JS SDK's default chain on this setup; then STS says whose keys they are."""
        env = dict(self.env, AWS_REGION=REGION, NODE_NO_WARNINGS="1")
        p = subprocess.run(["node", os.path.join(NODE_DIR, "creds.mjs"), self.env["AWS_ENDPOINT_URL"]],
                           env=env, capture_output=True, text=True, timeout=120)
        try:
            got = json.loads(p.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            return {"error": p.stdout + p.stderr}
        if not got.get("ok"):
            return {"error": f"{got.get('name')}: {got.get('message')}"}
        keys = {"PATH": self.env["PATH"], "HOME": self.home, "AWS_ACCESS_KEY_ID": got["accessKeyId"],
                "AWS_SECRET_ACCESS_KEY": got["secretAccessKey"], "AWS_DEFAULT_REGION": REGION,
                "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
        if got.get("sessionToken"):
            keys["AWS_SESSION_TOKEN"] = got["sessionToken"]
        p = subprocess.run([BOTOCORE_PYTHON, os.path.join(HERE, "botocore_identity.py"),
                            self.env["AWS_ENDPOINT_URL"]], env=keys, capture_output=True,
                           text=True, timeout=120)
        try:
            return json.loads(p.stdout)
        except ValueError:
            return {"error": p.stdout + p.stderr}

    def close(self):
        shutil.rmtree(self.home, ignore_errors=True)


def line(text, needle):
    for ln in text.splitlines():
        if needle in ln:
            return ln
    return ""


def identity(text):
    ln = line(text, "identity: ")
    return ln.split("identity: ", 1)[1].split(" ", 1)[0] if ln.startswith("ok") else None


BASE_KEYS = f"[base]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"


def process_script(setup, body, name="proc.py"):
    """A credential_process program (python3, run without a shell)."""
    return setup.write(name, "#!/usr/bin/env python3\n" + body, mode=0o700)


def good_process_body(expiration="2099-01-01T00:00:00Z"):
    doc = {"Version": 1, "AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY,
           "Expiration": expiration}
    return f"import json\nprint(json.dumps({doc!r}))\n"


class ContainerHandler(http.server.BaseHTTPRequestHandler):
    """The ECS container credentials endpoint, handing out the emulator's key."""

    def do_GET(self):
        doc = {"AccessKeyId": ACCESS_KEY, "SecretAccessKey": SECRET_KEY, "Token": "tok",
               "Expiration": "2099-01-01T00:00:00Z"}
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def check(t, name, setup, want_ok, needles=(), want_identity=None, cli=False, js_differs=False):
    """Run doctor (and the CLI when asked) on one setup and judge it."""
    rc, out = setup.doctor()
    cred = line(out, "credentials:")
    if want_ok:
        t.ok(rc == 0 and cred.startswith("ok"), f"{name}: doctor passes", out)
    else:
        t.ok(rc == 1 and cred.startswith("FAIL"), f"{name}: doctor fails on credentials", out)
    for n in needles:
        t.ok(n in cred, f"{name}: credentials line says '{n}'", out)
    if want_identity is not None:
        t.ok(identity(out) == want_identity, f"{name}: identity {want_identity}", out)
    if cli and BOTOCORE_PYTHON is not None:
        got = setup.botocore()
        if want_ok:
            t.ok(got.get("Arn") == identity(out), f"{name}: botocore finds the same identity",
                 json.dumps(got))
        else:
            t.ok("error" in got, f"{name}: botocore fails too", json.dumps(got))
    if cli and NODE and BOTOCORE_PYTHON is not None:
        got = setup.node()
        if js_differs:
            # The JS SDK skips environment keys once AWS_PROFILE is set; qscale follows the CLI.
            t.ok(got.get("Arn") != identity(out), f"{name}: the JS SDK differs, as documented",
                 json.dumps(got))
        elif want_ok:
            t.ok(got.get("Arn") == identity(out), f"{name}: the JS SDK finds the same identity",
                 json.dumps(got))
        else:
            t.ok("error" in got, f"{name}: the JS SDK fails too", json.dumps(got))
    setup.close()


def role_setups(t, em):
    s = Setup(em, config=f"[profile app]\nrole_arn = {ROLE}app\nsource_profile = base\n"
              "role_session_name = ops\n", credentials=BASE_KEYS, env={"AWS_PROFILE": "app"})
    check(t, "source_profile", s, True, ["from assume-role over profile", f"role={ROLE}app"],
          f"arn:aws:sts::{ACCOUNT}:assumed-role/app/ops", cli=True)

    s = Setup(em, config=f"[profile top]\nrole_arn = {ROLE}top\nsource_profile = mid\n"
              "role_session_name = tt\n"
              f"[profile mid]\nrole_arn = {ROLE}mid\nsource_profile = base\n",
              credentials=BASE_KEYS, env={"AWS_PROFILE": "top"})
    check(t, "chained roles", s, True, [f"role={ROLE}top"],
          f"arn:aws:sts::{ACCOUNT}:assumed-role/top/tt", cli=True)

    s = Setup(em, config=f"[profile r]\nrole_arn = {ROLE}envrole\ncredential_source = "
              "Environment\nrole_session_name = ee\n",
              env={"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY},
              qscale_extra=", profile: r")
    check(t, "credential_source Environment", s, True, ["over env"],
          f"arn:aws:sts::{ACCOUNT}:assumed-role/envrole/ee")

    srv = http.server.HTTPServer(("127.0.0.1", 0), ContainerHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        s = Setup(em, config=f"[profile c]\nrole_arn = {ROLE}ctr\ncredential_source = "
                  "EcsContainer\nrole_session_name = cc\n",
                  env={"AWS_PROFILE": "c", "AWS_CONTAINER_CREDENTIALS_FULL_URI":
                       f"http://127.0.0.1:{srv.server_address[1]}/creds"})
        check(t, "credential_source EcsContainer", s, True, ["over container"],
              f"arn:aws:sts::{ACCOUNT}:assumed-role/ctr/cc", cli=True)
    finally:
        srv.shutdown()
        srv.server_close()

    s = Setup(em, config=f"[profile d]\nrole_arn = {ROLE}denied-app\nsource_profile = base\n",
              credentials=BASE_KEYS, env={"AWS_PROFILE": "d"})
    check(t, "refused role", s, False, ["AssumeRole", "AccessDenied", "profile d"], cli=True)

    s = Setup(em, config=f"[profile m]\nrole_arn = {ROLE}app\nsource_profile = base\n"
              "mfa_serial = arn:aws:iam::123456789012:mfa/me\n", credentials=BASE_KEYS,
              env={"AWS_PROFILE": "m"})
    check(t, "mfa_serial", s, False, ["mfa_serial", "profile m"])

    s = Setup(em, config=f"[profile n]\nrole_arn = {ROLE}app\n", env={"AWS_PROFILE": "n"})
    check(t, "role without source", s, False, ["source_profile or credential_source"], cli=True)

    s = Setup(em, config=f"[profile l]\nrole_arn = {ROLE}a\nsource_profile = k\n"
              f"[profile k]\nrole_arn = {ROLE}b\nsource_profile = l\n",
              env={"AWS_PROFILE": "l"})
    check(t, "source_profile loop", s, False, ["loop"], cli=True)

    s = Setup(em, config=f"[profile x]\nrole_arn = {ROLE}app\nsource_profile = nowhere\n",
              env={"AWS_PROFILE": "x"})
    check(t, "missing source_profile", s, False, ["nowhere"], cli=True)

    s = Setup(em, config=f"[profile b]\nrole_arn = {ROLE}app\nsource_profile = base\n"
              "duration_seconds = 12\n", credentials=BASE_KEYS, env={"AWS_PROFILE": "b"})
    check(t, "bad duration_seconds", s, False, ["duration_seconds"])


def process_setups(t, em):
    s = Setup(em, env={"AWS_PROFILE": "p"})
    prog = process_script(s, good_process_body())
    s.write(".aws/config", f"[profile p]\ncredential_process = {prog} --flag 'two words'\n")
    check(t, "credential_process", s, True, ["from process"],
          f"arn:aws:iam::{ACCOUNT}:user/qscale-emulator", cli=True)

    cases = [
        ("malformed JSON", "print('{not json')\n", "not a JSON object"),
        ("wrong Version", "print('{\"Version\": 2, \"AccessKeyId\": \"a\", "
         "\"SecretAccessKey\": \"b\"}')\n", "Version"),
        ("hangs", "import time\ntime.sleep(600)\n", "did not finish within 2000 ms"),
        ("prints 10 MB", "import sys\nsys.stdout.write('x' * (10 * 1024 * 1024))\n",
         "printed more than"),
        ("exits 3", "import sys\nsys.stderr.write('boom: no session\\n')\nsys.exit(3)\n",
         "exited with status 3: boom: no session"),
        ("expired", good_process_body("2001-01-01T00:00:00Z"), "expired"),
    ]
    for name, body, needle in cases:
        s = Setup(em, env={"AWS_PROFILE": "p"})
        prog = process_script(s, body)
        s.write(".aws/config", f"[profile p]\ncredential_process = {prog}\n")
        check(t, f"credential_process {name}", s, False, ["credential_process" if name != "expired" else "process", needle])

    s = Setup(em, config="[profile p]\ncredential_process = /nonexistent/helper\n",
              env={"AWS_PROFILE": "p"})
    check(t, "credential_process missing program", s, False, ["/nonexistent/helper"])

    s = Setup(em, env={"AWS_PROFILE": "app"})
    prog = process_script(s, good_process_body())
    s.write(".aws/config", f"[profile src]\ncredential_process = {prog}\n"
            f"[profile app]\nrole_arn = {ROLE}app\nsource_profile = src\nrole_session_name = pr\n")
    check(t, "role over credential_process", s, True, ["over process"],
          f"arn:aws:sts::{ACCOUNT}:assumed-role/app/pr", cli=True)


def web_identity_setups(t, em):
    s = Setup(em)
    token = s.write("token", "eyJhbGciOiJSUzI1NiJ9.e30.sig\n")
    s.env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": ROLE + "web",
                  "AWS_ROLE_SESSION_NAME": "pod"})
    check(t, "web identity from the environment", s, True, ["from web-identity"],
          f"arn:aws:sts::{ACCOUNT}:assumed-role/web/pod", cli=True)

    s = Setup(em, env={"AWS_PROFILE": "w"})
    token = s.write("token", "eyJhbGciOiJSUzI1NiJ9.e30.sig")
    s.write(".aws/config", f"[profile w]\nweb_identity_token_file = {token}\n"
            f"role_arn = {ROLE}webp\nrole_session_name = wp\n")
    check(t, "web_identity_token_file in a profile", s, True, ["from web-identity"],
          f"arn:aws:sts::{ACCOUNT}:assumed-role/webp/wp", cli=True)

    s = Setup(em, env={"AWS_WEB_IDENTITY_TOKEN_FILE": "/nonexistent/token",
                       "AWS_ROLE_ARN": ROLE + "web"})
    check(t, "web identity token file gone", s, False,
          ["web identity token file /nonexistent/token", "No such file"])

    s = Setup(em)
    token = s.write("token", "tok\n")
    s.env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": token, "AWS_ROLE_ARN": ROLE + "denied-web"})
    check(t, "web identity refused role", s, False, ["AssumeRoleWithWebIdentity", "AccessDenied"])

    s = Setup(em)
    token = s.write("token", "tok\n")
    s.env.update({"AWS_WEB_IDENTITY_TOKEN_FILE": token})
    check(t, "web identity without AWS_ROLE_ARN", s, False, ["AWS_ROLE_ARN"])


def sso_setups(t, em):
    import hashlib
    for legacy in (False, True):
        kind = "legacy sso_start_url" if legacy else "sso_session"
        start = "https://example.awsapps.com/start"
        if legacy:
            config = (f"[profile s]\nsso_start_url = {start}\nsso_region = us-east-1\n"
                      f"sso_account_id = {ACCOUNT}\nsso_role_name = Ops\n")
            key = start
        else:
            config = (f"[profile s]\nsso_session = corp\nsso_account_id = {ACCOUNT}\n"
                      f"sso_role_name = Ops\n[sso-session corp]\nsso_start_url = {start}\n"
                      "sso_region = us-east-1\n")
            key = "corp"
        name = hashlib.sha1(key.encode()).hexdigest() + ".json"
        for expired in (False, True):
            s = Setup(em, config=config, env={"AWS_PROFILE": "s", "AWS_ENDPOINT_URL_SSO": em.url})
            s.write(".aws/sso/cache/" + name, json.dumps({
                "startUrl": start, "region": "us-east-1", "accessToken": "sso-token-value",
                "expiresAt": "2001-01-01T00:00:00Z" if expired else "2099-01-01T00:00:00Z"}))
            if expired:
                # botocore sends a legacy token unchecked and the portal refuses it;
                # the emulator takes any token, so compare the sso_session form only.
                check(t, f"{kind} expired token", s, False, ["expired", "aws sso login"],
                      cli=not legacy)
            else:
                check(t, kind, s, True, ["from sso"],
                      f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Ops/qscale-sso",
                      cli=True)


def profile_setups(t, em):
    s = Setup(em, credentials=BASE_KEYS, env={"AWS_PROFILE": "bsae"})
    check(t, "misspelt AWS_PROFILE", s, False, ["profile bsae not found"], cli=True)

    other = "[other]\naws_access_key_id = AKIDOTHER\naws_secret_access_key = nope\n"
    s = Setup(em, credentials=other, env={"AWS_PROFILE": "other", "AWS_ACCESS_KEY_ID": ACCESS_KEY,
                                         "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    check(t, "env keys beat AWS_PROFILE", s, True, ["from env"],
          f"arn:aws:iam::{ACCOUNT}:user/qscale-emulator", cli=True, js_differs=True)

    s = Setup(em, credentials="[default]\naws_access_key_id = AKIDHALF\n")
    check(t, "half a key pair", s, False, ["aws_secret_access_key"])

    s = Setup(em, credentials=BASE_KEYS.replace("[base]", "[default]"),
              env={"AWS_ACCESS_KEY_ID": ACCESS_KEY})
    check(t, "AWS_ACCESS_KEY_ID without its secret", s, False, ["AWS_SECRET_ACCESS_KEY"],
          cli=True, js_differs=True)


def awscli_sts(t, em):
    """The emulator's STS as the AWS CLI sees it."""
    if aws_binary() is None:
        t.ok(True, "# SKIP aws not installed")
        return
    s = Setup(em, env={"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    rc, out, err = s.awscli("sts", "get-caller-identity")
    t.ok(rc == 0 and out == {"UserId": "AIDAQSCALEEMULATOR", "Account": ACCOUNT,
                             "Arn": f"arn:aws:iam::{ACCOUNT}:user/qscale-emulator"},
         "awscli: get-caller-identity", f"{out} {err}")
    rc, out, err = s.awscli("sts", "assume-role", "--role-arn", ROLE + "app",
                            "--role-session-name", "cli", "--duration-seconds", "900")
    creds = (out or {}).get("Credentials", {})
    t.ok(rc == 0 and creds.get("AccessKeyId", "").startswith("ASIA")
         and out["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/cli",
         "awscli: assume-role", f"{out} {err}")
    s2 = Setup(em, env={"AWS_ACCESS_KEY_ID": creds.get("AccessKeyId", ""),
                        "AWS_SECRET_ACCESS_KEY": creds.get("SecretAccessKey", ""),
                        "AWS_SESSION_TOKEN": creds.get("SessionToken", "")})
    rc, out, err = s2.awscli("sts", "get-caller-identity")
    t.ok(rc == 0 and out["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/cli",
         "awscli: the assumed session is recognised", f"{out} {err}")
    s2.env["AWS_SESSION_TOKEN"] = creds.get("SessionToken", "") + "x"
    rc, out, err = s2.awscli("sts", "get-caller-identity")
    t.ok(rc != 0 and "InvalidClientTokenId" in err, "awscli: a forged token is refused", err)
    rc, out, err = s.awscli("sts", "assume-role", "--role-arn", "arn:aws:iam::12:role/not-valid",
                            "--role-session-name", "cli")
    t.ok(rc != 0 and "ValidationError" in err, "awscli: a bad role ARN is a ValidationError", err)
    s.close()
    s2.close()


NODE = False


def main():
    global NODE
    NODE = node_ready()
    t = Tap()
    with Emulator(base_scenario()) as em:
        awscli_sts(t, em)
        role_setups(t, em)
        process_setups(t, em)
        web_identity_setups(t, em)
        sso_setups(t, em)
        profile_setups(t, em)
        t.ok(em.stop() == 0, "emulate: exits 0", em.errors())
    t.done()


if __name__ == "__main__":
    main()
