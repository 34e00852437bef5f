// dropout — y = keep(i) ? x · scale : 0, with scale = 1/(1 − rate) (inverted dropout, as Keras's
// Dropout layer trains). Whether element i is kept comes from a hash of (seed, i), not from a stored
// mask: the backward pass runs this same kernel with the same seed on the gradient, which is exactly
// dropout's derivative, and a CPU reference can recompute every mask (src/train/dropout-mask.ts).
//
// keep(i) = pcg(i ^ pcg(seed)) >= threshold, threshold = round(rate · 2³²) (PCG-RXS-M-XS, Jarzynski
// and Olano's "Hash functions for GPU rendering"): a drop probability of rate to within 2⁻³².
//
// Bindings (group 0):
//   0 x  `total` values
//   1 y  `total` values
//   2 p  Params
// Grid: 1-D over `total` in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  total: u32,
  seed: u32,
  threshold: u32,
  scale: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.total) { return; }
  let keep = pcg(i ^ pcg(p.seed)) >= p.threshold;
  y[i] = select(0.0, x[i] * p.scale, keep);
}
