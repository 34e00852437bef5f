// upsample — nearest-neighbour upsampling of NHWC by integer factors (Keras UpSampling2D,
// Darknet [upsample]): y[n, oy, ox, c] = x[n, oy / fh, ox / fw, c].
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 y  NHWC output, n*(h*fh)*(w*fw)*c
//   2 p  Params
// Grid: 1-D over outputs in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  fh: u32, fw: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let ow = p.w * p.fw;
  let oh = p.h * p.fh;
  if (idx >= p.n * oh * ow * p.c) { return; }
  let ch = idx % p.c;
  let pix = idx / p.c;
  let ox = pix % ow;
  let t = pix / ow;
  let oy = t % oh;
  let img = t / oh;
  y[idx] = x[((img * p.h + oy / p.fh) * p.w + ox / p.fw) * p.c + ch];
}
