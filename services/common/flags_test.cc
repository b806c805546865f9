#include "services/common/flags.h"

#include "gtest/gtest.h"

namespace sllm {
namespace {

TEST(FlagsTest, OptionsFollowTheFlags) {
  gflags::FlagSaver saver;
  FLAGS_host = "127.0.0.1";
  FLAGS_port = 50051;
  FLAGS_metrics_port = -1;
  FLAGS_drain_seconds = 2.5;
  FLAGS_max_message_mb = 16;
  FLAGS_tls_cert = "/certs/server.pem";
  FLAGS_tls_key = "/certs/server.key";
  FLAGS_tls_client_ca = "/certs/ca.pem";
  const ServerOptions options = ServerOptionsFromFlags();
  EXPECT_EQ(options.host, "127.0.0.1");
  EXPECT_EQ(options.metrics_host, "127.0.0.1");
  EXPECT_EQ(options.port, 50051);
  EXPECT_EQ(options.metrics_port, -1);
  EXPECT_EQ(options.drain_deadline, absl::Milliseconds(2500));
  EXPECT_EQ(options.max_message_bytes, 16 << 20);
  EXPECT_TRUE(options.handle_signals);
  EXPECT_EQ(options.tls.cert_file, "/certs/server.pem");
  EXPECT_EQ(options.tls.key_file, "/certs/server.key");
  EXPECT_EQ(options.tls.client_ca_file, "/certs/ca.pem");
}

TEST(FlagsTest, NoTlsFlagsMeanPlaintext) {
  gflags::FlagSaver saver;
  EXPECT_FALSE(ServerOptionsFromFlags().tls.enabled());
}

TEST(FlagsTest, PerBinaryDefaultsYieldToTheCommandLine) {
  gflags::FlagSaver saver;
  SetServerFlagDefaults(50052, 9092);
  EXPECT_EQ(FLAGS_port, 50052);
  EXPECT_EQ(FLAGS_metrics_port, 9092);
  std::string default_port;
  ASSERT_TRUE(gflags::GetCommandLineOption("port", &default_port));
  EXPECT_EQ(default_port, "50052");

  int argc = 2;
  char arg0[] = "service";
  char arg1[] = "--port=7000";
  char* argv_storage[] = {arg0, arg1, nullptr};
  char** argv = argv_storage;
  gflags::ParseCommandLineFlags(&argc, &argv, /*remove_flags=*/true);
  EXPECT_EQ(FLAGS_port, 7000);
  EXPECT_EQ(FLAGS_metrics_port, 9092);
}

TEST(FlagsTest, ValidatorsRejectBadValues) {
  gflags::FlagSaver saver;
  EXPECT_TRUE(gflags::SetCommandLineOption("port", "70000").empty());
  EXPECT_TRUE(gflags::SetCommandLineOption("metrics_port", "-2").empty());
  EXPECT_TRUE(gflags::SetCommandLineOption("drain_seconds", "nan").empty());
  EXPECT_TRUE(gflags::SetCommandLineOption("max_message_mb", "0").empty());
  EXPECT_FALSE(gflags::SetCommandLineOption("metrics_port", "-1").empty());
}

}  // namespace
}  // namespace sllm
