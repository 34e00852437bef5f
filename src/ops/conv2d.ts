// conv2d: NHWC input, HWIO weights (kh × kw × c/groups × oc), fused bias and activation.
// Three routes, chosen from the shapes: a 1×1 stride-1 unpadded conv is exactly a GEMM and runs as
// one; depthwise (one input channel per group) has its own kernel; everything else is an implicit
// GEMM: register-blocked, or sharing its input values by subgroup broadcast where the device allows.
import { activationParams, type Activation } from './activation.js';
import { chooseGemmVariant, planGemm, renameGemmBindings, subgroupQuads } from './gemm.js';
import { assertRank, checkGrid, ELEMENTWISE_WG, grid1d, type DeviceCaps, type KernelCall, type Shape, type TileVariant } from './kernel-call.js';
import { windows2d, type Padding } from './padding.js';

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
  n: number; h: number; w: number; c: number;
  oh: number; ow: number; oc: number;
  kh: number; kw: number;
  sh: number; sw: number; dh: number; dw: number;
  padTop: number; padLeft: number;
  groups: number; cg: number; ocg: number;
}

function geometry(x: Shape, wShape: Shape, attrs: Conv2dAttrs): ConvGeometry {
  assertRank('conv2d', 'input', x, 4);
  assertRank('conv2d', 'weights', wShape, 4);
  const [n, h, w, c] = x;
  const [kh, kw, cg, oc] = wShape;
  const groups = attrs.groups ?? 1;
  const [sh, sw] = attrs.strides ?? [1, 1];
  const [dh, dw] = attrs.dilations ?? [1, 1];
  if (c % groups || oc % groups) throw new Error(`conv2d: groups=${groups} must divide input channels ${c} and filters ${oc}`);
  if (cg !== c / groups) {
    throw new Error(`conv2d: weights [${wShape.join(', ')}] expect ${cg} input channels per group, input has ${c} in ${groups} group(s)`);
  }
  const win = windows2d(h, w, [kh, kw], [sh, sw], [dh, dw], attrs.padding ?? 'valid');
  return { n, h, w, c, oh: win.oh, ow: win.ow, oc, kh, kw, sh, sw, dh, dw, padTop: win.padTop, padLeft: win.padLeft, groups, cg, ocg: oc / groups };
}

export function conv2dOutputShape(x: Shape, w: Shape, attrs: Conv2dAttrs): [number, number, number, number] {
  const g = geometry(x, w, attrs);
  return [g.n, g.oh, g.ow, g.oc];
}

export type Conv2dRoute = 'gemm' | 'depthwise' | 'implicit-gemm';

export function conv2dRoute(x: Shape, w: Shape, attrs: Conv2dAttrs): Conv2dRoute {
  const g = geometry(x, w, attrs);
  const pointwise = g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.padTop === 0 && g.padLeft === 0 && g.oh === g.h && g.ow === g.w;
  if (pointwise && g.groups === 1) return 'gemm';
  if (g.cg === 1 && g.groups > 1) return 'depthwise';
  return 'implicit-gemm';
}

/** Whether conv2d-subgroup can run this conv here: subgroups of ≥ 8 lanes, no groups, whole channel quads. */
export function subgroupConvFits(groups: number, oc: number, caps: DeviceCaps): boolean {
  return (caps.subgroupMinSize ?? 0) >= 8 && groups === 1 && oc % 4 === 0;
}

/** Output pixels per invocation of depthwise-conv2d-vec4. */
const DEPTHWISE_TX = 4;

export function defaultConv2dVariant(groups: number, ocg: number, caps?: DeviceCaps): Conv2dVariant {
  // Input values shared by subgroup broadcast: YOLOv3's stride-2 convs run about 1.7× faster (lavapipe).
  if (caps && subgroupConvFits(groups, ocg, caps)) return { kind: 'subgroup', tm: 16, tn: subgroupQuads(ocg), wgX: 8, wgY: 1 };
  // Measured on lavapipe: TM8×TN16 runs VGG's 56×56×256→256 3×3 at 18.8 GFLOP/s, TN8 at 13.9; it needs
  // 128 channels to fill a workgroup.
  if (groups === 1) return ocg >= 128 ? { tm: 8, tn: 16, wgX: 8, wgY: 8 } : { tm: 8, tn: 8, wgX: 8, wgY: 8 };
  // A workgroup's TN*WG_X channels must lie in one group: the largest power of two dividing ocg, up to 64.
  let span = 1;
  while (span < 64 && ocg % (span * 2) === 0) span *= 2;
  const wgX = Math.min(span, 8);
  return { tm: 4, tn: span / wgX, wgX, wgY: 64 / wgX };
}

/** Whether planConv2d can fuse a residual add into this conv: a 1×1 conv whose GEMM runs on the subgroup kernel. */
export function residualFits(x: Shape, w: Shape, attrs: Conv2dAttrs, caps: DeviceCaps): boolean {
  return conv2dRoute(x, w, attrs) === 'gemm' && planConv2d(x, w, attrs, caps)[0].kernel === 'gemm-subgroup';
}

/**
 * Bindings: x, w, b → y (b is the bias, zeros when the layer has none). `residual` adds the binding
 * 'r' (laid out like y) 'after' or 'before' the activation; only a 1×1 conv that runs on the subgroup
 * GEMM supports it (see residualFits).
 */
export function planConv2d(
  x: Shape, w: Shape, attrs: Conv2dAttrs, caps: DeviceCaps, variant?: Conv2dVariant, residual?: 'after' | 'before',
): KernelCall[] {
  const g = geometry(x, w, attrs);
  const act = activationParams(attrs.activation);
  const route = conv2dRoute(x, w, attrs);
  if (route === 'gemm') {
    const m = g.n * g.h * g.w;
    const calls = planGemm({ m, k: g.c, n: g.oc, residual }, attrs.activation, caps, chooseGemmVariant(m, g.oc, caps));
    if (calls.length > 1) throw new Error(`conv2d: 1×1 weights of ${g.c}×${g.oc} exceed one storage binding`);
    return [renameGemmBindings(calls[0], { a: 'x', 'b#0': 'w', bias: 'b', c: 'y' })];
  }
  if (residual) throw new Error('conv2d: a fused residual needs a 1×1 conv on the subgroup GEMM');
  const common = {
    n: g.n, h: g.h, w: g.w, c: g.c, oh: g.oh, ow: g.ow, oc: g.oc, kh: g.kh, kw: g.kw,
    stride_h: g.sh, stride_w: g.sw, dil_h: g.dh, dil_w: g.dw, pad_top: g.padTop, pad_left: g.padLeft,
  };
  if (route === 'depthwise' && g.ocg === 1 && g.c % 4 === 0) {
    // Channel quads, DEPTHWISE_TX pixels per invocation: 3–4× fewer loads per output.
    const invocations = g.n * g.oh * Math.ceil(g.ow / DEPTHWISE_TX) * (g.c / 4);
    return [{
      kernel: 'depthwise-conv2d-vec4',
      spec: { TX: DEPTHWISE_TX, WG: ELEMENTWISE_WG },
      params: { ...common, mult: 1, ...act },
      workgroups: grid1d(invocations, ELEMENTWISE_WG, caps),
      bindings: ['x', 'w', 'b', 'y'],
    }];
  }
  if (route === 'depthwise') {
    return [{
      kernel: 'depthwise-conv2d',
      spec: { WG: ELEMENTWISE_WG },
      params: { ...common, mult: g.ocg, ...act },
      workgroups: grid1d(g.n * g.oh * g.ow * g.oc, ELEMENTWISE_WG, caps),
      bindings: ['x', 'w', 'b', 'y'],
    }];
  }
  const tuned = g.groups === 1 ? caps.tuned?.[conv2dClass(g.kh, g.kw, g.sh, g.oc)] : undefined;
  let v = variant ?? tuned ?? defaultConv2dVariant(g.groups, g.ocg, caps);
  if (v.kind === 'subgroup') {
    if (v.tm % 8 || v.tm > 32 || v.wgX % 8 || v.tn > 8) {
      throw new Error(`conv2d: the subgroup kind needs TM a multiple of 8 up to 32, WG_X a multiple of 8 and TN ≤ 8, got TM ${v.tm}, TN ${v.tn}, WG_X ${v.wgX}`);
    }
    if (subgroupConvFits(g.groups, g.oc, caps)) {
      return [{
        kernel: 'conv2d-subgroup',
        spec: { TM: v.tm, TN: v.tn, WG_X: v.wgX },
        params: { ...common, cg: g.cg, ocg: g.ocg, ...act },
        workgroups: checkGrid('conv2d', [Math.ceil(g.oc / (4 * v.tn * v.wgX)), Math.ceil((g.n * g.oh * g.ow) / v.tm), 1], caps),
        bindings: ['x', 'w', 'b', 'y'],
      }];
    }
    v = defaultConv2dVariant(g.groups, g.ocg);
  }
  if (g.groups > 1 && g.ocg % (v.tn * v.wgX)) {
    throw new Error(`conv2d: variant TN×WG_X = ${v.tn * v.wgX} does not divide ${g.ocg} channels per group`);
  }
  return [{
    kernel: 'conv2d',
    spec: { TM: v.tm, TN: v.tn, WG_X: v.wgX, WG_Y: v.wgY },
    params: { ...common, cg: g.cg, ocg: g.ocg, ...act },
    workgroups: checkGrid('conv2d', [
      Math.ceil(g.oc / (v.tn * v.wgX)), Math.ceil((g.n * g.oh * g.ow) / (v.tm * v.wgY)), 1,
    ], caps),
    bindings: ['x', 'w', 'b', 'y'],
  }];
}
