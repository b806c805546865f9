// Channel arguments for the cluster's internal hops (gateway -> tokenizer service, gateway ->
// worker shards): a peer that restarts is reconnected within about a second, instead of after
// gRPC's default backoff (1 s growing to 120 s), and a dead connection is noticed by keepalive.
#ifndef SLLM_SERVICES_COMMON_CHANNEL_ARGS_H_
#define SLLM_SERVICES_COMMON_CHANNEL_ARGS_H_

#include "grpcpp/support/channel_arguments.h"

namespace sllm {

grpc::ChannelArguments InternalChannelArguments();

}  // namespace sllm

#endif  // SLLM_SERVICES_COMMON_CHANNEL_ARGS_H_
