// se-gate — squeeze-and-excite's gate and the channel scale of the 1×1 projection conv after it, in one
// dispatch. For image n and the CB input channels c of this workgroup's block:
//   r    = act_r(pooled[n] · wr + br)     all cr reduced values (every workgroup computes them again)
//   s[c] = act_e(r · we[:, c] + be[c])    the gate
//   out[n, c, :] = s[c] · wp[c, :]        the projection's weights scaled for image n
// Why: the gate's two 1×1 convs on a 1×1 image and the weight scaling are three dispatches of almost
// no arithmetic; on lavapipe a dispatch costs about 0.2 ms whatever it does, and EfficientNetB0 has 16
// such gates. Recomputing r per block costs a workgroup pc·cr multiply-adds (55k at most in B0).
// @requires activation
//
// Bindings (group 0):
//   0 pooled  n×pc: the pooled input, one row per image
//   1 wr      pc×cr row-major (the reducing conv's kernel)
//   2 br      cr (zeros when none)
//   3 we      cr×c row-major (the expanding conv's kernel)
//   4 be      c (zeros when none)
//   5 wp      c×o row-major (the projection's kernel)
//   6 out     n×c×o: image n's scaled projection weights
//   7 p       Params
// Grid: x = ceil(c / WG) channel blocks, y = n images. Spec: WG lanes (a power of two, ≤ 256).
// Requirements (checked by the planner): cr ≤ MAX_REDUCED.

struct Params {
  pc: u32, cr: u32, c: u32, o: u32,
  act_r: u32, act_r_a: f32, act_r_b: f32,
  act_e: u32, act_e_a: f32, act_e_b: f32,
}

const WG: u32 = 64u; // @spec
const MAX_REDUCED: u32 = 1024u;

@group(0) @binding(0) var<storage, read> pooled: array<f32>;
@group(0) @binding(1) var<storage, read> wr: array<f32>;
@group(0) @binding(2) var<storage, read> br: array<f32>;
@group(0) @binding(3) var<storage, read> we: array<f32>;
@group(0) @binding(4) var<storage, read> be: array<f32>;
@group(0) @binding(5) var<storage, read> wp: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;
@group(0) @binding(7) var<uniform> p: Params;

var<workgroup> reduced: array<f32, MAX_REDUCED>;
var<workgroup> gate: array<f32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3u, @builtin(local_invocation_index) lane: u32) {
  let img = wg.y;
  let c0 = wg.x * WG;
  // Lane j sums reduced value j over the pooled row: the pooled value is the same for every lane.
  for (var j = lane; j < p.cr; j += WG) {
    var acc = br[j];
    for (var i = 0u; i < p.pc; i++) { acc = fma(pooled[img * p.pc + i], wr[i * p.cr + j], acc); }
    reduced[j] = activate(acc, p.act_r, p.act_r_a, p.act_r_b);
  }
  workgroupBarrier();
  let ch = c0 + lane;
  if (ch < p.c) {
    var acc = be[ch];
    for (var j = 0u; j < p.cr; j++) { acc = fma(reduced[j], we[j * p.c + ch], acc); }
    gate[lane] = activate(acc, p.act_e, p.act_e_a, p.act_e_b);
  }
  workgroupBarrier();
  // The block's weight rows are contiguous in wp and out: lanes run along each row.
  let rows = min(WG, p.c - c0);
  for (var k = 0u; k < rows; k++) {
    let s = gate[k];
    let src = (c0 + k) * p.o;
    let dst = (img * p.c + c0 + k) * p.o;
    for (var q = lane; q < p.o; q += WG) { out[dst + q] = s * wp[src + q]; }
  }
}
