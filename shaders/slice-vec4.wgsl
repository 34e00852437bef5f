// slice-vec4 — slice.wgsl by quads, for slices whose runs all start and end on a quad: the output is
// outer runs of `run` quads, each read from quad `offset` of an input run of `in_run` quads (a channel
// slice of channel counts that are multiples of 4: most of Darknet's route groups). The inverse of
// concat-vec4's addressing, and faster than slice.wgsl for the same reason.
//
// Bindings (group 0):
//   0 x  outer*in_run quads
//   1 y  outer*run quads
//   2 p  Params
// Grid: 1-D over the output's quads in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  quads: u32,  // outer * run
  in_run: u32, run: u32, offset: u32,
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
  y[idx] = x[o * p.in_run + p.offset + a];
}
