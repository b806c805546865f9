// libFuzzer target: SafetensorsFile::Open over a file held in memory (MappedFile::Borrow), in
// an exactly sized heap buffer so that AddressSanitizer sees any read past its end.
// Byte 0, bit 0 clear: the rest is the whole file. Bit 0 set: the rest is the JSON header; the
// fuzzer writes its 8-byte length in front and a data section of (byte 0 >> 1) * 8 bytes after
// it, so that mutations of the JSON get past the length check.
// Checked for an accepted file, besides no crash / UB / leak: every tensor lies inside the data
// section with nbytes = numel * dtype size (its first and last byte are read), tensors come
// sorted by name and Find() returns each.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "services/worker/loader/dtype.h"
#include "services/worker/loader/mapped_file.h"
#include "services/worker/loader/safetensors.h"

namespace {

void Fail(const char* what) {
  std::fprintf(stderr, "property violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > 1 << 20) return 0;
  std::vector<uint8_t> file;
  size_t header_len = 0;
  if ((data[0] & 1) == 0) {
    file.assign(data + 1, data + size);
  } else {
    header_len = size - 1;
    const size_t data_len = (data[0] >> 1) * 8;
    file.resize(8 + header_len + data_len, 0);
    for (int i = 0; i < 8; ++i) file[i] = static_cast<uint8_t>(uint64_t{header_len} >> (8 * i));
    std::memcpy(file.data() + 8, data + 1, header_len);
  }
  // A copy with no spare capacity: the buffer ends where the file ends.
  std::unique_ptr<uint8_t[]> bytes(new uint8_t[file.size() + (file.empty() ? 1 : 0)]);
  if (!file.empty()) std::memcpy(bytes.get(), file.data(), file.size());
  auto st = sllm::worker::SafetensorsFile::Open(
      sllm::worker::MappedFile::Borrow("fuzz.safetensors", bytes.get(), file.size()));
  if (!st.ok()) {
    if (st.status().code() != absl::StatusCode::kInvalidArgument) Fail("error is INVALID_ARGUMENT");
    return 0;
  }
  if (file.size() < 8) Fail("accepted a file without a header length");
  uint64_t hlen = 0;
  for (int i = 7; i >= 0; --i) hlen = (hlen << 8) | file[i];
  const uint8_t* begin = bytes.get() + 8 + hlen;
  const uint8_t* end = bytes.get() + file.size();
  const auto& tensors = (*st)->tensors();
  volatile uint8_t sink = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (i > 0 && !(tensors[i - 1].name < t.name)) Fail("tensors sorted by unique name");
    if ((*st)->Find(t.name) != &t) Fail("Find() returns each tensor");
    if (t.data < begin || t.data > end || t.nbytes > static_cast<size_t>(end - t.data)) {
      Fail("tensor outside the data section");
    }
    if (static_cast<uint64_t>(t.numel()) * sllm::worker::DTypeSize(t.dtype) != t.nbytes) {
      Fail("nbytes = numel * dtype size");
    }
    if (t.nbytes > 0) sink = sink + t.data[0] + t.data[t.nbytes - 1];
  }
  (void)sink;
  return 0;
}
