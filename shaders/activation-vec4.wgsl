// activation-vec4 — activation.wgsl on quads: y = act(x) four values per invocation, for totals that
// are a multiple of 4 (nearly every tensor: channels come in quads).
// @requires activation
//
// On a CPU adapter an elementwise kernel's time is per invocation (index, bounds checks, the branch on
// the activation code), not per value, so a quad per invocation runs about 3× faster than one value.
//
// Bindings (group 0):
//   0 x  `quads` quads
//   1 y  `quads` quads
//   2 p  Params
// Grid: 1-D over `quads` in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  quads: u32,
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.quads) { return; }
  y[idx] = activate4(x[idx], p.act, p.act_a, p.act_b);
}
