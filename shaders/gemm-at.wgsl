// gemm-at — C = Aᵀ · B (A m×k, B m×n, C k×n, all row-major): the weight gradient of a dense layer,
// dW = Xᵀ · dY, summed over the m rows of a mini-batch, without transposing X first.
//
// Each invocation accumulates TM rows (of k) × TN columns in registers over the m rows; no workgroup
// memory, no barriers (as in gemm.wgsl). Its columns are interleaved with its neighbours'
// (base + lane + j*WG_X), so the lanes of a workgroup read consecutive addresses of B and C.
// The sum runs over m in order, so the result is deterministic (no atomics).
//
// Bindings (group 0):
//   0 a  A, m×k row-major (the layer's input)
//   1 b  B, m×n row-major (the gradient of its output)
//   2 c  C, k×n row-major
//   3 p  Params
// Grid: x = ceil(n / (TN*WG_X)), y = ceil(k / (TM*WG_Y)).
// Spec: TM, TN >= 1; WG_X*WG_Y <= 256.

struct Params {
  m: u32, k: u32, n: u32,
}

const TM: u32 = 4u; // @spec
const TN: u32 = 4u; // @spec
const WG_X: u32 = 8u; // @spec
const WG_Y: u32 = 8u; // @spec

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n0 = wg.x * (WG_X * TN) + lid.x;  // this invocation's columns: n0 + j*WG_X
  let k0 = (wg.y * WG_Y + lid.y) * TM;
  if (n0 >= p.n || k0 >= p.k) { return; }
  // Out-of-range rows and columns are clamped: computed, never stored.
  var row: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { row[i] = min(k0 + i, p.k - 1u); } // @unroll
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j * WG_X, p.n - 1u); } // @unroll

  var acc: array<f32, TM * TN>;
  for (var r = 0u; r < p.m; r++) {
    var av: array<f32, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = a[r * p.k + row[i]]; } // @unroll
    for (var j = 0u; j < TN; j++) { // @unroll
      let bv = b[r * p.n + col[j]];
      for (var i = 0u; i < TM; i++) { acc[i * TN + j] = fma(av[i], bv, acc[i * TN + j]); } // @unroll
    }
  }

  for (var i = 0u; i < TM; i++) { // @unroll
    let kk = k0 + i;
    for (var j = 0u; j < TN; j++) { // @unroll
      let n = n0 + j * WG_X;
      if (kk < p.k && n < p.n) { c[kk * p.n + n] = acc[i * TN + j]; }
    }
  }
}
