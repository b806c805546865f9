// Requests of the public gRPC API (sllm.v1.Generation) parse with named errors.
//
// A proto3 `string` field must hold UTF-8, and protobuf refuses the whole message when one does
// not; gRPC would then answer INTERNAL with an empty message before any sllm code runs. The
// SerializationTraits below (gRPC finds them because generation.grpc.pb.h includes this header;
// see proto/CMakeLists.txt) answer INVALID_ARGUMENT naming the field path, the bad byte and its
// offset instead, e.g. "params.stop[1] is not valid UTF-8: invalid byte 0xc3 at byte offset 0".
// Serialization is gRPC's own. gRPC's sync unary handlers parse through
// SerializationTraits<MessageLite>, not the request type, so a service serves its unary RPCs
// as streamed unary over raw bytes and calls ParseNamingErrors itself (see the gateway's
// GenerationService).
#ifndef SLLM_PROTO_NAMED_PARSE_ERRORS_H_
#define SLLM_PROTO_NAMED_PARSE_ERRORS_H_

#include <string_view>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "grpcpp/support/byte_buffer.h"
#include "sllm/v1/generation.pb.h"

namespace sllm {

// OK, or INVALID_ARGUMENT about the first `string` field of `type` in `wire` (message fields
// are searched too) whose bytes are not UTF-8. Malformed wire data is OK here: only the UTF-8
// of fields that can be read is judged.
absl::Status CheckUtf8Fields(const google::protobuf::Descriptor& type, std::string_view wire);

// Parses `buffer` into `message` (and clears `buffer`). A failure is INVALID_ARGUMENT: the
// CheckUtf8Fields error, or "the request is not a valid <type> message".
grpc::Status ParseNamingErrors(grpc::ByteBuffer* buffer, google::protobuf::Message* message);

}  // namespace sllm

#define SLLM_NAMED_PARSE_ERRORS(Type)                                                      \
  template <>                                                                             \
  class SerializationTraits<Type, void> {                                                 \
   public:                                                                                \
    static Status Serialize(const protobuf::MessageLite& msg, ByteBuffer* bb, bool* own) { \
      return GenericSerialize<ProtoBufferWriter, Type>(msg, bb, own);                     \
    }                                                                                     \
    static Status Deserialize(ByteBuffer* buffer, Type* msg) {                            \
      return ::sllm::ParseNamingErrors(buffer, msg);                                      \
    }                                                                                     \
  };

namespace grpc {
SLLM_NAMED_PARSE_ERRORS(::sllm::v1::GenerateRequest)
SLLM_NAMED_PARSE_ERRORS(::sllm::v1::ChatRequest)
SLLM_NAMED_PARSE_ERRORS(::sllm::v1::TokenizeRequest)
SLLM_NAMED_PARSE_ERRORS(::sllm::v1::CountTokensRequest)
}  // namespace grpc

#undef SLLM_NAMED_PARSE_ERRORS

#endif  // SLLM_PROTO_NAMED_PARSE_ERRORS_H_
