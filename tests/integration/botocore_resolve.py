"""Print, as one JSON object, what botocore resolves in this process's
environment: credentials (method, key id, SHA-256 of the secret and token),
region, the URL an SQS and an ECS request would go to, retry mode and max
attempts, and the CA bundle. Run by aws_settings_parity.py under Debian's
python3 with python3-botocore, in a clean environment and its own HOME.

argv[1] is a JSON object of what qscale's own configuration sets (region,
endpoint_sqs, endpoint_ecs, profile): passed to botocore as code would pass
them (region_name, endpoint_url, profile).
"""
import hashlib
import json
import sys

import botocore
import botocore.config
import botocore.session


class Captured(Exception):
    """Raised from before-send to stop a request once its URL is known."""

    def __init__(self, url):
        super().__init__(url)
        self.url = url


def digest(text):
    if text is None:
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def capture(request, **_):
    raise Captured(request.url)


def request_url(session, service, region, endpoint, call):
    """The URL botocore sends an unsigned request of service to."""
    cfg = botocore.config.Config(signature_version=botocore.UNSIGNED)
    client = session.create_client(
        service, region_name=region, endpoint_url=endpoint, config=cfg)
    client.meta.events.register("before-send", capture)
    try:
        call(client)
    except Captured as c:
        url = c.url
        # Only the origin: the path is "/" for both services.
        return url.rstrip("/")
    return None


def retry_settings(session, region, endpoint):
    client = session.create_client(
        "sqs", region_name=region, endpoint_url=endpoint,
        config=botocore.config.Config(signature_version=botocore.UNSIGNED))
    retries = client.meta.config.retries or {}
    mode = retries.get("mode", "legacy")
    total = retries.get("total_max_attempts")
    if total is None:
        total = 5 if mode == "legacy" else 3
    return mode, total


def main():
    given = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    out = {"botocore": botocore.__version__}
    try:
        session = botocore.session.Session(profile=given.get("profile"))
        region = given.get("region") or session.get_config_variable("region")
        out["region"] = region
        creds = session.get_credentials()
        if creds is None:
            out["credentials"] = {"source": "none"}
        else:
            frozen = creds.get_frozen_credentials()
            out["credentials"] = {
                "source": creds.method,
                "access_key_id": frozen.access_key,
                "secret_sha256": digest(frozen.secret_key),
                "token_sha256": digest(frozen.token),
            }
        out["sqs"] = request_url(
            session, "sqs", region, given.get("endpoint_sqs"),
            lambda c: c.get_queue_attributes(
                QueueUrl="https://sqs.us-east-1.amazonaws.com/1/q",
                AttributeNames=["All"]))
        out["ecs"] = request_url(
            session, "ecs", region, given.get("endpoint_ecs"),
            lambda c: c.list_clusters())
        out["retry_mode"], out["max_attempts"] = retry_settings(
            session, region, given.get("endpoint_sqs"))
        out["ca_bundle"] = session.get_config_variable("ca_bundle")
    except Exception as e:  # every failure is a result to compare
        out = {"botocore": botocore.__version__,
               "error": "%s: %s" % (type(e).__name__, e)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
