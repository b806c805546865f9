// sllm-tokenizer-client: talks to a running tokenizer service.
//   sllm-tokenizer-client --target 127.0.0.1:50051 --model stories260K --text "Once upon a time"
// Waits for the service to be ready, encodes the text, then streams the ids back through
// DecodeStream one id per message, printing each text delta as it arrives.
#include <chrono>
#include <iostream>

#include "gflags/gflags.h"
#include "grpcpp/grpcpp.h"
#include "sllm/v1/tokenizer.grpc.pb.h"

DEFINE_string(target, "127.0.0.1:50051", "Tokenizer service address");
DEFINE_string(model, "", "Model name");
DEFINE_string(text, "", "Text to encode and stream back");
DEFINE_int32(wait_seconds, 30, "How long to wait for the service to come up");
DEFINE_bool(show_ids, false, "Print the ids before streaming");

int main(int argc, char** argv) {
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  auto channel = grpc::CreateChannel(FLAGS_target, grpc::InsecureChannelCredentials());
  if (!channel->WaitForConnected(std::chrono::system_clock::now() +
                                 std::chrono::seconds(FLAGS_wait_seconds))) {
    std::cerr << "sllm-tokenizer-client: no tokenizer service at " << FLAGS_target << "\n";
    return 1;
  }
  auto stub = sllm::v1::TokenizerService::NewStub(channel);
  grpc::ClientContext ctx;
  sllm::v1::EncodeRequest req;
  req.set_model(FLAGS_model);
  req.set_text(FLAGS_text);
  req.set_add_special_tokens(false);
  sllm::v1::EncodeResponse enc;
  if (grpc::Status st = stub->Encode(&ctx, req, &enc); !st.ok()) {
    std::cerr << "Encode failed: " << st.error_message() << "\n";
    return 1;
  }
  if (FLAGS_show_ids) {
    std::cout << "ids:";
    for (uint32_t id : enc.ids()) std::cout << ' ' << id;
    std::cout << "\n";
  }
  grpc::ClientContext stream_ctx;
  auto stream = stub->DecodeStream(&stream_ctx);
  sllm::v1::DecodeStreamRequest msg;
  msg.mutable_start()->set_model(FLAGS_model);
  sllm::v1::DecodeStreamResponse delta;
  for (int i = 0; i < enc.ids_size(); ++i) {
    msg.add_ids(enc.ids(i));
    msg.set_finish(i + 1 == enc.ids_size());
    if (!stream->Write(msg) || !stream->Read(&delta)) break;
    std::cout << delta.text() << std::flush;
    msg.Clear();
  }
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  std::cout << "\n";
  if (!st.ok()) {
    std::cerr << "DecodeStream failed: " << st.error_message() << "\n";
    return 1;
  }
  return 0;
}
