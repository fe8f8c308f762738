"""botocore's SigV4 for a request given as JSON on stdin: the reference the
C++ signer is compared with byte for byte (tests/transport/signer_test.cpp).

Input: {"method","url","headers":[[k,v]...],"body","access_key","secret_key",
"token","region","service","now","presign_expires"?}
Output: one line per header botocore set (`Name: value`), or, with
presign_expires, the presigned URL.
"""
import datetime
import json
import sys
from unittest import mock

from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

req = json.load(sys.stdin)
creds = Credentials(req["access_key"], req["secret_key"], req.get("token") or None)
now = datetime.datetime.fromtimestamp(req["now"], datetime.timezone.utc).replace(tzinfo=None)
import botocore.auth
if hasattr(botocore.auth, "get_current_datetime"):  # botocore >= 1.31
    clock = mock.patch("botocore.auth.get_current_datetime", return_value=now)
else:  # Debian 12's botocore: datetime.datetime.utcnow()
    clock = mock.patch("botocore.auth.datetime")
with clock as dt:
    if not hasattr(botocore.auth, "get_current_datetime"):
        dt.datetime.utcnow.return_value = now
    if "presign_expires" in req:
        r = AWSRequest(method="GET", url=req["url"])
        SigV4QueryAuth(creds, req["service"], req["region"],
                       expires=req["presign_expires"]).add_auth(r)
        print(r.url)
    else:
        r = AWSRequest(method=req["method"], url=req["url"],
                       headers=dict(req["headers"]), data=req["body"].encode())
        SigV4Auth(creds, req["service"], req["region"]).add_auth(r)
        for k in ("X-Amz-Date", "X-Amz-Security-Token", "Authorization"):
            if k in r.headers:
                print(f"{k}: {r.headers[k]}")
