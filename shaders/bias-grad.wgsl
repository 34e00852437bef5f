// bias-grad — db[j] = Σ_i dy[i, j]: the bias gradient of a dense layer, a column sum over the m rows
// of a mini-batch, in row order (deterministic, no atomics). Lanes take consecutive columns, so each
// step of the loop reads consecutive addresses.
//
// Bindings (group 0):
//   0 dy  m×n row-major
//   1 db  n values
//   2 p   Params
// Grid: x = ceil(n / WG).
// Spec: WG <= 256.

struct Params {
  m: u32, n: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read_write> db: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= p.n) { return; }
  var s = 0.0;
  for (var i = 0u; i < p.m; i++) { s += dy[i * p.n + j]; }
  db[j] = s;
}
