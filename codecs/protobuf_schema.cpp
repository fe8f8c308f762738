#include "codecs/protobuf_schema.hpp"

#include <map>
#include <set>

#include <google/protobuf/compiler/parser.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

namespace kesm::codecs {

namespace pb = google::protobuf;

struct protobuf_schema::state {
  pb::DescriptorPool pool{pb::DescriptorPool::generated_pool()};
  pb::DynamicMessageFactory factory{&pool};
  const pb::FileDescriptor* file = nullptr;
  /// Prototypes made once at compile: `New` on them is thread-safe.
  std::map<const pb::Descriptor*, const pb::Message*> prototypes;
};

namespace {

error bad(const std::string& why) {
  return error{errc::invalid_parameter, "Protobuf schema: " + why};
}

class first_error : public pb::io::ErrorCollector {
public:
  void AddError(int line, int column, const std::string& message) override {
    if (text.empty())
      text = "line " + std::to_string(line + 1) + ":"
             + std::to_string(column + 1) + ": " + message;
  }
  std::string text;
};

class pool_errors : public pb::DescriptorPool::ErrorCollector {
public:
  void AddError(const std::string& filename, const std::string& element_name,
                const pb::Message*, ErrorLocation,
                const std::string& message) override {
    if (text.empty())
      text = filename + ": " + element_name + ": " + message;
  }
  std::string text;
};

expected<pb::FileDescriptorProto> parse(const std::string& name,
                                        const std::string& text) {
  pb::io::ArrayInputStream in(text.data(), static_cast<int>(text.size()));
  first_error errors;
  pb::io::Tokenizer tokenizer(&in, &errors);
  pb::compiler::Parser parser;
  parser.RecordErrorsTo(&errors);
  pb::FileDescriptorProto proto;
  if (!parser.Parse(&tokenizer, &proto))
    return bad(name + ": "
               + (errors.text.empty() ? "does not parse" : errors.text));
  proto.set_name(name);
  return proto;
}

struct builder {
  protobuf_schema::state& st;
  const std::map<std::string, std::string>& imports;
  std::set<std::string> building;

  expected<const pb::FileDescriptor*> build(const std::string& name,
                                            const std::string& text) {
    if (auto* done = st.pool.FindFileByName(name))
      return done;
    if (!building.insert(name).second)
      return bad(name + " imports itself (an import cycle)");
    auto proto = parse(name, text);
    if (!proto)
      return proto.err();
    for (auto& dep : proto->dependency()) {
      if (st.pool.FindFileByName(dep))
        continue; // built already, or a well-known type of libprotobuf
      auto it = imports.find(dep);
      if (it == imports.end())
        return bad(name + " imports " + dep
                   + ", which the registry did not give as a reference");
      if (auto r = build(dep, it->second); !r)
        return r;
    }
    pool_errors errors;
    auto* file = st.pool.BuildFileCollectingErrors(*proto, &errors);
    if (file == nullptr)
      return bad(errors.text.empty() ? name + " does not build" : errors.text);
    return file;
  }
};

void make_prototypes(protobuf_schema::state& st, const pb::Descriptor* d) {
  st.prototypes[d] = st.factory.GetPrototype(d);
  for (int i = 0; i < d->nested_type_count(); ++i)
    make_prototypes(st, d->nested_type(i));
}

} // namespace

expected<protobuf_schema> protobuf_schema::compile(
    const std::string& main,
    const std::vector<std::pair<std::string, std::string>>& imports) {
  auto st = std::make_shared<state>();
  std::map<std::string, std::string> by_name(imports.begin(), imports.end());
  builder b{*st, by_name, {}};
  auto file = b.build("kesm_registry_schema.proto", main);
  if (!file)
    return file.err();
  if ((*file)->message_type_count() == 0)
    return bad("the schema declares no message");
  st->file = *file;
  for (int i = 0; i < st->file->message_type_count(); ++i)
    make_prototypes(*st, st->file->message_type(i));
  protobuf_schema s;
  s.st_ = std::move(st);
  return s;
}

expected<bool> protobuf_schema::to_json(const std::vector<int>& indexes,
                                        const uint8_t* data, size_t len,
                                        std::string& out) const {
  if (indexes.empty())
    return bad("no message index");
  if (indexes[0] >= st_->file->message_type_count())
    return bad("message index " + std::to_string(indexes[0])
               + " is past the schema's "
               + std::to_string(st_->file->message_type_count()) + " messages");
  const pb::Descriptor* d = st_->file->message_type(indexes[0]);
  for (size_t i = 1; i < indexes.size(); ++i) {
    if (indexes[i] >= d->nested_type_count())
      return bad("nested message index " + std::to_string(indexes[i])
                 + " is past " + d->full_name() + "'s "
                 + std::to_string(d->nested_type_count()) + " nested messages");
    d = d->nested_type(indexes[i]);
  }
  std::unique_ptr<pb::Message> msg(st_->prototypes.at(d)->New());
  if (!msg->ParseFromArray(data, static_cast<int>(len)))
    return error{errc::invalid_parameter,
                 "Protobuf data does not decode as " + d->full_name()};
  pb::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string json;
  auto status = pb::util::MessageToJsonString(*msg, &json, opts);
  if (!status.ok())
    return error{errc::invalid_parameter,
                 "Protobuf data of " + d->full_name()
                     + " has no JSON form: " + std::string(status.message())};
  out += json;
  return true;
}

} // namespace kesm::codecs
