// gather-rows — y[i, :] = x[idx[offset + i], :] for i < m: one mini-batch of a data set in the order
// of this epoch's shuffle (idx holds the permutation, written once per epoch), so the data set itself
// stays on the GPU and never moves.
//
// Bindings (group 0):
//   0 x    rows × n row-major (the whole data set)
//   1 idx  row indices (u32)
//   2 y    m × n row-major
//   3 p    Params
// Grid: 1-D over m·n in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  m: u32, n: u32, offset: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.m * p.n) { return; }
  let i = t / p.n;
  let j = t - i * p.n;
  y[t] = x[idx[p.offset + i] * p.n + j];
}
