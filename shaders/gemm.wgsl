// gemm — C[:, n_offset : n_offset+nb] = act(A · B + bias), register-blocked.
// @requires activation
// @enable-f16
//
// B is one column block of the full weight: a weight larger than one storage binding is split into
// blocks by the caller (src/ops/gemm.ts), one dispatch each, all writing into the same C.
// Each invocation accumulates TM rows × TN columns in registers; no workgroup memory, no barriers.
// Its columns are interleaved with its neighbours' (base + lane + j*WG_X), so at every step the
// lanes of a workgroup load and store consecutive addresses: vector loads on a CPU adapter's SIMD
// lanes, coalesced accesses on a GPU.
//
// Bindings (group 0):
//   0 a     A, m×k row-major
//   1 b     B block: k×nb row-major, or nb×k when TRANS_B = 1 (PyTorch/Darknet-style weights)
//   2 bias  full bias, ldc values (zeros when there is none; not read when BIAS = 0)
//   3 c     C, m×ldc row-major
//   4 p     Params
// Grid: x = ceil(nb / (TN*WG_X)), y = ceil(m / (TM*WG_Y)), z = batch: GEMM z reads A, B and writes C
// at z × batch_a / batch_b / batch_c elements further on (Winograd's 16 independent products).
// Spec: TM, TN >= 1; WG_X*WG_Y <= 256; TRANS_B 0 or 1; BIAS 0 or 1; F16 = 1 stores B as f16 (read
// into f32: the sums stay f32).

struct Params {
  m: u32, k: u32,
  nb: u32,        // columns in this block
  n_offset: u32,  // first column of this block in C
  ldc: u32,       // columns of C
  act: u32, act_a: f32, act_b: f32,
  batch_a: u32, batch_b: u32, batch_c: u32,  // element strides between batched products
}

const TM: u32 = 4u; // @spec
const TN: u32 = 4u; // @spec
const WG_X: u32 = 8u; // @spec
const WG_Y: u32 = 8u; // @spec
const TRANS_B: u32 = 0u; // @spec
const BIAS: u32 = 1u; // @spec
alias WEIGHT = f32; // @f16

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<WEIGHT>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u) {
  let n0 = wg.x * (WG_X * TN) + lid.x;  // this invocation's columns: n0 + j*WG_X
  let m0 = (wg.y * WG_Y + lid.y) * TM;
  if (n0 >= p.nb || m0 >= p.m) { return; }

  let a0 = wg.z * p.batch_a;
  let b0 = wg.z * p.batch_b;
  let c0 = wg.z * p.batch_c;
  // Out-of-range rows and columns are clamped: computed, never stored.
  var row: array<u32, TM>;
  for (var i = 0u; i < TM; i++) { row[i] = a0 + min(m0 + i, p.m - 1u) * p.k; } // @unroll
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j * WG_X, p.nb - 1u); } // @unroll

  var acc: array<f32, TM * TN>;
  for (var kk = 0u; kk < p.k; kk++) {
    var av: array<f32, TM>;
    for (var i = 0u; i < TM; i++) { av[i] = a[row[i] + kk]; } // @unroll
    for (var j = 0u; j < TN; j++) { // @unroll
      var bv: f32;
      if (TRANS_B == 1u) { bv = f32(b[b0 + col[j] * p.k + kk]); } else { bv = f32(b[b0 + kk * p.nb + col[j]]); }
      for (var i = 0u; i < TM; i++) { // @unroll
        acc[i * TN + j] = fma(av[i], bv, acc[i * TN + j]);
      }
    }
  }

  for (var i = 0u; i < TM; i++) { // @unroll
    let m = m0 + i;
    for (var j = 0u; j < TN; j++) { // @unroll
      let n = n0 + j * WG_X;
      if (m < p.m && n < p.nb) {
        let nc = p.n_offset + n;
        var v = acc[i * TN + j];
        if (BIAS == 1u) { v += bias[nc]; }
        c[c0 + m * p.ldc + nc] = activate(v, p.act, p.act_a, p.act_b);
      }
    }
  }
}
