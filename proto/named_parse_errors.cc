#include "proto/named_parse_errors.h"

#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "services/common/utf8.h"

namespace sllm {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

absl::Status CheckFields(const Descriptor& type, std::string_view wire, const std::string& prefix) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  std::map<int, int> index;  // Next index of each repeated field.
  while (const uint32_t tag = in.ReadTag()) {
    const FieldDescriptor* f = type.FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    const bool judged = f != nullptr &&
                        WireFormatLite::GetTagWireType(tag) ==
                            WireFormatLite::WIRETYPE_LENGTH_DELIMITED &&
                        (f->type() == FieldDescriptor::TYPE_STRING ||
                         f->type() == FieldDescriptor::TYPE_MESSAGE);
    if (!judged) {
      if (!WireFormatLite::SkipField(&in, tag)) return absl::OkStatus();
      continue;
    }
    uint32_t length = 0;
    std::string bytes;
    if (!in.ReadVarint32(&length) || !in.ReadString(&bytes, static_cast<int>(length))) {
      return absl::OkStatus();
    }
    std::string path = prefix + f->name();
    if (f->is_repeated()) absl::StrAppend(&path, "[", index[f->number()]++, "]");
    if (f->type() == FieldDescriptor::TYPE_STRING) {
      if (absl::Status st = ValidateUtf8(bytes, path); !st.ok()) return st;
    } else if (absl::Status st = CheckFields(*f->message_type(), bytes, path + "."); !st.ok()) {
      return st;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckUtf8Fields(const Descriptor& type, std::string_view wire) {
  return CheckFields(type, wire, "");
}

grpc::Status ParseNamingErrors(grpc::ByteBuffer* buffer, google::protobuf::Message* message) {
  if (buffer == nullptr) return grpc::Status(grpc::StatusCode::INTERNAL, "No payload");
  bool parsed = false;
  {
    grpc::ProtoBufferReader reader(buffer);
    if (!reader.status().ok()) return reader.status();
    parsed = message->ParseFromZeroCopyStream(&reader);
  }
  grpc::Status result;
  if (!parsed) {
    std::string wire;
    std::vector<grpc::Slice> slices;
    if (buffer->Dump(&slices).ok()) {
      for (const grpc::Slice& s : slices) {
        wire.append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    const absl::Status why = CheckUtf8Fields(*message->GetDescriptor(), wire);
    result = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          why.ok() ? absl::StrCat("the request is not a valid ",
                                                  message->GetDescriptor()->full_name(), " message")
                                   : std::string(why.message()));
  }
  buffer->Clear();
  return result;
}

}  // namespace sllm
