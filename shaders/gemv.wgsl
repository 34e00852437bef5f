// gemv — C[r, n_offset + j] = act(A[r] · B[j] + bias[n_offset + j]): a dense layer on a few rows (a model
// head at a small batch), where the weights are read once and the time is memory bandwidth.
// @requires activation
// @enable-f16
//
// B is stored transposed, nb×k (each output's weights contiguous; the dense kernel is transposed once
// at upload, and a weight larger than one storage binding is split into row blocks, one dispatch each).
// A workgroup computes ROWS rows × COLS outputs. Its WG lanes walk the k axis together, lane l taking
// elements l, l + WG, l + 2·WG, …, so at every step the lanes read consecutive addresses of each of the
// COLS weight rows and of each A row: one vector load across a CPU adapter's SIMD lanes (and a stream
// its prefetcher follows), a coalesced access on a GPU. The lanes' partial sums are then added in
// workgroup memory, log2(WG) barriers per workgroup against k/WG steps of loads.
//
// Bindings (group 0):
//   0 a     A, m×k row-major
//   1 b     B block, nb×k row-major (f16 when F16 = 1, read into f32)
//   2 bias  full bias, ldc values (not read when BIAS = 0)
//   3 c     C, m×ldc row-major
//   4 p     Params
// Grid: x = ceil(nb / COLS), y = ceil(m / ROWS).
// Spec: WG a power of two ≤ 256; ROWS·COLS·WG ≤ 4096 (the workgroup memory for the sums); BIAS 0 or 1.

struct Params {
  m: u32, k: u32,
  nb: u32,        // outputs in this block
  n_offset: u32,  // first output of this block in C
  ldc: u32,       // columns of C
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec
const ROWS: u32 = 1u; // @spec
const COLS: u32 = 4u; // @spec
const BIAS: u32 = 1u; // @spec
alias WEIGHT = f32; // @f16

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<WEIGHT>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> sums: array<f32, WG * ROWS * COLS>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lane: u32) {
  let n0 = wg.x * COLS;
  let m0 = wg.y * ROWS;
  // Out-of-range rows and outputs are clamped: computed, never stored (no early return before the barriers).
  var arow: array<u32, ROWS>;
  for (var i = 0u; i < ROWS; i++) { arow[i] = min(m0 + i, p.m - 1u) * p.k; } // @unroll
  var brow: array<u32, COLS>;
  for (var j = 0u; j < COLS; j++) { brow[j] = min(n0 + j, p.nb - 1u) * p.k; } // @unroll

  var acc: array<f32, ROWS * COLS>;
  for (var kk = lane; kk < p.k; kk += WG) {
    var av: array<f32, ROWS>;
    for (var i = 0u; i < ROWS; i++) { av[i] = a[arow[i] + kk]; } // @unroll
    for (var j = 0u; j < COLS; j++) { // @unroll
      let bv = f32(b[brow[j] + kk]);
      for (var i = 0u; i < ROWS; i++) { acc[i * COLS + j] = fma(av[i], bv, acc[i * COLS + j]); } // @unroll
    }
  }

  for (var t = 0u; t < ROWS * COLS; t++) { sums[t * WG + lane] = acc[t]; } // @unroll
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    workgroupBarrier();
    if (lane < s) {
      for (var t = 0u; t < ROWS * COLS; t++) { sums[t * WG + lane] += sums[t * WG + lane + s]; } // @unroll
    }
  }
  workgroupBarrier();

  // Lane t stores output t of the tile (ROWS·COLS ≤ WG is not required: lanes take several).
  for (var t = lane; t < ROWS * COLS; t += WG) {
    let m = m0 + t / COLS;
    let n = n0 + t % COLS;
    if (m < p.m && n < p.nb) {
      let nc = p.n_offset + n;
      var v = sums[t * WG];
      if (BIAS == 1u) { v += bias[nc]; }
      c[m * p.ldc + nc] = activate(v, p.act, p.act_a, p.act_b);
    }
  }
}
