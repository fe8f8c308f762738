#include "codecs/avro.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>

#include <simdjson.h>

#include "codecs/base64.hpp"
#include "codecs/event_writer.hpp"

namespace kesm::codecs {

enum class avro_type : uint8_t {
  null_t,
  boolean_t,
  int_t,
  long_t,
  float_t,
  double_t,
  bytes_t,
  string_t,
  record_t,
  enum_t,
  array_t,
  map_t,
  union_t,
  fixed_t
};

struct avro_schema::node {
  avro_type type = avro_type::null_t;
  /// decimal logical type: scale (precision is not needed to decode).
  bool decimal = false;
  int scale = 0;
  size_t fixed_size = 0;
  std::string name; // full name of named types
  /// record: field names (JSON-quoted, with ':'), union: branches,
  /// array/map: the one child.
  std::vector<std::string> field_keys;
  std::vector<const node*> children;
  std::vector<std::string> symbols; // enum symbols, JSON-quoted
};

namespace {

using node = avro_schema::node;
using simdjson::dom::element;

constexpr int max_depth = 64;

error bad_schema(const std::string& why) {
  return error{errc::invalid_parameter, "Avro schema: " + why};
}

struct compiler {
  std::vector<std::unique_ptr<node>>& nodes;
  std::map<std::string, const node*> named;

  node* make(avro_type t) {
    nodes.push_back(std::make_unique<node>());
    nodes.back()->type = t;
    return nodes.back().get();
  }

  static std::string full_name(std::string_view name, std::string_view ns) {
    if (name.find('.') != std::string_view::npos || ns.empty())
      return std::string(name);
    return std::string(ns) + "." + std::string(name);
  }

  expected<const node*> primitive(std::string_view t, std::string_view ns) {
    // Trivially destructible: a fetch thread may still compile a schema
    // while the process exits and destroys function-local statics.
    static constexpr std::pair<std::string_view, avro_type> prims[] = {
      {"null", avro_type::null_t},   {"boolean", avro_type::boolean_t},
      {"int", avro_type::int_t},     {"long", avro_type::long_t},
      {"float", avro_type::float_t}, {"double", avro_type::double_t},
      {"bytes", avro_type::bytes_t}, {"string", avro_type::string_t}};
    for (auto& [name, type] : prims)
      if (name == t)
        return static_cast<const node*>(make(type));
    for (auto& n : {full_name(t, ns), std::string(t)}) {
      auto it = named.find(n);
      if (it != named.end())
        return it->second;
    }
    return bad_schema("unknown type \"" + std::string(t).substr(0, 100) + "\"");
  }

  expected<const node*> compile(element e, std::string_view ns, int depth) {
    if (depth > max_depth)
      return bad_schema("nested deeper than 64 levels");
    std::string_view s;
    if (!e.get_string().get(s))
      return primitive(s, ns);
    simdjson::dom::array arr;
    if (!e.get_array().get(arr)) {
      auto* u = make(avro_type::union_t);
      for (auto b : arr) {
        auto c = compile(b, ns, depth + 1);
        if (!c)
          return c.err();
        u->children.push_back(*c);
      }
      if (u->children.empty())
        return bad_schema("a union needs at least one branch");
      return static_cast<const node*>(u);
    }
    simdjson::dom::object obj;
    if (e.get_object().get(obj))
      return bad_schema("a schema is a string, an array or an object");
    std::string_view type;
    element type_el;
    if (obj["type"].get(type_el))
      return bad_schema("an object schema needs \"type\"");
    if (type_el.get_string().get(type))
      return compile(type_el, ns, depth + 1); // {"type": {...}} or [...]
    std::string_view logical;
    bool has_logical = !obj["logicalType"].get_string().get(logical);
    if (type == "record" || type == "error" || type == "enum"
        || type == "fixed") {
      std::string_view name, own_ns = ns;
      if (obj["name"].get_string().get(name))
        return bad_schema(std::string(type) + " needs a \"name\"");
      std::string_view given_ns;
      if (!obj["namespace"].get_string().get(given_ns))
        own_ns = given_ns;
      auto full = full_name(name, own_ns);
      auto dot = full.rfind('.');
      std::string child_ns
          = dot == std::string::npos ? "" : full.substr(0, dot);
      if (type == "enum") {
        auto* n = make(avro_type::enum_t);
        n->name = full;
        simdjson::dom::array syms;
        if (obj["symbols"].get_array().get(syms))
          return bad_schema("enum " + full + " needs \"symbols\"");
        for (auto sym : syms) {
          std::string_view v;
          if (sym.get_string().get(v))
            return bad_schema("enum " + full + ": symbols are strings");
          std::string q;
          event_writer::append_json_string(q, v);
          n->symbols.push_back(std::move(q));
        }
        named[full] = n;
        return static_cast<const node*>(n);
      }
      if (type == "fixed") {
        auto* n = make(avro_type::fixed_t);
        n->name = full;
        uint64_t size = 0;
        if (obj["size"].get_uint64().get(size))
          return bad_schema("fixed " + full + " needs \"size\"");
        n->fixed_size = size;
        if (has_logical && logical == "decimal") {
          n->decimal = true;
          int64_t scale = 0;
          if (!obj["scale"].get_int64().get(scale))
            n->scale = static_cast<int>(scale);
        }
        named[full] = n;
        return static_cast<const node*>(n);
      }
      auto* n = make(avro_type::record_t);
      n->name = full;
      named[full] = n; // before the fields: records may refer to themselves
      simdjson::dom::array fields;
      if (obj["fields"].get_array().get(fields))
        return bad_schema("record " + full + " needs \"fields\"");
      for (auto f : fields) {
        std::string_view fname;
        element ftype;
        if (f["name"].get_string().get(fname) || f["type"].get(ftype))
          return bad_schema("record " + full
                            + ": every field needs \"name\" and \"type\"");
        auto c = compile(ftype, child_ns, depth + 1);
        if (!c)
          return c.err();
        std::string key;
        event_writer::append_json_string(key, fname);
        key += ':';
        n->field_keys.push_back(std::move(key));
        n->children.push_back(*c);
      }
      return static_cast<const node*>(n);
    }
    if (type == "array" || type == "map") {
      auto* n = make(type == "array" ? avro_type::array_t : avro_type::map_t);
      element child;
      if (obj[type == "array" ? "items" : "values"].get(child))
        return bad_schema(std::string(type) + " needs \""
                          + (type == "array" ? "items" : "values") + "\"");
      auto c = compile(child, ns, depth + 1);
      if (!c)
        return c.err();
      n->children.push_back(*c);
      return static_cast<const node*>(n);
    }
    auto p = primitive(type, ns);
    if (!p)
      return p;
    if (has_logical && logical == "decimal"
        && (*p)->type == avro_type::bytes_t) {
      auto* n = make(avro_type::bytes_t);
      n->decimal = true;
      int64_t scale = 0;
      if (!obj["scale"].get_int64().get(scale))
        n->scale = static_cast<int>(scale);
      return static_cast<const node*>(n);
    }
    return p;
  }
};

struct reader {
  const uint8_t* p;
  const uint8_t* end;
  std::string& out;
  const char* fail = nullptr;

  bool varint(int64_t& v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) {
        fail = "cut short";
        return false;
      }
      uint8_t b = *p++;
      x |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (!(b & 0x80)) {
        v = static_cast<int64_t>((x >> 1) ^ (~(x & 1) + 1)); // zigzag
        return true;
      }
    }
    fail = "a varint longer than 10 bytes";
    return false;
  }

  bool bytes(const uint8_t*& data, size_t& len) {
    int64_t n = 0;
    if (!varint(n))
      return false;
    if (n < 0 || static_cast<uint64_t>(n) > static_cast<size_t>(end - p)) {
      fail = n < 0 ? "a negative length" : "cut short";
      return false;
    }
    data = p;
    len = static_cast<size_t>(n);
    p += n;
    return true;
  }

  void number(double d, bool is_float) {
    if (std::isnan(d)) {
      out += "\"NaN\"";
      return;
    }
    if (std::isinf(d)) {
      out += d > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      return;
    }
    // Shortest text that reads back to the same value.
    char buf[40];
    auto r = is_float
                 ? std::to_chars(buf, buf + sizeof buf, static_cast<float>(d))
                 : std::to_chars(buf, buf + sizeof buf, d);
    out.append(buf, r.ptr);
  }

  /// Two's-complement big-endian unscaled integer with `scale` digits
  /// after the point, as an exact decimal string.
  void decimal(const uint8_t* data, size_t len, int scale) {
    // Magnitude in base 1e9 limbs, little-endian.
    bool neg = len > 0 && (data[0] & 0x80);
    std::vector<uint8_t> mag(data, data + len);
    if (neg) { // negate: invert and add one
      for (auto& b : mag)
        b = static_cast<uint8_t>(~b);
      for (size_t i = mag.size(); i-- > 0;)
        if (++mag[i] != 0)
          break;
    }
    std::vector<uint32_t> limbs; // base 1e9
    for (auto b : mag) {
      uint64_t carry = b;
      for (auto& l : limbs) {
        uint64_t v = static_cast<uint64_t>(l) * 256 + carry;
        l = static_cast<uint32_t>(v % 1000000000u);
        carry = v / 1000000000u;
      }
      while (carry) {
        limbs.push_back(static_cast<uint32_t>(carry % 1000000000u));
        carry /= 1000000000u;
      }
    }
    std::string digits;
    if (limbs.empty())
      digits = "0";
    else {
      digits = std::to_string(limbs.back());
      for (size_t i = limbs.size() - 1; i-- > 0;) {
        char buf[16];
        std::snprintf(buf, sizeof buf, "%09u", limbs[i]);
        digits += buf;
      }
    }
    if (scale > 0) {
      if (digits.size() <= static_cast<size_t>(scale))
        digits.insert(0, static_cast<size_t>(scale) + 1 - digits.size(), '0');
      digits.insert(digits.size() - static_cast<size_t>(scale), ".");
    }
    out += '"';
    if (neg && digits.find_first_not_of("0.") != std::string::npos)
      out += '-';
    out += digits;
    out += '"';
  }

  bool value(const node* n, int depth) {
    if (depth > max_depth) {
      fail = "nested deeper than 64 levels";
      return false;
    }
    switch (n->type) {
    case avro_type::null_t:
      out += "null";
      return true;
    case avro_type::boolean_t:
      if (p == end) {
        fail = "cut short";
        return false;
      }
      if (*p > 1) {
        fail = "a boolean byte other than 0 or 1";
        return false;
      }
      out += *p++ ? "true" : "false";
      return true;
    case avro_type::int_t:
    case avro_type::long_t: {
      int64_t v = 0;
      if (!varint(v))
        return false;
      if (n->type == avro_type::int_t && (v < INT32_MIN || v > INT32_MAX)) {
        fail = "an int out of 32-bit range";
        return false;
      }
      out += std::to_string(v);
      return true;
    }
    case avro_type::float_t: {
      if (end - p < 4) {
        fail = "cut short";
        return false;
      }
      float f;
      std::memcpy(&f, p, 4); // little-endian, as x86 and arm64 are
      p += 4;
      number(static_cast<double>(f), true);
      return true;
    }
    case avro_type::double_t: {
      if (end - p < 8) {
        fail = "cut short";
        return false;
      }
      double d;
      std::memcpy(&d, p, 8);
      p += 8;
      number(d, false);
      return true;
    }
    case avro_type::bytes_t:
    case avro_type::string_t: {
      const uint8_t* data = nullptr;
      size_t len = 0;
      if (!bytes(data, len))
        return false;
      if (n->decimal)
        decimal(data, len, n->scale);
      else if (n->type == avro_type::string_t)
        event_writer::append_json_string(
            out, std::string_view(reinterpret_cast<const char*>(data), len));
      else
        base64_string(data, len);
      return true;
    }
    case avro_type::fixed_t: {
      if (static_cast<size_t>(end - p) < n->fixed_size) {
        fail = "cut short";
        return false;
      }
      if (n->decimal)
        decimal(p, n->fixed_size, n->scale);
      else
        base64_string(p, n->fixed_size);
      p += n->fixed_size;
      return true;
    }
    case avro_type::enum_t: {
      int64_t i = 0;
      if (!varint(i))
        return false;
      if (i < 0 || static_cast<size_t>(i) >= n->symbols.size()) {
        fail = "an enum index out of range";
        return false;
      }
      out += n->symbols[static_cast<size_t>(i)];
      return true;
    }
    case avro_type::union_t: {
      int64_t i = 0;
      if (!varint(i))
        return false;
      if (i < 0 || static_cast<size_t>(i) >= n->children.size()) {
        fail = "a union branch out of range";
        return false;
      }
      return value(n->children[static_cast<size_t>(i)], depth + 1);
    }
    case avro_type::record_t: {
      out += '{';
      for (size_t i = 0; i < n->children.size(); ++i) {
        if (i > 0)
          out += ',';
        out += n->field_keys[i];
        if (!value(n->children[i], depth + 1))
          return false;
      }
      out += '}';
      return true;
    }
    case avro_type::array_t:
    case avro_type::map_t: {
      bool is_map = n->type == avro_type::map_t;
      out += is_map ? '{' : '[';
      bool first = true;
      for (;;) {
        int64_t count = 0;
        if (!varint(count))
          return false;
        if (count == 0)
          break;
        if (count < 0) { // a block with its byte size: skip the size
          int64_t size = 0;
          if (!varint(size))
            return false;
          count = -count;
        }
        // Null items take no bytes, so the data cannot bound a block.
        if (count > (int64_t{1} << 24)) {
          fail = "a block of more than 16 M items";
          return false;
        }
        for (int64_t i = 0; i < count; ++i) {
          if (!first)
            out += ',';
          first = false;
          if (is_map) {
            const uint8_t* k = nullptr;
            size_t klen = 0;
            if (!bytes(k, klen))
              return false;
            event_writer::append_json_string(
                out, std::string_view(reinterpret_cast<const char*>(k), klen));
            out += ':';
          }
          if (!value(n->children[0], depth + 1))
            return false;
        }
      }
      out += is_map ? '}' : ']';
      return true;
    }
    }
    fail = "an unknown type";
    return false;
  }

  void base64_string(const uint8_t* data, size_t len) {
    out += '"';
    auto at = out.size();
    out.resize(at + base64_size(len));
    base64_encode(data, len, out.data() + at);
    out += '"';
  }
};

} // namespace

expected<avro_schema>
avro_schema::compile(std::string_view schema_json,
                     const std::vector<std::string>& references) {
  auto nodes = std::make_shared<std::vector<std::unique_ptr<node>>>();
  compiler c{*nodes, {}};
  simdjson::dom::parser parser;
  for (auto& ref : references) {
    element e;
    if (parser.parse(ref).get(e))
      return bad_schema("a referenced schema is not JSON");
    if (auto r = c.compile(e, "", 0); !r)
      return r.err();
  }
  element e;
  if (parser.parse(schema_json.data(), schema_json.size()).get(e))
    return bad_schema("not JSON");
  auto root = c.compile(e, "", 0);
  if (!root)
    return root.err();
  avro_schema s;
  s.root_ = *root;
  s.nodes_ = std::move(nodes);
  return s;
}

expected<bool> avro_schema::to_json(const uint8_t* data, size_t len,
                                    std::string& out) const {
  auto start = out.size();
  reader r{data, data + len, out};
  if (!r.value(root_, 0)) {
    out.resize(start);
    return error{errc::invalid_parameter,
                 std::string("Avro data does not match the schema: ") + r.fail};
  }
  if (r.p != r.end) {
    out.resize(start);
    return error{errc::invalid_parameter,
                 "Avro data does not match the schema: "
                     + std::to_string(r.end - r.p)
                     + " bytes left over after the datum"};
  }
  return true;
}

} // namespace kesm::codecs
