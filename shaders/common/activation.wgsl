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
const ACT_GELU: u32 = 12u; // @enum activation (exact: v·Φ(v), Keras's Activation('gelu'))
const ACT_GELU_TANH: u32 = 13u; // @enum activation (0.5v(1 + tanh(√(2/π)(v + 0.044715v³))): keras.ops.gelu, Darknet)
const ACT_HARD_SWISH: u32 = 14u; // @enum activation (v·relu6(v + 3)/6: Keras's hard_silu)
const ACT_HARD_MISH: u32 = 15u; // @enum activation (Darknet: v > 0 ? v : v > -2 ? v²/2 + v : 0)
const ACT_CELU: u32 = 16u; // @enum activation (max(v, 0) + min(0, a(exp(v/a) − 1)))
const ACT_EXPONENTIAL: u32 = 17u; // @enum activation
const ACT_LOG_SIGMOID: u32 = 18u; // @enum activation (−softplus(−v))
const ACT_HARD_TANH: u32 = 19u; // @enum activation (clamp(v, −1, 1))

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

/**
 * erf(v) to about 1e-7 absolute (Abramowitz & Stegun 7.1.26 is 1.5e-7; this is their 7.1.28-style
 * rational form refined): WGSL has no erf, and exact GELU needs one.
 */
fn act_erf(v: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-v * v));
}

// Linear and the relu family (relu, relu6, leaky: nearly every fused epilogue) are tested before the
// switch: on lavapipe the 20-case switch itself cost a quarter of Yolo-Fastest's time (85 → 64–67 ms
// with this), though it makes a standalone sigmoid about 15% slower.
fn activate(v: f32, kind: u32, a: f32, b: f32) -> f32 {
  if (kind == ACT_LINEAR) { return v; }
  if (kind == ACT_RELU) { return min(select(a * v, v, v >= 0.0), b); }
  switch kind {
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
    case ACT_GELU: { return 0.5 * v * (1.0 + act_erf(v * 0.7071067811865476)); }
    case ACT_GELU_TANH: { return 0.5 * v * (1.0 + act_tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); }
    case ACT_HARD_SWISH: { return v * clamp(v + 3.0, 0.0, 6.0) / 6.0; }
    case ACT_HARD_MISH: { return select(select(0.0, 0.5 * v * v + v, v > -2.0), v, v > 0.0); }
    case ACT_CELU: { return max(v, 0.0) + min(0.0, a * (exp(v / a) - 1.0)); }
    case ACT_EXPONENTIAL: { return exp(v); }
    case ACT_LOG_SIGMOID: { return -act_softplus(-v); }
    case ACT_HARD_TANH: { return clamp(v, -1.0, 1.0); }
    default: { return v; } // ACT_LINEAR and ACT_RELU are taken before the switch
  }
}

// The same on a channel quad (the vec4 kernels), one switch per quad: with activate() per lane, the
// four switches in every store of an unrolled epilogue were much of what lavapipe spent compiling the
// subgroup kernels. Each case is the scalar one's arithmetic, lane by lane.
fn act4_sigmoid(v: vec4<f32>) -> vec4<f32> {
  return 1.0 / (1.0 + exp(-v));
}

fn act4_softplus(v: vec4<f32>) -> vec4<f32> {
  return select(log(1.0 + exp(v)), v, v > vec4<f32>(20.0));
}

fn act4_tanh(v: vec4<f32>) -> vec4<f32> {
  return tanh(clamp(v, vec4<f32>(-15.0), vec4<f32>(15.0)));
}

fn act4_erf(v: vec4<f32>) -> vec4<f32> {
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-v * v));
}

fn activate4(v: vec4<f32>, kind: u32, a: f32, b: f32) -> vec4<f32> {
  let zero = vec4<f32>(0.0);
  if (kind == ACT_LINEAR) { return v; }
  if (kind == ACT_RELU) { return min(select(a * v, v, v >= zero), vec4<f32>(b)); }
  switch kind {
    case ACT_SIGMOID: { return act4_sigmoid(v); }
    case ACT_TANH: { return act4_tanh(v); }
    case ACT_ELU: { return select(a * (exp(v) - 1.0), v, v > zero); }
    case ACT_SELU: { return 1.0507009873554805 * select(1.6732632423543772 * (exp(v) - 1.0), v, v > zero); }
    case ACT_SOFTPLUS: { return act4_softplus(v); }
    case ACT_SOFTSIGN: { return v / (1.0 + abs(v)); }
    case ACT_HARD_SIGMOID: { return clamp(a * v + b, zero, vec4<f32>(1.0)); }
    case ACT_MISH: { return v * act4_tanh(act4_softplus(v)); }
    case ACT_SWISH: { return v * act4_sigmoid(v); }
    case ACT_THRESHOLDED_RELU: { return select(zero, v, v > vec4<f32>(a)); }
    case ACT_GELU: { return 0.5 * v * (1.0 + act4_erf(v * 0.7071067811865476)); }
    case ACT_GELU_TANH: { return 0.5 * v * (1.0 + act4_tanh(0.7978845608028654 * (v + 0.044715 * v * v * v))); }
    case ACT_HARD_SWISH: { return v * clamp(v + 3.0, zero, vec4<f32>(6.0)) / 6.0; }
    case ACT_HARD_MISH: { return select(select(zero, 0.5 * v * v + v, v > vec4<f32>(-2.0)), v, v > zero); }
    case ACT_CELU: { return max(v, zero) + min(zero, a * (exp(v / a) - 1.0)); }
    case ACT_EXPONENTIAL: { return exp(v); }
    case ACT_LOG_SIGMOID: { return -act4_softplus(-v); }
    case ACT_HARD_TANH: { return clamp(v, vec4<f32>(-1.0), vec4<f32>(1.0)); }
    default: { return v; } // ACT_LINEAR and ACT_RELU are taken before the switch
  }
}
