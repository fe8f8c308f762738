// Conformance table for FilterCriteria (esm-spec.md section 5): each row is
// one pattern, one record value, and whether it passes (or why the pattern
// is refused). Patterns are written as C++ raw strings, exactly as a user
// puts them in "Pattern".
#include "codecs/filter.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

using namespace kesm::codecs;

#include "support/allocations.hpp"

namespace {

constexpr const char* invalid_pattern = "<invalid>";

struct row {
  const char* pattern;
  /// nullptr: a tombstone.
  const char* value;
  /// Expected: "match", "no", or the start of the refusal text.
  const char* expect;
};

// A few record values used by many rows.
#define ORDER R"({"id":"A-1","price":300,"qty":2.5,"paid":true,"note":null,"tags":["new","vip"],"customer":{"name":"Alice","country":"NL","address":{"city":"Utrecht"}},"items":[{"sku":"X1","n":2},{"sku":"Y9","n":5}],"empty":{},"blank":""})"

const row rows[] = {
  // --- equals: strings, numbers, booleans, null, empty string
  {R"({"value":{"id":["A-1"]}})", ORDER, "match"},
  {R"({"value":{"id":["A-2"]}})", ORDER, "no"},
  {R"({"value":{"id":["a-1"]}})", ORDER, "no"},
  {R"({"value":{"price":[300]}})", ORDER, "match"},
  {R"({"value":{"price":[300.0]}})", ORDER, "match"},
  {R"({"value":{"price":[3e2]}})", ORDER, "match"},
  {R"({"value":{"price":[3.0E+2]}})", ORDER, "match"},
  {R"({"value":{"price":[301]}})", ORDER, "no"},
  {R"({"value":{"price":["300"]}})", ORDER, "no"},
  {R"({"value":{"price":[300]}})", R"({"price":300.0})", "match"},
  {R"({"value":{"price":[300]}})", R"({"price":3e2})", "match"},
  {R"({"value":{"price":[300]}})", R"({"price":"300"})", "no"},
  {R"({"value":{"qty":[2.5]}})", ORDER, "match"},
  {R"({"value":{"qty":[25e-1]}})", ORDER, "match"},
  {R"({"value":{"n":[-0.5]}})", R"({"n":-0.5})", "match"},
  {R"({"value":{"n":[-1]}})", R"({"n":-1})", "match"},
  {R"({"value":{"n":[18446744073709551615]}})", R"({"n":18446744073709551615})", "match"},
  {R"({"value":{"paid":[true]}})", ORDER, "match"},
  {R"({"value":{"paid":[false]}})", ORDER, "no"},
  {R"({"value":{"paid":["true"]}})", ORDER, "no"},
  {R"({"value":{"note":[null]}})", ORDER, "match"},
  {R"({"value":{"paid":[null]}})", ORDER, "no"},
  {R"({"value":{"missing":[null]}})", ORDER, "no"},
  {R"({"value":{"blank":[""]}})", ORDER, "match"},
  {R"({"value":{"id":[""]}})", ORDER, "no"},
  // --- or-lists
  {R"({"value":{"id":["B","A-1","C"]}})", ORDER, "match"},
  {R"({"value":{"id":["B","C"]}})", ORDER, "no"},
  {R"({"value":{"price":[1,"x",300]}})", ORDER, "match"},
  {R"({"value":{"note":["x",null]}})", ORDER, "match"},
  // --- several keys: and
  {R"({"value":{"id":["A-1"],"paid":[true]}})", ORDER, "match"},
  {R"({"value":{"id":["A-1"],"paid":[false]}})", ORDER, "no"},
  {R"({"value":{"id":["A-1"],"price":[300],"qty":[2.5],"note":[null]}})", ORDER, "match"},
  {R"({"value":{"id":["A-1"],"missing":["x"]}})", ORDER, "no"},
  // --- nested objects
  {R"({"value":{"customer":{"name":["Alice"]}}})", ORDER, "match"},
  {R"({"value":{"customer":{"name":["Bob"]}}})", ORDER, "no"},
  {R"({"value":{"customer":{"address":{"city":["Utrecht"]}}}})", ORDER, "match"},
  {R"({"value":{"customer":{"address":{"city":["Delft"]}}}})", ORDER, "no"},
  {R"({"value":{"customer":{"name":["Alice"],"country":["NL"]}}})", ORDER, "match"},
  {R"({"value":{"customer":{"name":["Alice"],"country":["BE"]}}})", ORDER, "no"},
  {R"({"value":{"id":{"x":["A-1"]}}})", ORDER, "no"},
  {R"({"value":{"nope":{"x":["A-1"]}}})", ORDER, "no"},
  {R"({"value":{"customer":["Alice"]}})", ORDER, "no"},
  // --- arrays in the record: any element
  {R"({"value":{"tags":["vip"]}})", ORDER, "match"},
  {R"({"value":{"tags":["old"]}})", ORDER, "no"},
  {R"({"value":{"tags":[{"prefix":"ne"}]}})", ORDER, "match"},
  {R"({"value":{"tags":[{"anything-but":"new"}]}})", ORDER, "match"},
  {R"({"value":{"tags":[{"anything-but":["new","vip"]}]}})", ORDER, "no"},
  {R"({"value":{"items":{"sku":["Y9"]}}})", ORDER, "match"},
  {R"({"value":{"items":{"sku":["Z0"]}}})", ORDER, "no"},
  {R"({"value":{"items":{"n":[{"numeric":[">",4]}]}}})", ORDER, "match"},
  {R"({"value":{"items":{"n":[{"numeric":[">",5]}]}}})", ORDER, "no"},
  {R"({"value":{"v":[3]}})", R"({"v":[1,2,3]})", "match"},
  {R"({"value":{"v":[4]}})", R"({"v":[1,2,3]})", "no"},
  {R"({"value":{"v":[3]}})", R"({"v":[]})", "no"},
  {R"({"value":{"v":[1]}})", R"({"v":[[1]]})", "no"},
  {R"({"value":["a"]})", R"(["b","a"])", "match"},
  // --- equals-ignore-case
  {R"({"value":{"customer":{"name":[{"equals-ignore-case":"alice"}]}}})", ORDER, "match"},
  {R"({"value":{"customer":{"name":[{"equals-ignore-case":"ALICE"}]}}})", ORDER, "match"},
  {R"({"value":{"customer":{"name":[{"equals-ignore-case":"alic"}]}}})", ORDER, "no"},
  {R"({"value":{"price":[{"equals-ignore-case":"300"}]}})", ORDER, "no"},
  {R"({"value":{"tags":[{"equals-ignore-case":"VIP"}]}})", ORDER, "match"},
  // --- anything-but
  {R"({"value":{"id":[{"anything-but":"A-2"}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"anything-but":"A-1"}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"anything-but":["A-1","B"]}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"anything-but":["B","C"]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"anything-but":300}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"anything-but":3e2}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"anything-but":[100,200]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"anything-but":"300"}]}})", ORDER, "match"},
  {R"({"value":{"missing":[{"anything-but":"x"}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"anything-but":{"prefix":"A-"}}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"anything-but":{"prefix":"B-"}}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"anything-but":{"suffix":"-1"}}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"anything-but":{"suffix":"-9"}}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"anything-but":{"equals-ignore-case":"a-1"}}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"anything-but":{"equals-ignore-case":["x","y"]}}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"anything-but":{"prefix":"3"}}]}})", ORDER, "no"},
  // --- numeric
  {R"({"value":{"price":[{"numeric":["=",300]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":["=",300.0]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":["=",301]}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"numeric":[">",299]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":[">",300]}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"numeric":[">=",300]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":["<",300]}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"numeric":["<=",300]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":["<",300.5]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":[">",10,"<=",300]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":[">",10,"<",300]}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"numeric":[">=",300,"<",301]}]}})", ORDER, "match"},
  {R"({"value":{"price":[{"numeric":["<",1000,">",299]}]}})", ORDER, "match"},
  {R"({"value":{"qty":[{"numeric":[">",2,"<",3]}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"numeric":[">",0]}]}})", ORDER, "no"},
  {R"({"value":{"n":[{"numeric":["<",0]}]}})", R"({"n":-1e-3})", "match"},
  {R"({"value":{"n":[{"numeric":["=",0]}]}})", R"({"n":-0.0})", "match"},
  {R"({"value":{"n":[{"numeric":[">",1e9]}]}})", R"({"n":5000000000})", "match"},
  {R"({"value":{"price":[{"numeric":["<",100]},{"numeric":[">",200]}]}})", ORDER, "match"},
  // --- exists (leaf semantics)
  {R"({"value":{"id":[{"exists":true}]}})", ORDER, "match"},
  {R"({"value":{"missing":[{"exists":true}]}})", ORDER, "no"},
  {R"({"value":{"missing":[{"exists":false}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"exists":false}]}})", ORDER, "no"},
  {R"({"value":{"note":[{"exists":true}]}})", ORDER, "match"},
  {R"({"value":{"blank":[{"exists":true}]}})", ORDER, "match"},
  {R"({"value":{"tags":[{"exists":true}]}})", ORDER, "match"},
  {R"({"value":{"customer":[{"exists":true}]}})", ORDER, "no"},
  {R"({"value":{"customer":[{"exists":false}]}})", ORDER, "no"},
  {R"({"value":{"empty":[{"exists":true}]}})", ORDER, "no"},
  {R"({"value":{"customer":{"zip":[{"exists":false}]}}})", ORDER, "match"},
  {R"({"value":{"customer":{"name":[{"exists":false}]}}})", ORDER, "no"},
  {R"({"value":{"nothing":{"here":[{"exists":false}]}}})", ORDER, "match"},
  {R"({"value":{"nothing":{"here":[{"exists":true}]}}})", ORDER, "no"},
  {R"({"value":{"id":[{"exists":false},"A-1"]}})", ORDER, "match"},
  // --- prefix / suffix
  {R"({"value":{"id":[{"prefix":"A-"}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"prefix":"B-"}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"prefix":""}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"prefix":"A-12"}]}})", ORDER, "no"},
  {R"({"value":{"id":[{"suffix":"-1"}]}})", ORDER, "match"},
  {R"({"value":{"id":[{"suffix":"A"}]}})", ORDER, "no"},
  {R"({"value":{"price":[{"prefix":"3"}]}})", ORDER, "no"},
  {R"({"value":{"customer":{"name":[{"prefix":"Al"},{"suffix":"xx"}]}}})", ORDER, "match"},
  // --- $or
  {R"({"value":{"$or":[{"id":["X"]},{"paid":[true]}]}})", ORDER, "match"},
  {R"({"value":{"$or":[{"id":["X"]},{"paid":[false]}]}})", ORDER, "no"},
  {R"({"value":{"id":["A-1"],"$or":[{"price":[1]},{"qty":[2.5]}]}})", ORDER, "match"},
  {R"({"value":{"id":["B"],"$or":[{"price":[300]},{"qty":[2.5]}]}})", ORDER, "no"},
  {R"({"value":{"customer":{"$or":[{"name":["Bob"]},{"country":["NL"]}]}}})", ORDER, "match"},
  {R"({"$or":[{"value":{"id":["X"]}},{"value":{"price":[300]}}]})", ORDER, "match"},
  {R"({"$or":[{"value":{"id":["X"]}},{"value":{"price":[1]}}]})", ORDER, "no"},
  {R"({"value":{"$or":[{"a":["1"]},{"$or":[{"b":["2"]},{"c":["3"]}]}]}})", R"({"c":"3"})", "match"},
  // --- plain (non-JSON) UTF-8 values: matched as strings
  {R"({"value":["hello world"]})", "hello world", "match"},
  {R"({"value":[{"prefix":"hello"}]})", "hello world", "match"},
  {R"({"value":[{"suffix":"world"}]})", "hello world", "match"},
  {R"({"value":[{"anything-but":["error"]}]})", "warning", "match"},
  {R"({"value":[{"anything-but":["error"]}]})", "error", "no"},
  {R"({"value":[{"equals-ignore-case":"HELLO WORLD"}]})", "hello world", "match"},
  {R"({"value":[{"exists":true}]})", "hello", "match"},
  {R"({"value":{"a":["x"]}})", "hello", "no"},
  {R"({"value":{"a":[{"exists":false}]}})", "hello", "match"},
  {R"({"value":[{"numeric":[">",0]}]})", "12x", "no"},
  {R"({"value":[{"prefix":"\u00e9t\u00e9"}]})", "\xc3\xa9t\xc3\xa9 2024", "match"},
  {R"({"value":["caf\u00e9"]})", "caf\xc3\xa9", "match"},
  {R"({"value":["\ud83d\ude00"]})", "\xf0\x9f\x98\x80", "match"},
  // --- scalar JSON values
  {R"({"value":[42]})", "42", "match"},
  {R"({"value":[{"numeric":[">",40]}]})", "42", "match"},
  {R"({"value":["abc"]})", R"("abc")", "match"},
  {R"({"value":[true]})", "true", "match"},
  // --- unicode inside JSON
  {R"({"value":{"city":["M\u00fcnchen"]}})", R"({"city":"München"})", "match"},
  {R"({"value":{"city":["München"]}})", R"({"city":"M\u00fcnchen"})", "match"},
  {R"({"value":{"city":[{"equals-ignore-case":"münchen"}]}})", R"({"city":"MüNCHEN"})", "match"},
  {R"({"value":{"k\u00e9y":["v"]}})", R"({"kéy":"v"})", "match"},
  // --- empty objects, missing fields, tombstones, non-UTF-8
  {R"({"value":{"empty":{"x":[{"exists":false}]}}})", ORDER, "match"},
  {R"({"value":{"a":["x"]}})", "{}", "no"},
  {R"({"value":{"a":[{"exists":false}]}})", "{}", "match"},
  {R"({"value":[null]})", nullptr, "match"},
  {R"({"value":[{"exists":true}]})", nullptr, "match"},
  {R"({"value":{"a":["x"]}})", nullptr, "no"},
  {R"({"value":[{"exists":true}]})", "\xff\xfe\x00\x01", "match"},
  {R"({"value":[{"anything-but":"x"}]})", "\xff\xfe\x00\x01", "no"},
  {R"({"value":{"a":[{"exists":false}]}})", "\xff\xfe\x00\x01", "no"},
  {R"({"value":[{"prefix":""}]})", "\xc3\x28", "no"},
  // --- invalid patterns: refused with the problem, the path, the offset
  {"", "x", "not valid JSON at character 0"},
  {R"({"value":{"a":["x"]})", "x", "not valid JSON at character 20"},
  {R"({"value":{"a":["x",]}})", "x", "not valid JSON at character 19"},
  {R"(["value"])", "x", "must be a JSON object"},
  {R"({})", "x", "an object of a pattern needs at least one field at the top level"},
  {R"({"key":["k"]})", "x", "for Kafka only \"value\" can be filtered"},
  {R"({"value":{}})", "x", "an object of a pattern needs at least one field at value"},
  {R"({"value":{"a":[]}})", "x", "a list of match values cannot be empty at value.a"},
  {R"({"value":{"a":"x"}})", "x", "must be a list of match values or an object at value.a"},
  {R"({"value":{"a":5}})", "x", "must be a list of match values or an object"},
  {R"({"value":{"a":[["x"]]}})", "x", "a match value cannot be a list"},
  {R"({"value":{"a":[{"wildcard":"x*"}]}})", "x", "unsupported operator \"wildcard\""},
  {R"({"value":{"a":[{"prefix":1}]}})", "x", "must be a string (operator \"prefix\") at value.a, character 16"},
  {R"({"value":{"a":[{"suffix":null}]}})", "x", "must be a string (operator \"suffix\")"},
  {R"({"value":{"a":[{"equals-ignore-case":["x"]}]}})", "x", "must be a string (operator \"equals-ignore-case\")"},
  {R"({"value":{"a":[{"prefix":"x","suffix":"y"}]}})", "x", "an operator object holds exactly one operator"},
  {R"({"value":{"a":[{}]}})", "x", "an operator object holds exactly one operator"},
  {R"({"value":{"a":[{"exists":"yes"}]}})", "x", "must be true or false (operator \"exists\")"},
  {R"({"value":{"a":[{"numeric":[">"]}]}})", "x", "numeric takes one or two comparisons"},
  {R"({"value":{"a":[{"numeric":">"}]}})", "x", "numeric takes a list"},
  {R"({"value":{"a":[{"numeric":["~",1]}]}})", "x", "unknown comparison \"~\""},
  {R"({"value":{"a":[{"numeric":[">","1"]}]}})", "x", "comparison > needs a number"},
  {R"({"value":{"a":[{"numeric":[">",5,"<",1]}]}})", "x", "the lower bound must be below the upper bound"},
  {R"({"value":{"a":[{"numeric":[">",1,">",2]}]}})", "x", "two lower bounds"},
  {R"({"value":{"a":[{"numeric":["=",1,"<",2]}]}})", "x", "\"=\" stands alone"},
  {R"({"value":{"a":[{"numeric":["<",1,"<=",2]}]}})", "x", "two upper bounds"},
  {R"({"value":{"a":[{"anything-but":[]}]}})", "x", "anything-but needs at least one value"},
  {R"({"value":{"a":[{"anything-but":["x",1]}]}})", "x", "anything-but lists hold only strings or only numbers"},
  {R"({"value":{"a":[{"anything-but":[true]}]}})", "x", "anything-but lists hold only strings or only numbers"},
  {R"({"value":{"a":[{"anything-but":{"wildcard":"x"}}]}})", "x", "anything-but takes one of prefix, suffix"},
  {R"({"value":{"a":[{"anything-but":{"prefix":2}}]}})", "x", "must be a string (operator \"prefix\")"},
  {R"({"value":{"a":[{"anything-but":null}]}})", "x", "anything-but takes a string, a number, a list or an object"},
  {R"({"value":{"$or":[{"a":["x"]}]}})", "x", "$or takes a list of at least two patterns"},
  {R"({"value":{"$or":[{"a":["x"]},"b"]}})", "x", "each $or alternative must be an object"},
  {R"({"$or":[{"value":{"a":["x"]}},{"key":["y"]}]})", "x", "for Kafka only \"value\" can be filtered, not \"key\""},
  {R"({"value":{"b":{"c":[{"numeric":[">",1,"<",0]}]}}})", "x", "at value.b.c, character 21"},
};

void PrintTo(const row& r, std::ostream* os) {
  *os << r.pattern << " / " << (r.value ? r.value : "(tombstone)");
}

class conformance : public ::testing::TestWithParam<row> {};

} // namespace

TEST_P(conformance, answers_as_the_table_says) {
  auto r = GetParam();
  auto f = record_filter::compile({r.pattern});
  std::string expect = r.expect;
  if (expect != "match" && expect != "no") {
    ASSERT_FALSE(f) << r.pattern << " was accepted";
    EXPECT_NE(f.err().message.find(expect), std::string::npos)
      << f.err().message;
    EXPECT_EQ(f.err().message.rfind("Invalid filter pattern definition:"
                                    " Filters[0].Pattern: ",
                                    0),
              0u);
    return;
  }
  ASSERT_TRUE(f) << f.err().message;
  size_t len = r.value ? std::char_traits<char>::length(r.value) : 0;
  if (r.value && std::string_view(r.value) == "\xff\xfe")
    len = 4;
  EXPECT_EQ(f->matches(r.value, len), expect == "match");
}

INSTANTIATE_TEST_SUITE_P(table, conformance, ::testing::ValuesIn(rows));

TEST(filter, rows_cover_the_issue) {
  EXPECT_GE(std::size(rows), 150u);
}

TEST(filter, patterns_are_ored_and_empty_criteria_pass_everything) {
  auto none = record_filter::compile({});
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_TRUE(none->matches("anything", 8));
  auto f = record_filter::compile({R"({"value":{"a":[1]}})",
                                   R"({"value":{"b":[2]}})"});
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->matches(R"({"a":1})", 7));
  EXPECT_TRUE(f->matches(R"({"b":2})", 7));
  EXPECT_FALSE(f->matches(R"({"c":3})", 7));
  auto bad = record_filter::compile({R"({"value":{"a":[1]}})", "{"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.err().message.find("Filters[1].Pattern"), std::string::npos);
}

TEST(filter, binary_values_with_nul_bytes) {
  auto f = record_filter::compile({R"({"value":[{"exists":true}]})"});
  ASSERT_TRUE(f);
  const char bin[] = {'\xff', '\x00', '\x01', '\xfe'};
  EXPECT_TRUE(f->matches(bin, sizeof(bin)));
  auto g = record_filter::compile({R"({"value":[{"prefix":""}]})"});
  EXPECT_FALSE(g->matches(bin, sizeof(bin)));
  // A clone filters alike with its own scratch buffer.
  auto h = g->clone();
  EXPECT_TRUE(h.matches("text", 4));
}

TEST(filter, json_error_offsets) {
  EXPECT_EQ(json_error_offset(R"({"a":[1,2]})"), std::string::npos);
  EXPECT_EQ(json_error_offset(R"({"a":[1,2})"), 9u);
  EXPECT_EQ(json_error_offset(R"({"a" 1})"), 5u);
  EXPECT_EQ(json_error_offset(R"({"a":1} x)"), 8u);
  EXPECT_EQ(json_error_offset("[01]"), 2u);
  EXPECT_EQ(json_error_offset(""), 0u);
}

TEST(filter, matching_allocates_nothing_per_record) {
  if (!kesm::test::counting_allocations())
    GTEST_SKIP() << "allocation counting is off under ThreadSanitizer";
  auto f = record_filter::compile(
    {R"({"value":{"kind":["refund"],"amount":[{"numeric":[">",500]}]}})",
     R"({"value":{"customer":{"tier":["gold"]},"tags":["7"]}})",
     R"({"value":{"$or":[{"id":[{"prefix":"evt-1"}]},{"x":[{"exists":false}]}]}})"});
  ASSERT_TRUE(f);
  std::vector<std::string> values;
  for (int i = 0; i < 100; ++i)
    values.push_back(R"({"id":"evt-)" + std::to_string(i)
                     + R"(","kind":"refund","amount":)" + std::to_string(i * 10)
                     + R"(,"customer":{"tier":"gold"},"tags":["1","7"]})");
  values.push_back("plain text");
  for (auto& v : values) // warm-up: scratch buffer and parser grow
    f->matches(v.data(), v.size());
  size_t before = kesm::test::allocation_count();
  size_t matched = 0;
  for (int round = 0; round < 10; ++round)
    for (auto& v : values)
      matched += f->matches(v.data(), v.size()) ? 1 : 0;
  EXPECT_EQ(kesm::test::allocation_count() - before, 0u);
  // Every value matches the $or (the text one through "x" being absent).
  EXPECT_EQ(matched, 1010u);
}
