"""AWS Glue Schema Registry end to end: a local fake of Glue's
GetSchemaVersion that verifies every request's SigV4 signature with
botocore, records in Glue's wire format (header version 3, no compression
and zlib, the schema version UUID) encoded by python3-avro, decoded by
kesm; an unknown version UUID is a failed record (dropped and counted),
and the offsets move past all of it.

Usage: /usr/bin/python3 schema_registry_glue_test.py path/to/kesm
"""
import base64
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import avro.io
import avro.schema
from confluent_kafka import Consumer, Producer, TopicPartition

import sigv4_check

KESM = sys.argv.pop(1)
KEY, SECRET = "AKIDGLUEEXAMPLE", "glue/secret/key"
SCHEMA = {"type": "record", "name": "Click", "fields": [
    {"name": "page", "type": "string"}, {"name": "ms", "type": "long"}]}
VERSION = str(uuid.UUID("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"))


class FakeGlue:
    def __init__(self):
        self.calls = 0
        self.bad_signatures = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if not outer.verify(self, body) or self.headers.get("X-Amz-Target") != "AWSGlue.GetSchemaVersion":
                    return self.answer(403, {"__type": "AccessDeniedException", "message": "bad signature"})
                outer.calls += 1
                version = json.loads(body).get("SchemaVersionId")
                if version != VERSION:
                    return self.answer(400, {"__type": "EntityNotFoundException",
                                             "message": "Schema version is not found."})
                self.answer(200, {"SchemaVersionId": VERSION, "SchemaDefinition": json.dumps(SCHEMA),
                                  "DataFormat": "AVRO", "Status": "AVAILABLE", "VersionNumber": 1})

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                if status != 200:
                    self.send_header("x-amzn-ErrorType", body["__type"])
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def verify(self, handler, body):
        parsed = sigv4_check.parse(handler)
        ok = False
        if parsed:
            key, region, service, signed, sig = parsed
            ok = (key == KEY and region == "eu-west-1" and service == "glue"
                  and sigv4_check.expected(handler, body, signed, KEY, SECRET, None, region, service) == sig)
        if not ok:
            self.bad_signatures += 1
        return ok


def avro_bytes(datum):
    out = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(json.dumps(SCHEMA))).write(datum, avro.io.BinaryEncoder(out))
    return out.getvalue()


def glue(version, body, compress=False):
    return bytes([3, 5 if compress else 0]) + uuid.UUID(version).bytes + (zlib.compress(body) if compress else body)


class GlueTest(unittest.TestCase):
    def test_glue_records_decoded_with_signed_get_schema_version(self):
        tmp = tempfile.mkdtemp(prefix="kesm-glue-")
        fake = FakeGlue()
        hits = []

        class Fn(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                hits.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass
        fn = ThreadingHTTPServer(("127.0.0.1", 0), Fn)
        threading.Thread(target=fn.serve_forever, daemon=True).start()
        broker = subprocess.Popen([KESM, "dev-broker", "--topic", "clicks:1"], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True)
        bootstrap = broker.stdout.readline().strip()
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_REGION": "eu-west-1",
                    "AWS_ENDPOINT_URL_GLUE": fake.url, "AWS_EC2_METADATA_DISABLED": "true", "HOME": tmp})
        config = os.path.join(tmp, "kesm.json")
        with open(config, "w") as f:
            json.dump({"functions": {"fn": {"url": "http://127.0.0.1:%d/" % fn.server_address[1]}}}, f)
        kesm = subprocess.Popen([KESM, "serve", "--config", config, "--api", "127.0.0.1:0",
                                 "--store", "sqlite:" + os.path.join(tmp, "db")],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        try:
            api = kesm.stdout.readline().split("API on ")[1].split("/2015")[0]
            clicks = [{"page": "/p/%d" % i, "ms": 1700000000000 + i} for i in range(6)]
            p = Producer({"bootstrap.servers": bootstrap})
            for i, c in enumerate(clicks):
                p.produce("clicks", value=glue(VERSION, avro_bytes(c), compress=i % 2 == 1), partition=0)
                if i == 2:
                    p.produce("clicks", value=glue(str(uuid.uuid4()), avro_bytes(c)), partition=0)
            self.assertEqual(p.flush(30), 0)
            body = {"FunctionName": "fn", "Topics": ["clicks"], "StartingPosition": "TRIM_HORIZON",
                    "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [bootstrap]}},
                    "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "glue-g", "SchemaRegistryConfig": {
                        "SchemaRegistryURI": "arn:aws:glue:eu-west-1:123456789012:registry/shop",
                        "EventRecordFormat": "JSON", "SchemaValidationConfigs": [{"Attribute": "VALUE"}]}}}
            req = urllib.request.Request(api + "/2015-03-31/event-source-mappings/", method="POST",
                                         data=json.dumps(body).encode())
            with urllib.request.urlopen(req) as r:
                uuid_ = json.load(r)["UUID"]

            def records():
                return [r for e in hits for recs in e["records"].values() for r in recs]
            end = time.time() + 60
            while time.time() < end and len(records()) < 6:
                time.sleep(0.2)
            recs = records()
            self.assertEqual([json.loads(base64.b64decode(r["value"])) for r in recs], clicks)
            for r in recs:
                self.assertEqual(r["valueSchemaMetadata"], {"dataFormat": "AVRO", "schemaId": VERSION})
            c = Consumer({"bootstrap.servers": bootstrap, "group.id": "glue-g"})
            end = time.time() + 30
            while time.time() < end:
                got = c.committed([TopicPartition("clicks", 0)], timeout=10)[0].offset
                if got == 7:
                    break
                time.sleep(0.3)
            c.close()
            self.assertEqual(got, 7)  # past the unknown version too (dropped)
            with urllib.request.urlopen(api + "/metrics") as r:
                text = r.read().decode()
            self.assertRegex(text, r'kesm_schema_registry_error_count_total\{[^}]*uuid="%s"[^}]*\} 1' % uuid_)
            self.assertEqual(fake.bad_signatures, 0)
            self.assertEqual(fake.calls, 2)  # the known version once, the unknown once
        finally:
            kesm.send_signal(signal.SIGTERM)
            kesm.wait(timeout=60)
            kesm.stdout.close()
            broker.send_signal(signal.SIGTERM)
            broker.wait(timeout=30)
            broker.stdout.close()
            fn.shutdown()
            fake.server.shutdown()
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
