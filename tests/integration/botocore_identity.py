"""Resolve credentials as the AWS CLI does (botocore) and ask STS who they are.

Run with the interpreter that has Debian's python3-botocore. Every client
botocore creates, the credential providers' own STS and SSO clients
included, is pointed at the endpoint given as the only argument (botocore
of Debian 12 predates AWS_ENDPOINT_URL). Prints one JSON object: the
GetCallerIdentity answer, or {"error": "..."}.
"""

import json
import sys

import botocore.session


def main():
    endpoint = sys.argv[1]
    session = botocore.session.get_session()
    create = session.create_client

    def create_here(service_name, *args, **kwargs):
        kwargs["endpoint_url"] = endpoint
        return create(service_name, *args, **kwargs)

    session.create_client = create_here
    try:
        sts = session.create_client("sts", region_name="us-east-1")
        who = sts.get_caller_identity()
        print(json.dumps({k: who[k] for k in ("Arn", "Account", "UserId")}))
    except Exception as e:  # every failure is a result here
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))


if __name__ == "__main__":
    main()
