// binary — elementwise y = act(a ∘ b) for the residual/shortcut add, multiply, and PReLU.
// @requires activation
//
// b broadcasts by repetition: b[i % b_size]. That covers a same-shaped b, a per-channel b
// (NHWC: channels are the trailing axis) and a scalar.
//
// Bindings (group 0):
//   0 a  `total` values
//   1 b  `b_size` values (b_size divides total)
//   2 y  `total` values
//   3 p  Params
// Grid: 1-D over `total` in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  total: u32, b_size: u32,
  op: u32,  // an OP_ code below
  act: u32, act_a: f32, act_b: f32,
}

const OP_ADD: u32 = 0u; // @enum binary
const OP_MUL: u32 = 1u; // @enum binary
const OP_PRELU: u32 = 2u; // @enum binary (b is the negative slope)

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let av = a[idx];
  let bv = b[idx % p.b_size];
  var v: f32;
  switch p.op {
    case OP_MUL: { v = av * bv; }
    case OP_PRELU: { v = select(bv * av, av, av >= 0.0); }
    default: { v = av + bv; } // OP_ADD
  }
  y[idx] = activate(v, p.act, p.act_a, p.act_b);
}
