#include "services/worker/kernels/blas_threads.h"

#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace sllm::worker::kernels {
namespace {

class BlasThreadsTest : public testing::Test {
 protected:
  void SetUp() override {
    unsetenv("BLIS_NUM_THREADS");
    unsetenv("OPENBLAS_NUM_THREADS");
  }
  void TearDown() override { SetUp(); }
};

TEST_F(BlasThreadsTest, AsksBothLibrariesForTheCount) {
  EXPECT_EQ(RequestBlasThreads(2), 2);
  EXPECT_STREQ(std::getenv("BLIS_NUM_THREADS"), "2");
  EXPECT_STREQ(std::getenv("OPENBLAS_NUM_THREADS"), "2");
}

TEST_F(BlasThreadsTest, KeepsTheUsersSetting) {
  setenv("BLIS_NUM_THREADS", "3", 1);
  EXPECT_EQ(RequestBlasThreads(2), 3);
  EXPECT_STREQ(std::getenv("BLIS_NUM_THREADS"), "3");
  EXPECT_STREQ(std::getenv("OPENBLAS_NUM_THREADS"), "2");
}

TEST_F(BlasThreadsTest, AtLeastOneThread) {
  EXPECT_EQ(RequestBlasThreads(0), 1);
  EXPECT_STREQ(std::getenv("OPENBLAS_NUM_THREADS"), "1");
}

}  // namespace
}  // namespace sllm::worker::kernels
