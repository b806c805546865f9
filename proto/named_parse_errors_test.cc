// The public API's requests: a string field with invalid UTF-8 is INVALID_ARGUMENT naming its
// path, the byte and the offset; anything else protobuf refuses is named by type.
#include "proto/named_parse_errors.h"

#include <string>

#include "gtest/gtest.h"

namespace sllm {
namespace {

// gRPC's deserializer for the request type, over a buffer holding `wire`.
template <class Request>
grpc::Status Deserialize(const std::string& wire, Request* out) {
  grpc::Slice slice(wire);
  grpc::ByteBuffer buffer(&slice, 1);
  return grpc::SerializationTraits<Request>::Deserialize(&buffer, out);
}

// protobuf writes invalid UTF-8 in proto3 strings (it only logs); parsing is what refuses it.
template <class Request>
std::string Wire(const Request& r) {
  std::string wire;
  EXPECT_TRUE(r.SerializeToString(&wire));
  return wire;
}

TEST(NamedParseErrorsTest, ValidRequestsParseAsUsual) {
  v1::ChatRequest chat;
  chat.set_model("stories260K");
  chat.add_messages()->set_role("user");
  chat.mutable_messages(0)->set_content("안녕");
  chat.mutable_params()->add_stop("\n");
  v1::ChatRequest parsed;
  ASSERT_TRUE(Deserialize(Wire(chat), &parsed).ok());
  EXPECT_EQ(parsed.SerializeAsString(), chat.SerializeAsString());
}

TEST(NamedParseErrorsTest, InvalidUtf8IsNamedByFieldPath) {
  struct Case {
    std::string name;
    v1::ChatRequest request;
    std::string message;
  };
  std::vector<Case> cases(5);
  cases[0].name = "model";
  cases[0].request.set_model("stories\xC3\x28");
  cases[0].message = "model is not valid UTF-8: invalid byte 0xc3 at byte offset 7";
  cases[1].name = "second stop string";
  cases[1].request.mutable_params()->add_stop("ok");
  cases[1].request.mutable_params()->add_stop("\xFF");
  cases[1].message = "params.stop[1] is not valid UTF-8: invalid byte 0xff at byte offset 0";
  cases[2].name = "role of the third message";
  for (const char* role : {"system", "user", "us\xC0\x80r"}) {
    cases[2].request.add_messages()->set_role(role);
  }
  cases[2].message = "messages[2].role is not valid UTF-8: invalid byte 0xc0 at byte offset 2";
  cases[3].name = "template variable name";
  (*cases[3].request.mutable_chat_template_kwargs_json())["\xED\xA0\x80"] = "1";
  cases[3].message =
      "chat_template_kwargs_json[0].key is not valid UTF-8: invalid byte 0xed at byte offset 0";
  cases[4].name = "tools";
  cases[4].request.set_tools_json("[\xE1\x80]");
  cases[4].message = "tools_json is not valid UTF-8: invalid byte 0xe1 at byte offset 1";
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::ChatRequest parsed;
    const grpc::Status st = Deserialize(Wire(c.request), &parsed);
    EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(st.error_message(), c.message);
  }
  v1::GenerateRequest gen;
  gen.set_request_id("id-\x80");
  v1::GenerateRequest parsed;
  EXPECT_EQ(Deserialize(Wire(gen), &parsed).error_message(),
            "request_id is not valid UTF-8: invalid byte 0x80 at byte offset 3");
}

TEST(NamedParseErrorsTest, OtherMalformedBytesAreNamedByType) {
  v1::GenerateRequest gen;
  gen.set_model("stories260K");
  std::string wire = Wire(gen);
  wire.pop_back();  // The model string is now shorter than its length says.
  v1::GenerateRequest parsed;
  const grpc::Status st = Deserialize(wire, &parsed);
  EXPECT_EQ(st.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(st.error_message(), "the request is not a valid sllm.v1.GenerateRequest message");
  v1::TokenizeRequest tok;
  EXPECT_EQ(Deserialize(std::string("\xFF\xFF\xFF"), &tok).error_message(),
            "the request is not a valid sllm.v1.TokenizeRequest message");
}

}  // namespace
}  // namespace sllm
