// pool2d — max or average pooling over NHWC windows with explicit padding.
//
// Padding never contributes: max ignores it, and average divides by the number of in-image taps
// (Keras's 'same' average pooling; Darknet's avgpool never pads). Keras 'same' and Darknet's
// maxpool rule are both turned into (pad_top, pad_left, oh, ow) by src/ops/pool2d.ts.
// A window entirely in the padding (possible only with pads >= the window) yields 0.
//
// Bindings (group 0):
//   0 x  NHWC input, n*h*w*c
//   1 y  NHWC output, n*oh*ow*c
//   2 p  Params
// Grid: 1-D over outputs (channel fastest) in workgroups of WG, folded as in depthwise-conv2d.
// Spec: WG <= 256.

struct Params {
  n: u32, h: u32, w: u32, c: u32,
  oh: u32, ow: u32,
  kh: u32, kw: u32,
  stride_h: u32, stride_w: u32,
  pad_top: u32, pad_left: u32,
  is_max: u32,  // 1 max, 0 average
}

const WG: u32 = 64u; // @spec

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * WG;
  if (idx >= p.n * p.oh * p.ow * p.c) { return; }
  let ch = idx % p.c;
  let pix = idx / p.c;
  let ox = pix % p.ow;
  let t = pix / p.ow;
  let oy = t % p.oh;
  let img = t / p.oh;
  let iy0 = i32(oy * p.stride_h) - i32(p.pad_top);
  let ix0 = i32(ox * p.stride_w) - i32(p.pad_left);

  var best = -3.4028234663852886e38;
  var sum = 0.0;
  var count = 0u;
  for (var ky = 0u; ky < p.kh; ky++) {
    let iy = iy0 + i32(ky);
    if (iy < 0 || iy >= i32(p.h)) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let ix = ix0 + i32(kx);
      if (ix < 0 || ix >= i32(p.w)) { continue; }
      let v = x[((img * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ch];
      best = max(best, v);
      sum += v;
      count += 1u;
    }
  }
  if (count == 0u) {
    y[idx] = 0.0;
  } else if (p.is_max == 1u) {
    y[idx] = best;
  } else {
    y[idx] = sum / f32(count);
  }
}
