// transpose — permutes the axes of a tensor of rank <= 4 (NCHW ↔ NHWC, NCHW-order flatten).
//
// The caller describes the output's 4 axes (padded with leading 1s) and, for each, the stride
// of the input axis it comes from: y[i0, i1, i2, i3] = x[i0*s0 + i1*s1 + i2*s2 + i3*s3].
//
// Bindings (group 0):
//   0 x  input values
//   1 y  output values, d0*d1*d2*d3
//   2 p  Params
// Grid: 1-D over outputs in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  d0: u32, d1: u32, d2: u32, d3: u32,
  s0: u32, s1: u32, s2: u32, s3: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.d0 * p.d1 * p.d2 * p.d3) { return; }
  let i3 = idx % p.d3;
  var t = idx / p.d3;
  let i2 = t % p.d2;
  t = t / p.d2;
  let i1 = t % p.d1;
  let i0 = t / p.d1;
  y[idx] = x[i0 * p.s0 + i1 * p.s1 + i2 * p.s2 + i3 * p.s3];
}
