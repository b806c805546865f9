#include "services/worker/loader/json_fields.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace sllm::worker::json_fields {
namespace {

using Json = nlohmann::json;

const Json* Get(const Json& j, const std::string& key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status TypeError(const std::string& key, const char* kind, const Json& v) {
  return absl::InvalidArgumentError(absl::StrCat(key, " must be ", kind, ", got ", Show(v)));
}

}  // namespace

absl::StatusOr<std::string> ReadTextFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot open ", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return absl::InternalError(absl::StrCat("cannot read ", path));
  return ss.str();
}

std::string Show(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

absl::StatusOr<std::optional<int64_t>> Int(const Json& j, const std::string& key) {
  const Json* v = Get(j, key);
  if (v == nullptr) return std::optional<int64_t>();
  if (v->is_number_integer()) return std::optional<int64_t>(v->get<int64_t>());
  return TypeError(key, "an integer", *v);
}

absl::StatusOr<std::optional<double>> Number(const Json& j, const std::string& key) {
  const Json* v = Get(j, key);
  if (v == nullptr) return std::optional<double>();
  if (v->is_number()) return std::optional<double>(v->get<double>());
  return TypeError(key, "a number", *v);
}

absl::StatusOr<std::optional<bool>> Bool(const Json& j, const std::string& key) {
  const Json* v = Get(j, key);
  if (v == nullptr) return std::optional<bool>();
  if (v->is_boolean()) return std::optional<bool>(v->get<bool>());
  return TypeError(key, "true or false", *v);
}

absl::StatusOr<std::optional<std::string>> String(const Json& j, const std::string& key) {
  const Json* v = Get(j, key);
  if (v == nullptr) return std::optional<std::string>();
  if (v->is_string()) return std::optional<std::string>(v->get<std::string>());
  return TypeError(key, "a string", *v);
}

absl::StatusOr<std::optional<std::vector<int64_t>>> IntOrIntList(const Json& j,
                                                                 const std::string& key) {
  const Json* v = Get(j, key);
  if (v == nullptr) return std::optional<std::vector<int64_t>>();
  std::vector<int64_t> out;
  if (v->is_number_integer()) {
    out.push_back(v->get<int64_t>());
  } else if (v->is_array()) {
    for (const Json& item : *v) {
      if (!item.is_number_integer()) return TypeError(key, "an integer or a list of integers", *v);
      out.push_back(item.get<int64_t>());
    }
  } else {
    return TypeError(key, "an integer or a list of integers", *v);
  }
  return std::optional<std::vector<int64_t>>(std::move(out));
}

absl::StatusOr<int64_t> RequiredPositiveInt(const Json& j, const std::string& key) {
  auto v = Int(j, key);
  if (!v.ok()) return v.status();
  if (!v->has_value()) return absl::InvalidArgumentError(absl::StrCat(key, " is missing"));
  if (**v <= 0) return absl::InvalidArgumentError(absl::StrCat(key, " must be > 0, got ", **v));
  return **v;
}

}  // namespace sllm::worker::json_fields
