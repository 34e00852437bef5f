// conv2d: NHWC input, HWIO weights (kh × kw × c/groups × oc), fused bias and activation, optionally a
// fused residual. The route (Winograd, GEMM, depthwise, implicit GEMM) is chosen here, in lowerConv2d,
// and nowhere else: the weights it uploads, its epilogues and its tuning class come with it.
import { input, output, weight, type DeviceCaps, type Dispatch, type TileVariant } from '../gpu/dispatch.js';
import { activationParams, type Activation } from './activation.js';
import { lowerChannelScaledConv, type SqueezeExciteGate } from './channel-scale.js';
import {
  chooseGemmVariant,
  gemmBlockCount,
  gemmClass,
  gemmDispatches,
  gemmRunsOnSubgroups,
  subgroupQuads,
} from './gemm.js';
import { assertRank, ELEMENTWISE_WG, foldGridY, grid1d, type Shape } from './grid.js';
import {
  biasWeight,
  directWeight,
  withF16Weights,
  type LowerContext,
  type Lowering,
  type TuningCase,
} from './lowering.js';
import { windows2d, type Padding } from './padding.js';
import { winogradApplies, winogradDispatches, winogradTileFor, winogradTiles, winogradWeights } from './winograd.js';

export interface Conv2dAttrs {
  strides?: readonly [number, number];
  dilations?: readonly [number, number];
  padding?: Padding;
  groups?: number;
  activation?: Activation;
}

export type Conv2dVariant = Pick<TileVariant, 'kind' | 'tm' | 'tn' | 'wgX' | 'wgY'>;

/** The tuning class of an implicit-GEMM conv: kernel size, stride, narrow or wide output. */
export function conv2dClass(kh: number, kw: number, stride: number, oc: number): string {
  return `conv2d k${kh}x${kw} s${stride} oc${oc < 128 ? 'S' : 'L'}`;
}

interface ConvGeometry {
  n: number;
  h: number;
  w: number;
  c: number;
  oh: number;
  ow: number;
  oc: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  dh: number;
  dw: number;
  padTop: number;
  padLeft: number;
  groups: number;
  cg: number;
  ocg: number;
}

function geometry(x: Shape, wShape: Shape, attrs: Conv2dAttrs): ConvGeometry {
  assertRank('conv2d', 'input', x, 4);
  assertRank('conv2d', 'weights', wShape, 4);
  const [n, h, w, c] = x;
  const [kh, kw, cg, oc] = wShape;
  const groups = attrs.groups ?? 1;
  const [sh, sw] = attrs.strides ?? [1, 1];
  const [dh, dw] = attrs.dilations ?? [1, 1];
  if (c % groups || oc % groups)
    throw new Error(`conv2d: groups=${groups} must divide input channels ${c} and filters ${oc}`);
  if (cg !== c / groups) {
    throw new Error(
      `conv2d: weights [${wShape.join(', ')}] expect ${cg} input channels per group, ` +
        `input has ${c} in ${groups} group(s)`,
    );
  }
  const win = windows2d(h, w, [kh, kw], [sh, sw], [dh, dw], attrs.padding ?? 'valid');
  return {
    n,
    h,
    w,
    c,
    oh: win.oh,
    ow: win.ow,
    oc,
    kh,
    kw,
    sh,
    sw,
    dh,
    dw,
    padTop: win.padTop,
    padLeft: win.padLeft,
    groups,
    cg,
    ocg: oc / groups,
  };
}

export function conv2dOutputShape(x: Shape, w: Shape, attrs: Conv2dAttrs): [number, number, number, number] {
  const g = geometry(x, w, attrs);
  return [g.n, g.oh, g.ow, g.oc];
}

export type Conv2dRoute = 'gemm' | 'depthwise' | 'implicit-gemm';

export function conv2dRoute(x: Shape, w: Shape, attrs: Conv2dAttrs): Conv2dRoute {
  const g = geometry(x, w, attrs);
  const pointwise =
    g.kh === 1 &&
    g.kw === 1 &&
    g.sh === 1 &&
    g.sw === 1 &&
    g.padTop === 0 &&
    g.padLeft === 0 &&
    g.oh === g.h &&
    g.ow === g.w;
  if (pointwise && g.groups === 1) return 'gemm';
  if (g.cg === 1 && g.groups > 1) return 'depthwise';
  return 'implicit-gemm';
}

/** Whether conv2d-subgroup can run this conv here: subgroups of ≥ 8 lanes, no groups, whole channel quads. */
function subgroupConvFits(groups: number, oc: number, caps: DeviceCaps): boolean {
  return (caps.subgroupMinSize ?? 0) >= 8 && groups === 1 && oc % 4 === 0;
}

/** Output pixels per invocation of depthwise-conv2d-vec4. */
const DEPTHWISE_TX = 4;

/**
 * Convs of fewer multiply-adds stay on the register-blocked kernel: conv2d-subgroup's gain is in the
 * large ones, and a first run compiles it for 0.5 s more (Yolo-Fastest's one 3-channel stem conv).
 */
const SUBGROUP_CONV_MIN_MACS = 2 ** 25;

/** `macs`: the conv's multiply-adds (n·oh·ow·oc·kh·kw·cg). */
export function defaultConv2dVariant(groups: number, ocg: number, caps?: DeviceCaps, macs = Infinity): Conv2dVariant {
  // Input values shared by subgroup broadcast: YOLOv3's stride-2 convs run about 1.7× faster (lavapipe).
  if (caps && subgroupConvFits(groups, ocg, caps) && macs >= SUBGROUP_CONV_MIN_MACS)
    return { kind: 'subgroup', tm: 16, tn: subgroupQuads(ocg), wgX: 8, wgY: 1 };
  // Measured on lavapipe: TM8×TN16 runs VGG's 56×56×256→256 3×3 at 18.8 GFLOP/s, TN8 at 13.9; it needs
  // 128 channels to fill a workgroup.
  if (groups === 1 && ocg >= 128) return { tm: 8, tn: 16, wgX: 8, wgY: 8 };
  if (groups === 1 && ocg >= 64) return { tm: 8, tn: 8, wgX: 8, wgY: 8 };
  // Fewer channels than a workgroup of 8 lanes × 8 spans would leave most lanes computing clamped
  // copies. One lane per pixel row instead, every lane of a workgroup on the same 8 channels: the
  // weight loads are then uniform (one load for the whole SIMD row on a CPU adapter). Yolo-Fastest's
  // 3→8 stem 9.4 → 1.7 ms, MobileNetV2's and EfficientNet's 3→32 stems 6.8 → 2.1–3.1 ms (lavapipe).
  if (groups === 1) return { tm: 8, tn: 8, wgX: 1, wgY: 64 };
  // A workgroup's TN*WG_X channels must lie in one group: the largest power of two dividing ocg, up to 64.
  let span = 1;
  while (span < 64 && ocg % (span * 2) === 0) span *= 2;
  const wgX = Math.min(span, 8);
  return { tm: 4, tn: span / wgX, wgX, wgY: 64 / wgX };
}

/** A conv node's attributes. Weights: kernel (HWIO, `kernelShape`), bias [oc] (zeros when absent). */
export interface Conv2dOp {
  attrs: Conv2dAttrs;
  /** [kh, kw, c/groups, oc]. */
  kernelShape: [number, number, number, number];
  /**
   * Input 1 added in the epilogue: 'after' the activation (Darknet's [shortcut] after a conv) or
   * 'before' it (Keras's Add followed by an activation). Set by the residual fusion pass where the
   * lowering says it can absorb one.
   */
  residual?: 'after' | 'before';
  /**
   * The input is first multiplied per image and channel by the last input (squeeze-and-excite's gate, set
   * by the channel-scale pass on 1×1 convs): src/ops/channel-scale.ts.
   */
  channelScale?: boolean;
  /**
   * With channelScale: the scale is squeeze-and-excite's gate, computed in the same dispatch as the
   * weight scaling from the pooled input (the two 1×1 convs the channel-scale pass absorbed).
   */
  gate?: SqueezeExciteGate;
}

/**
 * The dispatches of a convolution, by route: Winograd for 3×3 stride-1 convs with ≥ 32 channels (unless
 * turned off), a GEMM for 1×1 stride-1 unpadded convs, the depthwise kernels for one input channel per
 * group, and otherwise the implicit-GEMM kernels (register-blocked, or sharing input values by subgroup
 * broadcast where the device allows).
 */
export function lowerConv2d(op: Conv2dOp, ctx: LowerContext): Lowering {
  if (op.channelScale) return lowerChannelScaledConv(op, ctx);
  const x = ctx.inputs[0];
  const w = op.kernelShape;
  const { attrs, residual } = op;
  const g = geometry(x, w, attrs);
  const shape = [g.n, g.oh, g.ow, g.oc];
  if (residual && ctx.inputs[1]?.join() !== shape.join())
    throw new Error(`residual [${ctx.inputs[1]}] does not match the output [${shape}]`);
  const flops = 2 * g.n * g.oh * g.ow * g.oc * g.kh * g.kw * g.cg;
  const kernel = directWeight('kernel', g.kh * g.kw * g.cg * g.oc);
  const base = { shape, scratch: [] as number[], flops, weights: [kernel, biasWeight(g.oc)] };
  let low: Lowering;
  if (ctx.winograd !== false && winogradApplies(x, w, attrs)) {
    const m = winogradTileFor(w);
    const plan = winogradDispatches(x, w, attrs, ctx.caps, m, residual);
    const { chunk } = winogradTiles(x, w, attrs, ctx.caps, m);
    low = {
      ...base,
      dispatches: plan.dispatches,
      scratch: plan.scratch,
      absorbsResidual: true,
      weights: [
        {
          name: 'winograd',
          length: (m + 2) ** 2 * g.c * g.oc,
          dtype: 'f32',
          make: (v) => winogradWeights(v.kernel, g.c, g.oc, m),
        },
        biasWeight(g.oc),
      ],
      tuning: {
        key: gemmClass(chunk, g.oc, true),
        problem: { kind: 'gemm', m: chunk, k: g.c, n: g.oc, batched: true },
      },
    };
  } else {
    const route = conv2dRoute(x, w, attrs);
    if (route === 'gemm') low = pointwise(g, attrs, ctx, residual, base);
    else {
      if (residual)
        throw new Error(
          'a fused residual needs the Winograd route (3×3, stride 1, ≥ 32 channels) or a 1×1 conv on the subgroup GEMM',
        );
      low =
        route === 'depthwise'
          ? { ...base, dispatches: [depthwiseDispatch(g, attrs, ctx.caps)], absorbsResidual: false }
          : implicitGemm(g, attrs, ctx, base);
    }
  }
  return ctx.f16Weights ? withF16Weights(low, ['kernel', 'winograd']) : low;
}

type LoweringBase = Pick<Lowering, 'shape' | 'scratch' | 'flops' | 'weights'>;

/** A 1×1 stride-1 unpadded conv is exactly a GEMM; on the subgroup kernel it can add a residual. */
function pointwise(
  g: ConvGeometry,
  attrs: Conv2dAttrs,
  ctx: LowerContext,
  residual: 'after' | 'before' | undefined,
  base: LoweringBase,
): Lowering {
  const m = g.n * g.h * g.w;
  const shape = { m, k: g.c, n: g.oc, residual };
  const variant = ctx.variant ?? chooseGemmVariant(m, g.oc, ctx.caps, false, g.c);
  if (gemmBlockCount(shape, ctx.caps) > 1)
    throw new Error(`conv2d: 1×1 weights of ${g.c}×${g.oc} exceed one storage binding`);
  const absorbsResidual = gemmRunsOnSubgroups(shape, ctx.caps, variant);
  if (residual && !absorbsResidual)
    throw new Error(
      'a fused residual needs the Winograd route (3×3, stride 1, ≥ 32 channels) or a 1×1 conv on the subgroup GEMM',
    );
  const dispatches = gemmDispatches(
    shape,
    attrs.activation,
    ctx.caps,
    {
      a: input(0),
      b: () => weight('kernel'),
      bias: weight('bias'),
      residual: residual ? input(1) : undefined,
      c: output,
    },
    variant,
  );
  return {
    ...base,
    dispatches,
    absorbsResidual,
    tuning: { key: gemmClass(m, g.oc), problem: { kind: 'gemm', m, k: g.c, n: g.oc, batched: false } },
  };
}

function depthwiseDispatch(g: ConvGeometry, attrs: Conv2dAttrs, caps: DeviceCaps): Dispatch {
  const act = activationParams(attrs.activation);
  const common = convParams(g);
  if (g.ocg === 1 && g.c % 4 === 0) {
    // Channel quads, DEPTHWISE_TX pixels per invocation: 3–4× fewer loads per output.
    const invocations = g.n * g.oh * Math.ceil(g.ow / DEPTHWISE_TX) * (g.c / 4);
    return {
      kernel: 'depthwise-conv2d-vec4',
      spec: { TX: DEPTHWISE_TX, WG: ELEMENTWISE_WG },
      params: { ...common, mult: 1, ...act },
      workgroups: grid1d(invocations, ELEMENTWISE_WG, caps),
      bindings: [input(0), weight('kernel'), weight('bias'), output],
    };
  }
  return {
    kernel: 'depthwise-conv2d',
    spec: { WG: ELEMENTWISE_WG },
    params: { ...common, mult: g.ocg, ...act },
    workgroups: grid1d(g.n * g.oh * g.ow * g.oc, ELEMENTWISE_WG, caps),
    bindings: [input(0), weight('kernel'), weight('bias'), output],
  };
}

function convParams(g: ConvGeometry) {
  return {
    n: g.n,
    h: g.h,
    w: g.w,
    c: g.c,
    oh: g.oh,
    ow: g.ow,
    oc: g.oc,
    kh: g.kh,
    kw: g.kw,
    stride_h: g.sh,
    stride_w: g.sw,
    dil_h: g.dh,
    dil_w: g.dw,
    pad_top: g.padTop,
    pad_left: g.padLeft,
  };
}

/** The implicit-GEMM kernels: the tuned, requested or default tile variant, on subgroups where it fits. */
function implicitGemm(g: ConvGeometry, attrs: Conv2dAttrs, ctx: LowerContext, base: LoweringBase): Lowering {
  const { caps } = ctx;
  const key = conv2dClass(g.kh, g.kw, g.sh, g.oc);
  const tuned = g.groups === 1 ? caps.tuned?.[key] : undefined;
  const macs = g.n * g.oh * g.ow * g.oc * g.kh * g.kw * g.cg;
  let v: Conv2dVariant = ctx.variant ?? tuned ?? defaultConv2dVariant(g.groups, g.ocg, caps, macs);
  const params = { ...convParams(g), cg: g.cg, ocg: g.ocg, ...activationParams(attrs.activation) };
  const bindings = [input(0), weight('kernel'), weight('bias'), output];
  const tuning: TuningCase | undefined =
    g.groups === 1
      ? {
          key,
          problem: {
            kind: 'conv2d',
            x: [g.n, g.h, g.w, g.c],
            w: [g.kh, g.kw, g.cg, g.oc],
            stride: g.sh,
            padding: attrs.padding ?? 'valid',
          },
        }
      : undefined;
  if (v.kind === 'subgroup') {
    if (v.tm % 8 || v.tm > 32 || v.wgX % 8 || v.tn > 8) {
      throw new Error(
        'conv2d: the subgroup kind needs TM a multiple of 8 up to 32, WG_X a multiple of 8 and TN ≤ 8, ' +
          `got TM ${v.tm}, TN ${v.tn}, WG_X ${v.wgX}`,
      );
    }
    if (subgroupConvFits(g.groups, g.oc, caps)) {
      return {
        ...base,
        absorbsResidual: false,
        tuning,
        dispatches: [
          {
            kernel: 'conv2d-subgroup',
            spec: { TM: v.tm, TN: v.tn, WG_X: v.wgX },
            params,
            workgroups: foldGridY(
              'conv2d',
              Math.ceil(g.oc / (4 * v.tn * v.wgX)),
              Math.ceil((g.n * g.oh * g.ow) / v.tm),
              caps,
            ),
            bindings,
          },
        ],
      };
    }
    v = defaultConv2dVariant(g.groups, g.ocg);
  }
  if (g.groups > 1 && g.ocg % (v.tn * v.wgX)) {
    throw new Error(`conv2d: variant TN×WG_X = ${v.tn * v.wgX} does not divide ${g.ocg} channels per group`);
  }
  return {
    ...base,
    absorbsResidual: false,
    tuning,
    dispatches: [
      {
        kernel: 'conv2d',
        spec: { TM: v.tm, TN: v.tn, WG_X: v.wgX, WG_Y: v.wgY },
        params,
        workgroups: foldGridY(
          'conv2d',
          Math.ceil(g.oc / (v.tn * v.wgX)),
          Math.ceil((g.n * g.oh * g.ow) / (v.tm * v.wgY)),
          caps,
        ),
        bindings,
      },
    ],
  };
}
