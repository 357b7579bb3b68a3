"""qscale plan, doctor and iam-policy against `qscale emulate` on loopback.

plan: every policy shows up, a missing service holds its policy (exit 1), and
no UpdateService ever reaches the emulator. doctor: good credentials pass, a
wrong secret, an unknown key, a missing service and an unreachable endpoint
are each named. iam-policy: the checked-in example document is exactly what
the example config gives, and every output is valid JSON.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_common import (ACCESS_KEY, ACCOUNT, BINARY, SECRET_KEY, Emulator, Tap,  # noqa: E402
                            base_scenario)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.normpath(os.path.join(HERE, "..", ".."))

POLICY = """  - name: {name}
    interval: 5s
    queue: {{url: 'https://sqs.us-east-1.amazonaws.com/{account}/orders'}}
    target: {{backlog_per_task: 100}}
    local: {{cluster: onprem, service: {service}, min_tasks: 1, max_tasks: 8,
             instance_filter: 'attribute:site == dc1'}}
"""
BURST = "    burst: {cluster: cloud, service: order-processor-fargate, max_tasks: 10}\n"


def write_config(folder, policies, extra=""):
    path = os.path.join(folder, "qscale.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write("region: us-east-1\ninterval: 5s\nmetrics: {listen: ''}\n"
                "aws: {timeout: 2s}\n" + extra + "policies:\n")
        for name, service in policies:
            f.write(POLICY.format(name=name, service=service, account=ACCOUNT))
            if name == "orders":
                f.write(BURST)
    return path


def env_for(url, folder, access_key=ACCESS_KEY, secret=SECRET_KEY):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({
        "HOME": folder,
        "AWS_CONFIG_FILE": os.path.join(folder, "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(folder, "no-credentials"),
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_MAX_ATTEMPTS": "2",
    })
    return env


def qscale(*args, env=None, timeout=120):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, env=env, timeout=timeout)


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def update_calls(em):
    reqs = em.admin("/_qscale/requests")["requests"]
    return [r for r in reqs if r["target"].endswith(".UpdateService")], reqs


def test_plan(t, em, folder):
    cfg = write_config(folder, [("orders", "order-processor")])
    env = env_for(em.url, folder)
    r = qscale("plan", "-c", cfg, env=env)
    t.ok(r.returncode == 0, "plan: exit 0 when every policy is decided", r.stdout + r.stderr)
    lines = r.stdout.splitlines()
    t.ok(len(lines) == 2 and lines[0].startswith("POLICY") and lines[1].startswith("orders "),
         "plan: a header and one row per policy", r.stdout)
    row = lines[1].split() if len(lines) == 2 else ["", "", "", "0"]
    t.ok(row[3].isdigit() and 1000 <= int(row[3]) <= 1200 and "would scale" in r.stdout
         and "local 2->6" in r.stdout,
         "plan: shows the backlog and what it would set", r.stdout)

    r = qscale("plan", "-c", cfg, "--json", env=env)
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        doc = None
    t.ok(r.returncode == 0 and doc is not None and doc["dry_run"] is True,
         "plan --json: valid JSON", r.stdout + r.stderr)
    if doc is not None:
        p = doc["policies"][0]
        t.ok(p["name"] == "orders" and 1000 <= p["backlog"] <= 1200 and p["local"]["desired"] == 2
             and p["local"]["set"] > 2 and p["local"]["change"] is True
             and p["burst"]["desired"] == 0 and p["error"] is None,
             "plan --json: observed and decided counts", json.dumps(p))

    cfg2 = write_config(folder, [("orders", "order-processor"), ("ghost", "no-such-service")])
    r = qscale("plan", "-c", cfg2, env=env)
    t.ok(r.returncode == 1, "plan: exit 1 when a policy is held", r.stdout + r.stderr)
    rows = {line.split()[0]: line for line in r.stdout.splitlines()[1:] if line.strip()}
    t.ok(set(rows) == {"orders", "ghost"}, "plan: every policy has a row", r.stdout)
    t.ok("ghost" in rows and " held " in rows["ghost"] and "hold" in rows["ghost"],
         "plan: the policy whose service is missing is held", r.stdout)

    updates, reqs = update_calls(em)
    t.ok(not updates and em.admin("/_qscale/updates")["total"] == 0 and len(reqs) > 0,
         "plan: no UpdateService reached the emulator", json.dumps(updates))

    r = qscale("plan", "-c", os.path.join(folder, "missing.yaml"), env=env)
    t.ok(r.returncode == 2, "plan: a missing config file is exit 2", r.stderr)
    r = qscale("plan", "--bogus", env=env)
    t.ok(r.returncode == 2, "plan: an unknown option is exit 2", r.stderr)


def line_of(text, needle):
    return next((line for line in text.splitlines() if needle in line), "")


def test_doctor(t, em, folder):
    cfg = write_config(folder, [("orders", "order-processor")])
    r = qscale("doctor", "-c", cfg, env=env_for(em.url, folder))
    t.ok(r.returncode == 0, "doctor: exit 0 with good credentials", r.stdout + r.stderr)
    t.ok("FAIL" not in r.stdout, "doctor: no FAIL line with good credentials", r.stdout)
    for needle in ["region us-east-1 (from region in", "credentials: from env",
                   "endpoint sqs", "endpoint ecs", "clock skew", "GetQueueAttributes",
                   "DescribeServices onprem/order-processor: ok",
                   "DescribeServices cloud/order-processor-fargate: ok",
                   "ListContainerInstances onprem: ok (10 ACTIVE)",
                   "DescribeContainerInstances onprem: ok (10 described, 10 connected, 7 eligible",
                   "DescribeTaskDefinition order-processor:3: ok",
                   "UpdateService onprem/order-processor and cloud/order-processor-fargate: "
                   "not verified"]:
        t.ok(needle in r.stdout, f"doctor: reports '{needle}'", r.stdout)
    t.ok(line_of(r.stdout, "UpdateService").startswith("  warn"),
         "doctor: UpdateService is a warning, never called", r.stdout)

    r = qscale("doctor", "-c", cfg, env=env_for(em.url, folder, secret="not-the-secret"))
    t.ok(r.returncode == 1, "doctor: wrong secret is exit 1", r.stdout + r.stderr)
    t.ok(line_of(r.stdout, "GetQueueAttributes").strip().startswith("FAIL")
         and "wrong secret access key" in line_of(r.stdout, "GetQueueAttributes")
         and "wrong secret access key" in line_of(r.stdout, "DescribeServices onprem"),
         "doctor: a wrong secret is named on each call", r.stdout)

    r = qscale("doctor", "-c", cfg, env=env_for(em.url, folder, access_key="AKIDUNKNOWN"))
    t.ok(r.returncode == 1 and "access key not recognised" in r.stdout,
         "doctor: an unknown access key is named", r.stdout + r.stderr)

    cfg2 = write_config(folder, [("ghost", "no-such-service")])
    r = qscale("doctor", "-c", cfg2, env=env_for(em.url, folder))
    t.ok(r.returncode == 1 and "DescribeServices onprem/no-such-service: service not found"
         in r.stdout, "doctor: a missing service fails", r.stdout + r.stderr)

    dead = f"http://127.0.0.1:{closed_port()}"
    r = qscale("doctor", "-c", cfg, env=env_for(dead, folder))
    t.ok(r.returncode == 1, "doctor: an unreachable endpoint is exit 1", r.stdout + r.stderr)
    t.ok(line_of(r.stdout, "endpoint sqs").startswith("FAIL")
         and "unreachable" in line_of(r.stdout, "endpoint ecs")
         and "unreachable" in line_of(r.stdout, "GetQueueAttributes"),
         "doctor: the unreachable endpoint is FAIL", r.stdout)

    env = env_for(em.url, folder)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    r = qscale("doctor", "-c", cfg, env=env)
    t.ok(r.returncode == 1 and line_of(r.stdout, "credentials").startswith("FAIL"),
         "doctor: no credentials at all is FAIL", r.stdout + r.stderr)

    # Keys in a file anyone may rewrite: used, but doctor says FAIL (as ssh would refuse).
    creds = os.path.join(folder, "loose-credentials")
    with open(creds, "w", encoding="utf-8") as f:
        f.write(f"[default]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n")
    os.chmod(creds, 0o666)
    env["AWS_SHARED_CREDENTIALS_FILE"] = creds
    r = qscale("doctor", "-c", cfg, env=env)
    t.ok(r.returncode == 1 and line_of(r.stdout, "credentials").startswith("FAIL")
         and "world-writable (mode 0666)" in line_of(r.stdout, "credentials"),
         "doctor: a world-writable credentials file is FAIL", r.stdout + r.stderr)
    os.chmod(creds, 0o600)
    r = qscale("doctor", "-c", cfg, env=env)
    t.ok(not line_of(r.stdout, "credentials").startswith("FAIL")
         and "file written" in line_of(r.stdout, "credentials"),
         "doctor: the same file at 0600 is fine", r.stdout + r.stderr)

    updates, _ = update_calls(em)
    t.ok(not updates, "doctor: no UpdateService reached the emulator", json.dumps(updates))


def test_iam_policy(t, folder):
    example = os.path.join(SOURCE, "config", "qscale.yaml")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    r = qscale("iam-policy", "-c", example, env=env)
    with open(os.path.join(SOURCE, "config", "iam-policy.json"), encoding="utf-8") as f:
        expected = f.read()
    t.ok(r.returncode == 0 and r.stdout == expected,
         "iam-policy: the example config gives config/iam-policy.json exactly", r.stdout + r.stderr)
    for cfg in [example, os.path.join(SOURCE, "config", "demo", "qscale.yaml")]:
        r = qscale("iam-policy", "-c", cfg, env=env)
        v = subprocess.run([sys.executable, "-m", "json.tool"], input=r.stdout, capture_output=True,
                           text=True)
        t.ok(r.returncode == 0 and v.returncode == 0,
             f"iam-policy: valid JSON for {os.path.relpath(cfg, SOURCE)}", r.stderr + v.stderr)
    r = qscale("iam-policy", "-c", example, "--read-only", env=env)
    t.ok(r.returncode == 0 and "ecs:UpdateService" not in r.stdout
         and "ecs:DescribeServices" in r.stdout, "iam-policy --read-only: no UpdateService",
         r.stdout)

    cfg = os.path.join(folder, "two.yaml")
    with open(cfg, "w", encoding="utf-8") as f:
        f.write("region: us-east-1\npolicies:\n")
        for name, acct in [("a", "111111111111"), ("b", "222222222222")]:
            f.write(f"  - name: {name}\n"
                    f"    queue: {{url: 'https://sqs.us-east-1.amazonaws.com/{acct}/{name}'}}\n"
                    f"    target: {{backlog_per_task: 5}}\n"
                    f"    local: {{cluster: dc, service: {name}, max_tasks: 4}}\n")
    r = qscale("iam-policy", "-c", cfg, env=env)
    t.ok(r.returncode == 2 and "aws.account_id" in r.stderr,
         "iam-policy: queues in two accounts need aws.account_id", r.stdout + r.stderr)
    r = qscale("iam-policy", "-c", cfg, "--account-id", "333333333333", env=env)
    t.ok(r.returncode == 0 and "arn:aws:ecs:us-east-1:333333333333:cluster/dc" in r.stdout,
         "iam-policy: --account-id names the ECS account", r.stdout + r.stderr)


def main():
    t = Tap()
    folder = tempfile.mkdtemp(prefix="qscale-ops-")
    try:
        with Emulator(base_scenario()) as em:
            test_plan(t, em, folder)
            test_doctor(t, em, folder)
            t.ok(em.stop() == 0, "emulate: exits 0", em.errors())
        test_iam_policy(t, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
