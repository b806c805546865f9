#include "services/worker/kernels/serial_openmp.h"

#include <omp.h>

#include <thread>

#include "gtest/gtest.h"

namespace sllm::worker::kernels {
namespace {

// Threads that a parallel region asking for two gets on the calling thread.
int RegionThreads() {
  int threads = 0;
#pragma omp parallel num_threads(2)
  {
#pragma omp single
    threads = omp_get_num_threads();
  }
  return threads;
}

TEST(SerialOpenMpScopeTest, RunsTheCallersRegionsOnOneThreadWhileAlive) {
  ASSERT_EQ(RegionThreads(), 2);
  {
    SerialOpenMpScope serial(true);
    EXPECT_EQ(RegionThreads(), 1);
    // Other threads keep their regions' threads.
    int elsewhere = 0;
    std::thread([&] { elsewhere = RegionThreads(); }).join();
    EXPECT_EQ(elsewhere, 2);
  }
  EXPECT_EQ(RegionThreads(), 2);
}

TEST(SerialOpenMpScopeTest, NotSerialChangesNothing) {
  SerialOpenMpScope scope(false);
  EXPECT_EQ(RegionThreads(), 2);
}

TEST(SerialOpenMpScopeTest, ThresholdSplitsSmallFromLargeGemms) {
  EXPECT_TRUE(SmallGemm(64 * 32 * 8));
  EXPECT_TRUE(SmallGemm(kMinThreadedGemmMacs - 1));
  EXPECT_FALSE(SmallGemm(kMinThreadedGemmMacs));
  EXPECT_FALSE(SmallGemm(int64_t{512} * 768 * 256));
  SetSerialSmallGemms(false);
  EXPECT_FALSE(SmallGemm(64 * 32 * 8));
  SetSerialSmallGemms(true);
  EXPECT_TRUE(SmallGemm(64 * 32 * 8));
}

}  // namespace
}  // namespace sllm::worker::kernels
