#include "services/common/test_util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <vector>

#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/message.h"
#include "google/protobuf/text_format.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/sync_stream.h"

namespace sllm::testing {

ServerOptions LocalServerOptions() {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.metrics_host = "127.0.0.1";
  options.handle_signals = false;
  return options;
}

std::shared_ptr<grpc::Channel> InsecureChannel(const std::string& target) {
  return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
}

std::string HttpGet(int port, const std::string& path) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  timeval timeout{.tv_sec = 30, .tv_usec = 0};  // Fail the test instead of hanging.
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0) {
    const std::string request = "GET " + path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
        static_cast<ssize_t>(request.size())) {
      char buffer[4096];
      ssize_t n;
      while ((n = recv(fd, buffer, sizeof(buffer), 0)) > 0) response.append(buffer, n);
    }
  }
  close(fd);
  return response;
}

std::string ReflectionQuery(grpc::Channel& channel, const std::string& field,
                            const std::string& value) {
  namespace pb = google::protobuf;
  const pb::DescriptorPool* pool = pb::DescriptorPool::generated_pool();
  const pb::Descriptor* request_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionRequest");
  const pb::Descriptor* response_type =
      pool->FindMessageTypeByName("grpc.reflection.v1alpha.ServerReflectionResponse");
  if (request_type == nullptr || response_type == nullptr) {
    return "error: reflection messages are not in the generated pool";
  }
  pb::DynamicMessageFactory factory(pool);
  std::unique_ptr<pb::Message> request(factory.GetPrototype(request_type)->New());
  std::unique_ptr<pb::Message> response(factory.GetPrototype(response_type)->New());
  const pb::FieldDescriptor* request_field = request_type->FindFieldByName(field);
  if (request_field == nullptr) return "error: no field " + field;
  request->GetReflection()->SetString(request.get(), request_field, value);

  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  const grpc::internal::RpcMethod method(
      "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          &channel, method, &context));
  grpc::Slice request_slice(request->SerializeAsString());
  grpc::ByteBuffer request_bytes(&request_slice, 1);
  grpc::ByteBuffer response_bytes;
  const bool exchanged = stream->Write(request_bytes) && stream->WritesDone() &&
                         stream->Read(&response_bytes);
  const grpc::Status status = stream->Finish();
  if (!exchanged || !status.ok()) return "error: " + status.error_message();

  std::vector<grpc::Slice> slices;
  if (!response_bytes.Dump(&slices).ok()) return "error: cannot read the response";
  std::string serialized;
  for (const grpc::Slice& slice : slices) {
    serialized.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  if (!response->ParseFromString(serialized)) return "error: cannot parse the response";
  std::string text;
  pb::TextFormat::PrintToString(*response, &text);
  return text;
}

double MetricSample(const std::string& metrics, const std::string& name,
                    const std::vector<std::string>& labels) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + "{", 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

}  // namespace sllm::testing
