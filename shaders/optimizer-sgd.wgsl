// optimizer-sgd — one step of Keras 3's SGD over every trainable value at once (the head's weights
// live in one flat buffer): with momentum, m = momentum·m − lr·g, then w += m (NESTEROV = 0) or
// w += momentum·m − lr·g (NESTEROV = 1); without (momentum 0), w −= lr·g.
//
// Bindings (group 0):
//   0 g  gradients, `total` values
//   1 w  weights, updated in place
//   2 m  momentum buffer, updated in place (zeros at the start)
//   3 p  Params
// Grid: 1-D over `total` in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256; NESTEROV 0 or 1.

struct Params {
  total: u32, lr: f32, momentum: f32,
}

const WG: u32 = 64u; // @spec
const NESTEROV: u32 = 0u; // @spec

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  if (p.momentum == 0.0) {
    w[i] -= g[i] * p.lr;
    return;
  }
  let mi = m[i] * p.momentum - g[i] * p.lr;
  m[i] = mi;
  if (NESTEROV == 1u) { w[i] += mi * p.momentum - g[i] * p.lr; } else { w[i] += mi; }
}
