// concat-vec4 — concat.wgsl by quads, for copies whose runs all start and end on a quad: the input is
// outer runs of `run` quads, each landing at quad `offset` of an output run of `out_run` quads. An NHWC
// channel concat of channel counts that are multiples of 4 (DenseNet's, most routes) is one such copy.
//
// On a CPU adapter a copy's time is per invocation (its index arithmetic and bounds checks): a quad
// per invocation is about 3× faster than one value.
//
// Bindings (group 0):
//   0 x  outer*run quads
//   1 y  outer*out_run quads (only this input's runs are written)
//   2 p  Params
// Grid: 1-D over the input's quads in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  quads: u32,  // outer * run
  run: u32, out_run: u32, offset: u32,
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.quads) { return; }
  let a = idx % p.run;
  let o = idx / p.run;
  y[o * p.out_run + p.offset + a] = x[idx];
}
