// activation — the one definition of every fusable activation, appended by the shader loader to each
// kernel whose header says `// @requires activation` (appended, not prepended, so the kernel's own
// line numbers hold in compiler messages). Valid WGSL on its own: it declares only functions.
//
// The kinds are the @enum constants below: scripts/gen-shaders.mjs hands them to TypeScript
// (ENUMS.activation in src/gpu/shaders.generated.ts), so the codes are written only here.

const ACT_LINEAR: u32 = 0u; // @enum activation
// relu family: v >= 0 ? v : a*v, then min(·, b)  (relu a=0 b=FLT_MAX; relu6 b=6; leaky a=alpha)
const ACT_RELU: u32 = 1u; // @enum activation
const ACT_SIGMOID: u32 = 2u; // @enum activation (Darknet's logistic)
const ACT_TANH: u32 = 3u; // @enum activation
const ACT_ELU: u32 = 4u; // @enum activation (alpha a)
const ACT_SELU: u32 = 5u; // @enum activation
const ACT_SOFTPLUS: u32 = 6u; // @enum activation
const ACT_SOFTSIGN: u32 = 7u; // @enum activation
// hard sigmoid clamp(a*v + b, 0, 1) (Keras 2: a=0.2 b=0.5; Keras 3: a=1/6 b=0.5)
const ACT_HARD_SIGMOID: u32 = 8u; // @enum activation
const ACT_MISH: u32 = 9u; // @enum activation
const ACT_SWISH: u32 = 10u; // @enum activation (v * sigmoid(v))
const ACT_THRESHOLDED_RELU: u32 = 11u; // @enum activation (v > a ? v : 0)

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
    case ACT_RELU: { return min(select(a * v, v, v >= 0.0), b); }
    case ACT_SIGMOID: { return act_sigmoid(v); }
    case ACT_TANH: { return act_tanh(v); }
    case ACT_ELU: { return select(a * (exp(v) - 1.0), v, v > 0.0); }
    case ACT_SELU: { return 1.0507009873554805 * select(1.6732632423543772 * (exp(v) - 1.0), v, v > 0.0); }
    case ACT_SOFTPLUS: { return act_softplus(v); }
    case ACT_SOFTSIGN: { return v / (1.0 + abs(v)); }
    case ACT_HARD_SIGMOID: { return clamp(a * v + b, 0.0, 1.0); }
    case ACT_MISH: { return v * act_tanh(act_softplus(v)); }
    case ACT_SWISH: { return v * act_sigmoid(v); }
    case ACT_THRESHOLDED_RELU: { return select(0.0, v, v > a); }
    default: { return v; } // ACT_LINEAR
  }
}

/** activate() on each lane of a channel quad (the vec4 kernels). */
fn activate4(v: vec4<f32>, kind: u32, a: f32, b: f32) -> vec4<f32> {
  return vec4<f32>(activate(v.x, kind, a, b), activate(v.y, kind, a, b), activate(v.z, kind, a, b), activate(v.w, kind, a, b));
}
