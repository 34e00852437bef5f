// activation — elementwise y = act(x), for activations that could not be fused into a producer.
// @requires activation
//
// Bindings (group 0):
//   0 x  `total` values
//   1 y  `total` values
//   2 p  Params
// Grid: 1-D over `total` in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  total: u32,
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  y[idx] = activate(x[idx], p.act, p.act_a, p.act_b);
}
