// Squeeze-and-excite's channel scale folded into the 1×1 convolution after it. The block computes
// conv(x ⊙ s) with s one value per image and input channel ((N, 1, 1, C), from a global pool); per
// image that is x · (diag(s) W). So instead of writing and reading x ⊙ s (the largest tensor of the
// block), one small dispatch scales the weights per image, N·C·O values into scratch, and the conv runs
// as N batched GEMMs, image n against its own weights (the batched GEMM Winograd uses). The rounding
// differs from Keras's only in where one product is rounded. With a gate (squeeze-and-excite's two 1×1
// convs on the pooled input, absorbed by the channel-scale pass), that small dispatch computes s too.
import { input, output, scratch, weight, type DeviceCaps, type Dispatch } from '../gpu/dispatch.js';
import { activationParams, type Activation } from './activation.js';
import type { Conv2dOp } from './conv2d.js';
import { binaryDispatch } from './elementwise.js';
import {
  chooseGemmVariant,
  defaultGemmVariant,
  gemmClass,
  gemmDispatches,
  gemmRunsOnSubgroups,
  type GemmShape,
} from './gemm.js';
import { assertRank, checkGrid, sizeOf } from './grid.js';
import { biasWeight, directWeight, type LowerContext, type Lowering, type WeightUse } from './lowering.js';

/**
 * Squeeze-and-excite's gate s = act_e(act_r(pooled · Wr + br) · We + be), from `pooled` values per image
 * through `reduced` values. Weights of the conv holding it: gateReduceKernel (pooled×reduced), gateReduceBias,
 * gateExpandKernel (reduced×channels), gateExpandBias.
 */
export interface SqueezeExciteGate {
  pooled: number;
  reduced: number;
  reduceActivation?: Activation;
  expandActivation?: Activation;
}

/** se-gate.wgsl keeps the reduced values in workgroup memory (its MAX_REDUCED). */
export const GATE_MAX_REDUCED = 1024;
const GATE_WG = 64;

/** The gate and image n's weights s[n, ci] · W[ci, o] in one dispatch, into scratch 0. */
function gateDispatch(
  gate: SqueezeExciteGate,
  n: number,
  c: number,
  oc: number,
  caps: DeviceCaps,
  s: number,
): Dispatch {
  const r = activationParams(gate.reduceActivation);
  const e = activationParams(gate.expandActivation);
  return {
    kernel: 'se-gate',
    spec: { WG: GATE_WG },
    params: {
      pc: gate.pooled,
      cr: gate.reduced,
      c,
      o: oc,
      act_r: r.act,
      act_r_a: r.act_a,
      act_r_b: r.act_b,
      act_e: e.act,
      act_e_a: e.act_a,
      act_e_b: e.act_b,
    },
    workgroups: checkGrid('se-gate', [Math.ceil(c / GATE_WG), n, 1], caps),
    bindings: [
      input(s),
      weight('gateReduceKernel'),
      weight('gateReduceBias'),
      weight('gateExpandKernel'),
      weight('gateExpandBias'),
      weight('kernel'),
      scratch(0),
    ],
  };
}

/** The gate's weights; a bias the node lacks is zeros. */
function gateWeights({ pooled, reduced }: SqueezeExciteGate, c: number): WeightUse[] {
  return [
    directWeight('gateReduceKernel', pooled * reduced),
    biasWeight(reduced, 'gateReduceBias'),
    directWeight('gateExpandKernel', reduced * c),
    biasWeight(c, 'gateExpandBias'),
  ];
}

/** Whether a conv can take a channel scale: 1×1, stride 1, no groups or dilation (padding changes nothing then). */
export function acceptsChannelScale(op: Conv2dOp): boolean {
  const {
    attrs,
    kernelShape: [kh, kw],
  } = op;
  const ones = (p?: readonly [number, number]) => !p || (p[0] === 1 && p[1] === 1);
  return (
    kh === 1 &&
    kw === 1 &&
    ones(attrs.strides) &&
    ones(attrs.dilations) &&
    (attrs.groups ?? 1) === 1 &&
    !Array.isArray(attrs.padding)
  );
}

/**
 * A 1×1 conv whose input is first scaled per image and channel by its last input (N·C values, or N:
 * one per image). Inputs: x, then the residual when fused ('before'/'after' as for any conv), then s.
 */
export function lowerChannelScaledConv(op: Conv2dOp, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const s = ctx.inputs[ctx.inputs.length - 1];
  assertRank('conv2d', 'input', x, 4);
  const [n, h, w, c] = x;
  const [, , cin, oc] = op.kernelShape;
  if (!acceptsChannelScale(op) || cin !== c)
    throw new Error(`a channel scale needs a 1×1 stride-1 conv over ${c} channels`);
  const cs = sizeOf(s) / n;
  const { gate } = op;
  if (gate && (s[0] !== n || cs !== gate.pooled || gate.reduced > GATE_MAX_REDUCED))
    throw new Error(`gate input [${s.join(', ')}] is not ${gate.pooled} pooled values per image of [${x.join(', ')}]`);
  if (!gate && (s[0] !== n || (cs !== c && cs !== 1)))
    throw new Error(`channel scale [${s.join(', ')}] is not one value per image and channel of [${x.join(', ')}]`);
  const m = h * w;
  if (op.residual && ctx.inputs[1]?.join() !== [n, h, w, oc].join())
    throw new Error(`residual [${ctx.inputs[1]}] does not match the output [${[n, h, w, oc]}]`);
  // Image i's weights: s[i, ci] · W[ci, o], a broadcasting multiply of (N, C, 1) by (C, O).
  const scale = gate
    ? gateDispatch(gate, n, c, oc, ctx.caps, ctx.inputs.length - 1)
    : binaryDispatch('mul', [n, cs, 1], [c, oc], undefined, ctx.caps, weight('kernel'), input(ctx.inputs.length - 1));
  if (!gate) scale.bindings[2] = scratch(0);
  const shape: GemmShape = {
    m,
    k: c,
    n: oc,
    residual: op.residual,
    batch: { count: n, strideA: m * c, strideB: c * oc, strideC: m * oc },
  };
  // The tiled kind runs no batched products.
  let variant = ctx.variant ?? chooseGemmVariant(m, oc, ctx.caps, true, c);
  if (variant.kind === 'tiled') variant = defaultGemmVariant(m, oc, ctx.caps, c);
  const gemm = gemmDispatches(
    shape,
    op.attrs.activation,
    ctx.caps,
    {
      a: input(0),
      b: () => scratch(0),
      bias: weight('bias'),
      residual: op.residual ? input(1) : undefined,
      c: output,
    },
    variant,
  );
  return {
    shape: [n, h, w, oc],
    dispatches: [scale, ...gemm],
    scratch: [4 * n * c * oc],
    weights: [directWeight('kernel', c * oc), biasWeight(oc), ...(gate ? gateWeights(gate, c) : [])],
    absorbsResidual: gemmRunsOnSubgroups(shape, ctx.caps, variant),
    tuning: { key: gemmClass(m, oc, true), problem: { kind: 'gemm', m, k: c, n: oc, batched: true } },
    flops: 2 * n * m * c * oc + n * c * oc + (gate ? 2 * n * gate.reduced * (gate.pooled + c) : 0),
  };
}
