#!/usr/bin/env python3
"""qscale over HTTPS against `qscale emulate --tls`, trusting the emulator's
private CA through AWS_CA_BUNDLE: doctor and plan succeed, and so does the
AWS CLI (a client nobody here wrote) with the same CA. A wrong CA, an expired
certificate and a certificate for another host are each refused by doctor,
plan and the AWS CLI, with a message that names the cause. Bad command
lines of emulate's TLS options are usage errors (exit 2)."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from emulate_common import BINARY, Emulator, Tap, aws, aws_binary, base_scenario  # noqa: E402
from ops_commands import env_for, qscale, write_config  # noqa: E402

# What each refusal must say, from qscale (libcurl) and from the AWS CLI (Python's ssl).
CAUSES = {
    "wrong-ca": ("unable to get local issuer certificate", "is AWS_CA_BUNDLE the right CA?",
                 "unable to get local issuer certificate"),
    "expired": ("certificate has expired", "certificate has expired", "certificate has expired"),
    "wrong-host": ("no alternative certificate subject name matches target host name '127.0.0.1'",
                   "127.0.0.1", "doesn't match 'not-this-host.invalid'"),
}


def line_of(text, needle):
    return next((ln for ln in text.splitlines() if needle in ln), "")


def run_commands(em, folder, bundle):
    """doctor and plan with AWS_CA_BUNDLE=bundle; returns their results."""
    cfg = write_config(folder, [("orders", "order-processor")])
    env = env_for(em.url, folder)
    env["AWS_CA_BUNDLE"] = bundle
    return qscale("doctor", "-c", cfg, env=env), qscale("plan", "-c", cfg, env=env)


def test_good(t, folder):
    with Emulator(base_scenario(), tls="good") as em:
        t.ok(em.url.startswith("https://127.0.0.1:"), "emulate --tls listens on https://", em.url)
        with open(em.ca_path, encoding="ascii") as f:
            t.ok(f.read().startswith("-----BEGIN CERTIFICATE-----"), "the CA is written as PEM")
        t.ok(em.admin("/_qscale/connections")["tls"], "the admin API says TLS is on")
        doctor, plan = run_commands(em, folder, em.ca_path)
        t.ok(doctor.returncode == 0 and "FAIL" not in doctor.stdout,
             "doctor over TLS: exit 0, no FAIL", doctor.stdout + doctor.stderr)
        t.ok(f"endpoint sqs {em.url}: reachable" in doctor.stdout,
             "doctor over TLS: the https endpoint is reachable", doctor.stdout)
        t.ok("DescribeContainerInstances onprem: ok" in doctor.stdout,
             "doctor over TLS: every call checked", doctor.stdout)
        t.ok(plan.returncode == 0 and "would scale" in plan.stdout,
             "plan over TLS: the policy is observed and decided", plan.stdout + plan.stderr)
        reqs = em.admin("/_qscale/requests")["requests"]
        t.ok(not any(r["target"].endswith(".UpdateService") for r in reqs),
             "plan over TLS changes nothing")
        if aws_binary() is None:
            t.ok(True, "# SKIP aws not installed")
        else:
            rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                               "--services", "order-processor")
            t.ok(rc == 0 and out and out["services"][0]["serviceName"] == "order-processor",
                 "the AWS CLI talks to the TLS emulator with the CA in AWS_CA_BUNDLE", err)
        seen = em.admin("/_qscale/connections")
        t.ok(seen["tls"] and seen["tls_handshakes"] >= 3,
             "the emulator counts the TLS handshakes it served", seen)
        with open(em.ca_path, encoding="ascii") as f:
            return f.read()


def test_refused(t, folder, kind, other_ca):
    ours, hint, cli = CAUSES[kind]
    with Emulator(base_scenario(), tls="good" if kind == "wrong-ca" else kind) as em:
        bundle = em.ca_path
        if kind == "wrong-ca":
            bundle = os.path.join(folder, "other-ca.pem")
            with open(bundle, "w", encoding="ascii") as f:
                f.write(other_ca)
        doctor, plan = run_commands(em, folder, bundle)
        sqs = line_of(doctor.stdout, "endpoint sqs")
        t.ok(doctor.returncode == 1 and sqs.startswith("FAIL") and ours in sqs and hint in sqs,
             f"{kind}: doctor fails the endpoint and names the cause", doctor.stdout)
        t.ok(plan.returncode == 1 and "held" in plan.stdout and ours in plan.stdout,
             f"{kind}: plan holds and names the cause", plan.stdout + plan.stderr)
        reqs = em.admin("/_qscale/requests")["requests"]
        t.ok(reqs == [], f"{kind}: no request got through", reqs[:3])
        if aws_binary() is not None:
            rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                               "--services", "order-processor", ca_bundle=bundle)
            t.ok(rc != 0 and cli in err, f"{kind}: the AWS CLI refuses it too", err)


def test_usage(t, folder):
    scen = os.path.join(folder, "s.yaml")
    with open(scen, "w", encoding="utf-8") as f:
        f.write(base_scenario())
    for args, why in [(["--tls"], "needs --ca-out"),
                      (["--cert", scen], "go together"),
                      (["--ca-out", "x.pem", "--cert", scen, "--key", scen], "generate one"),
                      (["--tls", "--ca-out", "x.pem", "--bad-cert", "rotten"], "bad --bad-cert")]:
        r = subprocess.run([BINARY, "emulate", "--scenario", scen, *args], capture_output=True,
                           text=True, timeout=30)
        t.ok(r.returncode == 2 and why in r.stderr, f"emulate {' '.join(args)}: usage error", r.stderr)
    r = subprocess.run([BINARY, "emulate", "--scenario", scen, "--tls", "--cert", scen, "--key", scen],
                       capture_output=True, text=True, timeout=30)
    t.ok(r.returncode == 1 and "cannot use --cert/--key" in r.stderr,
         "emulate --cert with a file that is no certificate: exit 1, named", r.stderr)


def main():
    t = Tap()
    folder = tempfile.mkdtemp(prefix="qscale-tls-")
    try:
        other_ca = test_good(t, folder)
        for kind in CAUSES:
            test_refused(t, folder, kind, other_ca)
        test_usage(t, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    t.done()


main()
