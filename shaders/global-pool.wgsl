// global-pool — global average or max over the spatial axes: NHWC → N×C.
//
// Bindings (group 0):
//   0 x  NHWC input, n*hw*c (hw = h*w)
//   1 y  output, n*c
//   2 p  Params
// Grid: 1-D over n*c outputs in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  n: u32, hw: u32, c: u32,
  is_max: u32,  // 1 max, 0 average
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.c) { return; }
  let ch = idx % p.c;
  let base = (idx / p.c) * p.hw * p.c + ch;
  var best = -3.4028234663852886e38;
  var sum = 0.0;
  for (var i = 0u; i < p.hw; i++) {
    let v = x[base + i * p.c];
    best = max(best, v);
    sum += v;
  }
  y[idx] = select(sum / f32(p.hw), best, p.is_max == 1u);
}
