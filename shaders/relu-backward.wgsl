// relu-backward — dx = y > 0 ? dy : 0, from the ReLU's output y (the same test as its input's sign,
// and the buffer the forward pass already keeps).
//
// Bindings (group 0):
//   0 y   `total` values: the ReLU's output
//   1 dy  `total` values: the gradient of that output
//   2 dx  `total` values: the gradient of its input
//   3 p   Params
// Grid: 1-D over `total` in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  total: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> y: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  dx[i] = select(0.0, dy[i], y[i] > 0.0);
}
