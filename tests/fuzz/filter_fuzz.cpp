// libFuzzer target for the FilterCriteria compiler and matcher. Input:
// "<pattern>\n<record value>". Checks, besides not crashing: a pattern
// simdjson accepts has no syntax error offset, and matching one record
// twice gives the same answer (the reused scratch state leaks nothing).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "codecs/filter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto cut = in.find('\n');
  std::string pattern(in.substr(0, cut));
  std::string_view value = cut == std::string_view::npos ? std::string_view{}
                                                         : in.substr(cut + 1);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parser.parse(pattern).get(doc)
      && kesm::codecs::json_error_offset(pattern) != std::string::npos)
    std::abort(); // the offset finder refused what simdjson accepts
  auto f = kesm::codecs::record_filter::compile({pattern});
  if (!f)
    return 0;
  const void* v = value.empty() ? nullptr : value.data();
  bool first = f->matches(v, value.size());
  bool again = f->matches(v, value.size());
  if (first != again)
    std::abort();
  auto copy = f->clone();
  if (copy.matches(v, value.size()) != first)
    std::abort();
  return 0;
}
