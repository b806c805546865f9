#include "bench/load/client.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sllm::loadgen {
namespace {

using ::testing::HasSubstr;

TEST(ParseTargetTest, ThreeSchemes) {
  auto grpc = ParseTarget("grpc://127.0.0.1:50050");
  ASSERT_TRUE(grpc.ok()) << grpc.status();
  EXPECT_EQ(grpc->kind, TargetKind::kGatewayGrpc);
  EXPECT_EQ(grpc->address, "127.0.0.1:50050");
  EXPECT_EQ(grpc->ToString(), "grpc://127.0.0.1:50050");

  auto http = ParseTarget("http://localhost:8000/");
  ASSERT_TRUE(http.ok()) << http.status();
  EXPECT_EQ(http->kind, TargetKind::kGatewayHttp);
  EXPECT_EQ(http->address, "localhost:8000");

  auto worker = ParseTarget("worker://[::1]:7000");
  ASSERT_TRUE(worker.ok()) << worker.status();
  EXPECT_EQ(worker->kind, TargetKind::kWorker);
  EXPECT_EQ(worker->address, "[::1]:7000");
}

TEST(ParseTargetTest, BadTargetsNameTheFlagAndValue) {
  for (const char* bad : {"127.0.0.1:50050", "https://h:1", "grpc://host", "grpc://host:0",
                          "grpc://host:70000", "http://h:80/v1", "worker://:5"}) {
    auto t = ParseTarget(bad);
    ASSERT_FALSE(t.ok()) << bad;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr("--target")) << bad;
    EXPECT_THAT(std::string(t.status().message()), HasSubstr(bad));
  }
}

}  // namespace
}  // namespace sllm::loadgen
