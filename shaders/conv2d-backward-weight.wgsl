// conv2d-backward-weight — the gradient of a convolution's kernel, summed over a mini-batch
// (NHWC input, HWIO kernel, one group):
//   dw[kh, kw, ic, oc] = Σ_{n, oy, ox} x[n, oy·stride_h + kh·dil_h − pad_top, …, ic] · dy[n, oy, ox, oc]
// with zero padding outside the input. One invocation per dw element, its sum in a fixed order
// (deterministic, no atomics); lanes take consecutive output channels, so dy is read at consecutive
// addresses. The bias gradient is bias-grad.wgsl over the n·oh·ow rows of dy.
//
// Bindings (group 0):
//   0 x   n×h×w×c (the convolution's input)
//   1 dy  n×oh×ow×oc
//   2 dw  kh×kw×c×oc
//   3 p   Params
// Grid: 1-D over kh·kw·c·oc in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32, oc: u32,
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  dil_h: u32, dil_w: u32,
  pad_top: u32, pad_left: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dw: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.kh * p.kw * p.c * p.oc) { return; }
  let o = idx % p.oc;
  let ic = (idx / p.oc) % p.c;
  let kw = (idx / (p.oc * p.c)) % p.kw;
  let kh = idx / (p.oc * p.c * p.kw);
  var s = 0.0;
  for (var n = 0u; n < p.n; n++) {
    for (var oy = 0u; oy < p.oh; oy++) {
      let y = i32(oy * p.stride_h + kh * p.dil_h) - i32(p.pad_top);
      if (y < 0 || y >= i32(p.h)) { continue; }
      for (var ox = 0u; ox < p.ow; ox++) {
        let xx = i32(ox * p.stride_w + kw * p.dil_w) - i32(p.pad_left);
        if (xx < 0 || xx >= i32(p.w)) { continue; }
        let xv = x[((n * p.h + u32(y)) * p.w + u32(xx)) * p.c + ic];
        s = fma(xv, dy[((n * p.oh + oy) * p.ow + ox) * p.oc + o], s);
      }
    }
  }
  dw[idx] = s;
}
