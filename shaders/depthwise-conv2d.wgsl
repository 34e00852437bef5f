// depthwise-conv2d — y = act(depthwise(x, w) + b): groups = input channels, depth multiplier `mult`.
// @requires activation
//
// Output channel o reads input channel o / mult (Keras's DepthwiseConv2D and Darknet's
// groups = channels order). One invocation per output value, channel fastest, so neighbouring
// invocations read neighbouring addresses.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 w  kh*kw*oc weights (Keras's kh×kw×c×mult flattened: output channel = c*mult + m)
//   2 b  bias, oc (zeros when none)
//   3 y  NHWC output, n*oh*ow*oc
//   4 p  Params
// Grid: 1-D over n*oh*ow*oc outputs in workgroups of WG, folded into y past 65535 groups:
//   x = min(groups, 65535), y = ceil(groups / x).
// Spec: WG <= 256.

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

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.oh * p.ow * p.oc) { return; }
  let o = idx % p.oc;
  let pix = idx / p.oc;
  let ox = pix % p.ow;
  let t = pix / p.ow;
  let oy = t % p.oh;
  let img = t / p.oh;
  let ic = o / p.mult;
  let iy0 = i32(oy * p.stride_h) - i32(p.pad_top);
  let ix0 = i32(ox * p.stride_w) - i32(p.pad_left);

  var acc = 0.0;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = iy0 + i32(ky * p.dil_h);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = ix0 + i32(kx * p.dil_w);
      if (ix < 0 || ix >= i32(p.w)) { continue; }
      let xv = x[((img * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ic];
      acc = fma(xv, w[(ky * p.kw + kx) * p.oc + o], acc);
    }
  }
  y[idx] = activate(acc + b[o], p.act, p.act_a, p.act_b);
}
