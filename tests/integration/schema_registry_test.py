"""Schema registries end to end: a Confluent-compatible registry (REST
shapes, basic auth checked) on 127.0.0.1, records written by Debian's own
encoders (python3-avro, protoc + python3-protobuf, JSON checked by
python3-jsonschema) through python3-confluent-kafka into `kesm
dev-broker`, a `kesm serve` with mappings created through its API. Checks
the decoded events, metadata, filters on decoded fields, SOURCE mode,
KEY/VALUE selection, every failure path (bad magic, unknown id, truncated,
wrong schema) with dead letters and committed offsets, and a registry that
goes down and comes back (nothing skipped, PROBLEM meanwhile).

Usage: /usr/bin/python3 schema_registry_test.py path/to/kesm
"""
import base64
import io
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import avro.io
import avro.schema
from confluent_kafka import Consumer, Producer, TopicPartition

KESM = sys.argv.pop(1)
USER, PASSWORD = "sr-user", "sr-p4ss"

ORDER = {"type": "record", "name": "Order", "namespace": "shop", "fields": [
    {"name": "id", "type": "long"}, {"name": "customer", "type": "string"},
    {"name": "amount", "type": "double"}, {"name": "note", "type": ["null", "string"], "default": None}]}
ORDER_V2 = dict(ORDER, fields=ORDER["fields"] + [{"name": "vip", "type": "boolean", "default": False}])
PROTO = '''syntax = "proto3";
package shop;
message Payment { string order_id = 1; int64 cents = 2; repeated string tags = 3; }
'''
JSON_SCHEMA = {"type": "object", "required": ["sku", "qty"], "properties": {
    "sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}}, "additionalProperties": False}
KEY_SCHEMA = {"type": "string", "pattern": "^k-"}


def eventually(pred, timeout=60.0, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def avro_bytes(schema, datum):
    out = io.BytesIO()
    avro.io.DatumWriter(avro.schema.parse(json.dumps(schema))).write(datum, avro.io.BinaryEncoder(out))
    return out.getvalue()


def confluent(schema_id, body, indexes=None):
    return b"\x00" + struct.pack(">I", schema_id) + (indexes or b"") + body


class Registry:
    """Confluent's REST shapes; basic auth required; `down` answers 503."""

    def __init__(self, ssl_context=None):
        self.schemas = {}
        self.fetches = {}
        self.down = False
        self.peer_certs = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                if ssl_context is not None:  # mutual TLS instead of basic auth
                    outer.peer_certs.append(self.connection.getpeercert())
                    return self.serve()
                want = "Basic " + base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
                if self.headers.get("Authorization") != want:
                    return self.answer(401, {"error_code": 40101, "message": "Unauthorized"})
                self.serve()

            def serve(self):
                if outer.down:
                    return self.answer(503, {"error_code": 50003, "message": "down"})
                m = re.match(r"^/schemas/ids/(\d+)$", self.path)
                if m:
                    sid = int(m.group(1))
                    outer.fetches[sid] = outer.fetches.get(sid, 0) + 1
                    if sid not in outer.schemas:
                        return self.answer(404, {"error_code": 40403, "message": "Schema not found"})
                    return self.answer(200, outer.schemas[sid])
                self.answer(404, {"error_code": 40401, "message": "Subject not found"})

            def answer(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if ssl_context is not None:
            self.server.socket = ssl_context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "%s://127.0.0.1:%d" % ("https" if ssl_context else "http", self.server.server_address[1])


def make_pki(d):
    """A throwaway CA, a server certificate for 127.0.0.1 and a client
    certificate, made with the openssl command; returns their paths."""
    def run(*args):
        subprocess.run(["openssl", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = {n: os.path.join(d, n) for n in ("ca.pem", "ca.key", "server.pem", "server.key", "client.pem",
                                          "client.key", "san.cnf")}
    with open(p["san.cnf"], "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p["ca.key"],
        "-out", p["ca.pem"], "-days", "2", "-subj", "/CN=kesm test registry CA")
    for who in ("server", "client"):
        csr = os.path.join(d, who + ".csr")
        run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", p[who + ".key"],
            "-out", csr, "-subj", "/CN=" + ("127.0.0.1" if who == "server" else "kesm-client"))
        extra = ["-extfile", p["san.cnf"]] if who == "server" else []
        run("x509", "-req", "-in", csr, "-CA", p["ca.pem"], "-CAkey", p["ca.key"], "-CAcreateserial",
            "-out", p[who + ".pem"], "-days", "2", *extra)
    return p


class Functions:
    """Records every event by path; always 200."""

    def __init__(self):
        self.events = {}
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.events.setdefault(self.path, []).append(body)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def records(self, path):
        with self.lock:
            out = []
            for e in self.events.get(path, []):
                for recs in e["records"].values():
                    out.extend(recs)
            return out


class SchemaRegistryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="kesm-sr-")
        cls.registry = Registry()
        cls.registry.schemas[1] = {"schema": json.dumps(ORDER)}  # no schemaType: AVRO
        cls.registry.schemas[2] = {"schema": json.dumps(ORDER_V2), "schemaType": "AVRO"}
        cls.registry.schemas[3] = {"schema": PROTO, "schemaType": "PROTOBUF"}
        cls.registry.schemas[4] = {"schema": json.dumps(JSON_SCHEMA), "schemaType": "JSON"}
        cls.registry.schemas[5] = {"schema": json.dumps(KEY_SCHEMA), "schemaType": "JSON"}
        # The same schemas behind mutual TLS with a private CA.
        import ssl
        cls.pki = make_pki(cls.tmp)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cls.pki["server.pem"], cls.pki["server.key"])
        ctx.load_verify_locations(cls.pki["ca.pem"])
        ctx.verify_mode = ssl.CERT_REQUIRED
        cls.tls_registry = Registry(ctx)
        cls.tls_registry.schemas = cls.registry.schemas
        cls.fn = Functions()
        # Powertools for AWS Lambda's Kafka utility in a Node handler
        # (tests/node; scripts/install-deps.sh installs it with npm).
        cls.node_lines = []
        cls.node = None
        node_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "node")
        if shutil.which("node") and os.path.isdir(os.path.join(node_dir, "node_modules", "@aws-lambda-powertools",
                                                                "kafka")):
            cls.node = subprocess.Popen(["node", "powertools_handler.js"], cwd=node_dir, stdout=subprocess.PIPE,
                                        text=True)
            cls.node_url = "http://127.0.0.1:%s/" % cls.node.stdout.readline().split()[1]
            threading.Thread(target=lambda: cls.node_lines.extend(iter(cls.node.stdout.readline, "")),
                             daemon=True).start()
        cls.broker = subprocess.Popen([KESM, "dev-broker", "--topic", "orders:2", "--topic", "payments:1",
                                       "--topic", "items:1", "--topic", "late:1", "--topic", "dlq:1",
                                       "--topic", "pt:1", "--topic", "tls:1"],
                                      stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        cls.bootstrap = cls.broker.stdout.readline().strip()
        functions = {name: {"url": cls.fn.url + "/" + name} for name in
                     ("orders", "big", "payments", "items", "late", "tls")}
        if cls.node:
            functions["powertools"] = {"url": cls.node_url}
        config = {"functions": functions,
                  "secrets": {"arn:aws:secretsmanager:us-east-1:000000000000:secret:sr-AbCdEf":
                              {"username": USER, "password": PASSWORD},
                              "arn:aws:secretsmanager:us-east-1:000000000000:secret:sr-client":
                              {"certificate": open(cls.pki["client.pem"]).read(),
                               "privateKey": open(cls.pki["client.key"]).read()},
                              "arn:aws:secretsmanager:us-east-1:000000000000:secret:sr-ca":
                              {"certificate": open(cls.pki["ca.pem"]).read()}}}
        path = os.path.join(cls.tmp, "kesm.json")
        with open(path, "w") as f:
            json.dump(config, f)
        cls.kesm = subprocess.Popen([KESM, "serve", "--config", path, "--api", "127.0.0.1:0",
                                     "--store", "sqlite:" + os.path.join(cls.tmp, "db")],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                    text=True)
        cls.api = cls.kesm.stdout.readline().split("API on ")[1].split("/2015")[0]
        cls.producer = Producer({"bootstrap.servers": cls.bootstrap})
        protoc_out = os.path.join(cls.tmp, "pb")
        os.makedirs(protoc_out)
        with open(os.path.join(protoc_out, "payment.proto"), "w") as f:
            f.write(PROTO)
        subprocess.run(["protoc", "-I", protoc_out, "--python_out", protoc_out,
                        os.path.join(protoc_out, "payment.proto")], check=True)
        sys.path.insert(0, protoc_out)

    @classmethod
    def tearDownClass(cls):
        if cls.node:
            cls.node.send_signal(signal.SIGTERM)
            cls.node.wait(timeout=30)
        for p in (cls.kesm, cls.broker):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=60)
            p.stdout.close()
        cls.registry.server.shutdown()
        cls.tls_registry.server.shutdown()
        cls.fn.server.shutdown()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def produce(self, topic, items, partition=0):
        for key, value in items:
            self.producer.produce(topic, key=key, value=value, partition=partition)
        self.assertEqual(self.producer.flush(30), 0)

    def create(self, name, topic, registry_cfg, **extra):
        body = {"FunctionName": name, "Topics": [topic], "StartingPosition": "TRIM_HORIZON",
                "BatchSize": 10, "MaximumBatchingWindowInSeconds": 0,
                "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": [self.bootstrap]}},
                "SelfManagedKafkaEventSourceConfig": {"ConsumerGroupId": "g-" + name,
                                                      "SchemaRegistryConfig": registry_cfg}}
        body.update(extra)
        req = urllib.request.Request(self.api + "/2015-03-31/event-source-mappings/", method="POST",
                                     data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def registry_cfg(self, fmt="JSON", attrs=("VALUE",)):
        return {"SchemaRegistryURI": self.registry.url, "EventRecordFormat": fmt,
                "AccessConfigs": [{"Type": "BASIC_AUTH",
                                   "URI": "arn:aws:secretsmanager:us-east-1:000000000000:secret:sr-AbCdEf"}],
                "SchemaValidationConfigs": [{"Attribute": a} for a in attrs]}

    def committed(self, group, topic, partitions):
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
        try:
            got = c.committed([TopicPartition(topic, p) for p in range(partitions)], timeout=10)
            return [tp.offset for tp in got]
        finally:
            c.close()

    def dead_letters(self, count):
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "dlq-reader-%f" % time.time(),
                      "auto.offset.reset": "earliest"})
        c.subscribe(["dlq"])
        out = []
        end = time.time() + 60
        while len(out) < count and time.time() < end:
            m = c.poll(0.5)
            if m is not None and not m.error():
                out.append(json.loads(m.value()))
        c.close()
        return out

    def metric(self, name, uuid):
        with urllib.request.urlopen(self.api + "/metrics") as r:
            text = r.read().decode()
        m = re.search(r'^%s\{[^}]*uuid="%s"[^}]*\} (\S+)$' % (name, uuid), text, re.M)
        return float(m.group(1)) if m else 0.0

    def test_1_avro_decoded_filtered_and_failures_dead_lettered(self):
        good = [{"id": i, "customer": "c%d" % i, "amount": float(i * 10), "note": None if i % 2 else "n%d" % i}
                for i in range(20)]
        for p in (0, 1):
            items = [(b"key-%d" % d["id"], confluent(1, avro_bytes(ORDER, d))) for d in good if d["id"] % 2 == p]
            if p == 0:  # failures, in the middle of the partition
                items[3:3] = [(b"bad-magic", b"\x01" + avro_bytes(ORDER, good[0])),
                              (b"unknown-id", confluent(999, avro_bytes(ORDER, good[0]))),
                              (b"truncated", confluent(1, avro_bytes(ORDER, good[0])[:3])),
                              (b"wrong-schema", confluent(1, b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))]
            self.produce("orders", items, partition=p)
        m = self.create("orders", "orders", self.registry_cfg(),
                        DestinationConfig={"OnFailure": {"Destination": "kafka://dlq"}})
        self.assertEqual(m["SelfManagedKafkaEventSourceConfig"]["SchemaRegistryConfig"]["EventRecordFormat"], "JSON")
        # A filter on a decoded field: only big orders reach "big".
        self.create("big", "orders", self.registry_cfg(),
                    FilterCriteria={"Filters": [{"Pattern": json.dumps({"value": {"amount": [{"numeric": [">=", 150]}]}})}]})
        recs = eventually(lambda: len(self.fn.records("/orders")) >= 20 and self.fn.records("/orders"), 60,
                          "20 decoded records")
        self.assertEqual(len(recs), 20)
        by_id = {}
        for r in recs:
            value = json.loads(base64.b64decode(r["value"]))
            by_id[value["id"]] = (r, value)
            self.assertEqual(r["valueSchemaMetadata"], {"dataFormat": "AVRO", "schemaId": "1"})
            self.assertNotIn("keySchemaMetadata", r)  # KEY not validated: passed through
            self.assertEqual(base64.b64decode(r["key"]), b"key-%d" % value["id"])
        self.assertEqual(sorted(by_id), list(range(20)))
        for d in good:
            self.assertEqual(by_id[d["id"]][1], d)
        # Order within each partition kept.
        for p in (0, 1):
            offs = [r["offset"] for r in recs if r["partition"] == p]
            self.assertEqual(offs, sorted(offs))
        big = eventually(lambda: len(self.fn.records("/big")) >= 5 and self.fn.records("/big"), 60, "filtered")
        time.sleep(1)
        self.assertEqual(sorted(json.loads(base64.b64decode(r["value"]))["id"] for r in self.fn.records("/big")),
                         list(range(15, 20)))
        letters = self.dead_letters(4)
        self.assertEqual(len(letters), 4)
        text = json.dumps(letters)
        self.assertEqual(text.count("SchemaValidationFailed"), 4)
        keys = sorted(base64.b64decode(json.loads(l["payload"])["records"]["orders-0"][0]["key"])
                      if isinstance(l["payload"], str) else
                      base64.b64decode(l["payload"]["records"]["orders-0"][0]["key"]) for l in letters)
        self.assertEqual(keys, [b"bad-magic", b"truncated", b"unknown-id", b"wrong-schema"])
        # Everything committed, the failed records after their dead letters.
        eventually(lambda: self.committed("g-orders", "orders", 2) == [14, 10], 30, "commits")
        self.assertEqual(self.metric("kesm_schema_registry_error_count_total", m["UUID"]), 4)
        # One fetch of schema 1 for both mappings' 40 records (the client
        # is shared by mappings of one registry).
        self.assertEqual(self.registry.fetches[1], 1)
        self.assertEqual(self.registry.fetches[999], 1)  # unknown: asked once, cached

    def test_2_protobuf_and_json_schema_in_both_formats(self):
        import payment_pb2
        pays = [payment_pb2.Payment(order_id="o-%d" % i, cents=2**40 + i, tags=["t"] * i) for i in range(5)]
        self.produce("payments", [(None, confluent(3, p.SerializeToString(), b"\x00")) for p in pays])
        self.create("payments", "payments", self.registry_cfg("JSON"))
        recs = eventually(lambda: len(self.fn.records("/payments")) >= 5 and self.fn.records("/payments"), 60,
                          "protobuf records")
        for i, r in enumerate(recs):
            v = json.loads(base64.b64decode(r["value"]))
            want = {"order_id": "o-%d" % i, "cents": str(2**40 + i)}
            if i:
                want["tags"] = ["t"] * i
            self.assertEqual(v, want)
            self.assertEqual(r["valueSchemaMetadata"], {"dataFormat": "PROTOBUF", "schemaId": "3"})
            self.assertNotIn("key", r)
        # JSON Schema, SOURCE format, KEY and VALUE checked.
        items = [(confluent(5, b'"k-%d"' % i), confluent(4, json.dumps({"sku": "s%d" % i, "qty": i + 1}).encode()))
                 for i in range(4)]
        items.insert(2, (confluent(5, b'"k-x"'), confluent(4, b'{"sku": "s", "qty": 0}')))  # qty below minimum
        items.insert(3, (confluent(5, b'"nokey"'), confluent(4, b'{"sku": "s", "qty": 3}')))  # key pattern
        self.produce("items", items)
        m = self.create("items", "items", self.registry_cfg("SOURCE", ("KEY", "VALUE")))
        recs = eventually(lambda: len(self.fn.records("/items")) >= 4 and self.fn.records("/items"), 60,
                          "JSON Schema records")
        time.sleep(1)
        recs = self.fn.records("/items")
        self.assertEqual(len(recs), 4)
        for i, r in enumerate(recs):
            self.assertEqual(json.loads(base64.b64decode(r["value"])), {"sku": "s%d" % i, "qty": i + 1})
            self.assertEqual(base64.b64decode(r["key"]), b'"k-%d"' % i)  # SOURCE: bytes minus the prefix
            self.assertEqual(r["keySchemaMetadata"], {"dataFormat": "JSON", "schemaId": "5"})
            self.assertEqual(r["valueSchemaMetadata"], {"dataFormat": "JSON", "schemaId": "4"})
        # No destination: the two failures are dropped and counted, and committed.
        eventually(lambda: self.committed("g-items", "items", 1) == [6], 30, "commit past the failures")
        self.assertEqual(self.metric("kesm_schema_registry_error_count_total", m["UUID"]), 2)
        self.assertEqual(self.metric("kesm_dropped_event_count_total", m["UUID"]), 2)

    def test_3_a_registry_down_holds_the_partition_and_skips_nothing(self):
        self.registry.down = True
        v2 = [{"id": 100 + i, "customer": "late", "amount": 1.0, "note": None, "vip": True} for i in range(3)]
        self.produce("late", [(None, confluent(2, avro_bytes(ORDER_V2, d))) for d in v2])
        m = self.create("late", "late", self.registry_cfg())

        def state():
            with urllib.request.urlopen(self.api + "/2015-03-31/event-source-mappings/" + m["UUID"]) as r:
                return json.load(r)["LastProcessingResult"]
        eventually(lambda: "PROBLEM" in state() and "schema registry" in state(), 30, "PROBLEM")
        time.sleep(2)
        self.assertEqual(self.fn.records("/late"), [])
        self.assertEqual(self.committed("g-late", "late", 1), [-1001])  # nothing committed
        self.registry.down = False
        recs = eventually(lambda: len(self.fn.records("/late")) >= 3 and self.fn.records("/late"), 60, "recovery")
        self.assertEqual([json.loads(base64.b64decode(r["value"])) for r in recs], v2)
        eventually(lambda: self.committed("g-late", "late", 1) == [3], 30, "commit after recovery")
        eventually(lambda: state() == "OK", 30, "OK again")

    def test_5_powertools_kafka_utility_reads_kesm_events(self):
        if not self.node:
            self.skipTest("node or tests/node/node_modules/@aws-lambda-powertools/kafka missing"
                          " (scripts/install-deps.sh installs them)")
        import payment_pb2
        orders = [{"id": 500 + i, "customer": "pt", "amount": 2.5 * i, "note": "n" if i else None} for i in range(3)]
        pays = [payment_pb2.Payment(order_id="pt-%d" % i, cents=7 + i) for i in range(2)]
        self.produce("pt", [(None, confluent(1, avro_bytes(ORDER, o))) for o in orders]
                     + [(None, confluent(3, p.SerializeToString(), b"\x00")) for p in pays])
        self.create("powertools", "pt", self.registry_cfg())
        lines = eventually(lambda: len(self.node_lines) >= 5 and list(self.node_lines), 60, "Powertools output")
        got = [json.loads(l) for l in lines]
        self.assertEqual([g["value"] for g in got[:3]], orders)
        self.assertEqual([g["value"] for g in got[3:]],
                         [{"order_id": "pt-%d" % i, "cents": str(7 + i)} for i in range(2)])
        self.assertEqual(got[0]["valueSchemaMetadata"], {"dataFormat": "AVRO", "schemaId": "1"})
        self.assertEqual(got[3]["valueSchemaMetadata"], {"dataFormat": "PROTOBUF", "schemaId": "3"})
        self.assertEqual([g["offset"] for g in got], list(range(5)))

    def test_6_a_registry_behind_mutual_tls_with_a_private_ca(self):
        orders = [{"id": 900 + i, "customer": "tls", "amount": 1.0, "note": None} for i in range(3)]
        self.produce("tls", [(None, confluent(1, avro_bytes(ORDER, o))) for o in orders])
        prefix = "arn:aws:secretsmanager:us-east-1:000000000000:secret:"
        cfg = {"SchemaRegistryURI": self.tls_registry.url, "EventRecordFormat": "JSON",
               "AccessConfigs": [{"Type": "CLIENT_CERTIFICATE_TLS_AUTH", "URI": prefix + "sr-client"},
                                 {"Type": "SERVER_ROOT_CA_CERTIFICATE", "URI": prefix + "sr-ca"}],
               "SchemaValidationConfigs": [{"Attribute": "VALUE"}]}
        self.create("tls", "tls", cfg)
        recs = eventually(lambda: len(self.fn.records("/tls")) >= 3 and self.fn.records("/tls"), 60, "TLS registry")
        self.assertEqual([json.loads(base64.b64decode(r["value"])) for r in recs], orders)
        self.assertTrue(self.tls_registry.peer_certs)
        self.assertIn((("commonName", "kesm-client"),), self.tls_registry.peer_certs[0]["subject"])

    def test_4_bad_configs_are_refused_with_one_line(self):
        def refused(cfg):
            try:
                self.create("orders", "orders", cfg)
            except urllib.error.HTTPError as e:
                return json.load(e)["message"]
            self.fail("accepted: %s" % cfg)
        self.assertIn("SchemaRegistryURI", refused({"EventRecordFormat": "JSON",
                                                    "SchemaValidationConfigs": [{"Attribute": "VALUE"}]}))
        self.assertIn("EventRecordFormat must be JSON or SOURCE",
                      refused(dict(self.registry_cfg(), EventRecordFormat="XML")))
        self.assertIn("must name KEY, VALUE", refused(dict(self.registry_cfg(), SchemaValidationConfigs=[])))
        self.assertIn("neither a registry URL", refused(dict(self.registry_cfg(), SchemaRegistryURI="ftp://x")))
        self.assertIn("Glue registry authenticates with IAM",
                      refused(dict(self.registry_cfg(),
                                   SchemaRegistryURI="arn:aws:glue:us-east-1:123456789012:registry/r")))


if __name__ == "__main__":
    unittest.main()
