#!/usr/bin/python3
"""The yardstick of bench/tls_bench.py: a Python + botocore loop making, per
cycle, the AWS calls qscale makes for the same policies (one
GetQueueAttributes per queue; per cluster, DescribeServices by tens,
ListContainerInstances and DescribeContainerInstances by hundreds; each task
definition described once). It runs the calls of a cycle on as many threads
as qscale has connections per endpoint (botocore's pool sized to match), on
a fixed interval; a cycle that overruns skips the slots it missed, as qscale
does. Endpoint, credentials and CA come from the environment
(AWS_ENDPOINT_URL, AWS_CA_BUNDLE, ...). Prints one JSON line per cycle:
cycles run, cycles missed, calls made so far.

Debian 12's botocore (1.29) still speaks the SQS query protocol, which the
emulator does not; the loop then uses botocore's own SQS model switched to
AWS JSON 1.0, as botocore 1.34.90 and later ship it.

usage: botocore_loop.py POLICIES CLUSTERS INTERVAL_S DURATION_S [WORKERS]
"""

import concurrent.futures
import json
import os
import sys
import tempfile
import time

import botocore.config
import botocore.loaders
import botocore.session

ACCOUNT = "123456789012"
STATUS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed"]


def json_sqs_model(folder):
    """A data folder whose SQS model speaks AWS JSON, when botocore's does not."""
    loader = botocore.loaders.Loader()
    version = loader.determine_latest_version("sqs", "service-2")
    model = loader.load_service_model("sqs", "service-2", version)
    meta = model["metadata"]
    if meta.get("protocol") == "json":
        return None
    meta.update({"protocol": "json", "jsonVersion": "1.0", "targetPrefix": "AmazonSQS"})
    meta.pop("protocols", None)
    path = os.path.join(folder, "sqs", version)
    os.makedirs(path)
    with open(os.path.join(path, "service-2.json"), "w", encoding="utf-8") as f:
        json.dump(model, f)
    return folder


def main():
    n, clusters, interval, duration = (int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]),
                                       float(sys.argv[4]))
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    with tempfile.TemporaryDirectory(prefix="qscale-botocore-") as folder:
        data = json_sqs_model(folder)
        session = botocore.session.get_session()
        if data is not None:
            session.get_component("data_loader").search_paths.insert(0, data)
        cfg = botocore.config.Config(max_pool_connections=workers,
                                     retries={"max_attempts": 3, "mode": "standard"})
        endpoint = os.environ["AWS_ENDPOINT_URL"]
        sqs = session.create_client("sqs", region_name="us-east-1", endpoint_url=endpoint,
                                    config=cfg)
        ecs = session.create_client("ecs", region_name="us-east-1", endpoint_url=endpoint,
                                    config=cfg)
        run(sqs, ecs, n, clusters, interval, duration, workers)


def observe_cluster(ecs, c, services, taskdefs):
    """What qscale reads of one cluster in a cycle."""
    calls = 0
    for i in range(0, len(services), 10):
        out = ecs.describe_services(cluster=f"c{c}", services=services[i:i + 10])
        calls += 1
        for s in out["services"]:
            td = s.get("taskDefinition")
            if td and td not in taskdefs:
                taskdefs[td] = ecs.describe_task_definition(taskDefinition=td)["taskDefinition"]
                calls += 1
    arns, token = [], None
    while True:
        args = {"cluster": f"c{c}", "status": "ACTIVE", "maxResults": 100}
        if token:
            args["nextToken"] = token
        out = ecs.list_container_instances(**args)
        calls += 1
        arns += out["containerInstanceArns"]
        token = out.get("nextToken")
        if not token:
            break
    for i in range(0, len(arns), 100):
        ecs.describe_container_instances(cluster=f"c{c}", containerInstances=arns[i:i + 100])
        calls += 1
    return calls


def run(sqs, ecs, n, clusters, interval, duration, workers):
    endpoint = os.environ["AWS_ENDPOINT_URL"]
    queues = [f"{endpoint}/{ACCOUNT}/q{i}" for i in range(n)]
    per_cluster = [[f"s{i}" for i in range(n) if i % clusters == c] for c in range(clusters)]
    taskdefs = {}
    cycles = missed = calls = 0
    start = time.monotonic()
    next_due = start
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        while time.monotonic() - start < duration:
            futures = [pool.submit(sqs.get_queue_attributes, QueueUrl=q, AttributeNames=STATUS)
                       for q in queues]
            futures += [pool.submit(observe_cluster, ecs, c, per_cluster[c], taskdefs)
                        for c in range(clusters)]
            for f in futures:
                r = f.result()
                calls += r if isinstance(r, int) else 1
            cycles += 1
            print(json.dumps({"cycles": cycles, "missed": missed, "calls": calls}), flush=True)
            next_due += interval
            now = time.monotonic()
            while next_due <= now:
                missed += 1
                next_due += interval
            time.sleep(max(0.0, next_due - now))


if __name__ == "__main__":
    main()
