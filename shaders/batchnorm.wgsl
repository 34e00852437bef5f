// batchnorm — inference batch normalisation over any one axis, with a fused activation:
//   y = act((x - mean) * gamma / sqrt(var + eps) + beta)
// computed the way TensorFlow does: inv = gamma / sqrt(var + eps); y = x * inv + (beta - mean * inv).
// center=False / scale=False are expressed by the caller as beta = 0 / gamma = 1.
//
// Bindings (group 0):
//   0 x      input, `total` values; the normalised axis has `channels` entries and stride `inner`
//   1 gamma  channels      2 beta  channels      3 mean  channels      4 variance  channels
//   5 y      output, same shape as x
//   6 p      Params
// Grid: 1-D over `total` in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.
// @requires activation

struct Params {
  total: u32, channels: u32, inner: u32,
  epsilon: f32,
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read> mean: array<f32>;
@group(0) @binding(4) var<storage, read> variance: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let ch = (idx / p.inner) % p.channels;
  let inv = gamma[ch] / sqrt(variance[ch] + p.epsilon);
  let v = x[idx] * inv + (beta[ch] - mean[ch] * inv);
  y[idx] = activate(v, p.act, p.act_a, p.act_b);
}
