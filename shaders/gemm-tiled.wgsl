// gemm-tiled — the same contract as gemm.wgsl, staged through workgroup memory: the variant for
// real GPUs, where sharing tiles between invocations saves memory bandwidth. (On CPU adapters the
// barriers cost more than they save; the tuner picks per adapter.)
// @requires activation
// @enable-f16
//
// A workgroup computes a BM×BN block of C (BM = WG_Y*TM rows, BN = WG_X*TN columns). K advances in
// steps of TK: all invocations cooperatively copy an A tile (BM×TK) and a B tile (TK×BN) into
// workgroup memory, synchronise, and accumulate TM×TN outputs each from it. Invocation (x, y) owns
// rows y*TM + i and columns x + j*WG_X, so reads of the B tile are consecutive across invocations.
//
// Bindings (group 0): as gemm.wgsl
//   0 a     A, m×k row-major
//   1 b     B block: k×nb row-major, or nb×k when TRANS_B = 1
//   2 bias  full bias, ldc values
//   3 c     C, m×ldc row-major
//   4 p     Params
// Grid: x = ceil(nb / (TN*WG_X)), y = ceil(m / (TM*WG_Y)).
// Spec: TM, TN >= 1; WG_X*WG_Y <= 256; TK >= 1; (WG_Y*TM + WG_X*TN) * TK * 4 bytes of workgroup
//   memory must fit the device's maxComputeWorkgroupStorageSize (16 KiB by default).

struct Params {
  m: u32, k: u32,
  nb: u32,
  n_offset: u32,
  ldc: u32,
  act: u32, act_a: f32, act_b: f32,
}

const TM: u32 = 4u; // @spec
const TN: u32 = 4u; // @spec
const WG_X: u32 = 16u; // @spec
const WG_Y: u32 = 16u; // @spec
const TK: u32 = 16u; // @spec
const TRANS_B: u32 = 0u; // @spec
alias WEIGHT = f32; // @f16 (F16 = 1: B stored as f16, read into f32)

const BM: u32 = WG_Y * TM;
const BN: u32 = WG_X * TN;
const THREADS: u32 = WG_X * WG_Y;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<WEIGHT>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

var<workgroup> a_tile: array<f32, BM * TK>;
var<workgroup> b_tile: array<f32, TK * BN>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  var acc: array<f32, TM * TN>;

  // Every invocation runs every iteration (no early return) so the barriers stay uniform.
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    for (var e = li; e < BM * TK; e += THREADS) {
      let r = row0 + e / TK;
      let kk = k0 + e % TK;
      var v = 0.0;
      if (r < p.m && kk < p.k) { v = a[r * p.k + kk]; }
      a_tile[e] = v;
    }
    for (var e = li; e < TK * BN; e += THREADS) {
      let kk = k0 + e / BN;
      let n = col0 + e % BN;
      var v = 0.0;
      if (kk < p.k && n < p.nb) {
        if (TRANS_B == 1u) { v = f32(b[n * p.k + kk]); } else { v = f32(b[kk * p.nb + n]); }
      }
      b_tile[e] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TK; kk++) {
      var av: array<f32, TM>;
      for (var i = 0u; i < TM; i++) { av[i] = a_tile[(lid.y * TM + i) * TK + kk]; } // @unroll
      for (var j = 0u; j < TN; j++) { // @unroll
        let bv = b_tile[kk * BN + lid.x + j * WG_X];
        for (var i = 0u; i < TM; i++) { // @unroll
          acc[i * TN + j] = fma(av[i], bv, acc[i * TN + j]);
        }
      }
    }
    workgroupBarrier();
  }

  for (var i = 0u; i < TM; i++) { // @unroll
    let m = row0 + lid.y * TM + i;
    for (var j = 0u; j < TN; j++) { // @unroll
      let n = col0 + lid.x + j * WG_X;
      if (m < p.m && n < p.nb) {
        let nc = p.n_offset + n;
        c[m * p.ldc + nc] = activate(acc[i * TN + j] + bias[nc], p.act, p.act_a, p.act_b);
      }
    }
  }
}
