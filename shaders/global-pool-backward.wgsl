// global-pool-backward — the gradient of global pooling over height and width (NHWC): average
// pooling spreads dy[n, c] evenly over the hw pixels; max pooling gives it to the first maximum
// (as TensorFlow's reduce_max gradient routes it for distinct values).
//
// Bindings (group 0):
//   0 x   n×hw×c (the pooling's input)
//   1 dy  n×c
//   2 dx  n×hw×c
//   3 p   Params
// Grid: 1-D over n·hw·c in workgroups of WG, folded into y past the per-dimension limit.
// Spec: WG <= 256.

struct Params {
  n: u32, hw: u32, c: u32, is_max: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.hw * p.c) { return; }
  let ch = idx % p.c;
  let n = idx / (p.hw * p.c);
  let g = dy[n * p.c + ch];
  if (p.is_max == 0u) {
    dx[idx] = g / f32(p.hw);
    return;
  }
  var at = n * p.hw * p.c + ch;
  for (var i = 1u; i < p.hw; i++) {
    let k = (n * p.hw + i) * p.c + ch;
    if (x[k] > x[at]) { at = k; }
  }
  dx[idx] = select(0.0, g, at == idx);
}
