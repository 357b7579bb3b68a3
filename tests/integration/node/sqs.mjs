// Calls SQS GetQueueAttributes on qscale emulate with the AWS SDK for
// JavaScript (AWS JSON 1.0 protocol) and prints one JSON line describing the
// outcome, for the integration tests to assert on.
//
// usage: node sqs.mjs ENDPOINT QUEUE_URL [ATTRIBUTE...]
// env: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION (or
// AWS_DEFAULT_REGION); QSCALE_MAX_ATTEMPTS (default 1), QSCALE_TIMEOUT_MS
// (default 10000).
import { SQSClient, GetQueueAttributesCommand } from "@aws-sdk/client-sqs";

const [endpoint, queueUrl, ...names] = process.argv.slice(2);
if (!endpoint || !queueUrl) {
  console.error("usage: node sqs.mjs ENDPOINT QUEUE_URL [ATTRIBUTE...]");
  process.exit(2);
}

const client = new SQSClient({
  endpoint,
  region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1",
  maxAttempts: Number(process.env.QSCALE_MAX_ATTEMPTS || 1),
  requestHandler: {
    requestTimeout: Number(process.env.QSCALE_TIMEOUT_MS || 10000),
    connectionTimeout: Number(process.env.QSCALE_TIMEOUT_MS || 10000),
  },
});

const started = Date.now();
try {
  const input = { QueueUrl: queueUrl };
  if (names.length > 0) input.AttributeNames = names;
  const out = await client.send(new GetQueueAttributesCommand(input));
  console.log(JSON.stringify({
    ok: true,
    status: out.$metadata.httpStatusCode,
    requestId: out.$metadata.requestId,
    attributes: out.Attributes ?? null,
    elapsedMs: Date.now() - started,
  }));
} catch (err) {
  console.log(JSON.stringify({
    ok: false,
    name: err.name,
    code: err.Code ?? err.name,
    message: err.message,
    status: err.$metadata?.httpStatusCode ?? null,
    requestId: err.$metadata?.requestId ?? null,
    fault: err.$fault ?? null,
    elapsedMs: Date.now() - started,
  }));
}
