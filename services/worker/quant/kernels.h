// The per-CPU-level kernels behind MatMul (internal to quant/). Each level lives in its own
// file compiled for its instruction set (`#pragma GCC target`), so the rest of the build stays
// generic x86-64 and MatMul picks a table of function pointers at run time.
//
// The activations x are quantized per row to int8 in groups of 32 (like llama.cpp's Q8_0 for
// activations): dx = absmax / 127, qx = round(x / dx), kept in natural order. A tile then
// computes, for R rows of x and one 32-row panel of W (panel_layout.h),
//
//   y[r][p] = sum over groups g of  dw[p][g] * dx[r][g] * sum_{k in g} qw[p][k] * qx[r][k]
//
// with the inner sums exact in int32 and the rest in float. The float sum runs in fixed
// blocks of KBlockGroups(type) groups: each block's sum starts at 0 and is then added to the
// running total, so a tile may be called on one block at a time (accumulating into y) or on
// many at once with the same result, bit for bit. MatMul uses that to keep a block of a panel
// in L1 while several tiles of x rows pass over it, and outputs never depend on the batch
// size or the thread count.
#ifndef SLLM_SERVICES_WORKER_QUANT_KERNELS_H_
#define SLLM_SERVICES_WORKER_QUANT_KERNELS_H_

#include <cstdint>
#include <utility>

#include "services/worker/quant/cpu_level.h"
#include "services/worker/quant/quantized_matrix.h"

namespace sllm::worker::quant::internal {

// Quantizes one activation row x[cols] (cols a multiple of 32): q [cols], and per group d
// [cols / 32] (the scale dx) and sum [cols / 32] (the sum of the group's 32 qx; kernels that
// multiply unsigned weights qw + offset start each group's accumulator at -offset * sum).
// A group holding a NaN or an infinity gets qx = 0 and dx = NaN, so its outputs are NaN.
// Every level computes bit-identical results.
using QuantizeRowFn = void (*)(const float* x, int64_t cols, int8_t* q, float* d, int32_t* sum);

// One tile: rows 0..R-1 of x against one panel of W.
struct TileArgs {
  const int8_t* xq;  // Row r at xq + r * xq_stride.
  int64_t xq_stride;
  const float* xd;  // Scales of row r at xd + r * xg_stride; sums likewise.
  const int32_t* xsum;
  int64_t xg_stride;
  const uint8_t* w;     // QuantizedMatrix::panel_data(panel).
  const uint16_t* wd;   // QuantizedMatrix::panel_scales(panel).
  int64_t group_begin;  // The groups to sum: a multiple of KBlockGroups(type)...
  int64_t group_end;    // ...and a multiple of it or cols / 32.
  bool accumulate;      // Add to y (a later block) instead of starting from 0.
  int64_t prefetch;     // If not 0: prefetch the weights this many bytes ahead into L1.
  float* y;             // y[r][p] at y + r * y_stride + p, for p < valid_rows.
  int64_t y_stride;
  int valid_rows;  // 1..32: the panel's rows that exist (the rest are padding).
};

// Groups per float-summation block: 16 KB of a panel, which stays in L1.
inline constexpr int64_t KBlockGroups(QuantType type) { return type == QuantType::kInt8 ? 16 : 32; }
using TileFn = void (*)(const TileArgs& args);

inline constexpr int kMaxTileRows = 8;

struct Kernels {
  QuantizeRowFn quantize_row;
  // tiles[type][R - 1] for R <= max_rows: the largest tile the level is fast at.
  int max_rows;
  TileFn tiles[2][kMaxTileRows];
};

template <template <QuantType, int> class Tile, int... Rs>
void FillTileRows(Kernels& kernels, std::integer_sequence<int, Rs...>) {
  ((kernels.tiles[0][Rs] = &Tile<QuantType::kInt8, Rs + 1>::Run), ...);
  ((kernels.tiles[1][Rs] = &Tile<QuantType::kInt4, Rs + 1>::Run), ...);
}
// Fills kernels.tiles with Tile<type, R>::Run for R <= MaxRows.
template <template <QuantType, int> class Tile, int MaxRows>
void FillTiles(Kernels& kernels) {
  static_assert(MaxRows <= kMaxTileRows);
  kernels.max_rows = MaxRows;
  FillTileRows<Tile>(kernels, std::make_integer_sequence<int, MaxRows>());
}

const Kernels& ScalarKernels();
const Kernels& Avx2Kernels();
const Kernels& Avx512VnniKernels();
const Kernels& KernelsFor(CpuLevel level);

}  // namespace sllm::worker::quant::internal

#endif  // SLLM_SERVICES_WORKER_QUANT_KERNELS_H_
