"""Test vectors for kesm's schema decoders, made by the reference encoders
Debian ships (python3-avro, protoc + python3-protobuf, python3-jsonschema),
so the bytes are not kesm's own. One JSON object a line:
  {"kind": "avro", "schema": ..., "hex": ..., "json": <expected JSON text>}
  {"kind": "protobuf", "proto": ..., "indexes": [...], "hex": ..., "json": ...}
  {"kind": "jsonschema", "schema": ..., "doc": ..., "valid": bool}
Run with /usr/bin/python3 (Debian's modules).
"""
import base64
import decimal
import io
import json
import os
import subprocess
import sys
import tempfile

import avro.io
import avro.schema
import jsonschema


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def avro_bytes(schema_json, datum):
    schema = avro.schema.parse(json.dumps(schema_json))
    out = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(out))
    return out.getvalue()


def emit(**kw):
    print(json.dumps(kw))


# Avro: (schema, datum, expected JSON value per kesm's mapping)
RECORD = {"type": "record", "name": "Order", "namespace": "shop", "fields": [
    {"name": "id", "type": "long"},
    {"name": "customer", "type": "string"},
    {"name": "amount", "type": "double"},
    {"name": "quantity", "type": "int"},
    {"name": "paid", "type": "boolean"},
    {"name": "note", "type": ["null", "string"], "default": None},
    {"name": "status", "type": {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "SHIPPED"]}},
    {"name": "tags", "type": {"type": "array", "items": "string"}},
    {"name": "attrs", "type": {"type": "map", "values": "int"}},
    {"name": "address", "type": {"type": "record", "name": "Address", "fields": [
        {"name": "city", "type": "string"}, {"name": "zip", "type": ["null", "int"]}]}},
    {"name": "billing", "type": ["null", "Address"]},
    {"name": "raw", "type": "bytes"},
    {"name": "digest", "type": {"type": "fixed", "name": "Digest", "size": 4}},
    {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}},
    {"name": "day", "type": {"type": "int", "logicalType": "date"}},
    {"name": "ratio", "type": "float"},
]}
import datetime
datum = {"id": 1234567890123, "customer": "Zoë \"Q\" <z@x>", "amount": 12.5, "quantity": -3,
         "paid": True, "note": "fragile\nhandle", "status": "PAID", "tags": ["a", "b", "c"],
         "attrs": {"x": 1, "y": -2}, "address": {"city": "Lyon", "zip": 69001},
         "billing": {"city": "Paris", "zip": None}, "raw": b"\x00\xff\x10",
         "digest": b"\x01\x02\x03\x04", "price": decimal.Decimal("-1234.56"),
         "day": datetime.date(2024, 2, 29), "ratio": 0.25}
expected = dict(datum)
expected.update({"raw": base64.b64encode(b"\x00\xff\x10").decode(),
                 "digest": base64.b64encode(b"\x01\x02\x03\x04").decode(),
                 "price": "-1234.56", "day": (datetime.date(2024, 2, 29) - datetime.date(1970, 1, 1)).days})
emit(kind="avro", schema=compact(RECORD), hex=avro_bytes(RECORD, datum).hex(), json=compact(expected))
datum2 = dict(datum, note=None, billing=None, tags=[], attrs={}, price=decimal.Decimal("0.05"), quantity=2**31 - 1)
expected2 = dict(expected, note=None, billing=None, tags=[], attrs={}, price="0.05", quantity=2**31 - 1)
emit(kind="avro", schema=compact(RECORD), hex=avro_bytes(RECORD, datum2).hex(), json=compact(expected2))
for schema, value, want in [
    ("string", "plain", "plain"), ("long", -(2**63), -(2**63)), ("int", 0, 0), ("boolean", False, False),
    ("null", None, None), ("double", 1e300, 1e300),
    ({"type": "fixed", "name": "Money", "size": 3, "logicalType": "decimal", "precision": 6, "scale": 3},
     decimal.Decimal("-0.001"), "-0.001"),
    (["null", "long", "string"], "u", "u"), (["null", "long", "string"], 7, 7),
    ({"type": "record", "name": "Node", "fields": [{"name": "v", "type": "int"},
                                                   {"name": "next", "type": ["null", "Node"]}]},
     {"v": 1, "next": {"v": 2, "next": None}}, {"v": 1, "next": {"v": 2, "next": None}}),
]:
    emit(kind="avro", schema=compact(schema), hex=avro_bytes(schema, value).hex(), json=compact(want))

# Protobuf: compiled by protoc, encoded by python3-protobuf.
PROTO = '''syntax = "proto3";
package shop;
import "google/protobuf/timestamp.proto";
message Order {
  int64 id = 1;
  string customer = 2;
  double amount = 3;
  repeated string tags = 4;
  Status status = 5;
  message Line { string sku = 1; uint32 qty = 2; }
  repeated Line lines = 6;
  map<string, int32> attrs = 7;
  bytes raw = 8;
  google.protobuf.Timestamp at = 9;
  optional bool gift = 10;
}
enum Status { NEW = 0; PAID = 1; }
message Refund { string order_ref = 1; sint64 cents = 2; }
'''
with tempfile.TemporaryDirectory() as tmp:
    with open(os.path.join(tmp, "shop.proto"), "w") as f:
        f.write(PROTO)
    subprocess.run(["protoc", "-I", tmp, "--python_out", tmp, os.path.join(tmp, "shop.proto")], check=True)
    sys.path.insert(0, tmp)
    import shop_pb2
    from google.protobuf import json_format
    o = shop_pb2.Order(id=2**40 + 7, customer="Zoë", amount=9.75, tags=["x", "y"], status=shop_pb2.PAID,
                       lines=[shop_pb2.Order.Line(sku="A-1", qty=3)], raw=b"\x01\x02", gift=True)
    o.attrs["k"] = 5
    o.at.FromSeconds(1700000000)
    for msg, idx in [(o, [0]), (shop_pb2.Refund(order_ref="o-1", cents=-250), [1]),
                     (shop_pb2.Order.Line(sku="B", qty=1), [0, 0]), (shop_pb2.Order(), [0])]:
        want = json.loads(json_format.MessageToJson(msg, preserving_proto_field_name=True))
        emit(kind="protobuf", proto=PROTO, indexes=idx, hex=msg.SerializeToString().hex(), json=compact(want))

# JSON Schema: validity as python3-jsonschema's Draft 7 validator judges it.
SCHEMAS = [
    {"type": "object", "required": ["id", "amount"], "additionalProperties": False,
     "properties": {"id": {"type": "integer", "minimum": 1}, "amount": {"type": "number", "exclusiveMaximum": 1000},
                    "email": {"type": "string", "pattern": "^[^@]+@[^@]+$", "maxLength": 20},
                    "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 3},
                    "kind": {"enum": ["a", "b"]}, "ref": {"$ref": "#/definitions/ref"}},
     "definitions": {"ref": {"type": "string", "minLength": 2}}},
    {"anyOf": [{"type": "string"}, {"type": "integer", "multipleOf": 5}], "not": {"const": 10}},
    {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}],
     "if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["c"]},
     "patternProperties": {"^x-": {"type": "boolean"}}, "dependencies": {"d": ["a"]}},
    {"type": "array", "items": [{"type": "integer"}, {"type": "string"}], "additionalItems": False,
     "contains": {"type": "string"}, "minItems": 1},
]
DOCS = [
    {"id": 1, "amount": 10}, {"id": 0, "amount": 10}, {"id": 1}, {"id": 1, "amount": 1000},
    {"id": 1, "amount": 5, "email": "a@b"}, {"id": 1, "amount": 5, "email": "nope"},
    {"id": 1, "amount": 5, "tags": ["x", "x"]}, {"id": 1, "amount": 5, "extra": 1},
    {"id": 1, "amount": 5, "kind": "c"}, {"id": 1, "amount": 5, "ref": "x"}, {"id": 1.0, "amount": 5},
    "text", 15, 10, 7, True, {"a": 1, "c": 0}, {"a": 1}, {"a": 2, "b": 1}, {"b": 1, "x-y": True},
    {"b": 1, "x-y": 1}, {"b": 1, "d": 1}, [1, "a"], [1, 2], [1, "a", "b"], [], {"id": 1, "amount": 5, "tags": ["a", "b", "c", "d"]},
]
for s in SCHEMAS:
    v = jsonschema.Draft7Validator(s)
    for d in DOCS:
        emit(kind="jsonschema", schema=compact(s), doc=compact(d), valid=v.is_valid(d))
