// gemm-vec4 — the register-blocked GEMM of gemm.wgsl with B, bias and C read and written as
// vec4<f32>: four adjacent columns per load, store and FMA. Requires nb and ldc multiples of 4 and
// a row-major (not transposed) B; the planner falls back to gemm.wgsl otherwise.
// @requires activation
// @enable-f16
//
// Each invocation computes TM rows × TN column quads (4*TN columns). Quads are interleaved across
// the workgroup's lanes (base + lane + j*WG_X), so neighbouring lanes touch neighbouring 16 bytes.
//
// Bindings (group 0):
//   0 a     A, m×k row-major (scalars)
//   1 b     B block, k×nb row-major, as nb/4 vec4 per row
//   2 bias  full bias, ldc/4 vec4 (not read when BIAS = 0)
//   3 c     C, m×ldc row-major, as ldc/4 vec4 per row
//   4 p     Params
// Grid: x = ceil(nb / (4*TN*WG_X)), y = ceil(m / (TM*WG_Y)), z = batch: product z reads A, B and writes C
// at z × batch_a / batch_b / batch_c elements further on (Winograd's products; B's and C's multiples of 4).
// The tile loops are @unroll: where the device asks, every index into row, col, av and acc is a constant.
// Spec: TM, TN >= 1; WG_X*WG_Y <= 256; BIAS 0 or 1; F16 = 1 stores B as f16 (read into f32).

struct Params {
  m: u32, k: u32,
  nb: u32,
  n_offset: u32,
  ldc: u32,
  act: u32, act_a: f32, act_b: f32,
  batch_a: u32, batch_b: u32, batch_c: u32,  // element strides between batched products
}

const TM: u32 = 4u; // @spec
const TN: u32 = 2u; // @spec
const WG_X: u32 = 8u; // @spec
const WG_Y: u32 = 8u; // @spec
const BIAS: u32 = 1u; // @spec
alias WEIGHT = f32; // @f16

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4<WEIGHT>>;
@group(0) @binding(2) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;


@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let quads = p.nb / 4u;
  let q0 = wg.x * (WG_X * TN) + lid.x;  // this invocation's column quads: q0 + j*WG_X
  let m0 = (wg.y * WG_Y + lid.y) * TM;
  if (q0 >= quads || m0 >= p.m) { return; }

  let a0 = wg.z * p.batch_a;
  let b0 = wg.z * (p.batch_b / 4u);
  let c0 = wg.z * (p.batch_c / 4u);
  var row: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { row[i] = a0 + min(m0 + i, p.m - 1u) * p.k; } // @unroll
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(q0 + j * WG_X, quads - 1u); } // @unroll

  var acc: array<vec4<f32>, TM * TN>;
  for (var kk = 0u; kk < p.k; kk++) {
    var av: array<f32, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = a[row[i] + kk]; } // @unroll
    for (var j = 0u; j < TN; j++) { // @unroll
      let bv = vec4<f32>(b[b0 + kk * quads + col[j]]);
      for (var i = 0u; i < TM; i++) { // @unroll
        acc[i * TN + j] = fma(vec4<f32>(av[i]), bv, acc[i * TN + j]);
      }
    }
  }

  let ldq = p.ldc / 4u;
  let qoff = p.n_offset / 4u;
  for (var i = 0u; i < TM; i++) { // @unroll
    let m = m0 + i;
    for (var j = 0u; j < TN; j++) { // @unroll
      let q = q0 + j * WG_X;
      if (m < p.m && q < quads) {
        var v = acc[i * TN + j];
        if (BIAS == 1u) { v += bias[qoff + q]; }
        c[c0 + m * ldq + qoff + q] = activate4(v, p.act, p.act_a, p.act_b);
      }
    }
  }
}
