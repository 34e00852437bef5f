// crop2d — Keras's Cropping2D on NHWC: y = x[:, top : h − bottom, left : w − right, :].
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 y  NHWC output, n*oh*ow*c
//   2 p  Params
// Grid: 1-D over outputs in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  total: u32,
  h: u32, w: u32, c: u32,
  oh: u32, ow: u32,
  top: u32, left: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let ch = idx % p.c;
  let pix = idx / p.c;
  let ox = pix % p.ow;
  let t = pix / p.ow;
  let oy = t % p.oh;
  let img = t / p.oh;
  y[idx] = x[((img * p.h + oy + p.top) * p.w + ox + p.left) * p.c + ch];
}
