#include "services/worker/model/causal_lm.h"

#include "absl/strings/str_cat.h"
#include "services/worker/model/layers.h"

namespace sllm::worker {

absl::Status CausalLM::QuantizeLinears(quant::QuantType type) {
  if (!options().device.is_cpu()) {
    const std::string_view name = quant::QuantTypeName(type);
    return absl::UnimplementedError(absl::StrCat("--quantize ", std::string(name),
                                                 " runs on the CPU only, not on ",
                                                 options().device.str()));
  }
  absl::Status status;
  Visit([&](Module& m) {
    auto* linear = dynamic_cast<Linear*>(&m);
    if (linear == nullptr || !status.ok()) return;
    status = linear->Quantize(type);
  });
  return status;
}

}  // namespace sllm::worker
