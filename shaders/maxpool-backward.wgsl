// maxpool-backward — the gradient of max pooling (NHWC): each window's gradient goes to its maximum,
// the first one in row-major order as TensorFlow's MaxPoolGrad picks it (padding never wins). Gather
// form: one invocation per input element adds the gradients of the windows whose maximum it is, so
// overlapping windows need no atomics.
//
// Bindings (group 0):
//   0 x   n×h×w×c (the pooling's input)
//   1 dy  n×oh×ow×c
//   2 dx  n×h×w×c
//   3 p   Params
// Grid: 1-D over n·h·w·c in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32,
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  pad_top: u32, pad_left: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

/** The flat input index of the first maximum of window (n, oy, ox) in channel ch. */
fn argmax(n: u32, oy: u32, ox: u32, ch: u32) -> u32 {
  var best = -3.4e38;
  var at = 0xffffffffu;
  for (var i = 0u; i < p.kh; i++) {
    let y = i32(oy * p.stride_h + i) - i32(p.pad_top);
    if (y < 0 || y >= i32(p.h)) { continue; }
    for (var j = 0u; j < p.kw; j++) {
      let xx = i32(ox * p.stride_w + j) - i32(p.pad_left);
      if (xx < 0 || xx >= i32(p.w)) { continue; }
      let k = ((n * p.h + u32(y)) * p.w + u32(xx)) * p.c + ch;
      if (at == 0xffffffffu || x[k] > best) { best = x[k]; at = k; }
    }
  }
  return at;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.h * p.w * p.c) { return; }
  let ch = idx % p.c;
  let xx = (idx / p.c) % p.w;
  let y = (idx / (p.c * p.w)) % p.h;
  let n = idx / (p.c * p.w * p.h);
  // Windows oy with oy·stride − pad ≤ y < oy·stride − pad + kh.
  let ty = i32(y + p.pad_top);
  let tx = i32(xx + p.pad_left);
  let oy0 = max(0, (ty - i32(p.kh) + i32(p.stride_h)) / i32(p.stride_h));
  let ox0 = max(0, (tx - i32(p.kw) + i32(p.stride_w)) / i32(p.stride_w));
  var s = 0.0;
  for (var oy = u32(oy0); oy < p.oh && i32(oy * p.stride_h) <= ty; oy++) {
    for (var ox = u32(ox0); ox < p.ow && i32(ox * p.stride_w) <= tx; ox++) {
      if (argmax(n, oy, ox, ch) == idx) { s += dy[((n * p.oh + oy) * p.ow + ox) * p.c + ch]; }
    }
  }
  dx[idx] = s;
}
