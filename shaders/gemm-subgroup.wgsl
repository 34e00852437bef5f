// gemm-subgroup — C[:, n_offset : n_offset+nb] = act(A · B + bias) with each value of A loaded once per
// subgroup and shared by subgroupBroadcast, and B, bias and C as vec4 column quads.
// @requires activation
// @requires subgroup-tile
// @enable-f16
//
// Why: every lane of a workgroup needs the same TM values of A at each step of k. Loaded per lane,
// they cost TM loads on every lane; on a CPU adapter (llvmpipe) each such load is a scalar load with
// a bounds check per lane, and those loads, not the FMAs, set the speed. Here lane l of a subgroup
// loads row 8r + l%8 of each 8-row block r, and the rows reach every lane by broadcast (a register
// shuffle). Each lane then loads only its own B quads, so every value of A and B is read once per
// subgroup. On lavapipe this took a 1024³ GEMM from 21 to 36–37 GFLOP/s (TM 32, TN 4, WG_X 8).
//
// Requirements (checked by the planner): the subgroups feature, subgroups of at least 8 lanes, nb and
// ldc multiples of 4, B row-major. Every lane runs every step (rows and columns past the edge are
// clamped, never stored) so that the broadcasts always see full subgroups.
//
// Bindings (group 0):
//   0 a     A, m×k row-major (scalars)
//   1 b     B block, k×nb row-major, as nb/4 quads per row
//   2 bias  full bias, ldc/4 quads (zeros, or not read when BIAS = 0)
//   3 r     residual, laid out like C (bound to bias and never read when residual = 0)
//   4 c     C, m×ldc row-major, as ldc/4 quads per row
//   5 p     Params
// Grid: x = ceil(nb / (4*TN*WG_X)), y = ceil(m / TM), z = batch: product z reads A, B and writes C
// at z × batch_a / batch_b / batch_c elements further on (Winograd's 16 or 36 products).
// Spec: TM 8, 16, 24 or 32 (one to four 8-row blocks); TN 1 to 8 quads per lane; WG_X a multiple of 8,
//   at most 256; BIAS 0 or 1; F16 = 1 stores B as f16 (read into f32).
// Params: residual 0 (none), 1 (c = act(A·B + bias) + r: Darknet's [shortcut] after a 1×1 conv) or 2
//   (c = act(A·B + bias + r): Keras's Add followed by an activation). A param, not a spec constant: it
//   is read only when storing, and one pipeline fewer per tile saves lavapipe 0.5–1 s of compiling.
enable subgroups;

struct Params {
  m: u32, k: u32,
  nb: u32,
  n_offset: u32,
  ldc: u32,
  act: u32, act_a: f32, act_b: f32,
  batch_a: u32, batch_b: u32, batch_c: u32,
  residual: u32,
}

const TM: u32 = 32u; // @spec
const TN: u32 = 4u; // @spec
const WG_X: u32 = 8u; // @spec
const BIAS: u32 = 1u; // @spec
alias WEIGHT = f32; // @f16

const BLOCKS: u32 = TM / 8u;  // 1 to 4
const BLOCK_ACC: u32 = 8u * TN;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<vec4<WEIGHT>>;
@group(0) @binding(2) var<storage, read> bias: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> r: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> c: array<vec4<f32>>;
@group(0) @binding(5) var<uniform> p: Params;

// One output quad at C[at]: sum + bias quad bq, the residual before or after the activation.
fn finish(sum: vec4<f32>, at: u32, bq: u32) {
  var v = sum;
  if (BIAS == 1u) { v += bias[bq]; }
  if (p.residual == 2u) { v += r[at]; }
  v = activate4(v, p.act, p.act_a, p.act_b);
  if (p.residual == 1u) { v += r[at]; }
  c[at] = v;
}

fn store(acc: ptr<function, array<vec4<f32>, BLOCK_ACC>>, m0: u32, q0: u32, c0: u32) {
  let quads = p.nb / 4u;
  let ldq = p.ldc / 4u;
  let qoff = p.n_offset / 4u;
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + i;
    if (m >= p.m) { break; }
    for (var j = 0u; j < TN; j++) {
      let q = q0 + j * WG_X;
      if (q < quads) { finish((*acc)[i * TN + j], c0 + m * ldq + qoff + q, qoff + q); }
    }
  }
}

// The epilogue of tiles of one or two 8-row blocks and one or two quads per lane, in two steps: each
// lane first parks its raw sums in workgroup memory, at indices fixed when the loops unroll (so that
// the accumulators stay in registers), then reads them back in a loop the compiler keeps a loop, where
// it adds the bias and residual, applies the activation and stores what falls inside C. store() above
// compiled into many bounds-checked stores, each with the activation's switch: lavapipe took 1.0 s to
// compile TM 16 / TN 2 with it and 0.5 s with this, and Yolo-Fastest runs as fast (85–87 ms against
// 84–86, with activate4's one switch per quad; with four it ran 5–8% slower). On 32-row tiles this ran
// a 1024³ product at half speed, and TM 16 / TN 4 compiled slower (1.1 s against 0.7), so they keep
// store().
const PARKED: bool = BLOCKS <= 2u && TN <= 2u;
// vec4s; TM·TN·WG_X ≤ 1024 (16 KiB) where PARKED (checked by the planner).
var<workgroup> parked: array<vec4<f32>, select(1u, TM * TN * WG_X, PARKED)>;

fn park(acc: ptr<function, array<vec4<f32>, BLOCK_ACC>>, block: u32, lane: u32) {
  for (var i = 0u; i < 8u; i++) {
    for (var j = 0u; j < TN; j++) { parked[(block * BLOCK_ACC + i * TN + j) * WG_X + lane] = (*acc)[i * TN + j]; }
  }
}

fn store_parked(m0: u32, q0: u32, c0: u32, lane: u32) {
  let quads = p.nb / 4u;
  let ldq = p.ldc / 4u;
  let qoff = p.n_offset / 4u;
  let count = min(TM, p.m - min(m0, p.m)) * TN;
  for (var e = 0u; e < count; e++) {
    let q = q0 + (e % TN) * WG_X;
    if (q < quads) { finish(parked[e * WG_X + lane], c0 + (m0 + e / TN) * ldq + qoff + q, qoff + q); }
  }
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(subgroup_invocation_id) lane: u32) {
  let quads = p.nb / 4u;
  let q0 = wg.x * (WG_X * TN) + lid.x;  // this lane's column quads: q0 + j*WG_X
  let m0 = wg.y * TM;
  let a0 = wg.z * p.batch_a;
  let b0 = wg.z * (p.batch_b / 4u);

  // The row of A this lane fetches for its subgroup in each 8-row block (clamped at the edge).
  var arow: array<u32, 4>;
  for (var r = 0u; r < BLOCKS; r++) { arow[r] = a0 + min(m0 + 8u * r + lane % 8u, p.m - 1u) * p.k; }
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = b0 + min(q0 + j * WG_X, quads - 1u); }

  var acc0: array<vec4<f32>, BLOCK_ACC>;
  var acc1: array<vec4<f32>, BLOCK_ACC>;
  var acc2: array<vec4<f32>, BLOCK_ACC>;
  var acc3: array<vec4<f32>, BLOCK_ACC>;
  for (var kk = 0u; kk < p.k; kk++) {
    var bv: array<vec4<f32>, TN>;
    for (var j = 0u; j < TN; j++) { bv[j] = vec4<f32>(b[col[j] + kk * quads]); }
    accumulate(&acc0, a[arow[0] + kk], &bv);
    if (BLOCKS > 1u) { accumulate(&acc1, a[arow[1] + kk], &bv); }
    if (BLOCKS > 2u) { accumulate(&acc2, a[arow[2] + kk], &bv); }
    if (BLOCKS > 3u) { accumulate(&acc3, a[arow[3] + kk], &bv); }
  }

  let c0 = wg.z * (p.batch_c / 4u);
  if (PARKED) {
    park(&acc0, 0u, lid.x);
    if (BLOCKS > 1u) { park(&acc1, 1u, lid.x); }
    store_parked(m0, q0, c0, lid.x);
  } else {
    store(&acc0, m0, q0, c0);
    if (BLOCKS > 1u) { store(&acc1, m0 + 8u, q0, c0); }
    if (BLOCKS > 2u) { store(&acc2, m0 + 16u, q0, c0); }
    if (BLOCKS > 3u) { store(&acc3, m0 + 24u, q0, c0); }
  }
}
