#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include <sys/stat.h>

#include "cli/commands.hpp"
#include "cli/runtime.hpp"
#include "transport/embedded_broker.hpp"
#include "transport/kafka_front/front.hpp"

namespace kesm::cli {

namespace {

/// `plain:user:password` -> mechanism (upper-case), user, password.
bool parse_sasl(const std::string& spec, std::string& mech, std::string& user,
                std::string& password) {
  auto a = spec.find(':');
  auto b = a == std::string::npos ? a : spec.find(':', a + 1);
  if (b == std::string::npos || a == 0 || b == a + 1 || b + 1 == spec.size())
    return false;
  mech = spec.substr(0, a);
  std::transform(mech.begin(), mech.end(), mech.begin(), ::toupper);
  user = spec.substr(a + 1, b - a - 1);
  password = spec.substr(b + 1);
  return mech == "PLAIN" || mech == "SCRAM-SHA-256" || mech == "SCRAM-SHA-512";
}

void write_private(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  ::chmod(path.c_str(), 0600);
}

/// The secured front of `--tls`, `--sasl`, `--client-certs`: its PEM files
/// live in a fresh directory removed at exit.
struct dev_front {
  std::string dir;
  std::unique_ptr<transport::kafka_front::secure_front> front;

  ~dev_front() {
    if (!dir.empty())
      std::filesystem::remove_all(dir);
  }

  /// Starts the front; prints why not and returns false.
  bool start(const dev_broker_options& opts, const std::string& upstream) {
    transport::kafka_front::front_options fo;
    for (auto& spec : opts.sasl) {
      if (spec == "oauthbearer" || spec == "OAUTHBEARER") {
        fo.mechanisms.push_back("OAUTHBEARER");
        fo.check_bearer = transport::kafka_front::msk_token_shape;
        continue;
      }
      std::string mech, user, password;
      if (!parse_sasl(spec, mech, user, password)) {
        std::cerr << "kesm dev-broker: bad --sasl value; use mechanism:user:"
                     "password with mechanism plain, scram-sha-256 or"
                     " scram-sha-512, or oauthbearer (MSK IAM tokens)\n";
        return false;
      }
      if (std::find(fo.mechanisms.begin(), fo.mechanisms.end(), mech)
          == fo.mechanisms.end())
        fo.mechanisms.push_back(mech);
      fo.users[user] = password;
    }
    fo.on_refused = [](const std::string& why) {
      std::cerr << "kesm dev-broker: refused a client: " << why << "\n";
    };
    bool tls = opts.tls || opts.client_certs;
    if (tls) {
      auto pki = transport::kafka_front::throwaway_pki::make();
      if (!pki) {
        std::cerr << "kesm dev-broker: " << pki.err().message << "\n";
        return false;
      }
      char tmpl[] = "/tmp/kesm-dev-broker-XXXXXX";
      if (::mkdtemp(tmpl) == nullptr) {
        std::cerr << "kesm dev-broker: cannot create a directory in /tmp for"
                     " the CA certificate\n";
        return false;
      }
      dir = tmpl;
      std::ofstream(dir + "/ca.pem") << pki->ca.certificate;
      fo.server = pki->server;
      if (opts.client_certs) {
        fo.client_ca = pki->ca.certificate;
        std::ofstream(dir + "/client.pem") << pki->client.certificate;
        write_private(dir + "/client-key.pem", pki->client.private_key);
      }
    }
    auto f = transport::kafka_front::secure_front::start(upstream, fo);
    if (!f) {
      std::cerr << "kesm dev-broker: " << f.err().message << "\n";
      return false;
    }
    front = std::move(*f);
    return true;
  }

  /// What a client sets, for the help line on stderr.
  std::string client_help(const dev_broker_options& opts) const {
    bool tls = opts.tls || opts.client_certs;
    std::string protocol = opts.sasl.empty() ? "SSL"
                           : tls             ? "SASL_SSL"
                                             : "SASL_PLAINTEXT";
    std::string out = "security.protocol=" + protocol;
    if (tls)
      out += " ssl.ca.location=" + dir + "/ca.pem";
    if (opts.client_certs)
      out += " ssl.certificate.location=" + dir
             + "/client.pem ssl.key.location=" + dir + "/client-key.pem";
    if (!opts.sasl.empty())
      out += " sasl.mechanism=<mechanism> sasl.username=<user>"
             " sasl.password=<password>";
    return out;
  }
};

} // namespace

int run_dev_broker(const dev_broker_options& opts) {
  auto broker = transport::embedded_broker::start(opts.brokers);
  if (!broker) {
    std::cerr << "kesm dev-broker: " << broker.err().message << "\n";
    return 1;
  }
  for (const auto& spec : opts.topics) {
    auto colon = spec.rfind(':');
    int partitions = 1;
    std::string name = spec;
    if (colon != std::string::npos) {
      name = spec.substr(0, colon);
      try {
        partitions = std::stoi(spec.substr(colon + 1));
      } catch (...) {
        partitions = 0;
      }
    }
    if (name.empty() || partitions < 1) {
      std::cerr << "kesm dev-broker: bad --topic " << spec
                << "; use name:partitions, e.g. orders:8\n";
      return 2;
    }
    if (auto ok = broker->create_topic(name, partitions); !ok) {
      std::cerr << "kesm dev-broker: " << ok.err().message << "\n";
      return 1;
    }
  }
  dev_front secured;
  if (opts.tls || opts.client_certs || !opts.sasl.empty()) {
    if (!secured.start(opts, broker->bootstrap()))
      return 2;
    std::cout << secured.front->bootstrap() << "\n";
    if (!secured.dir.empty())
      std::cout << secured.dir << "/ca.pem";
    std::cout << std::endl;
    std::cerr << "kesm dev-broker: secured listeners; clients set "
              << secured.client_help(opts)
              << "\nkesm dev-broker: plaintext (for tools inside this host"
                 " only): "
              << broker->bootstrap() << "\n";
  } else
    std::cout << broker->bootstrap() << std::endl;
  std::cerr << "kesm dev-broker: " << opts.brokers
            << " broker(s) serving; Ctrl-C to stop\n";
  while (!wait_for_signal(std::chrono::milliseconds(1000))) {
    // keep serving
  }
  std::cerr << "kesm dev-broker: stopped\n";
  return 0;
}

} // namespace kesm::cli

#include "transport/producer.hpp"

namespace kesm::cli {

int run_produce(const produce_options& opts) {
  transport::kafka_props props;
  for (auto& p : opts.properties) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) {
      std::cerr << "kesm produce: a -X value has no '='; use name=value\n";
      return 2;
    }
    props[p.substr(0, eq)] = p.substr(eq + 1);
  }
  auto prod = transport::producer::connect(opts.bootstrap, props);
  if (!prod) {
    std::cerr << "kesm produce: " << prod.err().message << "\n";
    return 1;
  }
  transport::outgoing_record r;
  r.topic = opts.topic;
  r.partition = opts.partition;
  r.headers = {{"source", "kesm-produce"}};
  for (int i = 0; i < opts.count; ++i) {
    r.key = "k" + std::to_string(i);
    r.value = opts.value + "-" + std::to_string(i);
    if (auto ok = prod->produce(r); !ok) {
      std::cerr << "kesm produce: " << ok.err().message << "\n";
      return 1;
    }
  }
  if (auto ok = prod->flush(30000); !ok) {
    std::cerr << "kesm produce: " << ok.err().message << "; is the broker at "
              << opts.bootstrap << " up?\n";
    return 1;
  }
  std::cout << opts.count << " records produced to " << opts.topic << "\n";
  return 0;
}

} // namespace kesm::cli
