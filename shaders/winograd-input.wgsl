// winograd-input — the input transform of Winograd F(2×2, 3×3): V = Bᵀ d B for every 4×4 input tile d.
//
// Output tiles are 2×2, so tile (ty, tx) reads input rows 2ty − pad_top … +3 and columns
// 2tx − pad_left … +3 (zeros outside the image). Tiles are numbered p = (img·tiles_h + ty)·tiles_w + tx.
// V is stored as 16 matrices of tiles × channels, so each is the A of one of the 16 GEMMs. Large
// layers run in chunks of tiles (tile_offset …), so V and M stay small; V holds one chunk.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 v  16 × tiles × c
//   2 p  Params
// Grid: 1-D over tiles*c invocations in workgroups of WG, folded into y past the dimension limit.
// Spec: WG <= 256.

struct Params {
  total: u32,  // chunk tiles * c
  tile_offset: u32,  // first tile of this chunk
  h: u32, w: u32, c: u32,
  tiles_h: u32, tiles_w: u32,
  pad_top: u32, pad_left: u32,
}

const WG: u32 = 64u; // @spec

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
  let y0 = i32(2u * ty) - i32(p.pad_top);
  let x0 = i32(2u * tx) - i32(p.pad_left);

  var d: array<f32, 16>;
  for (var i = 0; i < 4; i++) {
    for (var j = 0; j < 4; j++) {
      let iy = y0 + i;
      let ix = x0 + j;
      var val = 0.0;
      if (iy >= 0 && iy < i32(p.h) && ix >= 0 && ix < i32(p.w)) {
        val = x[((img * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ch];
      }
      d[i * 4 + j] = val;
    }
  }
  // Bᵀ d: combine rows (Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1]).
  var t: array<f32, 16>;
  for (var j = 0; j < 4; j++) {
    t[j] = d[j] - d[8 + j];
    t[4 + j] = d[4 + j] + d[8 + j];
    t[8 + j] = d[8 + j] - d[4 + j];
    t[12 + j] = d[4 + j] - d[12 + j];
  }
  // (Bᵀ d) B: the same combination of columns.
  let stride = p.total;
  for (var i = 0; i < 4; i++) {
    let r = i * 4;
    let base = u32(r) * stride + idx;
    v[base] = t[r] - t[r + 2];
    v[base + stride] = t[r + 1] + t[r + 2];
    v[base + 2u * stride] = t[r + 2] - t[r + 1];
    v[base + 3u * stride] = t[r + 1] - t[r + 3];
  }
}
