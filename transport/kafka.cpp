#include "transport/kafka.hpp"

#include "transport/aws/msk_iam.hpp"
#include "transport/log.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace kesm::transport {

namespace {

/// librdkafka's own lines in kesm's format, named by the client: a
/// mapping's clients are `kesm-<uuid>...`, so the line names the mapping.
void log_line(const rd_kafka_t* rk, int level, const char* fac,
              const char* buf) {
  std::string name = rk != nullptr ? rd_kafka_name(rk) : "kafka";
  auto hash = name.find('#');
  if (hash != std::string::npos)
    name.resize(hash);
  if (name.rfind("kesm-", 0) == 0)
    name = "mapping " + name.substr(5);
  auto lvl = level <= 3   ? log_level::error
             : level <= 4 ? log_level::warning
             : level <= 6 ? log_level::info
                          : log_level::debug;
  log(lvl, name, std::string("Kafka ") + fac + ": " + buf);
}

} // namespace

codecs::expected<conf_ptr> make_conf(const kafka_props& props) {
  conf_ptr conf{rd_kafka_conf_new()};
  rd_kafka_conf_set_log_cb(conf.get(), log_line);
  char err[512];
  for (const auto& [k, v] : props) {
    if (rd_kafka_conf_set(conf.get(), k.c_str(), v.c_str(), err, sizeof(err))
        != RD_KAFKA_CONF_OK)
      return codecs::error{codecs::errc::invalid_parameter,
                           "Kafka property " + describe_property(k, v) + ": " + err};
  }
  aws::install_msk_iam(conf.get());
  return conf;
}

codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type, conf_ptr conf) {
  char err[512];
  auto rk = rd_kafka_new(type, conf.get(), err, sizeof(err));
  if (rk == nullptr)
    return codecs::error{codecs::errc::invalid_parameter,
                         std::string("cannot create Kafka client: ") + err};
  conf.release(); // rd_kafka_new took ownership
  return kafka_ptr{rk};
}

codecs::expected<kafka_ptr> make_client(rd_kafka_type_t type,
                                        const kafka_props& props) {
  auto conf = make_conf(props);
  if (!conf)
    return conf.err();
  return make_client(type, std::move(*conf));
}

namespace {

struct reaper {
  std::mutex mtx;
  std::condition_variable cv;
  size_t pending = 0;
};

reaper& the_reaper() {
  static auto* r = new reaper; // never destroyed: threads may outlive main
  return *r;
}

} // namespace

void destroy_later(kafka_ptr rk, int flags, std::shared_ptr<void> keep) {
  if (!rk)
    return;
  auto& r = the_reaper();
  {
    std::lock_guard<std::mutex> guard{r.mtx};
    ++r.pending;
  }
  std::thread([p = rk.release(), flags, keep = std::move(keep)]() mutable {
    rd_kafka_destroy_flags(p, flags);
    keep.reset();
    auto& r = the_reaper();
    std::lock_guard<std::mutex> guard{r.mtx};
    --r.pending;
    r.cv.notify_all();
  }).detach();
}

bool wait_destroyed(long timeout_ms) {
  auto& r = the_reaper();
  std::unique_lock<std::mutex> guard{r.mtx};
  return r.cv.wait_for(guard, std::chrono::milliseconds(timeout_ms),
                       [&] { return r.pending == 0; });
}

bool secret_property(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (n.rfind("sasl.", 0) == 0)
    return true;
  for (auto* word : {"pass", "secret", "key", "token", "credential", "pem",
                     "jaas", "oauth"})
    if (n.find(word) != std::string::npos)
      return true;
  return false;
}

codecs::expected<bool> check_consumer_props(const kafka_props& props) {
  // Why each is kesm's: the delivery guarantee rests on offsets stored
  // only after success and committed by kesm; the group and the start
  // come from the mapping; callbacks and plugins are code, not settings.
  static const std::map<std::string, const char*> owned{
    {"enable.auto.offset.store", "offsets are stored only after success"},
    {"enable.auto.commit", "kesm commits stored offsets itself"},
    {"group.id", "set ConsumerGroupId on the mapping"},
    {"group.instance.id", "each kesm process is its own group member"},
    {"bootstrap.servers", "set the mapping's bootstrap servers"},
    {"metadata.broker.list", "set the mapping's bootstrap servers"},
    {"auto.offset.reset", "set StartingPosition on the mapping"},
    {"isolation.level", "kesm reads committed records only"},
    {"enable.partition.eof", "kesm handles partition ends itself"},
    {"partition.assignment.strategy",
     "kesm relies on cooperative-sticky assignment"},
    {"auto.commit.interval.ms", "kesm sets the commit interval"},
    {"plugin.library.paths", "plugins load code into kesm"},
    {"interceptors", "interceptors load code into kesm"},
    {"opaque", "callbacks are kesm's"},
    {"default_topic_conf", "topic configuration is kesm's"},
    {"consume.callback.max.messages", "kesm does not use consume callbacks"},
  };
  for (auto& [k, v] : props) {
    auto it = owned.find(k);
    bool callback = k.size() > 3 && k.compare(k.size() - 3, 3, "_cb") == 0;
    if (it != owned.end() || callback)
      return codecs::error{
        codecs::errc::invalid_parameter,
        "Kafka property " + k + " is set by kesm and cannot be changed ("
          + (callback ? "callbacks are kesm's" : it->second)
          + "); remove it from \"kafka\""};
  }
  auto conf = make_conf(props);
  if (!conf)
    return conf.err();
  char err[512];
  // Nothing to connect to: no bootstrap servers, so no connection is made.
  if (rd_kafka_conf_set(conf->get(), "group.id", "kesm-property-check", err,
                        sizeof(err))
      != RD_KAFKA_CONF_OK)
    return codecs::error{codecs::errc::invalid_parameter, err};
  rd_kafka_conf_set_log_cb(conf->get(), [](const rd_kafka_t*, int,
                                           const char*, const char*) {
    // quiet: the error below says what matters
  });
  auto rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof(err));
  if (rk == nullptr)
    return codecs::error{codecs::errc::invalid_parameter,
                         std::string("Kafka properties refused by librdkafka: ")
                           + err + "; fix the \"kafka\" properties"};
  conf->release();
  rd_kafka_destroy(rk);
  return true;
}

std::string describe_property(const std::string& name,
                              const std::string& value) {
  return name + "=" + (secret_property(name) ? "<redacted>" : value);
}

codecs::expected<int> topic_partitions(const kafka_props& props,
                                       const std::string& topic,
                                       int timeout_ms) {
  auto conf = make_conf(props);
  if (!conf)
    return conf.err();
  auto rk = make_client(RD_KAFKA_PRODUCER, std::move(*conf));
  if (!rk)
    return rk.err();
  // Nobody polls this client: SASL callbacks (OAUTHBEARER tokens) run on
  // librdkafka's background thread instead.
  if (auto* e = rd_kafka_sasl_background_callbacks_enable(rk->get()))
    rd_kafka_error_destroy(e);
  auto* t = rd_kafka_topic_new(rk->get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  auto err = rd_kafka_metadata(rk->get(), 0, t, &md, timeout_ms);
  rd_kafka_topic_destroy(t);
  int n = 0;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1
      && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    n = md->topics[0].partition_cnt;
  if (md != nullptr)
    rd_kafka_metadata_destroy(md);
  if (n <= 0)
    return codecs::error{codecs::errc::not_found,
                         "no metadata for topic " + topic + ": "
                           + rd_kafka_err2str(err)};
  return n;
}

} // namespace kesm::transport
