#include "codecs/dead_letter.hpp"

#include <cstdio>
#include <ctime>

#include "codecs/event_writer.hpp"

namespace kesm::codecs {

std::string_view to_string(failure_condition c) {
  switch (c) {
    case failure_condition::retry_attempts_exhausted:
      return "RetryAttemptsExhausted";
    case failure_condition::record_age_exceeded:
      return "RecordAgeExceeded";
    case failure_condition::schema_validation_failed:
      return "SchemaValidationFailed";
    default:
      return "MaximumPayloadSizeExceeded";
  }
}

std::string iso8601_ms(int64_t epoch_ms) {
  auto secs = static_cast<time_t>(epoch_ms / 1000);
  auto ms = static_cast<int>(epoch_ms % 1000);
  if (ms < 0) {
    ms += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, ms);
  return buf;
}

void write_dead_letter(std::string& out, const dead_letter_source& src,
                       std::string_view request_id, failure_condition cond,
                       uint32_t invoke_count,
                       const dead_letter_response* response, int64_t now_ms,
                       const record_view& record, std::string_view payload) {
  auto str = [&](std::string_view s) { event_writer::append_json_string(out, s); };
  out.reserve(out.size() + payload.size() + 640);
  out += "{\"requestContext\":{\"requestId\":";
  str(request_id);
  out += ",\"functionArn\":";
  str(src.function_arn);
  out += ",\"condition\":";
  str(to_string(cond));
  out += ",\"approximateInvokeCount\":";
  out += std::to_string(invoke_count);
  out += "},\"responseContext\":";
  if (response == nullptr) {
    out += "null";
  } else {
    out += "{\"statusCode\":";
    out += std::to_string(response->status);
    out += ",\"executedVersion\":";
    str(response->executed_version.empty() ? std::string_view("$LATEST")
                                            : response->executed_version);
    if (response->function_error) {
      out += ",\"functionError\":";
      str(response->function_error_type.empty()
            ? std::string_view("Unhandled")
            : response->function_error_type);
    }
    out += '}';
  }
  out += ",\"version\":\"1.0\",\"timestamp\":";
  str(iso8601_ms(now_ms));
  out += ",\"KafkaBatchInfo\":{\"batchSize\":1";
  if (!src.event_source_arn.empty()) {
    out += ",\"eventSourceArn\":";
    str(src.event_source_arn);
  }
  out += ",\"bootstrapServers\":";
  str(src.bootstrap_servers);
  out += ",\"payloadSize\":";
  out += std::to_string(payload.size());
  out += ",\"recordInfo\":{\"offset\":\"";
  out += std::to_string(record.offset);
  out += "\",\"timestamp\":";
  str(iso8601_ms(record.timestamp));
  out += "}},\"payload\":";
  out += payload;
  out += '}';
}

} // namespace kesm::codecs
