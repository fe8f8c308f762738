// Record headers read straight from librdkafka's fetched bytes against
// librdkafka's own parser, on records of every header shape, consumed
// from the embedded broker.
#include "transport/record_chunk.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "support/allocations.hpp"
#include "transport/embedded_broker.hpp"
#include "transport/producer.hpp"

using namespace kesm;
using namespace kesm::transport;

namespace {

/// One header as plain data; `null` for a header without a value.
struct header_copy {
  std::string name;
  std::string value;
  bool null = false;
  bool operator==(const header_copy& o) const {
    return name == o.name && value == o.value && null == o.null;
  }
};

[[maybe_unused]] std::ostream& operator<<(std::ostream& os,
                                          const header_copy& h) {
  return os << h.name << "=" << (h.null ? "null" : h.value.substr(0, 16));
}

std::vector<header_copy> copy(const std::vector<codecs::header_view>& hs) {
  std::vector<header_copy> out;
  for (auto& h : hs)
    out.push_back({std::string(h.name),
                   h.value != nullptr
                     ? std::string(static_cast<const char*>(h.value),
                                   h.value_len)
                     : std::string(),
                   h.value == nullptr});
  return out;
}

/// The header sets the records carry, one record each.
std::vector<std::vector<header_copy>> header_sets() {
  std::string all_bytes;
  for (int b = 0; b < 256; ++b)
    all_bytes.push_back(static_cast<char>(b));
  std::vector<header_copy> many;
  for (int i = 0; i < 200; ++i)
    many.push_back({"h" + std::to_string(i), std::string(static_cast<size_t>(i), 'x'), false});
  return {
    {},
    {{"source", "kesm-bench", false}, {"trace", "0123456789abcdef", false}},
    {{"gone", "", true}},
    {{"", "", false}, {"empty", "", false}},
    {{"binary", all_bytes, false}},
    {{"dup", "1", false}, {"dup", "2", false}},
    {{"caf\xc3\xa9", std::string(20000, 'v'), false}},
    many,
  };
}

void produce_all(producer& p, const std::string& topic) {
  for (auto& set : header_sets()) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(set.size());
    for (auto& h : set)
      rd_kafka_header_add(hdrs, h.name.data(),
                          static_cast<ssize_t>(h.name.size()),
                          h.null ? nullptr : h.value.data(),
                          static_cast<ssize_t>(h.value.size()));
    std::string value = "v";
    auto err = rd_kafka_producev(
      p.handle(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
      RD_KAFKA_V_VALUE(value.data(), value.size()),
      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(hdrs),
      RD_KAFKA_V_END);
    ASSERT_EQ(err, RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_TRUE(p.flush(10000));
}

/// A consumer and the records it read. The messages go first: librdkafka
/// waits in `rd_kafka_destroy` for every message still held.
struct consumed {
  kafka_ptr rk;
  std::vector<message_ptr> msgs;
};

/// Every record of partition 0 of `topic`, in order.
consumed consume_all(const std::string& bootstrap, const std::string& topic,
                     size_t n) {
  consumed out;
  auto rk = make_client(RD_KAFKA_CONSUMER,
                        {{"bootstrap.servers", bootstrap},
                         {"group.id", "record-chunk-test"},
                         {"enable.auto.commit", "false"}});
  EXPECT_TRUE(rk);
  if (!rk)
    return out;
  out.rk = std::move(*rk);
  tpl_ptr parts{rd_kafka_topic_partition_list_new(1)};
  rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(), 0)->offset
    = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(out.rk.get(), parts.get());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (out.msgs.size() < n && std::chrono::steady_clock::now() < deadline) {
    message_ptr m{rd_kafka_consumer_poll(out.rk.get(), 100)};
    if (m && m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
      out.msgs.push_back(std::move(m));
  }
  return out;
}

/// A broker holding one record per header set, and those records as a
/// consumer read them (destroyed before the broker).
struct header_records {
  std::optional<embedded_broker> broker;
  consumed c;

  static std::unique_ptr<header_records> make() {
    auto r = std::make_unique<header_records>();
    auto b = embedded_broker::start(1);
    if (!b || !b->create_topic("h", 1))
      return nullptr;
    r->broker.emplace(std::move(*b));
    auto p = producer::connect(r->broker->bootstrap());
    if (!p)
      return nullptr;
    produce_all(*p, "h");
    r->c = consume_all(r->broker->bootstrap(), "h", header_sets().size());
    return r;
  }
};

} // namespace

TEST(record_headers, read_directly_as_librdkafka_parses_them) {
  auto sets = header_sets();
  auto recs = header_records::make();
  ASSERT_TRUE(recs);
  auto& c = recs->c;
  auto& msgs = c.msgs;
  ASSERT_EQ(msgs.size(), sets.size());

  bool supported = rd_kafka_version() == 0x020002ff;
  bool was = set_direct_headers(true);
  EXPECT_EQ(direct_headers(), supported);
  // Directly first: a message whose headers librdkafka parsed is read
  // through its parsed list from then on.
  std::vector<size_t> direct_bytes;
  for (size_t i = 0; i < msgs.size(); ++i) {
    std::vector<codecs::header_view> direct;
    direct_bytes.push_back(append_headers(msgs[i].get(), direct));
    EXPECT_EQ(copy(direct), sets[i]) << "record " << i;
  }
  // No layout check failed: direct reading is still on.
  EXPECT_EQ(direct_headers(), supported);
  set_direct_headers(false);
  for (size_t i = 0; i < msgs.size(); ++i) {
    std::vector<codecs::header_view> parsed;
    EXPECT_EQ(append_headers(msgs[i].get(), parsed), direct_bytes[i]);
    EXPECT_EQ(copy(parsed), sets[i]) << "record " << i;
  }
  set_direct_headers(was);
}

TEST(record_headers, a_chunk_views_the_headers_of_each_record) {
  auto sets = header_sets();
  auto recs = header_records::make();
  ASSERT_TRUE(recs);
  auto& c = recs->c;
  ASSERT_EQ(c.msgs.size(), sets.size());
  std::vector<rd_kafka_message_t*> raw;
  for (auto& m : c.msgs)
    raw.push_back(m.release());
  auto chunk = make_chunk("h", 0, raw.data(), raw.size(), nullptr);
  ASSERT_EQ(chunk->records.size(), sets.size());
  size_t value_bytes = 0;
  for (size_t i = 0; i < sets.size(); ++i) {
    auto& r = chunk->records[i];
    std::vector<codecs::header_view> hs(r.headers, r.headers + r.header_count);
    EXPECT_EQ(copy(hs), sets[i]) << "record " << i;
    EXPECT_EQ(r.offset, static_cast<int64_t>(i));
    for (auto& h : sets[i])
      value_bytes += h.value.size();
  }
  EXPECT_EQ(chunk->bytes,
            value_bytes + sets.size() * (1 + record_overhead));
}

// The hot path's reader builds a chunk per drain: its allocations are per
// chunk (the chunk, its arrays), never per record or per header.
TEST(record_chunk, building_a_chunk_allocates_nothing_per_record) {
  if (!kesm::test::counting_allocations())
    GTEST_SKIP() << "allocation counting is off under ThreadSanitizer";
  auto b = embedded_broker::start(1);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->create_topic("n", 1));
  auto p = producer::connect(b->bootstrap());
  ASSERT_TRUE(p);
  const size_t warm = 1000, few = 10, many = 1000;
  // The bench's shape: a key, a 100-byte value, two headers.
  for (size_t i = 0; i < warm + few + many; ++i) {
    rd_kafka_headers_t* hdrs = rd_kafka_headers_new(2);
    rd_kafka_header_add(hdrs, "source", -1, "kesm-bench", -1);
    rd_kafka_header_add(hdrs, "trace", -1, "0123456789abcdef", -1);
    std::string key = "k" + std::to_string(i), value(100, 'v');
    ASSERT_EQ(rd_kafka_producev(
                p->handle(), RD_KAFKA_V_TOPIC("n"), RD_KAFKA_V_PARTITION(0),
                RD_KAFKA_V_KEY(key.data(), key.size()),
                RD_KAFKA_V_VALUE(value.data(), value.size()),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  ASSERT_TRUE(p->flush(10000));
  auto c = consume_all(b->bootstrap(), "n", warm + few + many);
  ASSERT_EQ(c.msgs.size(), warm + few + many);
  std::vector<rd_kafka_message_t*> raw;
  for (auto& m : c.msgs)
    raw.push_back(m.release());
  // Counted on this thread only: the broker's threads allocate meanwhile.
  auto allocations_for = [&](size_t first, size_t n) {
    auto before = kesm::test::thread_allocation_count();
    auto chunk = make_chunk("n", 0, raw.data() + first, n, nullptr);
    auto after = kesm::test::thread_allocation_count();
    EXPECT_EQ(chunk->records.size(), n);
    EXPECT_EQ(chunk->headers.size(), 2 * n);
    EXPECT_EQ(chunk->records.back().header_count, 2u);
    return after - before;
  };
  allocations_for(0, warm); // this thread's scratch array grows once
  auto for_few = allocations_for(warm, few);
  auto for_many = allocations_for(warm + few, many);
  EXPECT_EQ(for_many, for_few)
    << "a chunk of 1,000 records allocates more often than one of 10";
  EXPECT_LE(for_many, 8u);
}
