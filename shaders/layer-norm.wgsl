// layer-norm — Keras's LayerNormalization: over the normalised axes, per position of the other axes,
// y = (x − mean) / sqrt(var + epsilon) · gamma + beta, with the population variance E[(x − mean)²]
// (two passes over the values, as Keras computes the moments).
//
// The tensor's axes are grouped by src/ops/layer-norm.ts into up to three runs of kept axes (k0…k2)
// and up to three runs of normalised axes (r0…r2), each a size and an element stride, so any axis set
// works: [-1] is one normalised run of stride 1, [1, 2] on NHWC is one run of H·W at stride C, [1, 3]
// two runs. gamma and beta are indexed by the position within the normalised values (their shape is
// the input's sizes at the sorted normalised axes, which is exactly that order).
//
// Bindings (group 0):
//   0 x      the input
//   1 gamma  r-count values (ones when the layer has scale=False)
//   2 beta   r-count values (zeros when the layer has center=False)
//   3 y      like x
//   4 p      Params
// Grid: 1-D over the kept positions (k0·k1·k2) in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  positions: u32,
  k1: u32, k2: u32,
  ks0: u32, ks1: u32, ks2: u32,
  count: u32,
  r1: u32, r2: u32,
  rs0: u32, rs1: u32, rs2: u32,
  epsilon: f32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> gamma: array<f32>;
@group(0) @binding(2) var<storage, read> beta: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

/** Element offset of the i-th normalised value of a position. */
fn reduced(i: u32) -> u32 {
  let i2 = i % p.r2;
  let t = i / p.r2;
  return (t / p.r1) * p.rs0 + (t % p.r1) * p.rs1 + i2 * p.rs2;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let pos = gid.x + gid.y * nwg.x * WG;
  if (pos >= p.positions) { return; }
  let j2 = pos % p.k2;
  let t = pos / p.k2;
  let base = (t / p.k1) * p.ks0 + (t % p.k1) * p.ks1 + j2 * p.ks2;
  var sum = 0.0;
  for (var i = 0u; i < p.count; i++) { sum += x[base + reduced(i)]; }
  let mean = sum / f32(p.count);
  var sq = 0.0;
  for (var i = 0u; i < p.count; i++) {
    let d = x[base + reduced(i)] - mean;
    sq += d * d;
  }
  let inv = 1.0 / sqrt(sq / f32(p.count) + p.epsilon);
  for (var i = 0u; i < p.count; i++) {
    let at = base + reduced(i);
    y[at] = (x[at] - mean) * inv * gamma[i] + beta[i];
  }
}
