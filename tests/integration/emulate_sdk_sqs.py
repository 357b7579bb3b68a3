#!/usr/bin/env python3
"""qscale emulate against the AWS SDK for JavaScript's SQS client, which speaks
AWS JSON 1.0 (query-compatible): GetQueueAttributes must pass the signature
check and parse; errors must surface with the query error codes the SDK
reports."""

import sys

from emulate_common import ACCOUNT, Emulator, Tap, base_scenario, node_ready, node_sqs

t = Tap()
if not node_ready():
    print("1..0 # SKIP node, npm or @aws-sdk/client-sqs not available")
    sys.exit(0)

COUNTS = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
          "ApproximateNumberOfMessagesDelayed"]

with Emulator(base_scenario()) as em:
    r = node_sqs(em, em.queue_url(), *COUNTS)
    attrs = r.get("attributes") or {}
    t.ok(r.get("ok") and r.get("status") == 200, "GetQueueAttributes succeeds", r)
    t.ok(sorted(attrs) == sorted(COUNTS) and all(isinstance(v, str) for v in attrs.values()),
         "exactly the three requested counts, as strings", attrs)
    visible = int(attrs.get("ApproximateNumberOfMessages", "-1"))
    t.ok(1000 <= visible <= 1200, "the standing backlog is reported", attrs)
    t.ok(r.get("requestId"), "x-amzn-RequestId reaches the SDK", r)

    r = node_sqs(em, f"https://sqs.us-east-1.amazonaws.com/{ACCOUNT}/orders", "All")
    attrs = r.get("attributes") or {}
    t.ok(r.get("ok") and attrs.get("QueueArn") == f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
         and "VisibilityTimeout" in attrs and "CreatedTimestamp" in attrs,
         "All returns every attribute for the AWS-form queue URL", r)

    r = node_sqs(em, em.queue_url())
    t.ok(r.get("ok") and not r.get("attributes"), "no AttributeNames: no attributes", r)

    r = node_sqs(em, em.queue_url("missing"), "All")
    t.ok(not r.get("ok") and r.get("status") == 400 and r.get("name") == "QueueDoesNotExist"
         and r.get("code") == "AWS.SimpleQueueService.NonExistentQueue",
         "unknown queue: QueueDoesNotExist / AWS.SimpleQueueService.NonExistentQueue, 400", r)

    r = node_sqs(em, em.queue_url(), "ApproximateNumberOfMessages", "Bogus")
    t.ok(not r.get("ok") and r.get("code") == "InvalidAttributeName" and r.get("status") == 400,
         "unknown attribute name: InvalidAttributeName", r)

    r = node_sqs(em, em.queue_url(), "All", secret="not-the-secret")
    t.ok(not r.get("ok") and r.get("status") == 403 and r.get("code") == "SignatureDoesNotMatch",
         "wrong secret key: 403 SignatureDoesNotMatch", r)

    r = node_sqs(em, em.queue_url(), "All", access_key="AKIDSOMEONEELSE")
    t.ok(not r.get("ok") and r.get("code") == "InvalidClientTokenId",
         "unknown access key: InvalidClientTokenId", r)

    t.ok(em.stop() == 0, "emulate exits 0 on SIGTERM", em.errors()[-3000:])

# A scenario without credentials accepts the documented default pair.
text = base_scenario()
start = text.index("credentials:")
end = text.index("seed:")
with Emulator(text[:start] + text[end:]) as em:
    r = node_sqs(em, em.queue_url(), "ApproximateNumberOfMessages",
                 access_key="AKIDQSCALEEMULATOR", secret="qscale-emulator-secret")
    t.ok(r.get("ok"), "no credentials in the scenario: the default pair is accepted", r)
    r = node_sqs(em, em.queue_url(), "ApproximateNumberOfMessages")
    t.ok(not r.get("ok") and r.get("code") == "InvalidClientTokenId",
         "no credentials in the scenario: other keys are refused", r)
    t.ok(em.stop() == 0, "emulate exits 0 on SIGTERM", em.errors()[-3000:])

t.done()
