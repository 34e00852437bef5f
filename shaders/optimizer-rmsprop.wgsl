// optimizer-rmsprop — one step of Keras 3's RMSprop (not centered, no momentum) over every trainable
// value at once: v = ρ·v + (1 − ρ)·g², w −= lr·g / √(v + ε) (ε inside the square root, as Keras has it).
//
// Bindings (group 0):
//   0 g  gradients, `total` values
//   1 w  weights, updated in place
//   2 v  mean squares, updated in place (zeros at the start)
//   3 p  Params
// Grid: 1-D over `total` in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  total: u32, lr: f32, rho: f32, epsilon: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> v: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let gi = g[i];
  let vi = p.rho * v[i] + (1.0 - p.rho) * gi * gi;
  v[i] = vi;
  w[i] -= p.lr * gi / sqrt(vi + p.epsilon);
}
