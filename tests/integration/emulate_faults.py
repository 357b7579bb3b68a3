#!/usr/bin/env python3
"""What a client sees for each fault kind of a scenario: throttling, 500, 503
(error shape and status per service), latency (the reply comes after the
delay, after a later fast call's reply), dropped connections (headers and
part of the body, then EOF), malformed bodies, and partitions (no answer at
all until the window ends, then the connection is closed)."""

import json
import socket
import threading
import time

from emulate_common import (ECS_PREFIX, Emulator, Tap, aws, aws_binary, node_ready, node_sqs,
                            raw_request, with_faults)

t = Tap()
HOUR = "1h"
DESCRIBE = {"cluster": "onprem", "services": ["order-processor"]}


def error_of(body):
    try:
        doc = json.loads(body)
    except ValueError:
        return None, None
    return doc.get("__type"), doc.get("message")


# Throttling, 500 and 503: ECS shapes seen raw, SQS shapes seen through the SDK.
ERRORS = [
    ("throttling", 400, "ThrottlingException", "Rate exceeded",
     403, "RequestThrottled", "RequestThrottled"),
    ("error500", 500, "ServerException", None, 500, "InternalFailure", "InternalFailure"),
    ("error503", 503, "ServiceUnavailableException", None, 503, "ServiceUnavailable",
     "ServiceUnavailable"),
]
have_node = node_ready()
for kind, ecs_status, ecs_type, ecs_msg, sqs_status, sqs_code, sqs_query in ERRORS:
    with Emulator(with_faults({"kind": kind, "start": "0s", "end": HOUR})) as em:
        status, hdrs, body, _ = raw_request(em, ECS_PREFIX + "DescribeServices", DESCRIBE)
        typ, msg = error_of(body)
        t.ok(status == ecs_status and typ == ecs_type and (ecs_msg is None or msg == ecs_msg)
             and hdrs.get("x-amzn-requestid") and hdrs.get("content-type") == "application/x-amz-json-1.1",
             f"{kind}: ECS answers {ecs_status} {ecs_type}", (status, hdrs, body))
        status, hdrs, body, _ = raw_request(em, "AmazonSQS.GetQueueAttributes",
                                            {"QueueUrl": em.queue_url(), "AttributeNames": ["All"]})
        t.ok(status == sqs_status and hdrs.get("x-amzn-query-error", "").startswith(sqs_query + ";"),
             f"{kind}: SQS answers {sqs_status} with x-amzn-query-error {sqs_query}", (status, hdrs, body))
        if have_node:
            r = node_sqs(em, em.queue_url(), "All")
            t.ok(not r.get("ok") and r.get("status") == sqs_status and r.get("code") == sqs_code,
                 f"{kind}: the JS SDK reports {sqs_code}", r)
        if aws_binary() is not None and kind == "throttling":
            rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                               "--services", "order-processor")
            t.ok(rc != 0 and "ThrottlingException" in err and "Rate exceeded" in err,
                 "throttling: the CLI reports ThrottlingException: Rate exceeded", err)
        log = em.admin("/_qscale/requests")["requests"]
        t.ok(log and all(r["fault"] == kind for r in log), f"{kind}: the request log names the fault", log)
        t.ok(em.stop() == 0, f"{kind}: emulate exits 0", em.errors()[-2000:])

# Latency on DescribeServices only: a later DescribeTaskDefinition overtakes it.
with Emulator(with_faults({"kind": "latency", "latency": "1500ms", "service": "ecs",
                           "operation": "DescribeServices", "start": "0s", "end": HOUR})) as em:
    done = []

    def slow():
        start = time.monotonic()
        status, _, body, _ = raw_request(em, ECS_PREFIX + "DescribeServices", DESCRIBE)
        done.append(("slow", status, time.monotonic() - start, body))

    th = threading.Thread(target=slow)
    th.start()
    time.sleep(0.2)
    status, _, body, _ = raw_request(em, ECS_PREFIX + "DescribeTaskDefinition",
                                     {"taskDefinition": "order-processor"})
    done.append(("fast", status, 0, body))
    th.join(30)
    t.ok([d[0] for d in done] == ["fast", "slow"], "latency: the later fast call is answered first", done)
    slow_entry = [d for d in done if d[0] == "slow"]
    t.ok(slow_entry and slow_entry[0][1] == 200 and slow_entry[0][2] >= 1.5
         and json.loads(slow_entry[0][3])["services"][0]["serviceName"] == "order-processor",
         "latency: the delayed reply is complete and came after at least 1.5 s", slow_entry)
    log = em.admin("/_qscale/requests")["requests"]
    t.ok(any(r["fault"] == "latency" and r["latency_ms"] == 1500 for r in log),
         "latency: logged with its delay", log)
    # A client that gives up while its reply is delayed must not upset the server.
    for i in range(3):
        try:
            raw_request(em, ECS_PREFIX + "DescribeServices", DESCRIBE, timeout=0.3)
        except socket.timeout:
            pass
    time.sleep(1.6)
    status, _, _, _ = raw_request(em, ECS_PREFIX + "DescribeTaskDefinition",
                                  {"taskDefinition": "order-processor"})
    t.ok(status == 200, "latency: clients that hung up early leave the server serving", status)
    t.ok(em.stop() == 0, "latency: emulate exits 0", em.errors()[-2000:])

# Drop: headers and part of the body, then the connection closes.
with Emulator(with_faults({"kind": "drop", "service": "ecs", "start": "0s", "end": HOUR})) as em:
    status, hdrs, body, complete = raw_request(em, ECS_PREFIX + "DescribeServices", DESCRIBE)
    t.ok(status == 200 and not complete and 0 < len(body) < int(hdrs.get("content-length", "0")),
         "drop: status line and headers arrive, the body is cut short", (status, hdrs, len(body)))
    if aws_binary() is not None:
        rc, out, err = aws(em, "ecs", "describe-services", "--cluster", "onprem",
                           "--services", "order-processor")
        # botocore does not enforce Content-Length: it may even exit 0, but it
        # must not come up with service data from half a reply.
        t.ok(not (out or {}).get("services"), "drop: the CLI gets no service data from the cut reply",
             (rc, out, err))
    status, hdrs, body, _ = raw_request(em, "AmazonSQS.GetQueueAttributes",
                                        {"QueueUrl": em.queue_url(), "AttributeNames": ["All"]})
    t.ok(status == 200 and json.loads(body).get("Attributes"), "drop: SQS (not targeted) unaffected", body)
    t.ok(em.stop() == 0, "drop: emulate exits 0", em.errors()[-2000:])

# Malformed: a complete 200 whose body is not JSON.
with Emulator(with_faults({"kind": "malformed", "service": "sqs", "start": "0s", "end": HOUR})) as em:
    status, hdrs, body, complete = raw_request(em, "AmazonSQS.GetQueueAttributes",
                                               {"QueueUrl": em.queue_url(), "AttributeNames": ["All"]})
    try:
        json.loads(body)
        parsed = True
    except ValueError:
        parsed = False
    t.ok(status == 200 and complete and not parsed and body,
         "malformed: 200 with a complete body that is not JSON", (status, body))
    if have_node:
        r = node_sqs(em, em.queue_url(), "All")
        t.ok(not r.get("ok"), "malformed: the JS SDK rejects the body", r)
    t.ok(em.stop() == 0, "malformed: emulate exits 0", em.errors()[-2000:])

# Partition: nothing answers until the window ends; then held connections close.
with Emulator(with_faults({"kind": "partition", "start": "0s", "end": HOUR})) as em:
    try:
        raw_request(em, ECS_PREFIX + "DescribeServices", DESCRIBE, timeout=1.0)
        answered = True
    except socket.timeout:
        answered = False
    t.ok(not answered, "partition: no answer (the client times out)")
    held = []

    def waiter():
        try:
            held.append(raw_request(em, "AmazonSQS.GetQueueAttributes",
                                    {"QueueUrl": em.queue_url()}, timeout=60)[0])
        except socket.timeout:
            held.append("timeout")

    th = threading.Thread(target=waiter)
    th.start()
    time.sleep(0.5)
    log = em.admin("/_qscale/requests")["requests"]
    t.ok(len(log) >= 2 and all(r["fault"] == "partition" and r["status"] == 0 for r in log),
         "partition: the admin API still answers and logs unanswered requests", log)
    t.ok(held == [], "partition: a request is held while the window lasts", held)
    em.admin("/_qscale/advance?ms=3600000", method="POST")
    th.join(30)
    t.ok(held == [None], "partition: when it ends the held connection closes without a reply", held)
    status, _, body, _ = raw_request(em, ECS_PREFIX + "DescribeServices", DESCRIBE)
    t.ok(status == 200, "partition: after the window requests are answered again", (status, body))
    t.ok(em.stop() == 0, "partition: emulate exits 0", em.errors()[-2000:])

t.done()
