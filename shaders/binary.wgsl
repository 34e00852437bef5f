// binary — elementwise y = act(a ∘ b) with NumPy broadcasting: the residual/shortcut add, multiply
// (squeeze-and-excite's channel scale), subtract, maximum, minimum, divide, and PReLU (b is the slope).
// @requires activation
//
// The output has up to 6 dims d0…d5 (d5 fastest), after the planner merges contiguous dims; a and b
// are read at their own strides for those dims, 0 where they broadcast. So a same-shaped add is one
// dim of stride 1, and (N,H,W,C) × (N,1,1,C) is dims (N, H·W, C) with b's strides (C, 0, 1).
//
// Bindings (group 0):
//   0 a  values at strides sa0…sa5
//   1 b  values at strides sb0…sb5
//   2 y  d0·…·d5 values
//   3 p  Params
// Grid: 1-D over the outputs in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  total: u32,
  d1: u32, d2: u32, d3: u32, d4: u32, d5: u32,
  sa0: u32, sa1: u32, sa2: u32, sa3: u32, sa4: u32, sa5: u32,
  sb0: u32, sb1: u32, sb2: u32, sb3: u32, sb4: u32, sb5: u32,
  op: u32,  // an OP_ code below
  act: u32, act_a: f32, act_b: f32,
}

const OP_ADD: u32 = 0u; // @enum binary
const OP_MUL: u32 = 1u; // @enum binary
const OP_PRELU: u32 = 2u; // @enum binary (b is the negative slope)
const OP_SUB: u32 = 3u; // @enum binary
const OP_MAX: u32 = 4u; // @enum binary
const OP_MIN: u32 = 5u; // @enum binary
const OP_DIV: u32 = 6u; // @enum binary

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  var av: f32;
  var bv: f32;
  if (p.d5 == p.total) {
    // One dim (a same-shaped add or multiply, the common case) needs no index arithmetic: on a CPU
    // adapter each integer division runs per lane, and the ten below made a residual add 2.3× slower.
    av = a[idx * p.sa5];
    bv = b[idx * p.sb5];
  } else {
    let i5 = idx % p.d5;
    let r4 = idx / p.d5;
    let i4 = r4 % p.d4;
    let r3 = r4 / p.d4;
    let i3 = r3 % p.d3;
    let r2 = r3 / p.d3;
    let i2 = r2 % p.d2;
    let r1 = r2 / p.d2;
    let i1 = r1 % p.d1;
    let i0 = r1 / p.d1;
    av = a[i0 * p.sa0 + i1 * p.sa1 + i2 * p.sa2 + i3 * p.sa3 + i4 * p.sa4 + i5 * p.sa5];
    bv = b[i0 * p.sb0 + i1 * p.sb1 + i2 * p.sb2 + i3 * p.sb3 + i4 * p.sb4 + i5 * p.sb5];
  }
  var v: f32;
  switch p.op {
    case OP_MUL: { v = av * bv; }
    case OP_PRELU: { v = select(bv * av, av, av >= 0.0); }
    case OP_SUB: { v = av - bv; }
    case OP_MAX: { v = max(av, bv); }
    case OP_MIN: { v = min(av, bv); }
    case OP_DIV: { v = av / bv; }
    default: { v = av + bv; } // OP_ADD
  }
  y[idx] = activate(v, p.act, p.act_a, p.act_b);
}
