// What --model accepts: a local model folder, or a hub id "org/name[@revision]" fetched into
// the hub cache (see hub_download.h).
#ifndef SLLM_SERVICES_HUB_MODEL_DIR_H_
#define SLLM_SERVICES_HUB_MODEL_DIR_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "services/hub/hub_download.h"

namespace sllm::hub {

// `spec` itself when it is a folder; otherwise the snapshot folder of the hub id it names.
// NOT_FOUND when it is neither a folder nor a hub id; hub errors are prefixed with the spec.
absl::StatusOr<std::string> ResolveModelDir(std::string_view spec, const HubOptions& options);

// ResolveModelDir with HubOptionsFromEnv().
absl::StatusOr<std::string> ResolveModelDir(std::string_view spec);

// The name a model is served under when none is given: a folder's last path component, or a
// hub id without its revision ("org/name", as vLLM names models).
std::string DefaultModelName(std::string_view spec);

}  // namespace sllm::hub

#endif  // SLLM_SERVICES_HUB_MODEL_DIR_H_
