// softmax-xent — the loss layer of a classifier head, one invocation per row of logits z:
//   MODE 0, softmax + categorical cross-entropy: loss = logsumexp(z) − Σ t·z, dz = (softmax(z) − t)·scale
//   MODE 1, sigmoid + binary cross-entropy (mean over the n outputs):
//          loss = mean_j(max(z, 0) − z·t + log(1 + e^−|z|)), dz = (σ(z) − t)·scale
// Both from the logits, as Keras computes them when the activation is the output layer's own (no
// clipping of probabilities). scale is 1/m (MODE 0) or 1/(m·n) (MODE 1) for the batch mean.
// Per row it also writes its loss and whether it is right into stats at row offset + i: MODE 0
// argmax(z) == argmax(t) (the first maximum, as categorical_accuracy), MODE 1 the mean of
// (z > 0) == (t > 0.5) over the row (binary_accuracy at 0.5). Only these come back to the CPU.
//
// Bindings (group 0):
//   0 z      m×n logits
//   1 t      m×n targets (one-hot rows, or 0/1 for MODE 1)
//   2 dz     m×n gradient of the batch-mean loss (not written when GRAD = 0)
//   3 stats  2 values per row of the data set: loss, correct
//   4 p      Params
// Grid: x = ceil(m / WG).
// Spec: WG <= 256; MODE 0 or 1; GRAD 0 or 1.

struct Params {
  m: u32, n: u32, offset: u32, scale: f32,
}

const WG: u32 = 64u; // @spec
const MODE: u32 = 0u; // @spec
const GRAD: u32 = 1u; // @spec

@group(0) @binding(0) var<storage, read> z: array<f32>;
@group(0) @binding(1) var<storage, read> t: array<f32>;
@group(0) @binding(2) var<storage, read_write> dz: array<f32>;
@group(0) @binding(3) var<storage, read_write> stats: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.m) { return; }
  let row = i * p.n;
  var loss = 0.0;
  var correct = 0.0;
  if (MODE == 0u) {
    var zmax = z[row];
    var zarg = 0u;
    var tmax = t[row];
    var targ = 0u;
    for (var j = 1u; j < p.n; j++) {
      if (z[row + j] > zmax) { zmax = z[row + j]; zarg = j; }
      if (t[row + j] > tmax) { tmax = t[row + j]; targ = j; }
    }
    var sum = 0.0;
    for (var j = 0u; j < p.n; j++) { sum += exp(z[row + j] - zmax); }
    let lse = zmax + log(sum);
    for (var j = 0u; j < p.n; j++) {
      let tj = t[row + j];
      loss += tj * (lse - z[row + j]);
      if (GRAD == 1u) { dz[row + j] = (exp(z[row + j] - lse) - tj) * p.scale; }
    }
    correct = select(0.0, 1.0, zarg == targ);
  } else {
    for (var j = 0u; j < p.n; j++) {
      let v = z[row + j];
      let tj = t[row + j];
      loss += max(v, 0.0) - v * tj + log(1.0 + exp(-abs(v)));
      correct += select(0.0, 1.0, (v > 0.0) == (tj > 0.5));
      if (GRAD == 1u) { dz[row + j] = (1.0 / (1.0 + exp(-v)) - tj) * p.scale; }
    }
    loss /= f32(p.n);
    correct /= f32(p.n);
  }
  stats[2u * (p.offset + i)] = loss;
  stats[2u * (p.offset + i) + 1u] = correct;
}
