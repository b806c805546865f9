#include "services/worker/loader/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "services/common/status_macros.h"

namespace sllm::worker {
namespace {

using Json = nlohmann::json;

// A JSON value that is a non-negative integer, or nullopt (floats, negatives, strings, ...).
std::optional<uint64_t> AsUnsigned(const Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  return std::nullopt;
}

std::string Shorten(const Json& v) {
  std::string s = v.dump();
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

// Parses the JSON header; a duplicate top-level key is an error naming it.
absl::StatusOr<Json> ParseJsonHeader(std::string_view text) {
  absl::flat_hash_set<std::string> keys;
  std::string duplicate;
  auto callback = [&](int depth, Json::parse_event_t event, Json& parsed) {
    if (depth == 1 && event == Json::parse_event_t::key && parsed.is_string()) {
      const auto& key = parsed.get_ref<const std::string&>();
      if (!keys.insert(key).second && duplicate.empty()) duplicate = key;
    }
    return true;
  };
  Json header;
  try {
    header = Json::parse(text.begin(), text.end(), callback);
  } catch (const Json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("header is not valid JSON: ", e.what()));
  }
  if (!header.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("header is not a JSON object: ", Shorten(header)));
  }
  if (!duplicate.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("header names '", duplicate, "' twice"));
  }
  return header;
}

absl::StatusOr<std::map<std::string, std::string>> ParseMetadata(const Json& j) {
  std::map<std::string, std::string> out;
  if (j.is_null()) return out;
  if (!j.is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("__metadata__ is not an object: ", Shorten(j)));
  }
  for (const auto& [key, value] : j.items()) {
    if (!value.is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("__metadata__ value of '", key,
                                                     "' is not a string: ", Shorten(value)));
    }
    out[key] = value.get<std::string>();
  }
  return out;
}

struct Entry {
  TensorView view;
  uint64_t begin = 0;
  uint64_t end = 0;
};

// Validates one tensor entry against a data section of `data_size` bytes.
absl::StatusOr<Entry> ParseEntry(const std::string& name, const Json& j, uint64_t data_size) {
  auto error = [&](const std::string& what) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "': ", what));
  };
  if (!j.is_object()) return error(absl::StrCat("entry is not an object: ", Shorten(j)));
  Entry e;
  e.view.name = name;

  if (!j.contains("dtype") || !j["dtype"].is_string()) {
    return error(absl::StrCat("dtype missing or not a string: ", Shorten(j.value("dtype", Json()))));
  }
  const std::string dtype = j["dtype"].get<std::string>();
  std::optional<DType> parsed = ParseDType(dtype);
  if (!parsed) return error(absl::StrCat("unsupported dtype '", dtype, "'"));
  e.view.dtype = *parsed;

  if (!j.contains("shape") || !j["shape"].is_array()) {
    return error(absl::StrCat("shape missing or not a list: ", Shorten(j.value("shape", Json()))));
  }
  uint64_t numel = 1;
  for (const Json& dim : j["shape"]) {
    std::optional<uint64_t> d = AsUnsigned(dim);
    if (!d || *d > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return error(absl::StrCat("shape ", Shorten(j["shape"]),
                                " has a dimension that is not a non-negative integer: ",
                                Shorten(dim)));
    }
    if (__builtin_mul_overflow(numel, *d, &numel)) {
      return error(absl::StrCat("shape ", Shorten(j["shape"]), " overflows"));
    }
    e.view.shape.push_back(static_cast<int64_t>(*d));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, DTypeSize(e.view.dtype), &nbytes)) {
    return error(absl::StrCat("shape ", Shorten(j["shape"]), " overflows"));
  }

  const Json& offsets = j.value("data_offsets", Json());
  std::optional<uint64_t> begin, end;
  if (offsets.is_array() && offsets.size() == 2) {
    begin = AsUnsigned(offsets[0]);
    end = AsUnsigned(offsets[1]);
  }
  if (!begin || !end) {
    return error(absl::StrCat("data_offsets must be two non-negative integers, got ",
                              Shorten(offsets)));
  }
  if (*begin > *end) {
    return error(absl::StrCat("data_offsets ", Shorten(offsets), " begin after end"));
  }
  if (*end > data_size) {
    return error(absl::StrCat("data_offsets ", Shorten(offsets), " end past the data section of ",
                              data_size, " bytes"));
  }
  if (*end - *begin != nbytes) {
    return error(absl::StrCat("data_offsets ", Shorten(offsets), " span ", *end - *begin,
                              " bytes but shape ", Shorten(j["shape"]), " of ", dtype, " needs ",
                              nbytes));
  }
  e.begin = *begin;
  e.end = *end;
  e.view.nbytes = static_cast<size_t>(nbytes);
  return e;
}

// Two tensors may not share bytes (empty tensors share none).
absl::Status CheckNoOverlap(std::vector<const Entry*> entries) {
  std::erase_if(entries, [](const Entry* e) { return e->begin == e->end; });
  std::sort(entries.begin(), entries.end(),
            [](const Entry* a, const Entry* b) { return a->begin < b->begin; });
  for (size_t i = 1; i < entries.size(); ++i) {
    const Entry& prev = *entries[i - 1];
    const Entry& cur = *entries[i];
    if (cur.begin < prev.end) {
      return absl::InvalidArgumentError(absl::StrCat(
          "tensor '", cur.view.name, "' data_offsets [", cur.begin, ", ", cur.end,
          "] overlap tensor '", prev.view.name, "' [", prev.begin, ", ", prev.end, "]"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

int64_t TensorView::numel() const {
  // Open() bounds numel by the data section, but an empty tensor may list huge dimensions
  // before its 0 ([2^62, 2, 0]) whose partial product overflows.
  for (int64_t d : shape) {
    if (d == 0) return 0;
  }
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  ASSIGN_OR_RETURN(std::unique_ptr<MappedFile> mapped, MappedFile::Open(path));
  return Open(std::move(mapped));
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(
    std::unique_ptr<MappedFile> mapped) {
  std::unique_ptr<SafetensorsFile> file(new SafetensorsFile(std::move(mapped)));
  absl::Status status = file->ParseHeader();
  if (!status.ok()) {
    return absl::Status(status.code(), absl::StrCat(file->path(), ": ", status.message()));
  }
  return file;
}

absl::Status SafetensorsFile::ParseHeader() {
  const uint8_t* bytes = file_->data();
  const uint64_t size = file_->size();
  if (size < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat("file is ", size, " bytes, too short for the 8-byte header length"));
  }
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];
  if (header_len > size - 8) {
    return absl::InvalidArgumentError(absl::StrCat("header length ", header_len,
                                                   " exceeds the ", size - 8,
                                                   " bytes after the length field"));
  }
  if (header_len > kMaxHeaderBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("header length ", header_len, " exceeds the limit of ", kMaxHeaderBytes));
  }
  std::string_view text(reinterpret_cast<const char*>(bytes + 8), header_len);
  ASSIGN_OR_RETURN(Json header, ParseJsonHeader(text));

  const uint8_t* data = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  std::vector<Entry> entries;
  for (const auto& [name, value] : header.items()) {
    if (name == "__metadata__") {
      ASSIGN_OR_RETURN(metadata_, ParseMetadata(value));
      continue;
    }
    ASSIGN_OR_RETURN(Entry entry, ParseEntry(name, value, data_size));
    entries.push_back(std::move(entry));
  }
  std::vector<const Entry*> pointers;
  for (const Entry& e : entries) pointers.push_back(&e);
  RETURN_IF_ERROR(CheckNoOverlap(std::move(pointers)));

  for (Entry& e : entries) {  // items() of a JSON object iterate in name order.
    e.view.data = data + e.begin;
    index_[e.view.name] = tensors_.size();
    tensors_.push_back(std::move(e.view));
  }
  return absl::OkStatus();
}

const TensorView* SafetensorsFile::Find(std::string_view name) const {
  auto it = index_.find(absl::string_view(name.data(), name.size()));
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace sllm::worker
