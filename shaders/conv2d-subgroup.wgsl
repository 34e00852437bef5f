// conv2d-subgroup — y = act(conv2d(x, w) + b) as an implicit GEMM whose input values are loaded once
// per subgroup and shared by subgroupBroadcast; weights, bias and output as vec4 channel quads.
// @requires activation
// @requires subgroup-tile
// @enable-f16
//
// The register-blocked conv2d.wgsl has every lane load the same TM input values at each step (its
// lanes differ only in output channels). On a CPU adapter (llvmpipe) those per-lane loads, not the
// FMAs, set the speed. Here lane l of a subgroup computes the input offset of pixel 8r + l%8 of each
// 8-pixel block r, loads that pixel's value, and the subgroup shares it by broadcast (as in
// gemm-subgroup.wgsl, which has the measurements). Every lane reaches every broadcast: pixels and
// channels past the edge are clamped, never stored.
//
// Requirements (checked by the planner): the subgroups feature with subgroups of at least 8 lanes,
// groups = 1, oc a multiple of 4.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 w  HWIO weights, kh*kw*c*oc, as oc/4 quads per (ky, kx, ic)
//   2 b  bias, oc/4 quads (zeros when the layer has none)
//   3 y  NHWC output, n*oh*ow*oc, as oc/4 quads per pixel
//   4 p  Params (conv2d.wgsl's; cg = c and ocg = oc here)
// Grid: x = ceil(oc / (4*TN*WG_X)), y = ceil(n*oh*ow / TM), folded into z past the per-dimension limit.
// Spec: TM 8, 16, 24 or 32 (one to four 8-pixel blocks); TN 1 to 8 quads per lane; WG_X a multiple
//   of 8; F16 = 1 stores w as f16 (read into f32).
enable subgroups;

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32, oc: u32,
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  dil_h: u32, dil_w: u32,
  pad_top: u32, pad_left: u32,
  cg: u32,
  ocg: u32,
  act: u32, act_a: f32, act_b: f32,
}

const TM: u32 = 16u; // @spec
const TN: u32 = 4u; // @spec
const WG_X: u32 = 8u; // @spec
alias WEIGHT = f32; // @f16

const BLOCKS: u32 = TM / 8u;  // 1 to 4
const BLOCK_ACC: u32 = 8u * TN;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<vec4<WEIGHT>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;


fn store(acc: ptr<function, array<vec4<f32>, BLOCK_ACC>>, m0: u32, q0: u32) {
  let quads = p.oc / 4u;
  let m_total = p.n * p.oh * p.ow;
  for (var i = 0u; i < 8u; i++) {
    let m = m0 + i;
    if (m >= m_total) { break; }
    for (var j = 0u; j < TN; j++) {
      let q = q0 + j * WG_X;
      if (q < quads) { y[m * quads + q] = activate4((*acc)[i * TN + j] + b[q], p.act, p.act_a, p.act_b); }
    }
  }
}

/** This lane's input value for one block at (ky, kx, ic): its pixel's, or 0 in the padding. */
fn fetch(xoff: i32, ic: u32) -> f32 {
  var v = 0.0;
  if (xoff >= 0) { v = x[u32(xoff) + ic]; }
  return v;
}

@compute @workgroup_size(WG_X, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u,
        @builtin(num_workgroups) nwg: vec3u, @builtin(subgroup_invocation_id) lane: u32) {
  let quads = p.oc / 4u;
  let q0 = wg.x * (WG_X * TN) + lid.x;  // this lane's channel quads: q0 + j*WG_X
  let m0 = (wg.y + wg.z * nwg.y) * TM;  // a tall grid is folded into z
  let m_total = p.n * p.oh * p.ow;
  if (m0 >= m_total) { return; }  // the whole workgroup: past the folded grid's end

  // The pixel this lane fetches for its subgroup in each 8-pixel block (clamped at the end).
  var img: array<u32, 4>;
  var iy0: array<i32, 4>;
  var ix0: array<i32, 4>;
  for (var r = 0u; r < BLOCKS; r++) {
    let m = min(m0 + 8u * r + lane % 8u, m_total - 1u);
    let t = m / p.ow;
    img[r] = t / p.oh;
    iy0[r] = i32((t % p.oh) * p.stride_h) - i32(p.pad_top);
    ix0[r] = i32((m % p.ow) * p.stride_w) - i32(p.pad_left);
  }
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(q0 + j * WG_X, quads - 1u); }

  var acc0: array<vec4<f32>, BLOCK_ACC>;
  var acc1: array<vec4<f32>, BLOCK_ACC>;
  var acc2: array<vec4<f32>, BLOCK_ACC>;
  var acc3: array<vec4<f32>, BLOCK_ACC>;
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      // Offset of (pixel, channel 0) in x, or -1 where the tap falls in the padding.
      var xoff: array<i32, 4>;
      for (var r = 0u; r < BLOCKS; r++) {
        let iy = iy0[r] + i32(ky * p.dil_h);
        let ix = ix0[r] + i32(kx * p.dil_w);
        let inside = iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
        xoff[r] = select(-1, i32(((img[r] * p.h + u32(iy)) * p.w + u32(ix)) * p.c), inside);
      }
      let wrow = (ky * p.kw + kx) * p.c;
      for (var ic = 0u; ic < p.c; ic++) {
        var wv: array<vec4<f32>, TN>;
        for (var j = 0u; j < TN; j++) { wv[j] = vec4<f32>(w[(wrow + ic) * quads + col[j]]); }
        accumulate(&acc0, fetch(xoff[0], ic), &wv);
        if (BLOCKS > 1u) { accumulate(&acc1, fetch(xoff[1], ic), &wv); }
        if (BLOCKS > 2u) { accumulate(&acc2, fetch(xoff[2], ic), &wv); }
        if (BLOCKS > 3u) { accumulate(&acc3, fetch(xoff[3], ic), &wv); }
      }
    }
  }

  store(&acc0, m0, q0);
  if (BLOCKS > 1u) { store(&acc1, m0 + 8u, q0); }
  if (BLOCKS > 2u) { store(&acc2, m0 + 16u, q0); }
  if (BLOCKS > 3u) { store(&acc3, m0 + 24u, q0); }
}
