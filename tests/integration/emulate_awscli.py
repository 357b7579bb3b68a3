#!/usr/bin/env python3
"""qscale emulate against the AWS CLI: every ECS call qscale makes, issued by a
client nobody here wrote, must pass the emulator's signature check and parse.
Also: wrong secret and unknown key are refused with AWS's error codes, and the
API limits and errors come back as the CLI expects them."""

import sys

from emulate_common import ACCOUNT, ECS_PREFIX, Emulator, Tap, aws, aws_binary, base_scenario

t = Tap()
if aws_binary() is None:
    print("1..0 # SKIP aws not installed")
    sys.exit(0)

with Emulator(base_scenario()) as em:
    # DescribeServices: one known, one missing (failures[] MISSING).
    rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                       "--services", "order-processor", "nope")
    t.ok(rc == 0, "describe-services succeeds", err)
    svc = (out or {}).get("services", [{}])[0] if out and out.get("services") else {}
    t.ok(svc.get("serviceName") == "order-processor" and svc.get("desiredCount") == 2
         and svc.get("launchType") == "EXTERNAL"
         and svc.get("clusterArn") == f"arn:aws:ecs:us-east-1:{ACCOUNT}:cluster/onprem",
         "describe-services shapes the service", out)
    t.ok(isinstance(svc.get("createdAt"), str) and svc.get("deployments", [{}])[0].get("status") == "PRIMARY",
         "timestamps parse and a PRIMARY deployment is listed", svc)
    fails = (out or {}).get("failures", [])
    t.ok(len(fails) == 1 and fails[0].get("reason") == "MISSING"
         and fails[0].get("arn", "").endswith(":service/onprem/nope"),
         "missing service comes back in failures[] as MISSING", fails)

    rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem", "--services",
                       *[f"s{i}" for i in range(11)])
    t.ok(rc != 0 and "InvalidParameterException" in err, "11 services: InvalidParameterException", err)

    rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "nowhere",
                       "--services", "order-processor")
    t.ok(rc != 0 and "ClusterNotFoundException" in err, "unknown cluster: ClusterNotFoundException", err)

    # ListContainerInstances across pages: the CLI follows nextToken.
    rc, out, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                       "--page-size", "3")
    arns = (out or {}).get("containerInstanceArns", [])
    t.ok(rc == 0 and len(arns) == 10 and len(set(arns)) == 10,
         "list-container-instances pages through all 10 instances with page size 3", (rc, out, err))
    log = em.admin("/_qscale/requests")["requests"]
    lists = [r for r in log if r["target"] == ECS_PREFIX + "ListContainerInstances" and r["status"] == 200]
    t.ok(len(lists) >= 4, "at least four pages were fetched", len(lists))

    rc, out, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                       "--max-items", "4", "--page-size", "2")
    t.ok(rc == 0 and len(out.get("containerInstanceArns", [])) == 4 and out.get("NextToken"),
         "--max-items 4 stops after four with a NextToken", out)
    if out and out.get("NextToken"):
        rc, out2, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                            "--page-size", "2", "--starting-token", out["NextToken"])
        rest = (out2 or {}).get("containerInstanceArns", [])
        t.ok(rc == 0 and len(rest) == 6 and not set(rest) & set(out["containerInstanceArns"]),
             "resuming from the token yields the other six", (rc, out2, err))

    rc, out, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                       "--filter", "attribute:site == dc2")
    t.ok(rc == 0 and len(out.get("containerInstanceArns", [])) == 3,
         "filter attribute:site == dc2 keeps the three dc2 hosts", (out, err))
    rc, out, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                       "--status", "DRAINING")
    t.ok(rc == 0 and out.get("containerInstanceArns") == [], "status DRAINING: none", (out, err))
    rc, out, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                       "--filter", "attribute:site ==")
    t.ok(rc != 0 and "InvalidParameterException" in err, "bad filter: InvalidParameterException", err)
    rc, out, err = aws(em, "ecs", "list-container-instances", "--cluster", "onprem",
                       "--no-paginate", "--max-results", "101")
    t.ok(rc != 0 and "InvalidParameterException" in err, "maxResults 101: InvalidParameterException", err)

    # DescribeContainerInstances: all ten plus one unknown.
    ids = [a.rsplit("/", 1)[1] for a in arns] + ["0123456789abcdef0123456789abcdef"]
    rc, out, err = aws(em, "ecs", "describe-container-instances", "--cluster", "onprem",
                       "--container-instances", *ids)
    cis = (out or {}).get("containerInstances", [])
    t.ok(rc == 0 and len(cis) == 10, "describe-container-instances returns ten", (rc, err))
    t.ok(len((out or {}).get("failures", [])) == 1 and out["failures"][0]["reason"] == "MISSING",
         "unknown instance: failure MISSING", out and out.get("failures"))
    ok_shape = True
    for ci in cis:
        res = {r["name"]: r for r in ci.get("remainingResources", [])}
        reg = {r["name"]: r for r in ci.get("registeredResources", [])}
        ok_shape &= res.get("CPU", {}).get("type") == "INTEGER" and "integerValue" in res.get("CPU", {})
        ok_shape &= reg.get("MEMORY", {}).get("integerValue") in (8192, 4096)
        ok_shape &= isinstance(reg.get("PORTS", {}).get("stringSetValue"), list)
        ok_shape &= ci.get("ec2InstanceId", "").startswith("mi-") and ci.get("agentConnected") is True
        ok_shape &= any(a.get("name") == "ecs.capability.external" for a in ci.get("attributes", []))
    t.ok(ok_shape and cis, "instances carry typed CPU/MEMORY/PORTS resources and attributes", cis[:1])
    rc, out, err = aws(em, "ecs", "describe-container-instances", "--cluster", "onprem",
                       "--container-instances", *[f"{i:032x}" for i in range(101)])
    t.ok(rc != 0 and "InvalidParameterException" in err, "101 instances: InvalidParameterException", err)

    # DescribeTaskDefinition.
    rc, out, err = aws(em, "ecs", "describe-task-definition", "--task-definition", "order-processor")
    td = (out or {}).get("taskDefinition", {})
    t.ok(rc == 0 and td.get("revision") == 3 and td.get("cpu") == "512" and td.get("memory") == "1024"
         and td.get("containerDefinitions", [{}])[0].get("cpu") == 512,
         "describe-task-definition: cpu/memory as strings, container cpu as a number", (out, err))
    rc, out, err = aws(em, "ecs", "describe-task-definition", "--task-definition", "nope:9")
    t.ok(rc != 0 and "ClientException" in err, "unknown task definition: ClientException", err)

    # UpdateService: the change lands in the world and in the update log.
    rc, out, err = aws(em, "ecs", "update-service", "--cluster", "onprem",
                       "--service", "order-processor", "--desired-count", "5")
    t.ok(rc == 0 and out["service"]["desiredCount"] == 5, "update-service sets desiredCount 5", (out, err))
    ups = em.admin("/_qscale/updates")["updates"]
    t.ok(len(ups) == 1 and ups[0]["from"] == 2 and ups[0]["to"] == 5
         and ups[0]["service"] == "order-processor" and ups[0]["cluster"] == "onprem",
         "the update log records 2 -> 5", ups)
    state = em.admin("/_qscale/state")
    s = [x for x in state["services"] if x["name"] == "order-processor"][0]
    t.ok(s["desired"] == 5, "the world now wants 5", s)
    rc, out, err = aws(em, "ecs", "update-service", "--cluster", "onprem",
                       "--service", "ghost", "--desired-count", "1")
    t.ok(rc != 0 and "ServiceNotFoundException" in err, "unknown service: ServiceNotFoundException", err)

    # Authentication: wrong secret, unknown key.
    rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                       "--services", "order-processor", secret="not-the-secret")
    t.ok(rc != 0 and "InvalidSignatureException" in err and "signature we calculated" in err,
         "wrong secret key: InvalidSignatureException", err)
    rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                       "--services", "order-processor", access_key="AKIDSOMEONEELSE")
    t.ok(rc != 0 and "UnrecognizedClientException" in err, "unknown access key: UnrecognizedClientException", err)
    ups = em.admin("/_qscale/updates")["updates"]
    t.ok(len(ups) == 1, "refused calls changed nothing", ups)

    t.ok(em.stop() == 0, "emulate exits 0 on SIGTERM", em.errors()[-3000:])

t.done()
