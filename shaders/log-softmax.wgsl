// log-softmax — over the last axis: y = x − max − log(Σ exp(x − max)), computed directly rather than
// as log(softmax(x)), so that values far below the maximum stay finite and exact to float32.
//
// One invocation per row, as in softmax.wgsl.
//
// Bindings (group 0):
//   0 x  rows*cols values
//   1 y  rows*cols values
//   2 p  Params
// Grid: 1-D over rows in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  rows: u32, cols: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = gid.x + gid.y * nwg.x * WG;
  if (r >= p.rows) { return; }
  let base = r * p.cols;
  var top = -3.4028234663852886e38;
  for (var i = 0u; i < p.cols; i++) { top = max(top, x[base + i]); }
  var sum = 0.0;
  for (var i = 0u; i < p.cols; i++) { sum += exp(x[base + i] - top); }
  let shift = top + log(sum);
  for (var i = 0u; i < p.cols; i++) { y[base + i] = x[base + i] - shift; }
}
