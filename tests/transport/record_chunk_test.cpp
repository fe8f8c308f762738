// Record headers read straight from librdkafka's fetched bytes against
// librdkafka's own parser, on records of every header shape, consumed
// from the embedded broker.
#include "transport/record_chunk.hpp"

#include <gtest/gtest.h>

#include <algorithm>
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

// librdkafka's header list for one set; rd_kafka_producev takes it over.
rd_kafka_headers_t* make_headers(const std::vector<header_copy>& set) {
  rd_kafka_headers_t* hdrs = rd_kafka_headers_new(set.size());
  for (auto& h : set)
    rd_kafka_header_add(hdrs, h.name.data(),
                        static_cast<ssize_t>(h.name.size()),
                        h.null ? nullptr : h.value.data(),
                        static_cast<ssize_t>(h.value.size()));
  return hdrs;
}

void produce_all(producer& p, const std::string& topic) {
  for (auto& set : header_sets()) {
    rd_kafka_headers_t* hdrs = make_headers(set);
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
  // Warmed with a chunk of each size: the pools then hold arrays and a
  // buffer of both sizes, as they do in steady state.
  // The bench's shape: a key, a 100-byte value, two headers.
  const size_t total = warm + few + few + many;
  for (size_t i = 0; i < total; ++i) {
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
  auto c = consume_all(b->bootstrap(), "n", total);
  ASSERT_EQ(c.msgs.size(), total);
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
  allocations_for(warm, few);
  auto for_few = allocations_for(warm + few, few);
  auto for_many = allocations_for(warm + few + few, many);
  EXPECT_EQ(for_many, for_few)
    << "a chunk of 1,000 records allocates more often than one of 10";
  EXPECT_LE(for_many, 8u);
}

namespace {

/// Whether [p, p + n) lies inside the chunk's copied bytes.
bool in_copied(const record_chunk& c, const void* p, size_t n) {
  auto* b = c.copied.get();
  auto* q = static_cast<const char*>(p);
  return b != nullptr && q >= b && q + n <= b + c.copy_bytes;
}

/// Keys and values of every shape: none, empty, some bytes; a tombstone.
struct shaped_record {
  std::optional<std::string> key, value;
};

std::vector<shaped_record> record_shapes() {
  return {{std::nullopt, std::string("v0")},
          {std::string(), std::string()},
          {std::string("k2"), std::nullopt},
          {std::string("k3"), std::string(3000, 'x')},
          {std::nullopt, std::nullopt}};
}

} // namespace

// By default a chunk copies its records' bytes out of librdkafka's
// messages and destroys them at once: every view points into the chunk's
// own buffer, with no key, an empty key, a tombstone and every header
// shape kept as they were; with KESM_COPY_RECORDS=0 the views point into
// the messages the chunk keeps. Both header readers are covered (the
// parsed one keeps names in librdkafka's list, freed with the message).
TEST(record_chunk, a_copied_chunk_owns_every_byte_it_views) {
  auto b = embedded_broker::start(1);
  ASSERT_TRUE(b);
  ASSERT_TRUE(b->create_topic("s", 1));
  auto p = producer::connect(b->bootstrap());
  ASSERT_TRUE(p);
  auto shapes = record_shapes();
  auto sets = header_sets();
  const size_t rounds = 4; // copied and not, each with both header readers
  for (size_t round = 0; round < rounds; ++round)
    for (size_t i = 0; i < shapes.size(); ++i) {
      auto& s = shapes[i];
      auto& set = sets[i % sets.size()];
      rd_kafka_headers_t* hdrs = make_headers(set);
      const char* key = s.key ? s.key->data() : nullptr;
      size_t key_len = s.key ? s.key->size() : 0;
      char* value = s.value ? const_cast<char*>(s.value->data()) : nullptr;
      size_t value_len = s.value ? s.value->size() : 0;
      ASSERT_EQ(rd_kafka_producev(
                  p->handle(), RD_KAFKA_V_TOPIC("s"), RD_KAFKA_V_PARTITION(0),
                  RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE(value, value_len),
                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                  RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END),
                RD_KAFKA_RESP_ERR_NO_ERROR);
    }
  ASSERT_TRUE(p->flush(10000));
  auto c = consume_all(b->bootstrap(), "s", rounds * shapes.size());
  ASSERT_EQ(c.msgs.size(), rounds * shapes.size());
  bool was_copying = copy_records();
  bool was_direct = direct_headers();
  for (size_t round = 0; round < rounds; ++round) {
    bool copying = round < 2;
    set_copy_records(copying);
    set_direct_headers(round % 2 == 0);
    std::vector<rd_kafka_message_t*> raw;
    for (size_t i = 0; i < shapes.size(); ++i)
      raw.push_back(c.msgs[round * shapes.size() + i].release());
    auto chunk = make_chunk("s", 0, raw.data(), raw.size(), nullptr);
    ASSERT_EQ(chunk->records.size(), shapes.size());
    EXPECT_EQ(chunk->messages.size(), copying ? 0u : shapes.size());
    EXPECT_EQ(chunk->copied != nullptr, copying);
    for (size_t i = 0; i < shapes.size(); ++i) {
      SCOPED_TRACE("round " + std::to_string(round) + ", record "
                   + std::to_string(i));
      auto& r = chunk->records[i];
      auto& s = shapes[i];
      EXPECT_EQ(r.offset, static_cast<int64_t>(round * shapes.size() + i));
      ASSERT_EQ(r.key != nullptr, s.key.has_value());
      ASSERT_EQ(r.value != nullptr, s.value.has_value());
      if (s.key) {
        EXPECT_EQ(std::string(static_cast<const char*>(r.key), r.key_len), *s.key);
        EXPECT_EQ(in_copied(*chunk, r.key, r.key_len), copying);
      }
      if (s.value) {
        EXPECT_EQ(std::string(static_cast<const char*>(r.value), r.value_len),
                  *s.value);
        EXPECT_EQ(in_copied(*chunk, r.value, r.value_len), copying);
      }
      std::vector<codecs::header_view> hs(r.headers, r.headers + r.header_count);
      EXPECT_EQ(copy(hs), sets[i % sets.size()]);
      for (auto& h : hs) {
        if (!h.name.empty()) {
          EXPECT_EQ(in_copied(*chunk, h.name.data(), h.name.size()), copying);
        }
        if (h.value != nullptr && h.value_len > 0) {
          EXPECT_EQ(in_copied(*chunk, h.value, h.value_len), copying);
        }
      }
    }
  }
  set_copy_records(was_copying);
  set_direct_headers(was_direct);
}

// The pools chunks and batches take their arrays from: an array given
// back is the next one taken (its pages stay mapped), within the pool's
// bounds.
TEST(vector_pool, reuses_arrays_within_its_bounds) {
  vector_pool<uint64_t> pool(64 * 1024, 16 * 1024);
  auto a = pool.take(1000);
  EXPECT_EQ(a.capacity(), 1024u) << "the class 1000 rounds up to";
  EXPECT_TRUE(a.empty());
  a.resize(1000, 7);
  const auto* data = a.data();
  pool.give(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(pool.idle_bytes(), 1024 * sizeof(uint64_t));
  auto again = pool.take(500);
  EXPECT_EQ(again.data(), data) << "the array given back is taken again";
  EXPECT_TRUE(again.empty());
  EXPECT_EQ(pool.idle_bytes(), 0u);
  // Larger than `max_bytes` (16 KB): freed, not kept.
  auto big = pool.take(4096);
  pool.give(big);
  EXPECT_EQ(pool.idle_bytes(), 0u);
  // Too small to be worth a lock: freed.
  std::vector<uint64_t> tiny;
  tiny.reserve(10);
  pool.give(tiny);
  EXPECT_EQ(pool.idle_bytes(), 0u);
  // At most `max_idle_bytes` (64 KB) wait: 8 of 16 arrays of 8 KB.
  std::vector<std::vector<uint64_t>> held;
  for (int i = 0; i < 16; ++i)
    held.push_back(pool.take(1024));
  for (auto& v : held)
    pool.give(v);
  EXPECT_EQ(pool.idle_bytes(), 64u * 1024);
}

TEST(vector_pool, hands_out_arrays_by_size_class) {
  vector_pool<uint64_t> pool(1024 * 1024, 64 * 1024);
  // Small arrays given back (a many-partition run's chunks), then one
  // large one (a batch's): the large take must not get a small array to
  // grow, and the small takes must not use up the large one.
  std::vector<std::vector<uint64_t>> small;
  std::vector<const uint64_t*> small_data;
  for (int i = 0; i < 4; ++i) {
    small.push_back(pool.take(100));
    EXPECT_EQ(small.back().capacity(), 128u);
    small_data.push_back(small.back().data());
  }
  auto large = pool.take(1000);
  const auto* large_data = large.data();
  for (auto& v : small)
    pool.give(v);
  pool.give(large);
  auto batch = pool.take(1000);
  EXPECT_EQ(batch.data(), large_data) << "the 1,024-element array";
  auto chunk = pool.take(90);
  EXPECT_EQ(chunk.capacity(), 128u);
  EXPECT_NE(std::find(small_data.begin(), small_data.end(), chunk.data()),
            small_data.end())
    << "a 128-element array given back";
  // Two classes above is close enough: a 100-element take gets a
  // 512-element array when nothing smaller waits...
  pool.give(batch);
  pool.give(chunk);
  for (int i = 0; i < 4; ++i)
    pool.take(100);
  std::vector<uint64_t> mid;
  mid.reserve(512);
  const auto* mid_data = mid.data();
  pool.give(mid);
  EXPECT_EQ(pool.take(100).data(), mid_data);
  // ...but not three: the 1,024-element one stays for a batch.
  auto fresh = pool.take(100);
  EXPECT_NE(fresh.data(), large_data);
  EXPECT_EQ(fresh.capacity(), 128u);
  EXPECT_EQ(pool.idle_bytes(), 1024 * sizeof(uint64_t));
  // An array grown past its class waits in the largest class it holds.
  std::vector<uint64_t> grown;
  grown.reserve(700);
  const auto* grown_data = grown.data();
  pool.give(grown);
  EXPECT_EQ(pool.take(500).data(), grown_data) << "filed as 512, 700 held";
}

TEST(byte_pool, reuses_buffers_by_size_class) {
  auto a = byte_pool::take(5000); // the 8 KB class
  ASSERT_NE(a, nullptr);
  a[4999] = 1;
  auto* p = a.get();
  auto idle = byte_pool::idle_bytes();
  a.reset();
  EXPECT_EQ(byte_pool::idle_bytes(), idle + 8192);
  auto b = byte_pool::take(8192);
  EXPECT_EQ(b.get(), p) << "a buffer of the same class is reused";
  EXPECT_EQ(byte_pool::idle_bytes(), idle);
  // Over 16 MB: allocated and freed, never kept.
  auto huge = byte_pool::take((size_t{16} << 20) + 1);
  ASSERT_NE(huge, nullptr);
  huge.reset();
  EXPECT_EQ(byte_pool::idle_bytes(), idle);
}
