// winograd4-output — the output transform of Winograd F(4×4, 3×3): Y = Aᵀ M A for every tile, plus the
// bias and the activation, written to the 4×4 output pixels of the tile that lie inside the image.
// Kept apart from winograd-output.wgsl (F(2×2), written out by hand) for speed; see winograd4-input.wgsl.
// @requires activation
//
// Bindings (group 0):
//   0 m  36 × chunk tiles × oc (the 36 GEMM products)
//   1 b  bias, oc
//   2 r  residual, NHWC like y (bound to b and never read when RESIDUAL = 0)
//   3 y  NHWC output, n*oh*ow*oc
//   4 p  Params
// Grid: 1-D over chunk tiles*oc invocations in workgroups of WG, folded into y past the dimension limit.
// Spec: WG <= 256; RESIDUAL 0 (none), 1 (y = act(conv) + r: Darknet's [shortcut] after a conv),
//   2 (y = act(conv + r): Keras's Add followed by an activation).

struct Params {
  total: u32,  // chunk tiles * oc
  tile_offset: u32,  // first tile of this chunk
  oh: u32, ow: u32, oc: u32,
  tiles_h: u32, tiles_w: u32,
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec
const RESIDUAL: u32 = 0u; // @spec

// Aᵀ (4×6, row-major) of F(4, 3).
const AT = array<f32, 24>(
  1.0, 1.0, 1.0, 1.0, 1.0, 0.0,
  0.0, 1.0, -1.0, 2.0, -2.0, 0.0,
  0.0, 1.0, 1.0, 4.0, 4.0, 0.0,
  0.0, 1.0, -1.0, 8.0, -8.0, 1.0,
);

@group(0) @binding(0) var<storage, read> m: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> r: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn epilogue(v: f32, at: u32) -> f32 {
  if (RESIDUAL == 2u) { return activate(v + r[at], p.act, p.act_a, p.act_b); }
  let a = activate(v, p.act, p.act_a, p.act_b);
  if (RESIDUAL == 1u) { return a + r[at]; }
  return a;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let o = idx % p.oc;
  let tile = p.tile_offset + idx / p.oc;
  let tx = tile % p.tiles_w;
  let ty = (tile / p.tiles_w) % p.tiles_h;
  let img = tile / (p.tiles_w * p.tiles_h);

  var q: array<f32, 36>;
  for (var k = 0u; k < 36u; k++) { q[k] = m[k * p.total + idx]; }
  // t = Aᵀ q (4×6), then Y = t A (4×4).
  var t: array<f32, 24>;
  for (var i = 0; i < 4; i++) {
    for (var j = 0; j < 6; j++) {
      var s = 0.0;
      for (var k = 0; k < 6; k++) { s += AT[i * 6 + k] * q[k * 6 + j]; }
      t[i * 6 + j] = s;
    }
  }
  let bias = b[o];
  for (var i = 0u; i < 4u; i++) {
    let oy = 4u * ty + i;
    if (oy >= p.oh) { break; }
    for (var j = 0u; j < 4u; j++) {
      let ox = 4u * tx + j;
      if (ox >= p.ow) { break; }
      var s = 0.0;
      for (var k = 0u; k < 6u; k++) { s += t[i * 6u + k] * AT[j * 6u + k]; }
      let at = ((img * p.oh + oy) * p.ow + ox) * p.oc + o;
      y[at] = epilogue(s + bias, at);
    }
  }
}
