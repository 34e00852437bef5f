// optimizer-adam — one step of Keras 3's Adam over every trainable value at once:
//   m += (g − m)(1 − β₁), v += (g² − v)(1 − β₂), w −= α·m / (√v + ε)
// with the bias correction folded into α = lr·√(1 − β₂ᵗ)/(1 − β₁ᵗ), computed per step on the CPU in
// float64 (t = the step, from 1), exactly Keras's formula (ε outside the square root, 1e-7 by default).
//
// Bindings (group 0):
//   0 g  gradients, `total` values
//   1 w  weights, updated in place
//   2 m  first moments, updated in place (zeros at the start)
//   3 v  second moments, updated in place (zeros at the start)
//   4 p  Params
// Grid: 1-D over `total` in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  total: u32, alpha: f32, beta1: f32, beta2: f32, epsilon: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> g: array<f32>;
@group(0) @binding(1) var<storage, read_write> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let gi = g[i];
  let mi = m[i] + (gi - m[i]) * (1.0 - p.beta1);
  let vi = v[i] + (gi * gi - v[i]) * (1.0 - p.beta2);
  m[i] = mi;
  v[i] = vi;
  w[i] -= mi * p.alpha / (sqrt(vi) + p.epsilon);
}
