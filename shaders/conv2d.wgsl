// conv2d — y = act(conv2d(x, w) + b) as an implicit GEMM, register-blocked.
// @requires activation
// @enable-f16
//
// GEMM view: M = n*oh*ow output pixels, N = oc output channels, K = kh*kw*(c/groups).
// Each invocation accumulates TM pixels × TN channels in registers, so each input value it loads
// is used TN times and each weight TM times. Its channels are interleaved with its neighbours'
// (base + lane + j*WG_X), so the lanes of a workgroup read consecutive weights and write
// consecutive outputs. No workgroup memory and no barriers:
// barriers are expensive on CPU adapters (lavapipe), and on GPUs the tiled kernels compete by tuning.
// The K loop runs (ky, kx) outside and input channels inside, because NHWC keeps those contiguous.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 w  HWIO weights, kh*kw*(c/groups)*oc (output channel fastest; group g owns channels g*ocg…)
//   2 b  bias, oc (zeros when the layer has none)
//   3 y  NHWC output, n*oh*ow*oc
//   4 p  Params
// Grid: x = ceil(oc / (TN*WG_X)), y = ceil(n*oh*ow / (TM*WG_Y)), folded into z past the per-dimension limit.
// Spec: TM, TN >= 1 (TM*TN accumulators per invocation); WG_X*WG_Y <= 256; F16 = 1 stores w as f16
//   (read into f32: the sums stay f32).
//   With groups > 1, TN*WG_X must divide ocg so that a workgroup never straddles two groups.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32, oc: u32,
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  dil_h: u32, dil_w: u32,
  pad_top: u32, pad_left: u32,
  cg: u32,   // input channels per group
  ocg: u32,  // output channels per group
  act: u32, act_a: f32, act_b: f32,
}

const TM: u32 = 4u; // @spec
const TN: u32 = 4u; // @spec
const WG_X: u32 = 8u; // @spec
const WG_Y: u32 = 8u; // @spec
alias WEIGHT = f32; // @f16

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<WEIGHT>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_id) lid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let n0 = wg.x * (WG_X * TN) + lid.x;  // this invocation's channels: n0 + j*WG_X
  let m0 = ((wg.y + wg.z * nwg.y) * WG_Y + lid.y) * TM;  // a tall grid is folded into z
  let m_total = p.n * p.oh * p.ow;
  if (n0 >= p.oc || m0 >= m_total) { return; }
  let ic0 = (n0 / p.ocg) * p.cg;

  // Rows past the end are clamped to the last one: computed, never stored.
  var img: array<u32, TM>;
  var iy0: array<i32, TM>;
  var ix0: array<i32, TM>;
  for (var i = 0u; i < TM; i++) { // @unroll
    let m = min(m0 + i, m_total - 1u);
    let ox = m % p.ow;
    let t = m / p.ow;
    img[i] = t / p.oh;
    iy0[i] = i32((t % p.oh) * p.stride_h) - i32(p.pad_top);
    ix0[i] = i32(ox * p.stride_w) - i32(p.pad_left);
  }
  var col: array<u32, TN>;
  for (var j = 0u; j < TN; j++) { col[j] = min(n0 + j * WG_X, p.oc - 1u); } // @unroll

  var acc: array<f32, TM * TN>;
  for (var ky = 0u; ky < p.kh; ky++) {
    for (var kx = 0u; kx < p.kw; kx++) {
      // Offset of (pixel, first channel of the group) in x, or -1 where the tap falls in the padding.
      var xoff: array<i32, TM>;
      for (var i = 0u; i < TM; i++) { // @unroll
        let iy = iy0[i] + i32(ky * p.dil_h);
        let ix = ix0[i] + i32(kx * p.dil_w);
        let inside = iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w);
        xoff[i] = select(-1, i32(((img[i] * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ic0), inside);
      }
      let wrow = (ky * p.kw + kx) * p.cg;
      for (var ic = 0u; ic < p.cg; ic++) {
        var xv: array<f32, TM>;
        for (var i = 0u; i < TM; i++) { // @unroll
          // Assign on both paths: relying on the declaration's zero-init inside a loop miscompiled on lavapipe.
          var v = 0.0;
          if (xoff[i] >= 0) { v = x[u32(xoff[i]) + ic]; }
          xv[i] = v;
        }
        let wbase = (wrow + ic) * p.oc;
        for (var j = 0u; j < TN; j++) { // @unroll
          let wv = f32(w[wbase + col[j]]);
          for (var i = 0u; i < TM; i++) { // @unroll
            acc[i * TN + j] = fma(xv[i], wv, acc[i * TN + j]);
          }
        }
      }
    }
  }

  for (var i = 0u; i < TM; i++) { // @unroll
    let m = m0 + i;
    for (var j = 0u; j < TN; j++) { // @unroll
      let n = n0 + j * WG_X;
      if (m < m_total && n < p.oc) {
        y[m * p.oc + n] = activate(acc[i * TN + j] + b[n], p.act, p.act_a, p.act_b);
      }
    }
  }
}
