// activation — the one definition of every fusable activation, appended by the shader loader to each
// kernel whose header says `// @requires activation` (appended, not prepended, so the kernel's own
// line numbers hold in compiler messages). Valid WGSL on its own: it declares only functions.
//
// kind (keep in sync with ACTIVATION_CODES in src/ops/activation.ts):
//   0 linear
//   1 relu family: v >= 0 ? v : a*v, then min(·, b)  (relu a=0 b=FLT_MAX; relu6 b=6; leaky a=alpha)
//   2 sigmoid (Darknet's logistic)     3 tanh
//   4 elu (alpha a)                    5 selu
//   6 softplus                         7 softsign
//   8 hard sigmoid clamp(a*v + b, 0, 1) (Keras 2: a=0.2 b=0.5; Keras 3: a=1/6 b=0.5)
//   9 mish                            10 swish (v * sigmoid(v))
//  11 thresholded relu: v > a ? v : 0

fn act_sigmoid(v: f32) -> f32 {
  // exp(-v) overflows to +inf for v < -88, and 1/(1+inf) = 0 is the right limit.
  return 1.0 / (1.0 + exp(-v));
}

fn act_softplus(v: f32) -> f32 {
  // Past 20, log(1 + e^v) equals v in f32; computing it would overflow e^v at 89.
  return select(log(1.0 + exp(v)), v, v > 20.0);
}

fn act_tanh(v: f32) -> f32 {
  // Some backends build tanh from exp and return NaN for large |v|; tanh(±15) is ±1 in f32.
  return tanh(clamp(v, -15.0, 15.0));
}

fn activate(v: f32, kind: u32, a: f32, b: f32) -> f32 {
  switch kind {
    case 1u: { return min(select(a * v, v, v >= 0.0), b); }
    case 2u: { return act_sigmoid(v); }
    case 3u: { return act_tanh(v); }
    case 4u: { return select(a * (exp(v) - 1.0), v, v > 0.0); }
    case 5u: { return 1.0507009873554805 * select(1.6732632423543772 * (exp(v) - 1.0), v, v > 0.0); }
    case 6u: { return act_softplus(v); }
    case 7u: { return v / (1.0 + abs(v)); }
    case 8u: { return clamp(a * v + b, 0.0, 1.0); }
    case 9u: { return v * act_tanh(act_softplus(v)); }
    case 10u: { return v * act_sigmoid(v); }
    case 11u: { return select(0.0, v, v > a); }
    default: { return v; }
  }
}

/** activate() on each lane of a channel quad (the vec4 kernels). */
fn activate4(v: vec4<f32>, kind: u32, a: f32, b: f32) -> vec4<f32> {
  return vec4<f32>(activate(v.x, kind, a, b), activate(v.y, kind, a, b), activate(v.z, kind, a, b), activate(v.w, kind, a, b));
}
