// conv2d-backward-input — the gradient of a convolution's input: dx = Σ dy · w over every output the
// input pixel fed, for fine-tuning a base's last block (NHWC, HWIO weights, one group).
//   dx[n, y, x, ic] = Σ_{kh, kw, oc} dy[n, oy, ox, oc] · w[kh, kw, ic, oc]
//   where y = oy·stride_h + kh·dil_h − pad_top (and likewise x), oy and ox whole and in range.
// One invocation per dx element, its sums in a fixed order (deterministic, no atomics); lanes take
// consecutive channels, so w is read at consecutive rows.
//
// Bindings (group 0):
//   0 dy  n×oh×ow×oc
//   1 w   kh×kw×c×oc
//   2 dx  n×h×w×c
//   3 p   Params
// Grid: 1-D over n·h·w·c in workgroups of WG, folded into y past the per-dimension limit.
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

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> wt: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.h * p.w * p.c) { return; }
  let ic = idx % p.c;
  let x = (idx / p.c) % p.w;
  let y = (idx / (p.c * p.w)) % p.h;
  let n = idx / (p.c * p.w * p.h);
  var s = 0.0;
  for (var kh = 0u; kh < p.kh; kh++) {
    let ty = i32(y + p.pad_top) - i32(kh * p.dil_h);
    if (ty < 0 || ty % i32(p.stride_h) != 0) { continue; }
    let oy = u32(ty) / p.stride_h;
    if (oy >= p.oh) { continue; }
    for (var kw = 0u; kw < p.kw; kw++) {
      let tx = i32(x + p.pad_left) - i32(kw * p.dil_w);
      if (tx < 0 || tx % i32(p.stride_w) != 0) { continue; }
      let ox = u32(tx) / p.stride_w;
      if (ox >= p.ow) { continue; }
      let d0 = ((n * p.oh + oy) * p.ow + ox) * p.oc;
      let w0 = ((kh * p.kw + kw) * p.c + ic) * p.oc;
      for (var o = 0u; o < p.oc; o++) { s = fma(dy[d0 + o], wt[w0 + o], s); }
    }
  }
  dx[idx] = s;
}
