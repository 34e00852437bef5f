// gemv-vec4 — gemv.wgsl with A and B read four values at a time (k a multiple of 4): each lane's
// load is one 16-byte element, so a software adapter gathers a quarter as many addresses.
// C[r, n_offset + j] = act(A[r] · B[j] + bias[n_offset + j]); bindings, grid and spec as in gemv.wgsl.
// @requires activation
// @enable-f16

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

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4<WEIGHT>>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> sums: array<f32, WG * ROWS * COLS>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lane: u32) {
  let n0 = wg.x * COLS;
  let m0 = wg.y * ROWS;
  // Out-of-range rows and outputs are clamped: computed, never stored (no early return before the barriers).
  let k4 = p.k / 4u;
  var arow: array<u32, ROWS>;
  for (var i = 0u; i < ROWS; i++) { arow[i] = min(m0 + i, p.m - 1u) * k4; } // @unroll
  var brow: array<u32, COLS>;
  for (var j = 0u; j < COLS; j++) { brow[j] = min(n0 + j, p.nb - 1u) * k4; } // @unroll

  var acc4: array<vec4f, ROWS * COLS>;
  for (var kk = lane; kk < k4; kk += WG) {
    var av: array<vec4f, ROWS>;
    for (var i = 0u; i < ROWS; i++) { av[i] = a[arow[i] + kk]; } // @unroll
    for (var j = 0u; j < COLS; j++) { // @unroll
      let bv = vec4f(b[brow[j] + kk]);
      for (var i = 0u; i < ROWS; i++) { acc4[i * COLS + j] = fma(av[i], bv, acc4[i * COLS + j]); } // @unroll
    }
  }
  var acc: array<f32, ROWS * COLS>;
  for (var t = 0u; t < ROWS * COLS; t++) { acc[t] = dot(acc4[t], vec4f(1.0)); } // @unroll

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
