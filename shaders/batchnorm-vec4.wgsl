// batchnorm-vec4 — batchnorm.wgsl over the last axis by channel quads: channels % 4 == 0 (the layout
// of nearly every image tensor), one quad per invocation; the same arithmetic, lane by lane.
// @requires activation
//
// As for activation-vec4: on a CPU adapter the time is per invocation (here also an integer division
// and four parameter loads), so a quad per invocation is several times faster than one value.
//
// Bindings (group 0):
//   0 x      input, `quads` quads, channels fastest
//   1 gamma  channels/4 quads      2 beta  ditto      3 mean  ditto      4 variance  ditto
//   5 y      output, same shape as x
//   6 p      Params
// Grid: 1-D over `quads` in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  quads: u32, channel_quads: u32,
  epsilon: f32,
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> gamma: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> beta: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> mean: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> variance: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.quads) { return; }
  let q = idx % p.channel_quads;
  let inv = gamma[q] / sqrt(variance[q] + p.epsilon);
  let v = x[idx] * inv + (beta[q] - mean[q] * inv);
  y[idx] = activate4(v, p.act, p.act_a, p.act_b);
}
