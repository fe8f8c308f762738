#include <CLI/CLI.hpp>

#include "bench/bench_main.hpp"
#include "cli/commands.hpp"
#include "cli/runtime.hpp"

int main(int argc, char** argv) {
  // `kesm bench ...` is kesm-bench (bench/README.md); it forks its helper
  // processes before any thread starts, so it goes first.
  if (argc > 1 && std::string(argv[1]) == "bench")
    return kesm::bench::main(argc - 1, argv + 1);
  kesm::cli::block_stop_signals();
  CLI::App app{"kesm: a Lambda-compatible Kafka event source mapping runtime"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("kesm ") + KESM_VERSION);
  // Listed here for the help text; `main` hands `kesm bench` to kesm-bench
  // before parsing (see above).
  app.add_subcommand("bench", "The benchmark harness: kesm beside a raw"
                              " librdkafka consumer (kesm bench --help)");

  kesm::cli::dev_broker_options broker;
  auto* dev = app.add_subcommand(
    "dev-broker", "Run an embedded Kafka broker on 127.0.0.1 until SIGINT/"
                  "SIGTERM; prints the bootstrap list first");
  dev->add_option("--brokers", broker.brokers, "Number of brokers (1-9)")
    ->check(CLI::Range(1, 9));
  dev->add_option("--topic", broker.topics,
                  "Topic to create, as name:partitions (repeatable)");
  dev->add_flag("--tls", broker.tls,
                "Serve TLS with a throwaway CA; its certificate's path is the"
                " second line of stdout");
  dev->add_option("--sasl", broker.sasl,
                  "Require SASL: mechanism:user:password, mechanism one of"
                  " plain, scram-sha-256, scram-sha-512; or oauthbearer"
                  " (MSK IAM tokens, shape and expiry checked; repeatable)");
  dev->add_flag("--client-certs", broker.client_certs,
                "Require a client certificate signed by the throwaway CA"
                " (implies --tls; writes client.pem and client-key.pem"
                " beside the CA)");

  kesm::cli::serve_options serve;
  auto* srv = app.add_subcommand(
    "serve", "Run the mappings and functions a config file declares");
  srv->add_option("--config", serve.config_path, "Config file (JSON)")
    ->capture_default_str();
  srv->add_option("--log-format", serve.log_format,
                  "Log lines as text, or json: one object a line (time,"
                  " level, component, uuid, message); KESM_LOG_FORMAT=json"
                  " does the same for every command")
    ->check(CLI::IsMember({"text", "json"}))
    ->capture_default_str();
  srv->add_option("--pollers", serve.pollers,
                  "Batcher + invoker actor pairs per mapping (CPU"
                  " parallelism; pollers scale on their own)")
    ->check(CLI::Range(1, 2000))
    ->capture_default_str();
  srv->add_option("--api", serve.api,
                  "Control-plane API address HOST:PORT (port 0: any free)")
    ->capture_default_str();
  srv->add_option("--store", serve.store,
                  "Mapping store: sqlite:PATH (API-created mappings)")
    ->capture_default_str();
  srv->add_option("--max-pollers", serve.max_pollers,
                  "Pollers (5 concurrent calls each) all mappings of this"
                  " process may run together; shared fairly when contended")
    ->check(CLI::Range(1, 100000))
    ->capture_default_str();
  srv->add_option("--scaling-interval", serve.scaling_interval,
                  "Seconds between scaling evaluations of each mapping")
    ->check(CLI::Range(1, 300))
    ->capture_default_str();
  srv->add_option("--shutdown-grace", serve.shutdown_grace,
                  "Seconds a stop waits for running calls before abandoning"
                  " them (size it to the function timeout)")
    ->check(CLI::Range(0, 900))
    ->capture_default_str();
  srv->add_option("--api-auth", serve.api_auth,
                  "API authentication: none, or sigv4 (requests signed with"
                  " a key of the config's api_access_keys, as the AWS CLI"
                  " does)")
    ->check(CLI::IsMember({"none", "sigv4"}))
    ->capture_default_str();
  srv->add_option("--api-token", serve.api_token,
                  "Require 'Authorization: Bearer TOKEN' on API calls (or"
                  " set KESM_API_TOKEN)");
  srv->add_option("--api-allow-origin", serve.allow_origins,
                  "Browser origin allowed to call the API, e.g."
                  " https://ops.example.com (repeatable; others refused)");
  srv->add_option("--region", serve.region, "Region used in ARNs")
    ->capture_default_str();
  srv->add_option("--account", serve.account,
                  "12-digit account id used in ARNs")
    ->check([](const std::string& s) {
      return s.size() == 12 && s.find_first_not_of("0123456789") == s.npos
               ? std::string{}
               : std::string{"--account must be 12 digits"};
    })
    ->capture_default_str();

  kesm::cli::produce_options prod;
  auto* pro = app.add_subcommand(
    "produce", "Produce test records (key k<i>, value <value>-<i>, one"
               " header) and wait for every acknowledgement");
  pro->add_option("--bootstrap", prod.bootstrap, "Bootstrap servers")
    ->required();
  pro->add_option("--topic", prod.topic, "Topic")->required();
  pro->add_option("-X,--property", prod.properties,
                  "librdkafka property name=value, e.g."
                  " security.protocol=SASL_SSL (repeatable)");
  pro->add_option("--count", prod.count, "Number of records")
    ->check(CLI::Range(1, 100000000))
    ->capture_default_str();
  pro->add_option("--partition", prod.partition,
                  "Partition (-1: by key)")
    ->capture_default_str();
  pro->add_option("--value", prod.value, "Value prefix")
    ->capture_default_str();

  kesm::cli::demo_options demo;
  auto* dem = app.add_subcommand(
    "demo", "Embedded broker + steady producer + demo HTTP function + one"
            " mapping, with a live status line");
  dem->add_option("--seconds", demo.seconds,
                  "Stop after N seconds (0: run until interrupted)")
    ->check(CLI::NonNegativeNumber);
  dem->add_option("--rate", demo.rate, "Records produced per second")
    ->check(CLI::Range(1, 1000000))
    ->capture_default_str();
  dem->add_option("--partitions", demo.partitions, "Partitions of the topic")
    ->check(CLI::Range(1, 64))
    ->capture_default_str();
  dem->add_option("--batch-size", demo.batch_size, "BatchSize of the mapping")
    ->check(CLI::Range(1, 10000))
    ->capture_default_str();

  kesm::cli::status_options status;
  auto* sta = app.add_subcommand(
    "status", "Ask a running kesm serve for its mappings and print a table:"
              " state, pollers, lag, rates, latency, last result");
  sta->add_option("--api", status.api, "API address HOST:PORT of kesm serve")
    ->capture_default_str();
  sta->add_option("--token", status.token,
                  "API token, when kesm serve has --api-token (or set"
                  " KESM_API_TOKEN)");
  sta->add_flag("--sigv4", status.sigv4,
                "Sign with SigV4 (kesm serve --api-auth sigv4) using the AWS"
                " credential chain (AWS_ACCESS_KEY_ID ..., profiles)");
  sta->add_option("--region", status.region,
                  "Region to sign for (default: AWS_REGION, else us-east-1)");
  sta->add_flag("--json", status.json,
                "Print /kesm/status's JSON (with the per-second history)");

  kesm::cli::validate_options validate;
  auto* val = app.add_subcommand(
    "validate", "Check a config file as kesm serve would, without running"
                " it: exit 0 when good, 2 with serve's error when not");
  val->add_option("--config", validate.config_path, "Config file (JSON)")
    ->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (sta->parsed())
    return kesm::cli::run_status(status);
  if (val->parsed())
    return kesm::cli::run_validate(validate);
  if (dev->parsed())
    return kesm::cli::run_dev_broker(broker);
  if (srv->parsed())
    return kesm::cli::run_serve(serve);
  if (pro->parsed())
    return kesm::cli::run_produce(prod);
  return kesm::cli::run_demo(demo);
}
