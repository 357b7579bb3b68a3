"""The same AWS setups resolved by qscale and by botocore, compared.

Each setup runs in its own HOME with a clean environment (only PATH, HOME,
AWS_EC2_METADATA_DISABLED=true and the setup's variables): qscale prints
what it resolved with `qscale doctor --resolve`, Debian's python3-botocore
with botocore_resolve.py. Compared: the credentials (static kinds: source,
key id, SHA-256 of secret and token), the region, the SQS and ECS request
URLs (FIPS, dual-stack, overrides), the retry mode, max attempts and the CA
bundle; a setup that one refuses the other must refuse too.

Two kinds of row are not plain comparisons, and say so in the output:
"newer" rows use settings that botocore 1.29 (Debian 12) predates; botocore
is asked the equivalent it knows (the same region by AWS_DEFAULT_REGION, the
same URL as endpoint_url in code), as the SDK documentation defines them. "design"
rows are where qscale deliberately differs (named in docs/aws-client.md).
The table of every setup and its result is printed as TAP comments.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_common import BINARY, Tap  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BOTO_PYTHON = "/usr/bin/python3"
RESOLVER = os.path.join(HERE, "botocore_resolve.py")

CREDS = "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n"
DEV = ("[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = file-secret\n"
       "[dev]\naws_access_key_id = AKIDDEV\naws_secret_access_key = dev-secret\n"
       "aws_session_token = dev-token\n")
ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIDENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}
EU = {"AWS_DEFAULT_REGION": "eu-west-1"}


def env(*parts, **more):
    out = {}
    for p in parts:
        out.update(p)
    out.update(more)
    return out


# name, environment, files under HOME, qscale configuration, kind of row.
SETUPS = [
    # Credentials of the static kinds.
    ("env keys", env(ENV_KEYS, EU), {}, {}, None),
    ("env keys and session token", env(ENV_KEYS, EU, AWS_SESSION_TOKEN="env-token"), {}, {},
     None),
    ("legacy AWS_SECURITY_TOKEN", env(ENV_KEYS, EU, AWS_SECURITY_TOKEN="old-token"), {}, {},
     None),
    ("AWS_SESSION_TOKEN beats AWS_SECURITY_TOKEN",
     env(ENV_KEYS, EU, AWS_SESSION_TOKEN="new", AWS_SECURITY_TOKEN="old"), {}, {}, None),
    ("env key id without secret refused", env(EU, AWS_ACCESS_KEY_ID="AKIDENV"),
     {".aws/credentials": CREDS}, {}, None),
    ("aws_security_token in the file", EU,
     {".aws/credentials": CREDS + "aws_security_token = old-file-token\n"}, {}, None),
    ("aws_security_token beats aws_session_token", EU,
     {".aws/credentials": CREDS + "aws_session_token = new\naws_security_token = old\n"}, {},
     None),
    ("credentials file default", EU, {".aws/credentials": CREDS}, {}, None),
    ("AWS_PROFILE in the credentials file", env(EU, AWS_PROFILE="dev"),
     {".aws/credentials": DEV}, {}, None),
    ("keys in the config file's profile", env(EU, AWS_PROFILE="cfg"),
     {".aws/config": "[profile cfg]\naws_access_key_id = AKIDCFG\n"
      "aws_secret_access_key = cfg-secret\n"}, {}, None),
    ("credentials file beats config file", env(EU, AWS_PROFILE="dev"),
     {".aws/credentials": DEV, ".aws/config": "[profile dev]\naws_access_key_id = AKIDCFG\n"
      "aws_secret_access_key = cfg-secret\n"}, {}, None),
    ("':' as the delimiter", EU,
     {".aws/credentials": "[default]\naws_access_key_id: AKIDCOLON\n"
      "aws_secret_access_key : colon-secret\n"}, {}, None),
    ("'=' before ':' in a value", EU,
     {".aws/credentials": "[default]\naws_access_key_id = AKIDX\n"
      "aws_secret_access_key = a:b=c\n"}, {}, None),
    ("CRLF line ends and comments", EU,
     {".aws/credentials": "# c\r\n; c\r\n[default]\r\naws_access_key_id = AKIDCRLF\r\n"
      "aws_secret_access_key = crlf-secret\r\n"}, {}, None),
    ("upper-case key names", EU,
     {".aws/credentials": "[default]\nAWS_ACCESS_KEY_ID = AKIDUP\n"
      "AWS_Secret_Access_Key = up-secret\n"}, {}, None),
    ("repeated [default] refused", EU,
     {".aws/credentials": CREDS + "[default]\nregion = x\n"}, {}, None),
    ("repeated key refused", EU,
     {".aws/credentials": CREDS + "aws_access_key_id = AKIDAGAIN\n"}, {}, None),
    ("no credentials anywhere", EU, {}, {}, None),
    ("AWS_SHARED_CREDENTIALS_FILE with ~", env(EU, AWS_SHARED_CREDENTIALS_FILE="~/x/creds"),
     {"x/creds": CREDS}, {}, None),
    # Region.
    ("region from the profile", {}, {".aws/config": "[default]\nregion = ap-south-1\n"}, {},
     None),
    ("AWS_DEFAULT_REGION beats the profile", env(EU),
     {".aws/config": "[default]\nregion = ap-south-1\n"}, {}, None),
    ("region of the named profile", env(AWS_PROFILE="dev"),
     {".aws/config": "[default]\nregion = ap-south-1\n[profile dev]\nregion = us-west-2\n"},
     {}, None),
    ("[dev] without 'profile' is not a profile in the config file", env(AWS_PROFILE="dev"),
     {".aws/config": "[default]\nregion = ap-south-1\n[dev]\nregion = us-west-2\n"
      "[profile dev]\nretry_mode = standard\n"}, {}, None),
    ("AWS_CONFIG_FILE with ~ gives the region", env(AWS_CONFIG_FILE="~/conf/aws"),
     {"conf/aws": "[default]\nregion = ca-central-1\n"}, {}, None),
    ("region in the qscale configuration", env(EU), {}, {"region": "sa-east-1"}, None),
    ("no region anywhere", {}, {}, {}, None),
    ("AWS_REGION", {"AWS_REGION": "eu-north-1"}, {}, {},
     ("newer", {"env": {"AWS_DEFAULT_REGION": "eu-north-1"}, "drop": ["AWS_REGION"]},
      "AWS_REGION is the SDKs' and CLI v2's variable; botocore reads AWS_DEFAULT_REGION")),
    # Endpoints, FIPS and dual-stack.
    ("China partition", {"AWS_DEFAULT_REGION": "cn-north-1"}, {}, {}, None),
    ("GovCloud", {"AWS_DEFAULT_REGION": "us-gov-west-1"}, {}, {}, None),
    ("ISO partition", {"AWS_DEFAULT_REGION": "us-iso-east-1"}, {}, {}, None),
    ("ISO-B partition", {"AWS_DEFAULT_REGION": "us-isob-east-1"}, {}, {}, None),
    ("AWS_USE_FIPS_ENDPOINT", env(EU, AWS_USE_FIPS_ENDPOINT="true"), {}, {}, None),
    ("FIPS in GovCloud", {"AWS_DEFAULT_REGION": "us-gov-west-1",
                          "AWS_USE_FIPS_ENDPOINT": "true"}, {}, {}, None),
    ("FIPS in the ISO partition", {"AWS_DEFAULT_REGION": "us-iso-east-1",
                                   "AWS_USE_FIPS_ENDPOINT": "true"}, {}, {}, None),
    ("use_fips_endpoint in the profile", {},
     {".aws/config": "[default]\nregion = us-east-2\nuse_fips_endpoint = true\n"}, {}, None),
    ("AWS_USE_FIPS_ENDPOINT=false beats the profile", {"AWS_USE_FIPS_ENDPOINT": "false"},
     {".aws/config": "[default]\nregion = us-east-2\nuse_fips_endpoint = true\n"}, {}, None),
    ("AWS_USE_DUALSTACK_ENDPOINT", env(EU, AWS_USE_DUALSTACK_ENDPOINT="true"), {}, {}, None),
    ("use_dualstack_endpoint in the profile", {},
     {".aws/config": "[default]\nregion = ap-northeast-1\nuse_dualstack_endpoint = true\n"},
     {}, None),
    ("dual-stack in China", {"AWS_DEFAULT_REGION": "cn-northwest-1",
                             "AWS_USE_DUALSTACK_ENDPOINT": "true"}, {}, {}, None),
    ("FIPS and dual-stack", env(EU, AWS_USE_FIPS_ENDPOINT="true",
                                AWS_USE_DUALSTACK_ENDPOINT="true"), {}, {}, None),
    ("FIPS and dual-stack in GovCloud", {"AWS_DEFAULT_REGION": "us-gov-east-1",
                                         "AWS_USE_FIPS_ENDPOINT": "TRUE",
                                         "AWS_USE_DUALSTACK_ENDPOINT": "True"}, {}, {}, None),
    ("dual-stack refused in the ISO partition", {"AWS_DEFAULT_REGION": "us-iso-east-1",
                                                 "AWS_USE_DUALSTACK_ENDPOINT": "true"}, {},
     {}, None),
    ("configured endpoint", env(EU), {},
     {"endpoint_sqs": "http://127.0.0.1:4566", "endpoint_ecs": "http://127.0.0.1:4567"}, None),
    ("configured endpoint wins over FIPS", env(EU, AWS_USE_FIPS_ENDPOINT="true"), {},
     {"endpoint_sqs": "http://127.0.0.1:4566", "endpoint_ecs": "http://127.0.0.1:4567"}, None),
    ("configured endpoint wins over dual-stack", env(EU, AWS_USE_DUALSTACK_ENDPOINT="true"),
     {}, {"endpoint_sqs": "http://127.0.0.1:4566", "endpoint_ecs": "http://127.0.0.1:4567"},
     None),
    ("AWS_USE_FIPS_ENDPOINT=yes", env(EU, AWS_USE_FIPS_ENDPOINT="yes"), {}, {},
     ("design", {"error": True},
      "qscale refuses a boolean that is neither true nor false; botocore reads it as false")),
    ("AWS_ENDPOINT_URL_SQS", env(EU, AWS_ENDPOINT_URL_SQS="http://127.0.0.1:4566"), {}, {},
     ("newer", {"given": {"endpoint_sqs": "http://127.0.0.1:4566"},
                "drop": ["AWS_ENDPOINT_URL_SQS"]}, "service endpoint variables: botocore 1.31")),
    ("AWS_ENDPOINT_URL", env(EU, AWS_ENDPOINT_URL="http://127.0.0.1:9"), {}, {},
     ("newer", {"given": {"endpoint_sqs": "http://127.0.0.1:9",
                          "endpoint_ecs": "http://127.0.0.1:9"}, "drop": ["AWS_ENDPOINT_URL"]},
      "the global endpoint variable: botocore 1.31")),
    ("endpoint_url in the profile", {},
     {".aws/config": "[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:7\n"}, {},
     ("newer", {"given": {"endpoint_sqs": "http://127.0.0.1:7",
                          "endpoint_ecs": "http://127.0.0.1:7"}},
      "endpoint_url in the profile: botocore 1.31")),
    ("services section", {},
     {".aws/config": "[default]\nregion = eu-west-1\nservices = local\n"
      "[services local]\nsqs =\n  endpoint_url = http://127.0.0.1:6\n"}, {},
     ("newer", {"given": {"endpoint_sqs": "http://127.0.0.1:6"}},
      "services sections: botocore 1.31")),
    ("ignore_configured_endpoint_urls in the profile", {},
     {".aws/config": "[default]\nregion = eu-west-1\nendpoint_url = http://127.0.0.1:7\n"
      "ignore_configured_endpoint_urls = true\n"}, {}, None),
    ("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", env(EU, AWS_ENDPOINT_URL="http://127.0.0.1:9",
                                                AWS_IGNORE_CONFIGURED_ENDPOINT_URLS="true"),
     {}, {}, None),
    # Retries.
    ("no retry setting", env(EU), {}, {},
     ("design", {"retry_mode": "standard", "max_attempts": 3},
      "qscale defaults to standard mode, as the JS SDK and the SDKs' 2026 default; "
      "botocore 1.29 to legacy")),
    ("AWS_RETRY_MODE=standard", env(EU, AWS_RETRY_MODE="standard"), {}, {}, None),
    ("AWS_RETRY_MODE=adaptive", env(EU, AWS_RETRY_MODE="adaptive"), {}, {}, None),
    ("AWS_RETRY_MODE=legacy", env(EU, AWS_RETRY_MODE="legacy"), {}, {}, None),
    ("AWS_MAX_ATTEMPTS=25", env(EU, AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="25"), {}, {},
     None),
    ("AWS_MAX_ATTEMPTS=1", env(EU, AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="1"), {}, {},
     None),
    ("legacy with AWS_MAX_ATTEMPTS=2", env(EU, AWS_RETRY_MODE="legacy", AWS_MAX_ATTEMPTS="2"),
     {}, {}, None),
    ("retry_mode and max_attempts in the profile", {},
     {".aws/config": "[default]\nregion = eu-west-1\nretry_mode = adaptive\n"
      "max_attempts = 7\n"}, {}, None),
    ("variables beat the profile's retry keys", {"AWS_RETRY_MODE": "legacy",
                                                 "AWS_MAX_ATTEMPTS": "2"},
     {".aws/config": "[default]\nregion = eu-west-1\nretry_mode = adaptive\n"
      "max_attempts = 7\n"}, {}, None),
    ("retry keys of the named profile", {"AWS_PROFILE": "p"},
     {".aws/config": "[default]\nretry_mode = legacy\n[profile p]\nregion = eu-west-1\n"
      "retry_mode = standard\nmax_attempts = 4\n"}, {}, None),
    ("AWS_RETRY_MODE=fast refused", env(EU, AWS_RETRY_MODE="fast"), {}, {}, None),
    ("retry_mode = Standard refused", {},
     {".aws/config": "[default]\nregion = eu-west-1\nretry_mode = Standard\n"}, {}, None),
    ("AWS_MAX_ATTEMPTS=0 refused", env(EU, AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="0"), {},
     {}, None),
    ("AWS_MAX_ATTEMPTS=abc refused", env(EU, AWS_MAX_ATTEMPTS="abc"), {}, {}, None),
    ("max_attempts = -1 refused", {},
     {".aws/config": "[default]\nregion = eu-west-1\nmax_attempts = -1\n"}, {}, None),
    # TLS.
    ("ca_bundle in the profile", {},
     {".aws/config": "[default]\nregion = eu-west-1\nca_bundle = {HOME}/ca.pem\n",
      "ca.pem": "not checked here\n"}, {}, None),
    ("AWS_CA_BUNDLE beats the profile", {"AWS_CA_BUNDLE": "{HOME}/env.pem"},
     {".aws/config": "[default]\nregion = eu-west-1\nca_bundle = {HOME}/ca.pem\n",
      "ca.pem": "x\n", "env.pem": "y\n"}, {}, None),
    ("a CA bundle that does not exist", env(EU, AWS_CA_BUNDLE="{HOME}/missing.pem"), {}, {},
     ("design", {"error": True},
      "qscale refuses an unreadable bundle at start; botocore fails at the first request")),
]

FIELDS = ["region", "sqs", "ecs", "retry_mode", "max_attempts", "ca_bundle"]
SOURCES = {"env": "env", "shared-credentials-file": "profile", "config-file": "profile",
           "none": "none"}


def write_files(home, files):
    for rel, text in files.items():
        path = os.path.join(home, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as f:
            f.write(text.replace("{HOME}", home))


def clean_env(home, extra):
    e = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": home,
         "AWS_EC2_METADATA_DISABLED": "true"}
    for k, v in extra.items():
        e[k] = v.replace("{HOME}", home)
    return e


def qscale_config(home, given):
    path = os.path.join(home, "qscale.yaml")
    lines = ["metrics: {listen: ''}", "policies: []"]
    if "region" in given:
        lines.append("region: " + given["region"])
    aws = []
    if "endpoint_sqs" in given:
        aws.append("    sqs: " + given["endpoint_sqs"])
    if "endpoint_ecs" in given:
        aws.append("    ecs: " + given["endpoint_ecs"])
    if aws:
        lines += ["aws:", "  endpoints:"] + aws
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def normalise_qscale(out):
    if "error" in out:
        return {"error": out["error"]}
    c = out["credentials"]
    if c.get("error") not in (None, "No such file or directory"):
        # The chain refused the setup (its detail names why): a refusal.
        return {"error": c.get("detail") or c["error"]}
    creds = {"source": c["source"]}
    if c["source"] != "none":
        creds.update({k: c[k] for k in ("access_key_id", "secret_sha256", "token_sha256")})
    r = {"credentials": creds, "region": out["region"], "sqs": out["endpoints"]["sqs"],
         "ecs": out["endpoints"]["ecs"], "retry_mode": out["retry_mode"],
         "max_attempts": out["max_attempts"], "ca_bundle": out["ca_bundle"]}
    return r


def normalise_botocore(out):
    if "error" in out:
        return {"error": out["error"]}
    c = out["credentials"]
    creds = {"source": SOURCES.get(c["source"], c["source"])}
    if c["source"] != "none":
        creds.update({k: c[k] for k in ("access_key_id", "secret_sha256", "token_sha256")})
    r = {"credentials": creds}
    r.update({k: out[k] for k in FIELDS})
    return r


RETRY_WORDS = ("AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS", "retry_mode", "max_attempts")


def touches_retries(env_vars, files, given):
    text = " ".join(list(env_vars) + list(files.values()))
    return "max_attempts" in given or any(w in text for w in RETRY_WORDS)


def differences(q, b):
    """What differs between two normalised results; [] when they agree."""
    if "error" in q or "error" in b:
        if "error" in q and "error" in b:
            return []
        return ["qscale: %s" % q.get("error", "resolved"),
                "botocore: %s" % b.get("error", "resolved")]
    out = []
    if q["credentials"] != b["credentials"]:
        out.append("credentials: qscale %s, botocore %s" % (q["credentials"],
                                                            b["credentials"]))
    for k in FIELDS:
        if q[k] != b[k]:
            out.append("%s: qscale %r, botocore %r" % (k, q[k], b[k]))
    return out


def run_json(args, env_vars, cwd):
    p = subprocess.run(args, env=env_vars, cwd=cwd, capture_output=True, text=True, timeout=60)
    try:
        return json.loads(p.stdout.strip().splitlines()[-1]), p
    except (ValueError, IndexError):
        return {"error": "no JSON (exit %d): %s %s" % (p.returncode, p.stdout, p.stderr)}, p


def main():
    tap = Tap()
    if not os.path.exists(BOTO_PYTHON) or subprocess.run(
            [BOTO_PYTHON, "-c", "import botocore"], capture_output=True).returncode != 0:
        print("1..0 # SKIP python3-botocore not installed")
        return
    table = []
    for i, (name, env_vars, files, given, kind) in enumerate(SETUPS, 1):
        ref_env, ref_given = dict(env_vars), dict(given)
        if kind is not None and kind[0] == "newer":
            # botocore 1.29 predates the setting: ask it the equivalent it knows.
            for k in kind[1].get("drop", []):
                ref_env.pop(k, None)
            ref_env.update(kind[1].get("env", {}))
            ref_given.update(kind[1].get("given", {}))
        home = tempfile.mkdtemp(prefix="qscale-parity-")
        try:
            write_files(home, files)
            q_raw, qp = run_json([BINARY, "doctor", "--resolve", "-c",
                                  qscale_config(home, given)], clean_env(home, env_vars), home)
            b_raw, _ = run_json([BOTO_PYTHON, RESOLVER, json.dumps(ref_given)],
                                clean_env(home, ref_env), home)
        finally:
            shutil.rmtree(home)
        q, b = normalise_qscale(q_raw), normalise_botocore(b_raw)
        if "error" not in b and (kind is None or kind[0] == "newer") and \
                not touches_retries(env_vars, files, given):
            # The default retry mode differs by design (its own row below).
            b.update(retry_mode="standard", max_attempts=3)
        label = "both refuse" if "error" in q and "error" in b else "match"
        if kind is not None and kind[0] == "pending":
            # Reported, not asserted: another part of the work changes it.
            diff = differences(q, b)
            tap.ok(True, "%02d %s # SKIP pending: %s" % (i, name, kind[2]))
            table.append((i, name, "pending (%s)" % kind[2] if diff else "match", q, b))
            continue
        if kind is not None and kind[0] == "newer":
            label = "documented (%s)" % kind[2]
        elif kind is not None:
            label = "differs by design (%s)" % kind[2]
            if kind[1].get("error"):
                b = {"error": "refused by design"}
            elif "error" not in b:
                b = dict(b, **kind[1])
        diff = differences(q, b)
        none = "error" not in q and q["credentials"]["source"] == "none"
        want = (1, 2) if "error" in q else (1,) if none else (0,)
        if qp.returncode not in want:
            diff.append("qscale doctor --resolve exited %d, not %s" % (qp.returncode, want))
        tap.ok(not diff, "%02d %s" % (i, name), "\n".join(diff) if diff else None)
        table.append((i, name, label if not diff else "MISMATCH", q, b))
    print("# setup | result | qscale's answer")
    for i, name, label, q, _ in table:
        if "error" in q:
            answer = "refused: " + q["error"]
        else:
            answer = "%s %s region=%s sqs=%s ecs=%s retry=%s/%d ca=%s" % (
                q["credentials"]["source"], q["credentials"].get("access_key_id", "-"),
                q["region"], q["sqs"], q["ecs"], q["retry_mode"], q["max_attempts"],
                "set" if q["ca_bundle"] else "system")
        print("# %02d %s | %s | %s" % (i, name, label, answer))
    tap.done()


if __name__ == "__main__":
    main()
