#include "services/common/channel_args.h"

#include "grpc/grpc.h"

namespace sllm {

grpc::ChannelArguments InternalChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  // As large as the services accept (ServerOptions::max_message_bytes): a shard's
  // GenerateStreams message gathers every sequence's tokens while the gateway is slow to read.
  args.SetMaxReceiveMessageSize(64 << 20);
  return args;
}

}  // namespace sllm
