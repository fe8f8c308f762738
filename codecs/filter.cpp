#include "codecs/filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

namespace kesm::codecs {

namespace filter_detail {

enum class op : uint8_t {
  eq_string,
  eq_number,
  eq_bool,
  eq_null,
  prefix,
  suffix,
  eq_ignore_case,
  anything_but,
  numeric,
  exists,
};

/// One match value of a leaf list (the list is OR-ed).
struct leaf {
  op kind = op::eq_string;
  /// eq_string, prefix, suffix; eq_ignore_case lower-cased.
  std::string text;
  double number = 0;
  /// eq_bool's value, exists' value.
  bool flag = false;
  /// anything-but: what kind of exclusion, and the excluded values.
  op but = op::eq_string;
  std::vector<std::string> but_strings;
  std::vector<double> but_numbers;
  /// numeric: bounds.
  bool has_lo = false, lo_incl = false, has_hi = false, hi_incl = false;
  double lo = 0, hi = 0;
};

struct node;

/// What a key of a pattern asks: a leaf list, or a nested pattern.
struct rule {
  std::vector<leaf> leaves;
  std::unique_ptr<node> child;
};

/// An object of a pattern: every field (AND) and every `$or` (one of its
/// alternatives) must match.
struct node {
  std::vector<std::pair<std::string, rule>> fields;
  std::vector<std::vector<node>> ors;
};

} // namespace filter_detail

namespace {

using namespace filter_detail;
using simdjson::dom::element;
using simdjson::dom::element_type;

// ---------------------------------------------------------------- compile

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

/// Where `path` and then `token` first appear in `text`: a best effort
/// pointer for error messages.
size_t locate(std::string_view text, const std::vector<std::string>& path,
              std::string_view token) {
  size_t pos = 0;
  for (auto& seg : path) {
    auto at = text.find("\"" + seg + "\"", pos);
    if (at == std::string_view::npos)
      break;
    pos = at;
  }
  if (!token.empty()) {
    auto at = text.find("\"" + std::string(token) + "\"", pos);
    if (at != std::string_view::npos)
      pos = at;
  }
  return pos;
}

struct compiler {
  std::string_view text;
  std::vector<std::string> path;
  std::string error;
  bool allow_key = false;
  bool uses_key = false;

  bool fail(std::string_view problem, std::string_view operator_name = {}) {
    std::string where;
    for (auto& seg : path)
      where += (where.empty() ? "" : ".") + seg;
    error = std::string(problem);
    if (!operator_name.empty())
      error += " (operator \"" + std::string(operator_name) + "\")";
    error += " at " + (where.empty() ? std::string("the top level") : where);
    error += ", character "
             + std::to_string(locate(text, path,
                                     operator_name.empty()
                                       ? std::string_view{}
                                       : std::string_view(operator_name)));
    return false;
  }

  static bool number_of(element e, double& out) {
    switch (e.type()) {
      case element_type::INT64:
        out = static_cast<double>(e.get_int64().value_unsafe());
        return true;
      case element_type::UINT64:
        out = static_cast<double>(e.get_uint64().value_unsafe());
        return true;
      case element_type::DOUBLE:
        out = e.get_double().value_unsafe();
        return std::isfinite(out);
      default:
        return false;
    }
  }

  bool anything_but(element v, leaf& l) {
    l.kind = op::anything_but;
    const char* name = "anything-but";
    if (v.is_string()) {
      l.but_strings.emplace_back(v.get_string().value_unsafe());
      return true;
    }
    double n = 0;
    if (number_of(v, n)) {
      l.but_numbers.push_back(n);
      return true;
    }
    if (v.is_array()) {
      bool strings = false, numbers = false;
      simdjson::dom::array item_list = v.get_array().value_unsafe();
      for (auto item : item_list) {
        if (item.is_string()) {
          strings = true;
          l.but_strings.emplace_back(item.get_string().value_unsafe());
        } else if (number_of(item, n)) {
          numbers = true;
          l.but_numbers.push_back(n);
        } else {
          return fail("anything-but lists hold only strings or only numbers",
                      name);
        }
      }
      if (strings && numbers)
        return fail("anything-but lists hold only strings or only numbers",
                    name);
      if (!strings && !numbers)
        return fail("anything-but needs at least one value", name);
      return true;
    }
    if (v.is_object()) {
      auto obj = v.get_object().value_unsafe();
      if (obj.size() != 1)
        return fail("anything-but takes one of prefix, suffix,"
                    " equals-ignore-case",
                    name);
      auto [key, inner] = *obj.begin();
      if (key == "prefix" || key == "suffix") {
        if (!inner.is_string())
          return fail("must be a string", key);
        l.but = key == "prefix" ? op::prefix : op::suffix;
        l.but_strings.emplace_back(inner.get_string().value_unsafe());
        return true;
      }
      if (key == "equals-ignore-case") {
        l.but = op::eq_ignore_case;
        if (inner.is_string()) {
          l.but_strings.push_back(lower_ascii(inner.get_string().value_unsafe()));
          return true;
        }
        if (inner.is_array() && inner.get_array().size() > 0) {
          simdjson::dom::array item_list = inner.get_array().value_unsafe();
          for (auto item : item_list) {
            if (!item.is_string())
              return fail("must be a string or a list of strings", key);
            l.but_strings.push_back(lower_ascii(item.get_string().value_unsafe()));
          }
          return true;
        }
        return fail("must be a string or a list of strings", key);
      }
      return fail("anything-but takes one of prefix, suffix,"
                  " equals-ignore-case, not \"" + std::string(key) + "\"",
                  name);
    }
    return fail("anything-but takes a string, a number, a list or an"
                " object",
                name);
  }

  bool numeric(element v, leaf& l) {
    l.kind = op::numeric;
    const char* name = "numeric";
    if (!v.is_array())
      return fail("numeric takes a list such as [\">\", 0, \"<=\", 5]", name);
    auto list = v.get_array().value_unsafe();
    size_t n = list.size();
    if (n != 2 && n != 4)
      return fail("numeric takes one or two comparisons", name);
    for (size_t i = 0; i < n; i += 2) {
      element o = list.at(i).value_unsafe(), num = list.at(i + 1).value_unsafe();
      if (!o.is_string())
        return fail("a comparison must be one of =, <, <=, >, >=", name);
      std::string_view cmp = o.get_string().value_unsafe();
      double x = 0;
      if (!number_of(num, x))
        return fail("comparison " + std::string(cmp) + " needs a number",
                    name);
      if (cmp == "=") {
        if (n != 2)
          return fail("\"=\" stands alone", name);
        l.has_lo = l.has_hi = l.lo_incl = l.hi_incl = true;
        l.lo = l.hi = x;
      } else if (cmp == ">" || cmp == ">=") {
        if (l.has_lo)
          return fail("two lower bounds", name);
        l.has_lo = true;
        l.lo_incl = cmp == ">=";
        l.lo = x;
      } else if (cmp == "<" || cmp == "<=") {
        if (l.has_hi)
          return fail("two upper bounds", name);
        l.has_hi = true;
        l.hi_incl = cmp == "<=";
        l.hi = x;
      } else {
        return fail("unknown comparison \"" + std::string(cmp)
                      + "\"; use =, <, <=, >, >=",
                    name);
      }
    }
    if (n == 4 && (!l.has_lo || !l.has_hi))
      return fail("a range needs a lower and an upper bound", name);
    if (n == 4 && l.lo >= l.hi)
      return fail("the lower bound must be below the upper bound", name);
    return true;
  }

  bool match_value(element v, leaf& l) {
    double n = 0;
    switch (v.type()) {
      case element_type::STRING:
        l.kind = op::eq_string;
        l.text = v.get_string().value_unsafe();
        return true;
      case element_type::BOOL:
        l.kind = op::eq_bool;
        l.flag = v.get_bool().value_unsafe();
        return true;
      case element_type::NULL_VALUE:
        l.kind = op::eq_null;
        return true;
      case element_type::ARRAY:
        return fail("a match value cannot be a list");
      case element_type::OBJECT:
        break;
      default:
        if (!number_of(v, n))
          return fail("a number must be finite");
        l.kind = op::eq_number;
        l.number = n;
        return true;
    }
    auto obj = v.get_object().value_unsafe();
    if (obj.size() != 1)
      return fail("an operator object holds exactly one operator");
    auto [key, arg] = *obj.begin();
    if (key == "prefix" || key == "suffix" || key == "equals-ignore-case") {
      if (!arg.is_string())
        return fail("must be a string", key);
      l.kind = key == "prefix"   ? op::prefix
               : key == "suffix" ? op::suffix
                                 : op::eq_ignore_case;
      l.text = key == "equals-ignore-case"
                 ? lower_ascii(arg.get_string().value_unsafe())
                 : std::string(arg.get_string().value_unsafe());
      return true;
    }
    if (key == "anything-but")
      return anything_but(arg, l);
    if (key == "numeric")
      return numeric(arg, l);
    if (key == "exists") {
      if (!arg.is_bool())
        return fail("must be true or false", key);
      l.kind = op::exists;
      l.flag = arg.get_bool().value_unsafe();
      return true;
    }
    return fail("unsupported operator \"" + std::string(key)
                  + "\"; use prefix, suffix, equals-ignore-case, "
                    "anything-but, numeric or exists",
                key);
  }

  bool object(element v, node& out, bool top, int depth) {
    if (depth > 32)
      return fail("the pattern is nested too deeply");
    auto obj = v.get_object().value_unsafe();
    if (obj.size() == 0)
      return fail("an object of a pattern needs at least one field");
    for (auto [key, val] : obj) {
      path.emplace_back(key);
      if (key == "$or") {
        if (!val.is_array() || val.get_array().size() < 2)
          return fail("$or takes a list of at least two patterns", "$or");
        std::vector<node> alts;
        simdjson::dom::array alt_list = val.get_array().value_unsafe();
        for (auto alt : alt_list) {
          if (!alt.is_object())
            return fail("each $or alternative must be an object", "$or");
          alts.emplace_back();
          path.pop_back();
          if (!object(alt, alts.back(), top, depth + 1))
            return false;
          path.emplace_back(key);
        }
        out.ors.push_back(std::move(alts));
      } else {
        if (top && key == "key" && allow_key)
          uses_key = true;
        else if (top && key != "value")
          return fail(std::string("for Kafka only \"value\"")
                      + (allow_key ? " and \"key\"" : "")
                      + " can be filtered, not \"" + std::string(key) + "\""
                      + (key == "key" ? " (\"key\" needs a SchemaRegistryConfig)"
                                      : ""));
        rule r;
        if (val.is_object()) {
          r.child = std::make_unique<node>();
          if (!object(val, *r.child, false, depth + 1))
            return false;
        } else if (val.is_array()) {
          if (val.get_array().size() == 0)
            return fail("a list of match values cannot be empty");
          simdjson::dom::array item_list = val.get_array().value_unsafe();
          for (auto item : item_list) {
            r.leaves.emplace_back();
            if (!match_value(item, r.leaves.back()))
              return false;
          }
        } else {
          return fail("must be a list of match values or an object");
        }
        out.fields.emplace_back(std::string(key), std::move(r));
      }
      path.pop_back();
    }
    return true;
  }
};

// ------------------------------------------------------------------ match

/// A record scalar, from JSON or from a plain text value.
struct scalar {
  enum kind_t : uint8_t { string, number, boolean, null, other } kind = other;
  std::string_view s;
  double n = 0;
  bool b = false;
};

scalar to_scalar(element e) {
  scalar out;
  switch (e.type()) {
    case element_type::STRING:
      out.kind = scalar::string;
      out.s = e.get_string().value_unsafe();
      break;
    case element_type::INT64:
      out.kind = scalar::number;
      out.n = static_cast<double>(e.get_int64().value_unsafe());
      break;
    case element_type::UINT64:
      out.kind = scalar::number;
      out.n = static_cast<double>(e.get_uint64().value_unsafe());
      break;
    case element_type::DOUBLE:
      out.kind = scalar::number;
      out.n = e.get_double().value_unsafe();
      break;
    case element_type::BOOL:
      out.kind = scalar::boolean;
      out.b = e.get_bool().value_unsafe();
      break;
    case element_type::NULL_VALUE:
      out.kind = scalar::null;
      break;
    default:
      break;
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool ends_with(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

bool equals_ignore_case(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size())
    return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i])
      return false;
  }
  return true;
}

bool leaf_matches(const leaf& l, const scalar& v) {
  switch (l.kind) {
    case op::eq_string:
      return v.kind == scalar::string && v.s == l.text;
    case op::eq_number:
      return v.kind == scalar::number && v.n == l.number;
    case op::eq_bool:
      return v.kind == scalar::boolean && v.b == l.flag;
    case op::eq_null:
      return v.kind == scalar::null;
    case op::prefix:
      return v.kind == scalar::string && starts_with(v.s, l.text);
    case op::suffix:
      return v.kind == scalar::string && ends_with(v.s, l.text);
    case op::eq_ignore_case:
      return v.kind == scalar::string && equals_ignore_case(v.s, l.text);
    case op::numeric:
      if (v.kind != scalar::number)
        return false;
      if (l.has_lo && (l.lo_incl ? v.n < l.lo : v.n <= l.lo))
        return false;
      if (l.has_hi && (l.hi_incl ? v.n > l.hi : v.n >= l.hi))
        return false;
      return true;
    case op::exists:
      return l.flag;
    case op::anything_but:
      switch (l.but) {
        case op::prefix:
          return v.kind == scalar::string && !starts_with(v.s, l.but_strings[0]);
        case op::suffix:
          return v.kind == scalar::string && !ends_with(v.s, l.but_strings[0]);
        case op::eq_ignore_case:
          if (v.kind != scalar::string)
            return false;
          for (auto& x : l.but_strings)
            if (equals_ignore_case(v.s, x))
              return false;
          return true;
        default:
          if (v.kind == scalar::string)
            return std::find(l.but_strings.begin(), l.but_strings.end(), v.s)
                   == l.but_strings.end();
          if (v.kind == scalar::number)
            return std::find(l.but_numbers.begin(), l.but_numbers.end(), v.n)
                   == l.but_numbers.end();
          return v.kind != scalar::other;
      }
  }
  return false;
}

/// Whether `r` lists `{"exists": flag}`.
bool lists_exists(const rule& r, bool flag) {
  for (auto& l : r.leaves)
    if (l.kind == op::exists && l.flag == flag)
      return true;
  return false;
}

bool any_leaf(const rule& r, const scalar& v) {
  for (auto& l : r.leaves)
    if (leaf_matches(l, v))
      return true;
  return false;
}

bool absent_matches(const rule& r);

bool match_node(const node& n, const element* obj);

/// Matches `r` against a field: `el` null when the field is absent.
bool match_rule(const rule& r, const element* el) {
  if (el == nullptr)
    return absent_matches(r);
  auto type = el->type();
  if (r.child) {
    if (type == element_type::OBJECT)
      return match_node(*r.child, el);
    if (type == element_type::ARRAY) {
      simdjson::dom::array items = el->get_array().value_unsafe();
      for (auto item : items)
        if (item.is_object() && match_node(*r.child, &item))
          return true;
      return false;
    }
    return match_node(*r.child, nullptr); // a leaf: its sub-fields are absent
  }
  if (type == element_type::OBJECT)
    return false; // not a leaf
  if (type == element_type::ARRAY) {
    if (lists_exists(r, true))
      return true;
    simdjson::dom::array items = el->get_array().value_unsafe();
    for (auto item : items)
      if (!item.is_object() && !item.is_array() && any_leaf(r, to_scalar(item)))
        return true;
    return false;
  }
  return any_leaf(r, to_scalar(*el));
}

bool absent_matches(const rule& r) {
  if (r.child)
    return match_node(*r.child, nullptr);
  return lists_exists(r, false);
}

/// All of `n`'s fields pass `field`, and each of its `$or`s has an
/// alternative that passes `alt`.
template <class Field, class Alt>
bool node_matches(const node& n, Field&& field, Alt&& alt) {
  for (auto& [key, r] : n.fields)
    if (!field(key, r))
      return false;
  for (auto& alts : n.ors)
    if (std::none_of(alts.begin(), alts.end(), alt))
      return false;
  return true;
}

bool match_node(const node& n, const element* obj) {
  return node_matches(
    n,
    [&](const std::string& key, const rule& r) {
      element child;
      bool present = obj != nullptr
                     && !obj->get_object().value_unsafe().at_key(key).get(child);
      return match_rule(r, present ? &child : nullptr);
    },
    [&](const node& alt) { return match_node(alt, obj); });
}

/// The record value as the top-level `value` field sees it.
struct subject {
  enum kind_t : uint8_t { json, plain, binary } kind = json;
  element root;
  std::string_view text;
};

bool match_value_rule(const rule& r, const subject& s) {
  switch (s.kind) {
    case subject::json:
      return match_rule(r, &s.root);
    case subject::plain: {
      if (r.child)
        return match_node(*r.child, nullptr);
      scalar v;
      v.kind = scalar::string;
      v.s = s.text;
      return any_leaf(r, v);
    }
    default: // not UTF-8: nothing inside can be looked at
      return !r.child && lists_exists(r, true);
  }
}

bool match_top(const node& n, const subject& value, const subject& key) {
  return node_matches(
    n,
    [&](const std::string& field, const rule& r) {
      return match_value_rule(r, field == "key" ? key : value);
    },
    [&](const node& alt) { return match_top(alt, value, key); });
}

/// Reads `raw` (nullptr: the JSON null) as a filter subject: JSON, plain
/// UTF-8 text, or binary; `scratch` holds the padded copy the parser reads.
void read_subject(subject& s, const void* raw, size_t len,
                  simdjson::dom::parser& parser,
                  std::unique_ptr<char[]>& scratch, size_t& cap) {
  const char* data = static_cast<const char*>(raw);
  if (data == nullptr) {
    data = "null";
    len = 4;
  }
  if (!simdjson::validate_utf8(data, len)) {
    s.kind = subject::binary;
    return;
  }
  size_t need = len + simdjson::SIMDJSON_PADDING;
  if (need > cap) {
    cap = std::max(need, cap * 2);
    scratch.reset(new char[cap]);
  }
  std::memcpy(scratch.get(), data, len);
  std::memset(scratch.get() + len, 0, simdjson::SIMDJSON_PADDING);
  if (parser.parse(scratch.get(), len, false).get(s.root)) {
    s.kind = subject::plain;
    s.text = std::string_view(data, len);
  }
}

// ------------------------------------------------------ syntax positions

struct syntax {
  std::string_view t;
  size_t i = 0;

  void ws() {
    while (i < t.size()
           && (t[i] == ' ' || t[i] == '\n' || t[i] == '\r' || t[i] == '\t'))
      ++i;
  }
  bool lit(std::string_view w) {
    if (t.substr(i, w.size()) != w)
      return false;
    i += w.size();
    return true;
  }
  bool str() {
    if (i >= t.size() || t[i] != '"')
      return false;
    for (++i; i < t.size(); ++i) {
      auto c = static_cast<unsigned char>(t[i]);
      if (c == '"') {
        ++i;
        return true;
      }
      if (c < 0x20)
        return false;
      if (c == '\\')
        ++i;
    }
    return false;
  }
  bool num() {
    size_t start = i;
    if (i < t.size() && t[i] == '-')
      ++i;
    size_t digits = i;
    while (i < t.size() && t[i] >= '0' && t[i] <= '9')
      ++i;
    if (i == digits)
      return i = start, false;
    if (t[digits] == '0' && i > digits + 1)
      return i = digits + 1, false; // no leading zeros
    if (i < t.size() && t[i] == '.') {
      ++i;
      size_t frac = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9')
        ++i;
      if (i == frac)
        return false;
    }
    if (i < t.size() && (t[i] == 'e' || t[i] == 'E')) {
      ++i;
      if (i < t.size() && (t[i] == '+' || t[i] == '-'))
        ++i;
      size_t exp = i;
      while (i < t.size() && t[i] >= '0' && t[i] <= '9')
        ++i;
      if (i == exp)
        return false;
    }
    return true;
  }
  /// An object or array body after its opening bracket: `member`s
  /// separated by commas, up to `close`.
  template <class Member>
  bool sequence(char close, Member&& member) {
    ++i;
    ws();
    if (i < t.size() && t[i] == close)
      return ++i, true;
    for (;;) {
      if (!member())
        return false;
      ws();
      if (i < t.size() && t[i] == ',') {
        ++i;
        continue;
      }
      if (i < t.size() && t[i] == close)
        return ++i, true;
      return false;
    }
  }

  bool value(int depth) {
    ws();
    if (i >= t.size() || depth > 1000)
      return false;
    switch (t[i]) {
      case '{':
        return sequence('}', [&] {
          ws();
          if (!str())
            return false;
          ws();
          if (i >= t.size() || t[i] != ':')
            return false;
          ++i;
          return value(depth + 1);
        });
      case '[':
        return sequence(']', [&] { return value(depth + 1); });
      case '"':
        return str();
      case 't':
        return lit("true");
      case 'f':
        return lit("false");
      case 'n':
        return lit("null");
      default:
        return num();
    }
  }
};

} // namespace

size_t json_error_offset(std::string_view text) {
  syntax s{text};
  if (!s.value(0))
    return std::min(s.i, text.size());
  s.ws();
  return s.i == text.size() ? std::string_view::npos : s.i;
}

record_filter::record_filter() = default;
record_filter::~record_filter() = default;
record_filter::record_filter(record_filter&&) noexcept = default;
record_filter& record_filter::operator=(record_filter&&) noexcept = default;

expected<record_filter>
record_filter::compile(const std::vector<std::string>& patterns,
                       bool allow_key) {
  record_filter out;
  simdjson::dom::parser parser;
  for (size_t i = 0; i < patterns.size(); ++i) {
    const auto& text = patterns[i];
    auto where = "Invalid filter pattern definition: Filters["
                 + std::to_string(i) + "].Pattern: ";
    element root;
    if (parser.parse(text).get(root)) {
      auto at = json_error_offset(text);
      return error{errc::invalid_parameter,
                   where + "not valid JSON at character "
                     + std::to_string(at == std::string::npos ? 0 : at)};
    }
    if (!root.is_object())
      return error{errc::invalid_parameter,
                   where + "must be a JSON object, such as"
                           " {\"value\":{\"field\":[\"x\"]}}"};
    compiler c;
    c.text = text;
    c.allow_key = allow_key;
    auto n = std::make_shared<node>();
    if (!c.object(root, *n, true, 0))
      return error{errc::invalid_parameter, where + c.error};
    out.uses_key_ = out.uses_key_ || c.uses_key;
    out.patterns_.push_back(std::move(n));
  }
  return out;
}

record_filter record_filter::clone() const {
  record_filter out;
  out.patterns_ = patterns_; // immutable nodes, shared
  out.uses_key_ = uses_key_;
  return out;
}

bool record_filter::matches(const void* value, size_t len, const void* key,
                            size_t key_len) {
  if (patterns_.empty())
    return true;
  subject v, k;
  read_subject(v, value, len, parser_, scratch_, scratch_cap_);
  if (uses_key_)
    read_subject(k, key, key_len, key_parser_, key_scratch_, key_scratch_cap_);
  for (auto& p : patterns_)
    if (match_top(*p, v, k))
      return true;
  return false;
}

} // namespace kesm::codecs
