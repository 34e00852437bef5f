// softmax — numerically stable softmax over the last axis: y = exp(x - max) / sum(exp(x - max)).
//
// One invocation per row: rows are few and short in CNN heads (a batch of 1000-class vectors),
// so a workgroup reduction would cost more in barriers than it saves.
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
  for (var i = 0u; i < p.cols; i++) {
    let e = exp(x[base + i] - top);
    y[base + i] = e;
    sum += e;
  }
  let inv = 1.0 / sum;
  for (var i = 0u; i < p.cols; i++) { y[base + i] *= inv; }
}
