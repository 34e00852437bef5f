// winograd4-output-vec4 — winograd4-output.wgsl for output channels in quads: Y = Aᵀ M A per tile and
// channel quad, plus the bias, the activation and the optional residual, as vec4 throughout.
// @requires activation
//
// Each invocation transforms 4 channels of one tile, so every load and store moves a quad; Aᵀ is
// applied as its sums and differences (12 adds and 3 multiplies per column) rather than as a 4×6
// matrix product. On lavapipe this took the output transform of YOLOv3's 104×104 64→128 convs from
// 12.5 to 5.3 ms, and of its 208×208 32→64 conv from 21 to 13 ms.
//
// Bindings (group 0):
//   0 m  36 × chunk tiles × oc (the 36 GEMM products), as quads
//   1 b  bias, oc/4 quads
//   2 r  residual, NHWC like y (bound to b and never read when RESIDUAL = 0)
//   3 y  NHWC output, n*oh*ow*oc, as quads
//   4 p  Params (winograd4-output.wgsl's; oc a multiple of 4)
// Grid: 1-D over chunk tiles*oc/4 invocations in workgroups of WG, folded into y past the limit.
// Spec: WG <= 256; RESIDUAL as in winograd4-output.wgsl.

struct Params {
  total: u32,  // chunk tiles * oc
  tile_offset: u32,  // first tile of this chunk
  oh: u32, ow: u32, oc: u32,
  tiles_h: u32, tiles_w: u32,
  act: u32, act_a: f32, act_b: f32,
}

const WG: u32 = 64u; // @spec
const RESIDUAL: u32 = 0u; // @spec

@group(0) @binding(0) var<storage, read> m: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> r: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;
@group(0) @binding(4) var<uniform> p: Params;


fn epilogue(v: vec4<f32>, at: u32) -> vec4<f32> {
  if (RESIDUAL == 2u) { return activate4(v + r[at], p.act, p.act_a, p.act_b); }
  let a = activate4(v, p.act, p.act_a, p.act_b);
  if (RESIDUAL == 1u) { return a + r[at]; }
  return a;
}

// Aᵀ v for F(4, 3): Aᵀ = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1].
fn at6(v0: vec4<f32>, v1: vec4<f32>, v2: vec4<f32>, v3: vec4<f32>, v4: vec4<f32>, v5: vec4<f32>) -> array<vec4<f32>, 4> {
  let s12 = v1 + v2;
  let d12 = v1 - v2;
  let s34 = v3 + v4;
  let d34 = v3 - v4;
  return array<vec4<f32>, 4>(v0 + s12 + s34, d12 + 2.0 * d34, s12 + 4.0 * s34, d12 + 8.0 * d34 + v5);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let quads = p.oc / 4u;
  let total = p.total / 4u;
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= total) { return; }
  let o = idx % quads;
  let tile = p.tile_offset + idx / quads;
  let tx = tile % p.tiles_w;
  let ty = (tile / p.tiles_w) % p.tiles_h;
  let img = tile / (p.tiles_w * p.tiles_h);

  var q: array<vec4<f32>, 36>;
  for (var k = 0u; k < 36u; k++) { q[k] = m[k * total + idx]; }
  // t = Aᵀ q, column by column (q is 6×6 row-major).
  var t: array<vec4<f32>, 24>;
  for (var j = 0u; j < 6u; j++) {
    let c = at6(q[j], q[6u + j], q[12u + j], q[18u + j], q[24u + j], q[30u + j]);
    for (var i = 0u; i < 4u; i++) { t[i * 6u + j] = c[i]; }
  }
  let bias = b[o];
  // Y = t A, row by row.
  for (var i = 0u; i < 4u; i++) {
    let oy = 4u * ty + i;
    if (oy >= p.oh) { break; }
    let row = at6(t[i * 6u], t[i * 6u + 1u], t[i * 6u + 2u], t[i * 6u + 3u], t[i * 6u + 4u], t[i * 6u + 5u]);
    for (var j = 0u; j < 4u; j++) {
      let ox = 4u * tx + j;
      if (ox >= p.ow) { break; }
      let at = ((img * p.oh + oy) * p.ow + ox) * quads + o;
      y[at] = epilogue(row[j] + bias, at);
    }
  }
}
