#include "integration/harness.hpp"

#include <thread>

#include <gtest/gtest.h>
#include <simdjson.h>

#include "actors/mapping_control.hpp"
#include "codecs/base64.hpp"
#include "transport/log.hpp"

namespace kesm::test {

namespace {

std::optional<std::string> b64(simdjson::dom::object rec, const char* field) {
  std::string_view text;
  if (rec[field].get_string().get(text))
    return std::nullopt;
  std::string out;
  EXPECT_TRUE(codecs::base64_decode(text.data(), text.size(), out)) << text;
  return out;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

invocation decode_event(const std::string& body) {
  invocation inv;
  inv.at = std::chrono::steady_clock::now();
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  auto err = parser.parse(body).get_object().get(root);
  EXPECT_FALSE(err) << "event is not a JSON object: " << body.substr(0, 200);
  if (err)
    return inv;
  std::string_view source;
  EXPECT_FALSE(root["eventSource"].get_string().get(source));
  inv.event_source = std::string(source);
  simdjson::dom::object records;
  EXPECT_FALSE(root["records"].get_object().get(records));
  for (auto [key, list] : records) {
    for (auto r : simdjson::dom::array(list)) {
      simdjson::dom::object rec = r;
      seen_record s;
      s.topic = std::string(std::string_view(rec["topic"]));
      s.partition = static_cast<int32_t>(int64_t(rec["partition"]));
      s.offset = int64_t(rec["offset"]);
      s.timestamp = int64_t(rec["timestamp"]);
      EXPECT_EQ(std::string(key), s.topic + "-" + std::to_string(s.partition));
      s.key = b64(rec, "key");
      s.value = b64(rec, "value");
      for (auto h : simdjson::dom::array(rec["headers"])) {
        for (auto [hk, hv] : simdjson::dom::object(h)) {
          std::string bytes;
          for (auto b : simdjson::dom::array(hv))
            bytes.push_back(static_cast<char>(int64_t(b)));
          s.headers.emplace_back(std::string(hk), bytes);
        }
      }
      inv.records.push_back(std::move(s));
    }
  }
  return inv;
}

scripted_function::scripted_function(script_fn script)
  : script_(std::move(script)),
    server_([this](const std::string& body) { return handle(body); }) {
  if (!server_.start())
    ADD_FAILURE() << "cannot start the function server";
}

transport::function_reply scripted_function::handle(const std::string& body) {
  auto inv = decode_event(body);
  size_t n;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    n = calls_.size();
    calls_.push_back(inv);
  }
  auto reply = script_ ? script_(n, inv) : transport::function_reply{};
  if (reply.status >= 200 && reply.status < 300 && !reply.function_error)
    delivered_ += inv.records.size();
  return reply;
}

std::vector<invocation> scripted_function::calls() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_;
}

size_t scripted_function::call_count() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_.size();
}

test_cluster::test_cluster() {
  auto b = transport::embedded_broker::start(1);
  if (!b) {
    ADD_FAILURE() << b.err().message;
    return;
  }
  broker_.emplace(std::move(*b));
  auto p = transport::producer::connect(broker_->bootstrap());
  if (!p) {
    ADD_FAILURE() << p.err().message;
    return;
  }
  producer_.emplace(std::move(*p));
}

void test_cluster::create_topic(const std::string& topic, int partitions) {
  auto ok = broker_->create_topic(topic, partitions);
  ASSERT_TRUE(ok) << ok.err().message;
}

void test_cluster::produce(const std::string& topic, int32_t partition,
                           int n, const std::string& tag,
                           int64_t timestamp_ms) {
  for (int i = 0; i < n; ++i) {
    transport::outgoing_record r;
    r.topic = topic;
    r.partition = partition;
    r.key = "k" + std::to_string(i);
    r.value = tag + "-" + std::to_string(partition) + "-" + std::to_string(i);
    r.headers = {{"h", std::string("\xc3\xab", 2)}};
    r.timestamp_ms = timestamp_ms;
    auto ok = producer_->produce(r);
    ASSERT_TRUE(ok) << ok.err().message;
  }
  auto ok = producer_->flush();
  ASSERT_TRUE(ok) << ok.err().message;
}

std::vector<transport::outgoing_record>
test_cluster::read(const std::string& topic, size_t n,
                   std::chrono::milliseconds timeout) {
  std::vector<transport::outgoing_record> out;
  auto rk = transport::make_client(
    RD_KAFKA_CONSUMER, {{"bootstrap.servers", bootstrap()},
                        {"group.id", "kesm-test-reader"},
                        {"enable.auto.commit", "false"},
                        {"log_level", "3"}});
  if (!rk) {
    ADD_FAILURE() << rk.err().message;
    return out;
  }
  const rd_kafka_metadata_t* md = nullptr;
  transport::kafka_ptr& k = *rk;
  rd_kafka_topic_t* t = rd_kafka_topic_new(k.get(), topic.c_str(), nullptr);
  if (rd_kafka_metadata(k.get(), 0, t, &md, 5000) != RD_KAFKA_RESP_ERR_NO_ERROR
      || md->topic_cnt != 1) {
    ADD_FAILURE() << "no metadata for " << topic;
    rd_kafka_topic_destroy(t);
    return out;
  }
  transport::tpl_ptr parts{rd_kafka_topic_partition_list_new(8)};
  for (int i = 0; i < md->topics[0].partition_cnt; ++i)
    rd_kafka_topic_partition_list_add(parts.get(), topic.c_str(),
                                      md->topics[0].partitions[i].id)
      ->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(t);
  rd_kafka_assign(k.get(), parts.get());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto extra_until = std::chrono::steady_clock::time_point::max();
  while (std::chrono::steady_clock::now() < std::min(deadline, extra_until)) {
    transport::message_ptr m{rd_kafka_consumer_poll(k.get(), 50)};
    if (!m || m->err != RD_KAFKA_RESP_ERR_NO_ERROR)
      continue;
    transport::outgoing_record r;
    r.topic = topic;
    r.partition = m->partition;
    if (m->key != nullptr)
      r.key.emplace(static_cast<const char*>(m->key), m->key_len);
    if (m->payload != nullptr)
      r.value.emplace(static_cast<const char*>(m->payload), m->len);
    out.push_back(std::move(r));
    if (out.size() == n)
      extra_until = std::chrono::steady_clock::now()
                    + std::chrono::milliseconds(300);
  }
  rd_kafka_consumer_close(k.get());
  return out;
}

std::vector<transport::partition_offsets>
test_cluster::offsets(const std::string& group, const std::string& topic) {
  auto insp = transport::offset_inspector::connect(bootstrap(), group);
  if (!insp) {
    ADD_FAILURE() << insp.err().message;
    return {};
  }
  auto res = insp->query(topic);
  if (!res) {
    ADD_FAILURE() << res.err().message;
    return {};
  }
  return *res;
}

codecs::mapping_config make_mapping(const std::string& bootstrap,
                                    const std::string& topic,
                                    const std::string& extra_json) {
  auto first = bootstrap.substr(0, bootstrap.find(','));
  auto doc = "{\"FunctionName\":\"fn\",\"Topics\":[\"" + topic
             + "\"],\"SelfManagedEventSource\":{\"Endpoints\":{"
               "\"KAFKA_BOOTSTRAP_SERVERS\":[\""
             + first + "\"]}}," + extra_json + "}";
  auto cfg = codecs::parse_mapping(doc, {}, "", now_ms());
  EXPECT_TRUE(cfg) << cfg.err().message;
  return cfg ? *cfg : codecs::mapping_config{};
}

runner::runner() {
  transport::set_log_level(transport::log_level::warning);
  cfg_ = std::make_unique<caf::actor_system_config>();
  sys_ = std::make_unique<caf::actor_system>(*cfg_);
  http_ = std::make_shared<transport::http_client>();
}

runner::~runner() {
  for (auto& m : running_)
    stop(m);
}

caf::actor runner::start(const codecs::mapping_config& cfg,
                         const std::string& url,
                         std::function<void(actors::mapping_options&)> tweak) {
  actors::mapping_options mo;
  mo.config = cfg;
  mo.target = std::make_shared<transport::http_target>(http_, url, 10);
  mo.commit_interval = std::chrono::milliseconds(100);
  mo.retry_backoff.base = std::chrono::milliseconds(10);
  mo.retry_backoff.cap = std::chrono::milliseconds(100);
  // The embedded broker frees a departed member's partitions only after
  // its session times out: keep restarts quick.
  mo.kafka["session.timeout.ms"] = "6000";
  if (tweak)
    tweak(mo);
  auto m = actors::spawn_mapping(*sys_, std::move(mo));
  running_.push_back(m);
  return m;
}

bool runner::reconfigure(caf::actor mapping,
                         const codecs::mapping_config& cfg,
                         const std::string& url) {
  transport::function_target_ptr target
    = std::make_shared<transport::http_target>(http_, url, 10);
  caf::scoped_actor me{*sys_};
  bool ok = false;
  me->request(mapping, std::chrono::seconds(10), actors::config_atom_v, cfg,
              target)
    .receive([&](bool r) { ok = r; },
             [&](caf::error& err) { ADD_FAILURE() << to_string(err); });
  return ok;
}

void runner::stop(caf::actor mapping) {
  if (!mapping)
    return;
  actors::stop_mappings(*sys_, {mapping});
  for (auto& m : running_)
    if (m == mapping)
      m = nullptr;
}

actors::mapping_status runner::status(caf::actor mapping) {
  return actors::query_status(*sys_, mapping);
}

bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

std::vector<std::pair<int32_t, int64_t>>
positions(const std::vector<invocation>& calls) {
  std::vector<std::pair<int32_t, int64_t>> out;
  for (auto& c : calls)
    for (auto& r : c.records)
      out.emplace_back(r.partition, r.offset);
  return out;
}

bool strictly_increasing(const std::vector<invocation>& calls) {
  std::map<int32_t, int64_t> last;
  for (auto& [p, o] : positions(calls)) {
    auto it = last.find(p);
    if (it != last.end() && o <= it->second)
      return false;
    last[p] = o;
  }
  return true;
}

bool all_committed(test_cluster& c, const std::string& group,
                   const std::string& topic) {
  auto offs = c.offsets(group, topic);
  if (offs.empty())
    return false;
  for (auto& p : offs)
    if (p.high > 0 && p.committed != p.high)
      return false;
  return true;
}

} // namespace kesm::test
