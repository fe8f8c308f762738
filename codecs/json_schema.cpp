#include "codecs/json_schema.hpp"

#include <cmath>
#include <map>
#include <regex>
#include <set>

#include <simdjson.h>

namespace kesm::codecs {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::element_type;
using simdjson::dom::object;

struct json_schema::node {
  std::string text;
  simdjson::dom::parser parser;
  element root;
  std::map<std::string, std::regex, std::less<>> regexes;
};

namespace {

constexpr int max_depth = 64;

error bad(const std::string& why) {
  return error{errc::invalid_parameter, "JSON Schema: " + why};
}

/// Compiles every `pattern` and `patternProperties` key once.
expected<bool> collect_regexes(element e, json_schema::node& n, int depth) {
  if (depth > 200)
    return bad("nested deeper than 200 levels");
  object obj;
  array arr;
  if (!e.get_array().get(arr)) {
    for (auto x : arr)
      if (auto r = collect_regexes(x, n, depth + 1); !r)
        return r;
    return true;
  }
  if (e.get_object().get(obj))
    return true;
  auto add = [&](std::string_view p) -> expected<bool> {
    try {
      n.regexes.emplace(std::string(p),
                        std::regex(std::string(p), std::regex::ECMAScript));
    } catch (const std::regex_error&) {
      return bad("pattern " + std::string(p).substr(0, 100)
                 + " is not a valid regular expression");
    }
    return true;
  };
  for (auto [k, v] : obj) {
    std::string_view p;
    if (k == "pattern" && !v.get_string().get(p)) {
      if (auto r = add(p); !r)
        return r;
    }
    if (k == "patternProperties") {
      object pp;
      if (!v.get_object().get(pp))
        for (auto [pk, pv] : pp)
          if (auto r = add(pk); !r)
            return r;
    }
    if (k == "enum" || k == "const" || k == "examples" || k == "default")
      continue; // data, not schemas
    if (auto r = collect_regexes(v, n, depth + 1); !r)
      return r;
  }
  return true;
}

struct validator {
  const json_schema::node& n;
  std::string where; // the failing instance's JSON pointer
  std::string why;

  bool fail(const std::string& path, std::string reason) {
    where = path.empty() ? "/" : path;
    why = std::move(reason);
    return false;
  }

  static bool is_type(element v, std::string_view t) {
    auto ty = v.type();
    if (t == "object")
      return ty == element_type::OBJECT;
    if (t == "array")
      return ty == element_type::ARRAY;
    if (t == "string")
      return ty == element_type::STRING;
    if (t == "boolean")
      return ty == element_type::BOOL;
    if (t == "null")
      return ty == element_type::NULL_VALUE;
    if (t == "integer") {
      if (ty == element_type::INT64 || ty == element_type::UINT64)
        return true;
      double d = 0;
      return ty == element_type::DOUBLE && !v.get_double().get(d)
             && std::floor(d) == d && std::isfinite(d);
    }
    if (t == "number")
      return ty == element_type::INT64 || ty == element_type::UINT64
             || ty == element_type::DOUBLE;
    return false;
  }

  static bool number(element v, double& d) {
    auto ty = v.type();
    if (ty == element_type::INT64) {
      d = static_cast<double>(int64_t(v));
      return true;
    }
    if (ty == element_type::UINT64) {
      d = static_cast<double>(uint64_t(v));
      return true;
    }
    if (ty == element_type::DOUBLE) {
      d = double(v);
      return true;
    }
    return false;
  }

  static bool equal(element a, element b) {
    double x = 0, y = 0;
    if (number(a, x) && number(b, y))
      return x == y;
    return simdjson::minify(a) == simdjson::minify(b);
  }

  static size_t code_points(std::string_view s) {
    size_t n = 0;
    for (unsigned char c : s)
      n += (c & 0xC0) != 0x80;
    return n;
  }

  static std::string child(const std::string& path, std::string_view key) {
    std::string out = path + "/";
    for (char c : key) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }

  bool ok(element s, element v, const std::string& path, int depth) {
    if (depth > max_depth)
      return fail(path, "schema nesting or $ref recursion deeper than 64");
    bool b = true;
    if (!s.get_bool().get(b))
      return b || fail(path, "the schema false allows nothing");
    object sch;
    if (s.get_object().get(sch))
      return true;
    std::string_view ref;
    if (!sch["$ref"].get_string().get(ref)) {
      element target;
      if (ref == "#")
        target = n.root;
      else if (ref.substr(0, 2) == "#/") {
        if (n.root.at_pointer(ref.substr(1)).get(target))
          return fail(path, "$ref " + std::string(ref) + " points nowhere");
      } else
        return fail(path, "$ref " + std::string(ref)
                              + ": only references into the same schema are"
                                " followed");
      if (!ok(target, v, path, depth + 1))
        return false;
    }
    for (auto [k, x] : sch) {
      if (!keyword(k, x, sch, v, path, depth))
        return false;
    }
    return true;
  }

  bool keyword(std::string_view k, element x, object sch, element v,
               const std::string& path, int depth) {
    auto ty = v.type();
    double num = 0;
    std::string_view str;
    if (k == "type") {
      std::string_view t;
      if (!x.get_string().get(t))
        return is_type(v, t) || fail(path, "is not of type " + std::string(t));
      array ts;
      if (!x.get_array().get(ts)) {
        for (auto t1 : ts) {
          std::string_view tn;
          if (!t1.get_string().get(tn) && is_type(v, tn))
            return true;
        }
        return fail(path, "is not of any type " + simdjson::minify(x));
      }
      return true;
    }
    if (k == "enum") {
      array vals;
      if (!x.get_array().get(vals))
        for (auto e : vals)
          if (equal(e, v))
            return true;
      return fail(path,
                  "is not one of enum " + simdjson::minify(x).substr(0, 200));
    }
    if (k == "const")
      return equal(x, v)
             || fail(path,
                     "is not the const " + simdjson::minify(x).substr(0, 200));
    if (k == "allOf" || k == "anyOf" || k == "oneOf") {
      array subs;
      if (x.get_array().get(subs))
        return true;
      size_t passed = 0;
      for (auto sub : subs) {
        validator inner{n, {}, {}};
        bool good = inner.ok(sub, v, path, depth + 1);
        if (k == "allOf" && !good) {
          where = inner.where;
          why = inner.why;
          return false;
        }
        passed += good;
      }
      if (k == "anyOf" && passed == 0)
        return fail(path, "matches none of anyOf");
      if (k == "oneOf" && passed != 1)
        return fail(path, "matches " + std::to_string(passed)
                              + " of oneOf, not exactly one");
      return true;
    }
    if (k == "not") {
      validator inner{n, {}, {}};
      return !inner.ok(x, v, path, depth + 1)
             || fail(path, "matches the schema of not");
    }
    if (k == "if") {
      validator inner{n, {}, {}};
      element branch;
      bool cond = inner.ok(x, v, path, depth + 1);
      if (!sch[cond ? "then" : "else"].get(branch))
        return ok(branch, v, path, depth + 1);
      return true;
    }
    if (ty == element_type::STRING && !v.get_string().get(str)) {
      uint64_t lim = 0;
      if (k == "minLength" && !x.get_uint64().get(lim))
        return code_points(str) >= lim
               || fail(path,
                       "is shorter than minLength " + std::to_string(lim));
      if (k == "maxLength" && !x.get_uint64().get(lim))
        return code_points(str) <= lim
               || fail(path, "is longer than maxLength " + std::to_string(lim));
      std::string_view pat;
      if (k == "pattern" && !x.get_string().get(pat)) {
        auto re = n.regexes.find(pat);
        return re == n.regexes.end()
               || std::regex_search(str.begin(), str.end(), re->second)
               || fail(path, "does not match pattern "
                                 + std::string(pat).substr(0, 100));
      }
      return true;
    }
    if (number(v, num)) {
      double lim = 0;
      bool flag = false;
      if (k == "minimum" && number(x, lim)) {
        bool excl = !sch["exclusiveMinimum"].get_bool().get(flag) && flag;
        return (excl ? num > lim : num >= lim)
               || fail(path, "is below the minimum " + simdjson::minify(x));
      }
      if (k == "maximum" && number(x, lim)) {
        bool excl = !sch["exclusiveMaximum"].get_bool().get(flag) && flag;
        return (excl ? num < lim : num <= lim)
               || fail(path, "is above the maximum " + simdjson::minify(x));
      }
      if (k == "exclusiveMinimum" && number(x, lim))
        return num > lim
               || fail(path,
                       "is not above exclusiveMinimum " + simdjson::minify(x));
      if (k == "exclusiveMaximum" && number(x, lim))
        return num < lim
               || fail(path,
                       "is not below exclusiveMaximum " + simdjson::minify(x));
      if (k == "multipleOf" && number(x, lim) && lim > 0) {
        double q = num / lim;
        return std::fabs(q - std::round(q)) < 1e-9
               || fail(path, "is not a multiple of " + simdjson::minify(x));
      }
      return true;
    }
    object o;
    if (!v.get_object().get(o))
      return object_keyword(k, x, sch, o, v, path, depth);
    array a;
    if (!v.get_array().get(a))
      return array_keyword(k, x, sch, a, path, depth);
    return true;
  }

  bool object_keyword(std::string_view k, element x, object sch, object o,
                      element v, const std::string& path, int depth) {
    if (k == "required") {
      array req;
      if (!x.get_array().get(req))
        for (auto r : req) {
          std::string_view name;
          element unused;
          if (!r.get_string().get(name) && o[name].get(unused))
            return fail(path,
                        "lacks the required property " + std::string(name));
        }
      return true;
    }
    if (k == "properties") {
      object props;
      if (!x.get_object().get(props))
        for (auto [name, sub] : props) {
          element val;
          if (!o[name].get(val) && !ok(sub, val, child(path, name), depth + 1))
            return false;
        }
      return true;
    }
    if (k == "patternProperties") {
      object pp;
      if (!x.get_object().get(pp))
        for (auto [pat, sub] : pp) {
          auto re = n.regexes.find(pat);
          if (re == n.regexes.end())
            continue;
          for (auto [name, val] : o)
            if (std::regex_search(name.begin(), name.end(), re->second)
                && !ok(sub, val, child(path, name), depth + 1))
              return false;
        }
      return true;
    }
    if (k == "additionalProperties") {
      object props, pp;
      bool has_props = !sch["properties"].get_object().get(props);
      bool has_pp = !sch["patternProperties"].get_object().get(pp);
      for (auto [name, val] : o) {
        element unused;
        if (has_props && !props[name].get(unused))
          continue;
        bool matched = false;
        if (has_pp)
          for (auto [pat, sub] : pp) {
            auto re = n.regexes.find(pat);
            if (re != n.regexes.end()
                && std::regex_search(name.begin(), name.end(), re->second))
              matched = true;
          }
        if (matched)
          continue;
        bool allowed = true;
        if (!x.get_bool().get(allowed)) {
          if (!allowed)
            return fail(child(path, name),
                        "is not allowed (additionalProperties false)");
        } else if (!ok(x, val, child(path, name), depth + 1))
          return false;
      }
      return true;
    }
    if (k == "propertyNames") {
      for (auto [name, val] : o) {
        static_cast<void>(val);
        simdjson::dom::parser p;
        std::string quoted = "\"" + std::string(name) + "\"";
        element e;
        if (!p.parse(quoted).get(e) && !ok(x, e, child(path, name), depth + 1))
          return false;
      }
      return true;
    }
    uint64_t lim = 0;
    if (k == "minProperties" && !x.get_uint64().get(lim))
      return o.size() >= lim
             || fail(path,
                     "has fewer than minProperties " + std::to_string(lim));
    if (k == "maxProperties" && !x.get_uint64().get(lim))
      return o.size() <= lim
             || fail(path,
                     "has more than maxProperties " + std::to_string(lim));
    if (k == "dependentRequired" || k == "dependencies") {
      object deps;
      if (!x.get_object().get(deps))
        for (auto [name, dep] : deps) {
          element present;
          if (o[name].get(present))
            continue;
          array need;
          if (!dep.get_array().get(need)) {
            for (auto r : need) {
              std::string_view req;
              element unused;
              if (!r.get_string().get(req) && o[req].get(unused))
                return fail(path, "has " + std::string(name) + " but lacks "
                                      + std::string(req));
            }
          } else if (!ok(dep, v, path, depth + 1)) {
            return false;
          }
        }
      return true;
    }
    return true;
  }

  bool array_keyword(std::string_view k, element x, object sch, array a,
                     const std::string& path, int depth) {
    uint64_t lim = 0;
    if (k == "minItems" && !x.get_uint64().get(lim))
      return a.size() >= lim
             || fail(path, "has fewer than minItems " + std::to_string(lim));
    if (k == "maxItems" && !x.get_uint64().get(lim))
      return a.size() <= lim
             || fail(path, "has more than maxItems " + std::to_string(lim));
    if (k == "uniqueItems") {
      bool on = false;
      if (!x.get_bool().get(on) && on) {
        std::set<std::string> seen;
        for (auto e : a)
          if (!seen.insert(simdjson::minify(e)).second)
            return fail(path, "has duplicate items (uniqueItems)");
      }
      return true;
    }
    if (k == "items" || k == "prefixItems") {
      array tuple;
      size_t i = 0;
      if (!x.get_array().get(tuple)) { // tuple form
        auto it = tuple.begin();
        for (auto e : a) {
          if (it == tuple.end())
            break;
          if (!ok(*it, e, child(path, std::to_string(i)), depth + 1))
            return false;
          ++it;
          ++i;
        }
        return true;
      }
      if (k == "prefixItems")
        return true;
      // 2020-12: `items` applies after `prefixItems`.
      size_t skip = 0;
      array prefix;
      if (!sch["prefixItems"].get_array().get(prefix))
        skip = prefix.size();
      for (auto e : a) {
        if (i >= skip && !ok(x, e, child(path, std::to_string(i)), depth + 1))
          return false;
        ++i;
      }
      return true;
    }
    if (k == "additionalItems") {
      array tuple;
      if (sch["items"].get_array().get(tuple))
        return true;
      size_t i = 0;
      for (auto e : a) {
        if (i >= tuple.size()) {
          bool allowed = true;
          if (!x.get_bool().get(allowed)) {
            if (!allowed)
              return fail(child(path, std::to_string(i)),
                          "is not allowed (additionalItems false)");
          } else if (!ok(x, e, child(path, std::to_string(i)), depth + 1))
            return false;
        }
        ++i;
      }
      return true;
    }
    if (k == "contains") {
      for (auto e : a) {
        validator inner{n, {}, {}};
        if (inner.ok(x, e, path, depth + 1))
          return true;
      }
      return fail(path, "contains no item matching contains");
    }
    return true;
  }
};

} // namespace

expected<json_schema> json_schema::compile(std::string_view schema_json) {
  auto n = std::make_shared<node>();
  n->text = std::string(schema_json);
  if (n->parser.parse(n->text).get(n->root))
    return bad("not JSON");
  auto t = n->root.type();
  if (t != element_type::OBJECT && t != element_type::BOOL)
    return bad("a schema is an object or a boolean");
  if (auto r = collect_regexes(n->root, *n, 0); !r)
    return r.err();
  json_schema s;
  s.root_ = n;
  return s;
}

expected<bool> json_schema::validate(std::string_view doc) const {
  thread_local simdjson::dom::parser parser;
  element v;
  if (parser.parse(doc.data(), doc.size()).get(v))
    return error{errc::invalid_parameter,
                 "JSON Schema: the record is not JSON"};
  validator val{*root_, {}, {}};
  if (!val.ok(root_->root, v, "", 0))
    return error{errc::invalid_parameter,
                 "JSON Schema: " + val.where + " " + val.why};
  return true;
}

} // namespace kesm::codecs
