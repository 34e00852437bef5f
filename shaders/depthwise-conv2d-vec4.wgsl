// depthwise-conv2d-vec4 — y = act(depthwise(x, w) + b) for depth multiplier 1 and channels in quads.
// @requires activation
//
// Each invocation computes one quad of 4 channels for TX neighbouring output pixels of a row: every
// weight quad it loads serves TX pixels, and every load moves 4 channels. On a CPU adapter the loads
// set the speed (each is a per-lane scalar load with a bounds check), so this does about 3× fewer of
// them per output than depthwise-conv2d.wgsl's one invocation per output value.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c, as c/4 quads per pixel
//   1 w  kh*kw*c weights, as c/4 quads per tap
//   2 b  bias, c/4 quads (zeros when none)
//   3 y  NHWC output, n*oh*ow*c, as c/4 quads per pixel
//   4 p  Params (depthwise-conv2d.wgsl's; mult = 1)
// Grid: 1-D over n*oh*ceil(ow/TX)*(c/4) invocations, channel quads fastest, in workgroups of WG,
//   folded into y past 65535 groups.
// Spec: TX >= 1 output pixels per invocation; WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32, oc: u32,
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  dil_h: u32, dil_w: u32,
  pad_top: u32, pad_left: u32,
  mult: u32,
  act: u32, act_a: f32, act_b: f32,
}

const TX: u32 = 4u; // @spec
const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> w: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;


@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let quads = p.c / 4u;
  let strips = (p.ow + TX - 1u) / TX;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.oh * strips * quads) { return; }
  let q = idx % quads;
  let s = idx / quads;
  let ox0 = (s % strips) * TX;
  let t = s / strips;
  let oy = t % p.oh;
  let img = t / p.oh;
  let iy0 = i32(oy * p.stride_h) - i32(p.pad_top);
  let ix0 = i32(ox0 * p.stride_w) - i32(p.pad_left);

  var acc: array<vec4<f32>, TX>;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = iy0 + i32(ky * p.dil_h);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    let row = (img * p.h + u32(iy)) * p.w;
    for (var kx = 0u; kx < p.kw; kx++) {
      let wv = w[(ky * p.kw + kx) * quads + q];
      for (var i = 0u; i < TX; i++) { // @unroll
        let ix = ix0 + i32(i * p.stride_w + kx * p.dil_w);
        if (ix >= 0 && ix < i32(p.w)) { acc[i] = fma(x[(row + u32(ix)) * quads + q], wv, acc[i]); }
      }
    }
  }
  let bv = b[q];
  for (var i = 0u; i < TX; i++) { // @unroll
    let ox = ox0 + i;
    if (ox < p.ow) { y[((img * p.oh + oy) * p.ow + ox) * quads + q] = activate4(acc[i] + bv, p.act, p.act_a, p.act_b); }
  }
}
