// Typed reads of optional fields of a JSON object (config.json, generation_config.json) whose
// errors name the key and the value found, and reading the files.
#ifndef SLLM_SERVICES_WORKER_LOADER_JSON_FIELDS_H_
#define SLLM_SERVICES_WORKER_LOADER_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace sllm::worker::json_fields {

// Each returns nullopt when `key` is absent or null, the value when it has the right type, and
// INVALID_ARGUMENT "<key> must be <kind>, got <value>" otherwise.
absl::StatusOr<std::optional<int64_t>> Int(const nlohmann::json& j, const std::string& key);
// Integers are accepted as numbers too.
absl::StatusOr<std::optional<double>> Number(const nlohmann::json& j, const std::string& key);
absl::StatusOr<std::optional<bool>> Bool(const nlohmann::json& j, const std::string& key);
absl::StatusOr<std::optional<std::string>> String(const nlohmann::json& j, const std::string& key);
// An integer or a list of integers (eos_token_id).
absl::StatusOr<std::optional<std::vector<int64_t>>> IntOrIntList(const nlohmann::json& j,
                                                                 const std::string& key);

// The value of an Int() that must be present and > 0.
absl::StatusOr<int64_t> RequiredPositiveInt(const nlohmann::json& j, const std::string& key);

// The whole content of a file; NOT_FOUND naming the path when it cannot be opened.
absl::StatusOr<std::string> ReadTextFile(const std::string& path);

// A short JSON rendering of `v` for error messages.
std::string Show(const nlohmann::json& v);

}  // namespace sllm::worker::json_fields

#endif  // SLLM_SERVICES_WORKER_LOADER_JSON_FIELDS_H_
