#include "codecs/event_writer.hpp"

#include <gtest/gtest.h>

#include "support/allocations.hpp"

#include <string>
#include <vector>

using namespace kesm::codecs;

namespace {

record_view rec(int64_t offset, const std::string* key,
                const std::string* value) {
  record_view r;
  r.offset = offset;
  r.timestamp = 1545084650987;
  if (key != nullptr) {
    r.key = key->data();
    r.key_len = key->size();
  }
  if (value != nullptr) {
    r.value = value->data();
    r.value_len = value->size();
  }
  return r;
}

std::string write(const event_writer& w, std::vector<partition_slice> s) {
  std::string out;
  w.write(out, s.data(), s.size());
  EXPECT_EQ(out.size(), w.event_size(s.data(), s.size()));
  // With a caller's bound above the size (the batcher's), the same bytes.
  std::string bounded = "x";
  w.write(bounded, s.data(), s.size(), out.size() + 40);
  EXPECT_EQ(bounded, "x" + out);
  return out;
}

} // namespace

TEST(event_writer, writes_the_msk_event_of_the_spec) {
  event_writer w("arn:aws:kafka:us-east-1:123456789012:cluster/demo/abc-2",
                 "b-1.example:9092,b-2.example:9092");
  std::string key = "key", value = "Hello, this is a test.";
  std::string hname = "headerKey", hval = "header";
  header_view h{hname, hval.data(), hval.size()};
  auto r = rec(15, &key, &value);
  r.headers = &h;
  r.header_count = 1;
  auto out = write(w, {{"mytopic", 0, &r, 1}});
  EXPECT_EQ(out,
            "{\"eventSource\":\"aws:kafka\",\"eventSourceArn\":\"arn:aws:kafka:"
            "us-east-1:123456789012:cluster/demo/abc-2\",\"bootstrapServers\":"
            "\"b-1.example:9092,b-2.example:9092\",\"records\":{\"mytopic-0\":"
            "[{\"topic\":\"mytopic\",\"partition\":0,\"offset\":15,"
            "\"timestamp\":1545084650987,\"timestampType\":\"CREATE_TIME\","
            "\"key\":\"a2V5\",\"value\":\"SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==\","
            "\"headers\":[{\"headerKey\":[104,101,97,100,101,114]}]}]}}");
}

TEST(event_writer, self_managed_has_no_arn) {
  event_writer w("", "127.0.0.1:9092");
  std::string value = "v";
  auto r = rec(0, nullptr, &value);
  auto out = write(w, {{"t", 3, &r, 1}});
  EXPECT_EQ(out, "{\"eventSource\":\"SelfManagedKafka\",\"bootstrapServers\":"
                 "\"127.0.0.1:9092\",\"records\":{\"t-3\":[{\"topic\":\"t\","
                 "\"partition\":3,\"offset\":0,\"timestamp\":1545084650987,"
                 "\"timestampType\":\"CREATE_TIME\",\"value\":\"dg==\","
                 "\"headers\":[]}]}}");
}

TEST(event_writer, omits_missing_key_and_writes_null_value) {
  event_writer w("", "h:1");
  auto r = rec(7, nullptr, nullptr);
  r.ts_type = timestamp_type::log_append_time;
  auto out = write(w, {{"t", 0, &r, 1}});
  EXPECT_NE(out.find("\"offset\":7,\"timestamp\":1545084650987,"
                     "\"timestampType\":\"LOG_APPEND_TIME\",\"value\":null,"
                     "\"headers\":[]}"),
            std::string::npos);
  EXPECT_EQ(out.find("\"key\""), std::string::npos);
}

TEST(event_writer, writes_header_bytes_as_signed_java_bytes) {
  event_writer w("", "h:1");
  std::string name = "n\"q", bytes = "\xc3\xab\x80\xff\x7f";
  header_view hs[2] = {{name, bytes.data(), bytes.size()},
                       {"dup", nullptr, 0}};
  std::string value;
  auto r = rec(1, nullptr, &value);
  r.headers = hs;
  r.header_count = 2;
  auto out = write(w, {{"t", 0, &r, 1}});
  EXPECT_NE(out.find("\"value\":\"\",\"headers\":[{\"n\\\"q\":[-61,-85,-128,"
                     "-1,127]},{\"dup\":null}]}"),
            std::string::npos)
    << out;
}

TEST(event_writer, writes_several_partitions_in_one_payload) {
  event_writer w("", "h:1");
  std::string a = "a", b = "b", c = "c";
  record_view p0[2] = {rec(10, nullptr, &a), rec(11, nullptr, &b)};
  record_view p5[1] = {rec(3, &c, &c)};
  auto out = write(w, {{"orders", 0, p0, 2}, {"orders", 5, p5, 1}});
  auto r0 = out.find("\"orders-0\":[{");
  auto r1 = out.find("\"offset\":11");
  auto r5 = out.find("],\"orders-5\":[{");
  ASSERT_NE(r0, std::string::npos);
  ASSERT_NE(r1, std::string::npos);
  ASSERT_NE(r5, std::string::npos);
  EXPECT_LT(r0, r1);
  EXPECT_LT(r1, r5);
  EXPECT_EQ(out.substr(out.size() - 6), "[]}]}}");
}

TEST(event_writer, escapes_control_characters_in_header_names) {
  event_writer w("", "h:1");
  std::string name = std::string("a\nb\x01\\", 5);
  header_view h{name, "x", 1};
  std::string value = "v";
  auto r = rec(0, nullptr, &value);
  r.headers = &h;
  r.header_count = 1;
  auto out = write(w, {{"t", 0, &r, 1}});
  EXPECT_NE(out.find("{\"a\\nb\\u0001\\\\\":[120]}"), std::string::npos)
    << out;
}

TEST(event_writer, encodes_empty_and_huge_values) {
  event_writer w("", "h:1");
  std::string empty, huge(3 * 1024 * 1024, 'x');
  record_view rs[2] = {rec(0, &empty, &empty), rec(1, nullptr, &huge)};
  auto out = write(w, {{"t", 0, rs, 2}});
  EXPECT_NE(out.find("\"key\":\"\",\"value\":\"\""), std::string::npos);
  EXPECT_NE(out.find("\"value\":\"eHh4eHh4"), std::string::npos);
  EXPECT_GT(out.size(), huge.size() * 4 / 3);
}

TEST(event_writer, size_functions_match_the_written_bytes) {
  event_writer w("arn:aws:kafka:us-east-1:111122223333:cluster/c/1", "a:1");
  std::string k = "k", v(1000, 'v');
  header_view h{"h", "\x90", 1};
  record_view r = rec(123456789, &k, &v);
  r.headers = &h;
  r.header_count = 1;
  std::string out;
  partition_slice s{"topic.x", 12, &r, 1};
  w.write(out, &s, 1);
  EXPECT_EQ(out.size(), w.frame_size()
                          + event_writer::partition_size("topic.x", 12)
                          + event_writer::record_size("topic.x", 12, r));
}

TEST(event_writer, sizes_numbers_at_every_power_of_ten) {
  // The size functions count digits without dividing: every length of an
  // offset, a timestamp and a partition, each side of each power of ten,
  // negative timestamps and the int64 extremes, against what is written.
  event_writer w("", "a:1");
  std::string v = "v";
  std::vector<int64_t> numbers = {0, 1, -1, INT64_MAX, INT64_MIN,
                                  INT64_MIN + 1};
  for (int64_t p = 10; p <= INT64_MAX / 10; p *= 10)
    for (int64_t n : {p - 1, p, p + 1})
      numbers.insert(numbers.end(), {n, -n});
  numbers.push_back(INT64_MAX / 10 * 10);
  for (int64_t n : numbers) {
    record_view r = rec(n < 0 ? 0 : n, nullptr, &v);
    r.timestamp = n;
    auto partition = static_cast<int32_t>(n % 2147483647);
    if (partition < 0)
      partition = -partition;
    partition_slice s{"t", partition, &r, 1};
    std::string out;
    w.write(out, &s, 1);
    ASSERT_EQ(out.size(), w.event_size(&s, 1)) << n;
    ASSERT_EQ(out.size(), w.frame_size()
                            + event_writer::partition_size("t", partition)
                            + event_writer::record_size("t", partition, r))
      << n;
    ASSERT_NE(out.find("\"timestamp\":" + std::to_string(n) + ","),
              std::string::npos)
      << n;
  }
}

TEST(event_writer, writes_runs_of_offsets_and_timestamps_as_text) {
  // The writer counts consecutive offsets up in their text and copies a
  // repeated timestamp: carries at every length, gaps, a run back down,
  // shared and changing timestamps (negative, zero), each record against
  // std::to_string.
  event_writer w("", "a:1");
  std::string v = "v";
  std::vector<int64_t> offsets = {0, 1, 2, 9, 10, 11, 99, 100, 101, 998,
                                  999, 1000, 1001, 5, 6, 999999, 1000000,
                                  1000001, 9999999999, 10000000000,
                                  INT64_MAX - 1, INT64_MAX, 7, 18, 19, 20,
                                  108, 109, 110, 1298, 1299, 1300};
  std::vector<int64_t> stamps = {-1, -1, 0, 0, 0, 9, 10, 10, 1700000000000,
                                 1700000000000, 1700000000001,
                                 1700000000001, 99, 100, 100, 100, -1, -1,
                                 0, 5, 5, 5, 1, 1, 1, 2, 2, 2, 2, 3, 3, 4};
  ASSERT_EQ(offsets.size(), stamps.size());
  std::vector<record_view> rs;
  for (size_t i = 0; i < offsets.size(); ++i) {
    rs.push_back(rec(offsets[i], nullptr, &v));
    rs.back().timestamp = stamps[i];
  }
  partition_slice s{"t", 0, rs.data(), rs.size()};
  auto out = write(w, {s});
  std::string expected;
  for (size_t i = 0; i < offsets.size(); ++i)
    expected += std::string(i == 0 ? "" : ",") + "{\"topic\":\"t\","
                + "\"partition\":0,\"offset\":" + std::to_string(offsets[i])
                + ",\"timestamp\":" + std::to_string(stamps[i])
                + ",\"timestampType\":\"CREATE_TIME\",\"value\":\"dg==\","
                + "\"headers\":[]}";
  EXPECT_NE(out.find("\"t-0\":[" + expected + "]}}"), std::string::npos)
    << out;
}

TEST(event_writer, sizes_every_signed_byte_value) {
  // Each byte value alone and all 256 in one header: the size function
  // against the written text.
  event_writer w("", "a:1");
  std::string v = "v", all;
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b));
    all += one;
    header_view h{"h", one.data(), 1};
    record_view r = rec(1, nullptr, &v);
    r.headers = &h;
    r.header_count = 1;
    auto out = write(w, {{"t", 0, &r, 1}});
    EXPECT_NE(out.find("[{\"h\":["
                       + std::to_string(static_cast<int>(
                         static_cast<signed char>(b)))
                       + "]}]"),
              std::string::npos)
      << b;
  }
  header_view h{"h", all.data(), all.size()};
  record_view r = rec(1, nullptr, &v);
  r.headers = &h;
  r.header_count = 1;
  std::string list;
  for (int b = 0; b < 256; ++b)
    list += (b == 0 ? "" : ",")
            + std::to_string(static_cast<int>(static_cast<signed char>(b)));
  auto out = write(w, {{"t", 0, &r, 1}});
  EXPECT_NE(out.find("[{\"h\":[" + list + "]}]"), std::string::npos) << out;
}

TEST(event_writer, overwrite_replaces_a_longer_or_shorter_buffer) {
  // The batcher writes each event over the last one's buffer: the result
  // is the event alone, whatever the buffer held, and only growth is
  // zeroed.
  event_writer w("", "a:1");
  std::string k = "key", v(300, 'v');
  std::vector<record_view> rs;
  for (int64_t i = 0; i < 20; ++i)
    rs.push_back(rec(i, &k, &v));
  partition_slice s{"t", 3, rs.data(), rs.size()};
  std::string expected;
  w.write(expected, &s, 1);
  for (size_t before : {size_t{0}, size_t{10}, expected.size(),
                        expected.size() * 3}) {
    std::string out(before, '#');
    w.overwrite(out, &s, 1);
    EXPECT_EQ(out, expected) << before;
    std::string bounded(before, '#');
    w.overwrite(bounded, &s, 1, expected.size() + 40);
    EXPECT_EQ(bounded, expected) << before;
  }
}

TEST(event_writer, writes_a_batch_without_allocating_per_record) {
  if (!kesm::test::counting_allocations())
    GTEST_SKIP() << "allocation counting is off under ThreadSanitizer";
  event_writer w("", "b-1:9092");
  std::string key = "key-17", value(100, 'v');
  std::string hname = "trace", hvalue = "0123456789abcdef";
  header_view h{hname.c_str(), hvalue.data(), hvalue.size()};
  std::vector<record_view> records;
  for (int64_t i = 0; i < 1000; ++i) {
    records.push_back(rec(i, &key, &value));
    records.back().headers = &h;
    records.back().header_count = 1;
  }
  // Allocations of one write of `n` records, after a warm-up write.
  auto allocations_for = [&](size_t n) {
    partition_slice slice{"orders", 3, records.data(), n};
    std::string out;
    w.write(out, &slice, 1); // warm-up: the buffer grows once
    out.clear();
    auto before = kesm::test::allocation_count();
    w.write(out, &slice, 1);
    EXPECT_EQ(out.size(), w.event_size(&slice, 1));
    return kesm::test::allocation_count() - before;
  };
  auto few = allocations_for(10);
  EXPECT_EQ(allocations_for(1000), few)
    << "a write of 1,000 records allocates more than one of 10";
  EXPECT_LE(few, 2u) << "a per-partition prefix, nothing per record";
}
