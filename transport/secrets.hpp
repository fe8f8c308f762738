#pragma once

#include <map>
#include <memory>
#include <string>

#include "codecs/expected.hpp"
#include "codecs/mapping_config.hpp"
#include "transport/kafka.hpp"

namespace kesm::transport {

/// Where secrets come from, by Secrets Manager ARN: the seam for an AWS
/// Secrets Manager source (issue 13). `get` returns the secret's JSON
/// object text; the error names the ARN and what to do, never a value.
/// Implementations are thread-safe.
class secret_source {
public:
  virtual ~secret_source() = default;
  virtual codecs::expected<std::string> get(const std::string& arn) const = 0;

  /// Drops what is cached of `arn`, so the next `get` reads it anew (after
  /// the cluster refused it: rotation). Sources that cache nothing ignore it.
  virtual void forget(const std::string& arn) const {
    static_cast<void>(arn);
  }
};

/// The config file's sources, tried in this order:
/// - `secrets`: ARN -> JSON object; a string value `${NAME}` is read from
///   the environment, `file:PATH` from a file (trailing newline dropped),
///   each time the secret is read, so a rotated value is picked up;
/// - `secrets_dir`: a file named by the secret's name (the ARN's part after
///   `secret:`, with or without Secrets Manager's 6-character suffix)
///   holding the JSON object;
/// - with `secrets_env`: the variable `KESM_SECRET_<NAME>` (name upper-case,
///   other characters `_`) holding the JSON object.
class config_secrets : public secret_source {
public:
  config_secrets(std::map<std::string, std::string> map, std::string dir,
                 bool env)
    : map_(std::move(map)), dir_(std::move(dir)), env_(env) {
    // nop
  }

  codecs::expected<std::string> get(const std::string& arn) const override;

private:
  std::map<std::string, std::string> map_;
  std::string dir_;
  bool env_;
};

/// The librdkafka security properties of `cfg`'s SourceAccessConfigurations
/// with its secrets read from `source` now (codecs::security_props); an
/// empty map when it has none. The error names the secret and the missing
/// key, never a value.
///
/// The result is also built into a librdkafka consumer together with
/// `base` (the process's `kafka` properties), without connecting: a
/// certificate or key librdkafka cannot load is refused now, not at connect
/// time.
codecs::expected<std::map<std::string, std::string>>
resolve_security(const codecs::mapping_config& cfg,
                 const secret_source& source,
                 const std::map<std::string, std::string>& base);

/// The secret name of a Secrets Manager ARN (after `:secret:`), or the
/// text itself when it is no such ARN.
std::string secret_name(const std::string& arn);

} // namespace kesm::transport
