#!/usr/bin/env python3
"""What each credential provider adds to `qscale doctor`, against `qscale emulate`.

For each setup (static keys, a role profile, a chain of two roles, web
identity, credential_process) in its own HOME, runs `qscale doctor` N times
and prints the median, minimum and maximum wall time as Markdown table rows
(bench/README.md has the command and the results). The emulator answers STS
on 127.0.0.1; every process started is stopped at the end. Never run as a
test.

usage: creds_bench.py QSCALE SCENARIO [--runs N]
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

CONFIG = """region: us-east-1
metrics: {listen: ''}
aws: {timeout: 5s}
policies:
  - name: orders
    queue: {url: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders'}
    target: {backlog_per_task: 100}
    local: {cluster: onprem, service: order-processor, min_tasks: 1, max_tasks: 8}
"""


def credentials_of(scenario):
    """The key pair the scenario's emulator accepts."""
    key = secret = None
    for line in open(scenario, encoding="utf-8"):
        s = line.strip()
        if s.startswith("access_key_id:"):
            key = s.split(":", 1)[1].strip()
        elif s.startswith("secret_access_key:"):
            secret = s.split(":", 1)[1].strip()
    return key, secret


def write(path, text, mode=0o600):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qscale")
    ap.add_argument("scenario")
    ap.add_argument("--runs", type=int, default=20)
    args = ap.parse_args()
    key, secret = credentials_of(args.scenario)
    home = tempfile.mkdtemp(prefix="qscale-creds-bench-")
    emu = subprocess.Popen([args.qscale, "emulate", "--scenario", args.scenario, "--listen",
                            "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                           text=True)
    try:
        url = emu.stdout.readline().strip().split("listening on ", 1)[1]
        os.makedirs(os.path.join(home, ".aws"))
        write(os.path.join(home, "q.yaml"), CONFIG)
        write(os.path.join(home, "token"), "bench-token")
        write(os.path.join(home, "proc.py"), "#!/usr/bin/env python3\nimport json\n"
              f"print(json.dumps({{'Version': 1, 'AccessKeyId': '{key}', "
              f"'SecretAccessKey': '{secret}'}}))\n", 0o700)
        write(os.path.join(home, ".aws", "credentials"),
              f"[static]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n")
        role = "arn:aws:iam::123456789012:role/"
        write(os.path.join(home, ".aws", "config"),
              f"[profile role]\nrole_arn = {role}app\nsource_profile = static\n"
              f"[profile chain]\nrole_arn = {role}top\nsource_profile = role\n"
              f"[profile web]\nrole_arn = {role}web\nweb_identity_token_file = {home}/token\n"
              f"[profile process]\ncredential_process = {home}/proc.py\n")
        print("| setup | doctor median | min | max |")
        print("|---|---|---|---|")
        for profile in ["static", "role", "chain", "web", "process"]:
            env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
                   "AWS_PROFILE": profile, "AWS_ENDPOINT_URL": url,
                   "AWS_EC2_METADATA_DISABLED": "true"}
            times = []
            for _ in range(args.runs):
                t0 = time.monotonic()
                r = subprocess.run([args.qscale, "doctor", "-c", os.path.join(home, "q.yaml")],
                                   env=env, capture_output=True, text=True, timeout=120)
                times.append((time.monotonic() - t0) * 1000)
                if r.returncode != 0:
                    sys.exit(f"doctor failed for {profile}:\n{r.stdout}{r.stderr}")
            print(f"| {profile} | {statistics.median(times):.1f} ms | {min(times):.1f} ms | "
                  f"{max(times):.1f} ms |")
    finally:
        emu.terminate()
        emu.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
