#include "codecs/response_parser.hpp"

#include <charconv>

namespace kesm::codecs {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

error not_json() {
  return error{errc::invalid_json, "invalid function response: not JSON"};
}

error shape_error(std::string what) {
  return error{errc::invalid_shape,
               "invalid function response: " + std::move(what)
                 + "; expected {\"batchItemFailures\":[{\"itemIdentifier\":"
                   "{\"partition\":\"<topic>-<partition>\",\"offset\":N}}]}"};
}

bool only_whitespace(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t')
      return false;
  return true;
}

bool read_offset(element v, int64_t& out) {
  if (v.is_int64())
    return !v.get_int64().get(out) && out >= 0;
  if (v.is_uint64())
    return false; // beyond int64: no such offset
  std::string_view s;
  if (v.get_string().get(s) || s.empty())
    return false;
  auto res = std::from_chars(s.data(), s.data() + s.size(), out);
  return res.ec == std::errc{} && res.ptr == s.data() + s.size() && out >= 0;
}

} // namespace

expected<function_response> response_parser::parse(std::string_view body) {
  function_response result;
  if (only_whitespace(body))
    return result;
  element doc;
  if (parser_.parse(body.data(), body.size()).get(doc))
    return not_json();
  if (doc.is_null())
    return result;
  simdjson::dom::object obj;
  if (doc.get_object().get(obj))
    return shape_error("the answer is neither an object nor null");
  element list;
  if (obj["batchItemFailures"].get(list) || list.is_null())
    return result; // no list: full success, as Lambda treats it
  simdjson::dom::array arr;
  if (list.get_array().get(arr))
    return shape_error("batchItemFailures is not a list");
  result.failures.reserve(arr.size());
  for (auto item : arr) {
    simdjson::dom::object ident;
    if (item["itemIdentifier"].get_object().get(ident))
      return shape_error("a batchItemFailures entry has no itemIdentifier"
                         " object");
    std::string_view part;
    if (ident["partition"].get_string().get(part) || part.empty())
      return shape_error("an itemIdentifier has no partition string");
    item_failure f;
    element off;
    if (ident["offset"].get(off) || !read_offset(off, f.offset))
      return shape_error("an itemIdentifier has no valid offset");
    f.partition.assign(part);
    result.failures.push_back(std::move(f));
  }
  return result;
}

} // namespace kesm::codecs
