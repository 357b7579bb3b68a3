// Resolves credentials with the AWS SDK for JavaScript's default provider
// chain (environment, profiles with roles, web identity, SSO, process,
// container, IMDS) and prints them as one JSON line, for the integration
// tests to ask the emulator who they belong to. Test credentials only.
//
// usage: node creds.mjs ENDPOINT
// env: HOME, AWS_* as the setup under test has them.
import { SQSClient } from "@aws-sdk/client-sqs";

const [endpoint] = process.argv.slice(2);
if (!endpoint) {
  console.error("usage: node creds.mjs ENDPOINT");
  process.exit(2);
}

const client = new SQSClient({
  endpoint,
  region: process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || "us-east-1",
  maxAttempts: 1,
});
try {
  const c = await client.config.credentials();
  console.log(JSON.stringify({
    ok: true,
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    sessionToken: c.sessionToken ?? null,
  }));
} catch (err) {
  console.log(JSON.stringify({ ok: false, name: err.name, message: err.message }));
}
