#include "services/hub/fake_hub.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <openssl/evp.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "nlohmann/json.hpp"

namespace sllm::hub {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

std::string Digest(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += absl::StrFormat("%02x", out[i]);
  return hex;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

struct Reply {
  int status = 200;
  std::string reason = "OK";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int64_t content_length = -1;  // -1: body.size().
  int64_t cut_after = -1;       // Send this many body bytes, then close.
};

}  // namespace

struct FakeHub::Impl {
  asio::io_context io;
  tcp::acceptor acceptor{io};
  int port = 0;
};

FakeHub::FakeHub(FakeHubOptions options) : options_(std::move(options)), impl_(new Impl) {
  namespace fs = std::filesystem;
  for (const auto& entry : fs::recursive_directory_iterator(options_.model_dir)) {
    if (!entry.is_regular_file()) continue;
    File f;
    f.bytes = ReadFile(entry.path());
    f.lfs = absl::EndsWith(entry.path().filename().string(), ".safetensors");
    f.etag = f.lfs ? Digest(EVP_sha256(), f.bytes)
                   : Digest(EVP_sha1(), absl::StrCat("blob ", f.bytes.size(), std::string(1, '\0'),
                                                     f.bytes));
    files_[fs::relative(entry.path(), options_.model_dir).string()] = std::move(f);
  }
  tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), 0);
  impl_->acceptor.open(ep.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(ep);
  impl_->acceptor.listen();
  impl_->port = impl_->acceptor.local_endpoint().port();

  thread_ = std::thread([this] {
    while (!stop_) {
      tcp::socket socket(impl_->io);
      boost::system::error_code ec;
      impl_->acceptor.accept(socket, ec);
      if (ec || stop_) continue;
      boost::beast::flat_buffer buffer;
      for (;;) {
        http::request<http::string_body> req;
        http::read(socket, buffer, req, ec);
        if (ec) break;
        Request logged{std::string(req.method_string()), std::string(req.target()),
                       std::string(req[http::field::range]),
                       std::string(req[http::field::authorization])};
        {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(logged);
        }
        const bool head = req.method() == http::verb::head;
        const std::string target = logged.target;
        Reply reply;
        auto error = [&](int status, std::string reason, std::string code) {
          reply.status = status;
          reply.reason = std::move(reason);
          reply.headers.emplace_back("X-Error-Code", std::move(code));
          reply.body = R"({"error":"fake hub"})";
        };
        const std::string repo_prefix = "/" + options_.repo_id + "/resolve/";
        const std::string api_prefix = "/api/models/" + options_.repo_id + "/revision/";
        auto known_revision = [&](const std::string& rev) {
          if (rev == options_.commit) return true;
          for (const std::string& b : options_.branches) {
            if (rev == b) return true;
          }
          return false;
        };
        const bool authorized = options_.token.empty() ||
                                logged.authorization == "Bearer " + options_.token;
        const bool gated_path = absl::StartsWith(target, api_prefix) ||
                                absl::StartsWith(target, repo_prefix);
        if (gated_path && !authorized) {
          if (logged.authorization.empty()) {
            error(401, "Unauthorized", "GatedRepo");
          } else {
            error(403, "Forbidden", "GatedRepo");
          }
        } else if (absl::StartsWith(target, api_prefix)) {
          const std::string rev = target.substr(api_prefix.size());
          if (!known_revision(rev)) {
            error(404, "Not Found", "RevisionNotFound");
          } else {
            nlohmann::json siblings = nlohmann::json::array();
            for (const auto& [name, f] : files_) siblings.push_back({{"rfilename", name}});
            reply.body = nlohmann::json{{"id", options_.repo_id},
                                        {"sha", options_.commit},
                                        {"siblings", siblings}}
                             .dump();
            reply.headers.emplace_back("Content-Type", "application/json");
          }
        } else if (absl::StartsWith(target, repo_prefix)) {
          const std::string rest = target.substr(repo_prefix.size());
          const size_t slash = rest.find('/');
          const std::string rev = rest.substr(0, slash);
          const std::string path = slash == std::string::npos ? "" : rest.substr(slash + 1);
          auto it = files_.find(path);
          if (!known_revision(rev)) {
            error(404, "Not Found", "RevisionNotFound");
          } else if (it == files_.end()) {
            error(404, "Not Found", "EntryNotFound");
          } else if (it->second.lfs) {
            reply.status = 302;
            reply.reason = "Found";
            reply.headers = {{"Location", absl::StrCat(endpoint(), "/lfs/", it->second.etag)},
                             {"X-Repo-Commit", options_.commit},
                             {"X-Linked-Etag", absl::StrCat("\"", it->second.etag, "\"")},
                             {"X-Linked-Size", std::to_string(it->second.bytes.size())},
                             {"ETag", "\"0000000000000000000000000000000000000000\""}};
          } else {
            reply.headers = {{"X-Repo-Commit", options_.commit},
                             {"ETag", absl::StrCat("\"", it->second.etag, "\"")}};
            reply.body = it->second.bytes;
          }
        } else if (absl::StartsWith(target, "/lfs/")) {
          const File* file = nullptr;
          for (const auto& [name, f] : files_) {
            if (f.lfs && target == "/lfs/" + f.etag) file = &f;
          }
          if (file == nullptr) {
            error(404, "Not Found", "EntryNotFound");
          } else {
            std::string bytes = file->bytes;
            if (options_.corrupt_lfs && !bytes.empty()) bytes[bytes.size() / 2] ^= 0x5a;
            int64_t from = 0;
            if (absl::StartsWith(logged.range, "bytes=") &&
                absl::SimpleAtoi(logged.range.substr(6, logged.range.size() - 7), &from) &&
                absl::EndsWith(logged.range, "-") && from > 0 &&
                from < static_cast<int64_t>(bytes.size())) {
              reply.status = 206;
              reply.reason = "Partial Content";
              reply.headers.emplace_back(
                  "Content-Range", absl::StrCat("bytes ", from, "-", bytes.size() - 1, "/",
                                                bytes.size()));
              bytes = bytes.substr(static_cast<size_t>(from));
            }
            std::lock_guard<std::mutex> lock(mu_);
            if (options_.cut_first_lfs_download_after >= 0 && !cut_done_ && !head) {
              cut_done_ = true;
              reply.cut_after = options_.cut_first_lfs_download_after;
            }
            reply.body = std::move(bytes);
          }
        } else if (absl::StartsWith(target, "/api/models/") ||
                   target.find("/resolve/") != std::string::npos) {
          error(401, "Unauthorized", "RepoNotFound");  // What the hub tells anonymous callers.
        } else {
          error(404, "Not Found", "EntryNotFound");
        }
        const int64_t length =
            reply.content_length >= 0 ? reply.content_length : static_cast<int64_t>(reply.body.size());
        std::string out = absl::StrCat("HTTP/1.1 ", reply.status, " ", reply.reason, "\r\n");
        for (const auto& [k, v] : reply.headers) absl::StrAppend(&out, k, ": ", v, "\r\n");
        absl::StrAppend(&out, "Content-Length: ", length, "\r\n\r\n");
        if (!head) {
          out += reply.cut_after >= 0
                     ? reply.body.substr(0, static_cast<size_t>(reply.cut_after))
                     : reply.body;
        }
        asio::write(socket, asio::buffer(out), ec);
        if (ec || reply.cut_after >= 0 || !req.keep_alive()) break;
      }
      socket.shutdown(tcp::socket::shutdown_both, ec);
      socket.close(ec);
    }
  });
}

FakeHub::~FakeHub() {
  stop_ = true;
  // Wake the blocking accept with a connection of our own.
  boost::system::error_code ec;
  tcp::socket poke(impl_->io);
  poke.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), impl_->port), ec);
  poke.close(ec);
  thread_.join();
}

std::string FakeHub::endpoint() const {
  return absl::StrCat("http://127.0.0.1:", impl_->port);
}

std::vector<FakeHub::Request> FakeHub::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeHub::Count(const std::string& method, const std::string& prefix) const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const Request& r : requests_) n += r.method == method && absl::StartsWith(r.target, prefix);
  return n;
}

}  // namespace sllm::hub
