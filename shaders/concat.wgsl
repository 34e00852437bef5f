// concat — copies one input into its slice of the concatenated output (one dispatch per input).
//
// Any axis: the caller views the input as outer × in_axis × inner and the output as
// outer × out_axis × inner; this input lands at positions offset … offset+in_axis of the axis.
// For NHWC channel concat (Darknet's route, Keras's Concatenate(axis=-1)) inner = 1.
//
// Bindings (group 0):
//   0 x  outer*in_axis*inner values
//   1 y  outer*out_axis*inner values (only this input's slice is written)
//   2 p  Params
// Grid: 1-D over the input's values in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  total: u32,  // outer * in_axis * inner
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
  let a = t % p.in_axis;
  let o = t / p.in_axis;
  y[(o * p.out_axis + p.offset + a) * p.inner + i] = x[idx];
}
