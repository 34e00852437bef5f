// pad — constant (zero by default) padding of the spatial axes of NHWC, per side.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 y  NHWC output, n*oh*ow*c with oh = pad_top + h + pad_bottom, ow likewise
//   2 p  Params
// Grid: 1-D over outputs in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32,
  pad_top: u32, pad_left: u32,
  value: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.oh * p.ow * p.c) { return; }
  let ch = idx % p.c;
  let pix = idx / p.c;
  let ox = i32(pix % p.ow) - i32(p.pad_left);
  let t = pix / p.ow;
  let oy = i32(t % p.oh) - i32(p.pad_top);
  let img = t / p.oh;
  if (oy < 0 || oy >= i32(p.h) || ox < 0 || ox >= i32(p.w)) {
    y[idx] = p.value;
  } else {
    y[idx] = x[((img * p.h + u32(oy)) * p.w + u32(ox)) * p.c + ch];
  }
}
