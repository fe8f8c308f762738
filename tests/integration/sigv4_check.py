"""Checks the SigV4 `Authorization` header a local AWS fake received by
recomputing the signature with botocore (the AWS SDK for Python), so the
fakes of the integration tests verify kesm's signatures independently."""
import re

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")


def parse(handler):
    """(key, region, service, signed headers, signature) of a request, or None."""
    m = AUTH.match(handler.headers.get("Authorization", ""))
    if not m:
        return None
    key, _, region, service, signed, sig = m.groups()
    return key, region, service, signed, sig


def expected(handler, body, signed, key, secret, token, region, service):
    """The signature botocore computes for what the request signed."""
    headers = {h: handler.headers[h] for h in signed.split(";")}
    req = AWSRequest(method=handler.command, url="http://%s%s" % (handler.headers["Host"], handler.path),
                     data=body, headers=headers)
    req.context["timestamp"] = handler.headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(key, secret, token), service, region)
    return signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
