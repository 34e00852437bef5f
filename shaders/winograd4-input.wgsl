// winograd4-input — the input transform of Winograd F(4×4, 3×3): V = Bᵀ d B for every 6×6 input tile d.
//
// Output tiles are 4×4, so tile (ty, tx) reads input rows 4ty − pad_top … +5 and columns
// 4tx − pad_left … +5 (zeros outside the image). Tiles are numbered p = (img·tiles_h + ty)·tiles_w + tx,
// and a chunk of them starts at tile_offset. V is stored as 36 matrices of chunk tiles × channels.
// winograd-input.wgsl does F(2×2) with its transform written out by hand: a generic kernel for both
// (matrix loops, M as a spec constant) made YOLOv3 about 5% slower on lavapipe, so they stay apart.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 v  36 × chunk tiles × c
//   2 p  Params
// Grid: 1-D over chunk tiles*c invocations in workgroups of WG, folded into y past the dimension limit.
// Spec: WG <= 256.

struct Params {
  total: u32,  // chunk tiles * c
  tile_offset: u32,  // first tile of this chunk
  h: u32, w: u32, c: u32,
  tiles_h: u32, tiles_w: u32,
  pad_top: u32, pad_left: u32,
}

const WG: u32 = 64u; // @spec

// Bᵀ (6×6, row-major) of F(4, 3) with interpolation points 0, ±1, ±2 (Lavin & Gray).
const BT = array<f32, 36>(
  4.0, 0.0, -5.0, 0.0, 1.0, 0.0,
  0.0, -4.0, -4.0, 1.0, 1.0, 0.0,
  0.0, 4.0, -4.0, -1.0, 1.0, 0.0,
  0.0, -2.0, -1.0, 2.0, 1.0, 0.0,
  0.0, 2.0, -1.0, -2.0, 1.0, 0.0,
  0.0, 4.0, 0.0, -5.0, 0.0, 1.0,
);

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.total) { return; }
  let ch = idx % p.c;
  let tile = p.tile_offset + idx / p.c;
  let tx = tile % p.tiles_w;
  let ty = (tile / p.tiles_w) % p.tiles_h;
  let img = tile / (p.tiles_w * p.tiles_h);
  let y0 = i32(4u * ty) - i32(p.pad_top);
  let x0 = i32(4u * tx) - i32(p.pad_left);

  var d: array<f32, 36>;
  for (var i = 0; i < 6; i++) {
    for (var j = 0; j < 6; j++) {
      let iy = y0 + i;
      let ix = x0 + j;
      var val = 0.0;
      if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
        val = x[((img * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ch];
      }
      d[i * 6 + j] = val;
    }
  }
  // t = Bᵀ d, then V = t B (B = Bᵀ transposed).
  var t: array<f32, 36>;
  for (var i = 0; i < 6; i++) {
    for (var j = 0; j < 6; j++) {
      var s = 0.0;
      for (var k = 0; k < 6; k++) { s += BT[i * 6 + k] * d[k * 6 + j]; }
      t[i * 6 + j] = s;
    }
  }
  for (var i = 0; i < 6; i++) {
    for (var j = 0; j < 6; j++) {
      var s = 0.0;
      for (var k = 0; k < 6; k++) { s += t[i * 6 + k] * BT[j * 6 + k]; }
      v[u32(i * 6 + j) * p.total + idx] = s;
    }
  }
}
