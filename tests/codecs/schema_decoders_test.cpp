#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include <simdjson.h>

#include "codecs/avro.hpp"
#include "codecs/filter.hpp"
#include "codecs/json_schema.hpp"
#include "codecs/protobuf_schema.hpp"
#include "codecs/schema_wire.hpp"

namespace kesm::codecs {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

std::vector<uint8_t> unhex(std::string_view h) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < h.size(); i += 2)
    out.push_back(static_cast<uint8_t>(
        std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  return out;
}

/// JSON values equal: objects by key (any order), numbers by value.
bool same(element a, element b) {
  auto ta = a.type(), tb = b.type();
  auto numeric = [](element_type t) {
    return t == element_type::INT64 || t == element_type::UINT64
           || t == element_type::DOUBLE;
  };
  if (numeric(ta) && numeric(tb)) {
    double x = 0, y = 0;
    x = ta == element_type::DOUBLE  ? double(a)
        : ta == element_type::INT64 ? double(int64_t(a))
                                    : double(uint64_t(a));
    y = tb == element_type::DOUBLE  ? double(b)
        : tb == element_type::INT64 ? double(int64_t(b))
                                    : double(uint64_t(b));
    if (ta != element_type::DOUBLE && tb != element_type::DOUBLE)
      return simdjson::minify(a) == simdjson::minify(b); // exact integers
    return x == y;
  }
  if (ta != tb)
    return false;
  if (ta == element_type::OBJECT) {
    simdjson::dom::object oa = a, ob = b;
    if (oa.size() != ob.size())
      return false;
    for (auto [k, v] : oa) {
      element w;
      if (ob[k].get(w) || !same(v, w))
        return false;
    }
    return true;
  }
  if (ta == element_type::ARRAY) {
    simdjson::dom::array xa = a, xb = b;
    if (xa.size() != xb.size())
      return false;
    auto j = xb.begin();
    for (auto v : xa) {
      if (!same(v, *j))
        return false;
      ++j;
    }
    return true;
  }
  return simdjson::minify(a) == simdjson::minify(b);
}

std::vector<std::string> vectors() {
  std::string cmd = std::string("/usr/bin/python3 ") + KESM_TESTS_DIR
                    + "/codecs/schema_vectors.py";
  std::vector<std::string> lines;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f)
    return lines;
  std::string line;
  char buf[65536];
  while (fgets(buf, sizeof buf, f)) {
    line += buf;
    if (!line.empty() && line.back() == '\n') {
      line.pop_back();
      lines.push_back(line);
      line.clear();
    }
  }
  pclose(f);
  return lines;
}

TEST(schema_decoders, agree_with_the_reference_encoders_and_validator) {
  auto lines = vectors();
  if (lines.empty())
    GTEST_SKIP() << "/usr/bin/python3 with python3-avro, python3-protobuf,"
                    " python3-jsonschema and protoc not available "
                    "(scripts/install-deps.sh)";
  size_t avro = 0, proto = 0, js = 0;
  for (auto& line : lines) {
    simdjson::dom::parser p, q, r;
    element v = p.parse(line);
    std::string_view kind = v["kind"];
    if (kind == "jsonschema") {
      auto schema = json_schema::compile(std::string_view(v["schema"]));
      ASSERT_TRUE(schema) << schema.err().message;
      bool want = v["valid"];
      auto got = schema->validate(std::string_view(v["doc"]));
      EXPECT_EQ(bool(got), want) << v["schema"] << " on " << v["doc"] << ": "
                                 << (got ? "" : got.err().message);
      ++js;
      continue;
    }
    auto bytes = unhex(std::string_view(v["hex"]));
    std::string out = "pre:";
    if (kind == "avro") {
      auto schema = avro_schema::compile(std::string_view(v["schema"]));
      ASSERT_TRUE(schema) << schema.err().message;
      auto ok = schema->to_json(bytes.data(), bytes.size(), out);
      ASSERT_TRUE(ok) << ok.err().message << " for " << v["schema"];
      ++avro;
    } else {
      auto schema = protobuf_schema::compile(
          std::string(std::string_view(v["proto"])), {});
      ASSERT_TRUE(schema) << schema.err().message;
      std::vector<int> idx;
      for (auto i : simdjson::dom::array(v["indexes"]))
        idx.push_back(int(int64_t(i)));
      auto ok = schema->to_json(idx, bytes.data(), bytes.size(), out);
      ASSERT_TRUE(ok) << ok.err().message;
      ++proto;
    }
    ASSERT_EQ(out.substr(0, 4), "pre:");
    element got, want;
    ASSERT_FALSE(q.parse(out.substr(4)).get(got)) << "not JSON: " << out;
    ASSERT_FALSE(r.parse(std::string(std::string_view(v["json"]))).get(want));
    EXPECT_TRUE(same(got, want))
        << "got  " << out.substr(4) << "\nwant " << v["json"];
  }
  EXPECT_GE(avro, 10u);
  EXPECT_GE(proto, 4u);
  EXPECT_GE(js, 100u);
}

TEST(avro_schema, refuses_data_that_does_not_fit) {
  auto s = avro_schema::compile(
      R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}}]})");
  ASSERT_TRUE(s);
  std::string out = "keep";
  uint8_t cut[] = {0x02};
  auto r = s->to_json(cut, 1, out);
  ASSERT_FALSE(r);
  EXPECT_NE(r.err().message.find("cut short"), std::string::npos);
  EXPECT_EQ(out, "keep");
  uint8_t bad_enum[] = {0x02, 0x04};
  EXPECT_NE(s->to_json(bad_enum, 2, out).err().message.find("enum index"),
            std::string::npos);
  uint8_t extra[] = {0x02, 0x00, 0x00};
  EXPECT_NE(s->to_json(extra, 3, out).err().message.find("1 bytes left over"),
            std::string::npos);
  uint8_t good[] = {0x02, 0x00};
  ASSERT_TRUE(s->to_json(good, 2, out));
  EXPECT_EQ(out, R"(keep{"a":1,"e":"X"})");
  EXPECT_FALSE(avro_schema::compile(
      R"({"type":"record","name":"R","fields":[{"name":"a","type":"Nope"}]})"));
  EXPECT_FALSE(avro_schema::compile("{"));
}

TEST(schema_wire, reads_confluent_glue_and_protobuf_prefixes) {
  uint8_t c[] = {0, 0, 0, 1, 0x2c, 'x'};
  auto h = read_confluent_header(c, sizeof c);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->schema_id, "300");
  EXPECT_EQ(h->length, 5u);
  uint8_t bad[] = {1, 0, 0, 0, 1};
  EXPECT_NE(read_confluent_header(bad, 5).err().message.find("magic byte 0x01"),
            std::string::npos);
  EXPECT_FALSE(read_confluent_header(c, 4));
  uint8_t idx0[] = {0};
  size_t at = 0;
  EXPECT_EQ(*read_protobuf_indexes(idx0, 1, at), std::vector<int>{0});
  uint8_t idx2[] = {4, 2, 6}; // count 2 (zigzag 4), indexes 1 and 3
  at = 0;
  EXPECT_EQ(*read_protobuf_indexes(idx2, 3, at), (std::vector<int>{1, 3}));
  EXPECT_EQ(at, 3u);
  uint8_t g[18] = {3,    5, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde,
                   0xf0, 1, 2,    3,    4,    5,    6,    7,    8};
  auto gh = read_glue_header(g, 18);
  ASSERT_TRUE(gh);
  EXPECT_EQ(gh->schema_id, "12345678-9abc-def0-0102-030405060708");
  EXPECT_TRUE(gh->zlib);
  g[1] = 9;
  EXPECT_FALSE(read_glue_header(g, 18));
}

TEST(protobuf_schema, follows_imports_and_names_what_is_missing) {
  auto s = protobuf_schema::compile(
      "syntax = \"proto3\"; import \"common/money.proto\"; message Pay { "
      "common.Money m = 1; }",
      {{"common/money.proto", "syntax = \"proto3\"; package common; message "
                              "Money { int64 cents = 1; }"}});
  ASSERT_TRUE(s) << s.err().message;
  uint8_t data[] = {0x0a, 0x02, 0x08, 0x2a}; // m { cents: 42 }
  std::string out;
  ASSERT_TRUE(s->to_json({0}, data, sizeof data, out));
  EXPECT_EQ(out, R"({"m":{"cents":"42"}})");
  auto missing = protobuf_schema::compile(
      "syntax = \"proto3\"; import \"x.proto\"; message A {}", {});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.err().message.find("imports x.proto"), std::string::npos);
  EXPECT_FALSE(protobuf_schema::compile("syntax = \"proto3\"; message {", {}));
  EXPECT_FALSE(s->to_json({3}, data, sizeof data, out));
}

} // namespace
} // namespace kesm::codecs

namespace kesm::codecs {
namespace {

TEST(record_filter, key_patterns_need_a_schema_registry_and_match_decoded_keys) {
  std::vector<std::string> p{R"({"key": {"region": ["eu"]}, "value": {"n": [{"numeric": [">", 1]}]}})"};
  auto refused = record_filter::compile(p);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.err().message.find("needs a SchemaRegistryConfig"), std::string::npos);
  auto f = record_filter::compile(p, true);
  ASSERT_TRUE(f) << f.err().message;
  std::string eu = R"({"region":"eu"})", us = R"({"region":"us"})", v2 = R"({"n":2})", v0 = R"({"n":0})";
  EXPECT_TRUE(f->matches(v2.data(), v2.size(), eu.data(), eu.size()));
  EXPECT_FALSE(f->matches(v2.data(), v2.size(), us.data(), us.size()));
  EXPECT_FALSE(f->matches(v0.data(), v0.size(), eu.data(), eu.size()));
  EXPECT_FALSE(f->matches(v2.data(), v2.size(), nullptr, 0)); // no key
  auto clone = f->clone();
  EXPECT_TRUE(clone.matches(v2.data(), v2.size(), eu.data(), eu.size()));
}

} // namespace
} // namespace kesm::codecs
