// slice — copies positions offset … offset+out_axis of one axis (Darknet's route with groups/group_id:
// a channel slice). The inverse of concat's addressing.
//
// The input is viewed as outer × in_axis × inner, the output as outer × out_axis × inner.
//
// Bindings (group 0):
//   0 x  outer*in_axis*inner values
//   1 y  outer*out_axis*inner values
//   2 p  Params
// Grid: 1-D over the output's values in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  total: u32,  // outer * out_axis * inner
  in_axis: u32, out_axis: u32, inner: u32, offset: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let i = idx % p.inner;
  let t = idx / p.inner;
  let a = t % p.out_axis;
  let o = t / p.out_axis;
  y[idx] = x[(o * p.in_axis + p.offset + a) * p.inner + i];
}
