// reorg — Darknet's [reorg] and [reorg3d]: NHWC (n, h, w, c) → (n, h/s, w/s, c·s²).
//
// MODE 0, Darknet's old reorg (yolov2's passthrough layer): not a space-to-depth but the permutation
// reorg_cpu makes when it reads the input buffer, in NCHW memory order, as if it were (c/s², h·s, w·s) and
// writes it back as (c, h, w): output NCHW index f = i + w·(j + h·k) takes input NCHW index
// (i·s + o % s) + w·s·((j·s + o / s) + h·s·(k % c')) with c' = c/s², o = k / c'.
// MODE 1, [reorg3d]: space-to-depth, output channel (dy·s + dx)·c + ch takes input (y·s + dy, x·s + dx, ch).
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 y  NHWC output, n*oh*ow*oc (oh = h/s, ow = w/s, oc = c*s*s)
//   2 p  Params
// Grid: 1-D over outputs (channel fastest) in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  s: u32,
  mode: u32,  // 0 Darknet's old reorg, 1 space-to-depth
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  let oh = p.h / p.s;
  let ow = p.w / p.s;
  let oc = p.c * p.s * p.s;
  if (idx >= p.n * oh * ow * oc) { return; }
  let ch = idx % oc;
  let pix = idx / oc;
  let ox = pix % ow;
  let t = pix / ow;
  let oy = t % oh;
  let img = t / oh;
  var iy: u32;
  var ix: u32;
  var ic: u32;
  if (p.mode == 0u) {
    let f = (ch * oh + oy) * ow + ox;
    let i = f % p.w;
    let j = (f / p.w) % p.h;
    let k = f / (p.w * p.h);
    let cp = p.c / (p.s * p.s);
    let o = k / cp;
    let g = (i * p.s + o % p.s) + p.w * p.s * ((j * p.s + o / p.s) + p.h * p.s * (k % cp));
    ic = g / (p.h * p.w);
    iy = (g / p.w) % p.h;
    ix = g % p.w;
  } else {
    let o = ch / p.c;
    ic = ch % p.c;
    iy = oy * p.s + o / p.s;
    ix = ox * p.s + o % p.s;
  }
  y[idx] = x[((img * p.h + iy) * p.w + ix) * p.c + ic];
}
