// C = act(A · B + bias), register-blocked; a B larger than one storage binding is split into column
// blocks, each bound and dispatched on its own (VGG16's fc1 is 25088×4096 f32 ≈ 411 MB). Dense layers
// lower to it; 1×1 convolutions and Winograd's batched products build their dispatches with it.
import {
  input,
  output,
  scratch,
  weight,
  type Binding,
  type DeviceCaps,
  type Dispatch,
  type TileVariant,
} from '../gpu/dispatch.js';
import { activationParams, type Activation } from './activation.js';
import { checkGrid, sizeOf, type Shape } from './grid.js';
import { planTranspose } from './layout.js';
import { biasWeight, withF16Weights, type LowerContext, type Lowering } from './lowering.js';

export interface GemmShape {
  m: number;
  k: number;
  n: number;
  /** B stored as n×k (each output's weights contiguous) instead of k×n. */
  transB?: boolean;
  /**
   * `count` independent products, each A, B and C `strideA/B/C` elements after the previous one
   * (register and subgroup kinds).
   */
  batch?: { count: number; strideA: number; strideB: number; strideC: number };
  /** Skip the bias (the bias binding is then never read). */
  noBias?: boolean;
  /**
   * Add the residual binding (laid out like C) 'after' the activation or 'before' it: the subgroup kind
   * only, one column block (a 1×1 conv followed by a residual add).
   */
  residual?: 'after' | 'before';
}

/** What each operand of a GEMM is bound to (a 1×1 conv's x, w, b → y; Winograd's scratch and weights). */
export interface GemmOperands {
  a: Binding;
  /** B, or block `part` of it when B is split across bindings. */
  b: (part: number | undefined) => Binding;
  bias: Binding;
  residual?: Binding;
  c: Binding;
}

/**
 * How the GEMM is computed. 'register': each invocation keeps a TM×TN tile in registers, no
 * workgroup memory (best on CPU adapters, where barriers are costly). 'vec4': the same with B and
 * C as vec4 (TN counts column quads; needs n % 4 == 0 and row-major B, else falls back to
 * 'register'). 'tiled': tiles of A and B staged through workgroup memory TK deep (the usual choice
 * on GPUs). 'subgroup': A shared across a subgroup by broadcast.
 */
export type GemmVariant = TileVariant;

/** The tuning class of a GEMM: rows (GEMV / small / large), columns (narrow / wide), quads, batched. */
export function gemmClass(m: number, n: number, batched = false): string {
  const rows = m < 4 ? 'V' : m < 256 ? 'S' : 'L';
  const quads = n % 4 ? '' : '4';
  return `${batched ? 'gemm-batched' : 'gemm'} m${rows} n${n < 128 ? 'S' : 'L'}${quads}`;
}

/** The tuned variant for this class on this adapter, else the measured default (k: the reduction length). */
export function chooseGemmVariant(m: number, n: number, caps?: DeviceCaps, batched = false, k = Infinity): GemmVariant {
  return caps?.tuned?.[gemmClass(m, n, batched)] ?? defaultGemmVariant(m, n, caps, k);
}

/**
 * Products of fewer multiply-adds take the 16-row, 1-quad subgroup tile: the 32-row one is 10–15%
 * faster on 1024³ and YOLOv3's 1×1 convs, but lavapipe takes twice as long to compile it (1 s against
 * 0.5 s, once per machine), and below this size the two run alike (Yolo-Fastest's layers: 3.1–5.5 ms
 * either way).
 */
const TALL_TILE_MIN_MACS = 2 ** 25;

export function defaultGemmVariant(m: number, n: number, caps?: DeviceCaps, k = Infinity): GemmVariant {
  // A GEMV (m small, as in a Dense layer at batch 1) would waste a TM-row tile; spread over columns instead.
  if (m < 4) return { tm: 1, tn: 4, wgX: 64, wgY: 1 };
  // Where A can be shared by subgroup broadcast: 1024³ at 36–37 GFLOP/s against 20 (lavapipe). A
  // workgroup spans TM rows and 32·TN columns, so smaller matrices take smaller tiles.
  if ((caps?.subgroupMinSize ?? 0) >= 8 && n % 4 === 0) {
    const tall = m >= 256 && m * n * k >= TALL_TILE_MIN_MACS;
    // Small products take one tile whatever their width, so that a small model compiles one GEMM
    // pipeline rather than two: one quad per lane, 32 columns a workgroup. Narrow layers then waste no
    // lanes (MobileNetV2's 3136×144×24 3.7 → 1.5–2.6 ms against two quads), wide ones run as fast
    // (1600×96×192 3.9–4.7 → 2.6–3.6 ms), and it compiles in 0.5 s against 1 s (lavapipe).
    return { kind: 'subgroup', tm: tall ? 32 : 16, tn: tall ? subgroupQuads(n) : 1, wgX: 8, wgY: 1 };
  }
  // A software adapter without such subgroups (Chromium's SwiftShader) loads every buffer value per lane
  // with a bounds check, so it takes the vec4 tile, written out by @unroll (a loop there keeps the tile
  // in memory), rather than the register tile below. Measured there (headless Chromium, unrolled): long reductions take
  // 8×4 quads, 784×1152×256 156 → 125 ms against 16×4; short ones a 4×2 tile, whose smaller epilogue
  // wins once few multiply-adds share it: 12544×16×96 164 → 93 ms, 3136×144×24 23 → 17 ms, Yolo-Fastest's
  // 25600×4×24 70 → 31 ms. Narrow layers take one lane column per workgroup and fewer quads per lane.
  if (caps?.software && n % 4 === 0) {
    if (k >= 256 && n >= 32) return { kind: 'vec4', tm: 8, tn: 4, wgX: 2, wgY: 16 };
    const tn = n >= 8 ? 2 : 1;
    return n >= 32 ? { kind: 'vec4', tm: 4, tn, wgX: 4, wgY: 16 } : { kind: 'vec4', tm: 4, tn, wgX: 1, wgY: 32 };
  }
  // Measured on lavapipe (npm run bench -- variants): TN16 gives 19.7 GFLOP/s on 1024³ against 17.1
  // for TN8, but a workgroup then spans 128 columns, wasted on narrower matrices.
  return n >= 128 ? { tm: 8, tn: 16, wgX: 8, wgY: 8 } : { tm: 8, tn: 8, wgX: 8, wgY: 8 };
}

/** Columns per block so that one block of B fits a storage binding; a multiple of 4 unless it is all of n. */
function gemmBlockColumns(k: number, n: number, caps: DeviceCaps): number {
  const fit = Math.floor(caps.maxStorageBindingBytes / (4 * k));
  if (fit >= n) return n;
  const cols = fit - (fit % 4);
  if (cols < 1) throw new Error(`gemm: one column of B (k = ${k}) is larger than a storage binding`);
  return cols;
}

export function gemmBlockCount(shape: GemmShape, caps: DeviceCaps): number {
  return Math.ceil(shape.n / gemmBlockColumns(shape.k, shape.n, caps));
}

/**
 * Block `part` of a k×n (or n×k when transB) row-major B as the kernel binds it: columns part·nb … as
 * k×nb row-major (or nb×k). Done once, when a weight is uploaded.
 */
function gemmWeightBlock(b: Float32Array, shape: GemmShape, caps: DeviceCaps, part: number): Float32Array {
  const { k, n } = shape;
  if (b.length !== k * n) throw new Error(`gemm: B has ${b.length} values, expected ${k}×${n} = ${k * n}`);
  const nb = gemmBlockColumns(k, n, caps);
  if (nb === n) return b;
  const c0 = part * nb,
    cols = Math.min(nb, n - c0);
  if (shape.transB) return b.subarray(c0 * k, (c0 + cols) * k);
  const block = new Float32Array(k * cols);
  for (let r = 0; r < k; r++) block.set(b.subarray(r * n + c0, r * n + c0 + cols), r * cols);
  return block;
}

/** Every block of B (see gemmWeightBlock). */
export function splitGemmWeight(b: Float32Array, shape: GemmShape, caps: DeviceCaps): Float32Array[] {
  return Array.from({ length: gemmBlockCount(shape, caps) }, (_, i) => gemmWeightBlock(b, shape, caps, i));
}

/**
 * Quads per lane of a subgroup tile over n columns: a workgroup of 8 lanes spans 32·TN of them. Never
 * one: lavapipe took 5 s to compile the TM 32 / TN 1 kernel against 1 s for TN 2 (and ran it no
 * faster, even at 16 columns), which made a small model's first run 20 s long.
 */
export function subgroupQuads(n: number): number {
  return n >= 128 ? 4 : 2;
}

/**
 * Whether the subgroup kernel can run this product here: subgroups of ≥ 8 lanes, whole column quads
 * (n, and so every block, ldc and the batch strides, multiples of 4) and a row-major B.
 */
function subgroupGemmFits(shape: GemmShape, caps: DeviceCaps): boolean {
  return (caps.subgroupMinSize ?? 0) >= 8 && shape.n % 4 === 0 && !shape.transB;
}

/** The kernel a variant runs as for this shape (vec4 and subgroup fall back where they do not fit). */
function resolveKind(
  shape: GemmShape,
  variant: GemmVariant,
  caps: DeviceCaps,
): { variant: GemmVariant; kind: NonNullable<GemmVariant['kind']> } {
  if (variant.kind === 'subgroup' && !subgroupGemmFits(shape, caps))
    variant = defaultGemmVariant(shape.m, shape.n, undefined, shape.k);
  // vec4 needs every block and C's row to be whole quads; blocks are multiples of 4 unless single.
  const kind = variant.kind === 'vec4' && (shape.n % 4 || shape.transB) ? 'register' : (variant.kind ?? 'register');
  return { variant, kind };
}

/** Whether a GEMM of this shape runs on the subgroup kernel here (the only one with a residual epilogue). */
export function gemmRunsOnSubgroups(
  shape: GemmShape,
  caps: DeviceCaps,
  variant = chooseGemmVariant(shape.m, shape.n, caps, !!shape.batch, shape.k),
): boolean {
  return resolveKind(shape, variant, caps).kind === 'subgroup';
}

/** Whether this product's kernel here reads B row-major only (the subgroup and vec4 kinds). */
function gemmWantsRowMajorB(shape: GemmShape, caps: DeviceCaps): boolean {
  const { kind } = resolveKind(shape, chooseGemmVariant(shape.m, shape.n, caps, false, shape.k), caps);
  return kind === 'subgroup' || kind === 'vec4';
}

/** The dispatches of one GEMM (one per column block of B), bound to `io`. */
export function gemmDispatches(
  shape: GemmShape,
  activation: Activation | undefined,
  caps: DeviceCaps,
  io: GemmOperands,
  requested: GemmVariant = chooseGemmVariant(shape.m, shape.n, caps, !!shape.batch, shape.k),
): Dispatch[] {
  const { m, k, n } = shape;
  if (m < 1 || k < 1 || n < 1) throw new Error(`gemm: empty shape m=${m} k=${k} n=${n}`);
  if (requested.wgX * requested.wgY > caps.maxInvocationsPerWorkgroup) {
    throw new Error(
      `gemm: workgroup ${requested.wgX}×${requested.wgY} exceeds the device's ` +
        `${caps.maxInvocationsPerWorkgroup} invocations`,
    );
  }
  if (
    requested.kind === 'subgroup' &&
    (requested.tm % 8 || requested.tm > 32 || requested.wgX % 8 || requested.tn > 8)
  ) {
    throw new Error(
      'gemm: the subgroup kind needs TM a multiple of 8 up to 32, WG_X a multiple of 8 and TN ≤ 8, ' +
        `got TM ${requested.tm}, TN ${requested.tn}, WG_X ${requested.wgX}`,
    );
  }
  // Small tiles park their sums in workgroup memory (gemm-subgroup.wgsl): 16 bytes per output, 16 KiB in all.
  if (requested.kind === 'subgroup' && requested.tm <= 16 && requested.tn <= 2) {
    if (requested.tm * requested.tn * requested.wgX > 1024)
      throw new Error(
        `gemm: a subgroup tile of TM ${requested.tm}, TN ${requested.tn}, WG_X ${requested.wgX} needs more than ` +
          '16 KiB of workgroup memory',
      );
  }
  const nb = gemmBlockColumns(k, n, caps);
  const { variant, kind } = resolveKind(shape, requested, caps);
  const kernel =
    kind === 'vec4' ? 'gemm-vec4' : kind === 'tiled' ? 'gemm-tiled' : kind === 'subgroup' ? 'gemm-subgroup' : 'gemm';
  const spec: Record<string, number> =
    kind === 'subgroup'
      ? { TM: variant.tm, TN: variant.tn, WG_X: variant.wgX }
      : { TM: variant.tm, TN: variant.tn, WG_X: variant.wgX, WG_Y: variant.wgY };
  // The vec4 kinds read B row-major only.
  if (kind === 'register' || kind === 'tiled') spec.TRANS_B = shape.transB ? 1 : 0;
  if (kind === 'tiled') spec.TK = variant.tk ?? 16;
  const batch = shape.batch ?? { count: 1, strideA: 0, strideB: 0, strideC: 0 };
  const batched = kernel !== 'gemm-tiled';
  if (batched) spec.BIAS = shape.noBias ? 0 : 1;
  else if (shape.batch || shape.noBias)
    throw new Error(`gemm: batched or bias-free products need the register, vec4 or subgroup kind, not '${kind}'`);
  const residual = shape.residual === 'after' ? 1 : shape.residual === 'before' ? 2 : 0;
  if (residual && kind !== 'subgroup') throw new Error(`gemm: a fused residual needs the subgroup kind, not '${kind}'`);
  if (shape.residual && nb !== n) throw new Error('gemm: a fused residual needs one column block');
  if (batch.count > 1 && nb !== n) throw new Error('gemm: a batched product must fit one binding per B');
  const colsPerInvocation = kind === 'vec4' || kind === 'subgroup' ? 4 * variant.tn : variant.tn;
  const rowsPerWorkgroup = kind === 'subgroup' ? variant.tm : variant.tm * variant.wgY;
  const split = nb !== n;
  const dispatches: Dispatch[] = [];
  for (let c0 = 0, i = 0; c0 < n; c0 += nb, i++) {
    const cols = Math.min(nb, n - c0);
    const b = io.b(split ? i : undefined);
    dispatches.push({
      kernel,
      spec,
      params: {
        m,
        k,
        nb: cols,
        n_offset: c0,
        ldc: n,
        ...activationParams(activation),
        ...(batched ? { batch_a: batch.strideA, batch_b: batch.strideB, batch_c: batch.strideC } : {}),
        ...(kind === 'subgroup' ? { residual } : {}),
      },
      workgroups: checkGrid(
        'gemm',
        [Math.ceil(cols / (colsPerInvocation * variant.wgX)), Math.ceil(m / rowsPerWorkgroup), batch.count],
        caps,
      ),
      // The subgroup kernel has a residual binding; without a residual the bias fills it, unread.
      bindings: kind === 'subgroup' ? [io.a, b, io.bias, io.residual ?? io.bias, io.c] : [io.a, b, io.bias, io.c],
    });
  }
  return dispatches;
}

/** Dense attributes: y = act(x · kernel + bias) over the last axis. Weights: kernel [k, units], bias [units]. */
export interface DenseOp {
  units: number;
  /** The kernel's rows (input features), when known: checked against the input. */
  inFeatures?: number;
  activation?: Activation;
  /**
   * Input 1 added in the epilogue, 'after' or 'before' the activation (a Dense on image tensors followed
   * by a residual add: ConvNeXt's blocks). Set by the residual fusion pass where the lowering absorbs one.
   */
  residual?: 'after' | 'before';
}

/** The GEMV kernel's tile: WG lanes over k, ROWS rows of A × COLS outputs per workgroup. */
export interface GemvVariant {
  wg: number;
  rows: number;
  cols: number;
}

/**
 * On a software adapter one SIMD batch per workgroup (8 lanes) streams each weight row fastest: VGG16's
 * fc1 at 8.6 GB/s with 8 lanes × 4 outputs against 4.6 with 64 lanes (lavapipe, vec4 loads). A GPU needs
 * wider workgroups to hide memory latency.
 */
export function defaultGemvVariant(m: number, caps?: DeviceCaps): GemvVariant {
  return { wg: caps?.software ? 8 : 64, rows: m >= 4 ? 4 : m >= 2 ? 2 : 1, cols: 4 };
}

/**
 * Up to this many rows a product with a transposed B (n×k) runs on the GEMV kernel, which reads B once
 * per ROWS rows; beyond, the register GEMM with TRANS_B, whose tiles reuse B across TM rows.
 */
const GEMV_MAX_ROWS = 64;

/** The dispatches of a product with B stored n×k: the GEMV for few rows (a dense head), else the GEMM. */
export function transposedGemmDispatches(
  shape: Pick<GemmShape, 'm' | 'k' | 'n'>,
  activation: Activation | undefined,
  caps: DeviceCaps,
  io: GemmOperands,
): Dispatch[] {
  return shape.m <= GEMV_MAX_ROWS
    ? gemvDispatches(shape, activation, caps, io, defaultGemvVariant(shape.m, caps))
    : gemmDispatches({ ...shape, transB: true }, activation, caps, io, { tm: 8, tn: 4, wgX: 8, wgY: 8 });
}

/**
 * Columns c0 … c0 + cols of a k×n row-major kernel as cols×k (each output's weights contiguous), the
 * GEMV kernel's layout. In 32×32 tiles written in order, so that both sides stay in cache (VGG16's fc1:
 * about 0.6 s of load time on a loaded 2-core machine, against 1.1 s for a plain loop).
 */
export function transposedColumns(w: Float32Array, k: number, n: number, c0 = 0, cols = n): Float32Array {
  if (w.length !== k * n) throw new Error(`dense: the kernel has ${w.length} values, expected ${k}×${n} = ${k * n}`);
  const out = new Float32Array(cols * k);
  const T = 32;
  for (let j0 = 0; j0 < cols; j0 += T) {
    const j1 = Math.min(cols, j0 + T);
    for (let r0 = 0; r0 < k; r0 += T) {
      const r1 = Math.min(k, r0 + T);
      for (let j = j0; j < j1; j++) {
        for (let r = r0, o = j * k + r0, src = r0 * n + c0 + j; r < r1; r++, o++, src += n) out[o] = w[src];
      }
    }
  }
  return out;
}

/** The GEMV dispatches (one per row block of the transposed B), bound to `io`. */
export function gemvDispatches(
  shape: Pick<GemmShape, 'm' | 'k' | 'n'>,
  activation: Activation | undefined,
  caps: DeviceCaps,
  io: GemmOperands,
  variant: GemvVariant,
): Dispatch[] {
  const { m, k, n } = shape;
  if (m < 1 || k < 1 || n < 1) throw new Error(`gemv: empty shape m=${m} k=${k} n=${n}`);
  if (variant.wg > caps.maxInvocationsPerWorkgroup || variant.wg & (variant.wg - 1)) {
    throw new Error(
      `gemv: a workgroup of ${variant.wg} lanes must be a power of two ` +
        `within the device's ${caps.maxInvocationsPerWorkgroup}`,
    );
  }
  if (variant.wg * variant.rows * variant.cols > 4096)
    throw new Error(
      `gemv: ${variant.wg}×${variant.rows}×${variant.cols} partial sums exceed 16 KB of workgroup memory`,
    );
  const nb = gemmBlockColumns(k, n, caps);
  const split = nb !== n;
  const dispatches: Dispatch[] = [];
  for (let c0 = 0, i = 0; c0 < n; c0 += nb, i++) {
    const cols = Math.min(nb, n - c0);
    dispatches.push({
      kernel: k % 4 === 0 ? 'gemv-vec4' : 'gemv',
      spec: { WG: variant.wg, ROWS: variant.rows, COLS: variant.cols, BIAS: 1 },
      params: { m, k, nb: cols, n_offset: c0, ldc: n, ...activationParams(activation) },
      workgroups: checkGrid('gemv', [Math.ceil(cols / variant.cols), Math.ceil(m / variant.rows), 1], caps),
      bindings: [io.a, io.b(split ? i : undefined), io.bias, io.c],
    });
  }
  return dispatches;
}

/**
 * A dense layer with one row per batch item (a model's head, [batch, k]) keeps its kernel transposed
 * for the GEMV at every batch size (the weights' layout cannot depend on the batch); one applied along
 * other axes too ([batch, h, w, k], ConvNeXt's pointwise layers) has many rows and runs as a GEMM.
 */
function isHeadDense(x: Shape, k: number): boolean {
  return x.length >= 2 && sizeOf(x) / k === x[0];
}

export function lowerDense(op: DenseOp, ctx: LowerContext): Lowering {
  const x = ctx.inputs[0];
  const k = x[x.length - 1];
  if (op.inFeatures !== undefined && op.inFeatures !== k) {
    throw new Error(
      `input has ${k} features but the kernel holds ${op.inFeatures * op.units} values for ${op.units} units`,
    );
  }
  const m = sizeOf(x) / k;
  const gemv = isHeadDense(x, k);
  const shape: GemmShape = { m, k, n: op.units, transB: gemv };
  const parts = gemmBlockCount(shape, ctx.caps);
  const io: GemmOperands = { a: input(0), b: (p) => weight('kernel', p), bias: weight('bias'), c: output };
  const outShape = [...x.slice(0, -1), op.units];
  // A residual rides on the subgroup GEMM's epilogue: one column block, B as stored (no GEMV).
  const variant = ctx.variant ?? chooseGemmVariant(m, op.units, ctx.caps, false, k);
  const absorbsResidual = !gemv && parts === 1 && gemmRunsOnSubgroups({ m, k, n: op.units }, ctx.caps, variant);
  if (op.residual) {
    if (!absorbsResidual) throw new Error('a fused residual needs a dense layer on the subgroup GEMM');
    if (ctx.inputs[1]?.join() !== outShape.join())
      throw new Error(`residual [${ctx.inputs[1]}] does not match the output [${outShape}]`);
    io.residual = input(1);
    shape.residual = op.residual;
  }
  const nb = gemmBlockColumns(k, op.units, ctx.caps);
  const kernelWeight: Lowering['weights'][number] = gemv
    ? parts > 1
      ? {
          name: 'kernel',
          length: k * op.units,
          dtype: 'f32',
          parts,
          makePart: (w, i) => transposedColumns(w.kernel, k, op.units, i * nb, Math.min(nb, op.units - i * nb)),
        }
      : { name: 'kernel', length: k * op.units, dtype: 'f32', make: (w) => transposedColumns(w.kernel, k, op.units) }
    : parts > 1
      ? {
          name: 'kernel',
          length: k * op.units,
          dtype: 'f32',
          parts,
          makePart: (w, i) => gemmWeightBlock(w.kernel, shape, ctx.caps, i),
        }
      : { name: 'kernel', length: k * op.units, dtype: 'f32', direct: 'kernel' };
  // Past the GEMV's rows the transposed kernel would run on the register GEMM, 3× slower than the
  // subgroup one (a batch of 1024 through a 1024 → 1024 layer: 176 against 59 ms on lavapipe) and 2.4×
  // slower than the vec4 one on SwiftShader. Where the kernel is one f32 binding, each run transposes
  // it back into scratch (4 MB there, about a millisecond on lavapipe) for those kernels.
  const plain = { m, k, n: op.units };
  const retranspose =
    gemv && m > GEMV_MAX_ROWS && parts === 1 && !ctx.f16Weights && gemmWantsRowMajorB(plain, ctx.caps);
  const back = (): Dispatch => ({
    ...planTranspose([op.units, k], [1, 0], ctx.caps),
    bindings: [weight('kernel'), scratch(0)],
  });
  const low: Lowering = {
    shape: outShape,
    dispatches: retranspose
      ? [back(), ...gemmDispatches(plain, op.activation, ctx.caps, { ...io, b: () => scratch(0) })]
      : gemv
        ? transposedGemmDispatches(shape, op.activation, ctx.caps, io)
        : gemmDispatches(shape, op.activation, ctx.caps, io, variant),
    weights: [kernelWeight, biasWeight(op.units)],
    scratch: retranspose ? [4 * k * op.units] : [],
    absorbsResidual,
    // The GEMV's tile is not tuned (its layout is fixed for every batch; the default is measured).
    tuning: gemv
      ? undefined
      : { key: gemmClass(m, op.units), problem: { kind: 'gemm', m, k, n: op.units, batched: false } },
    flops: 2 * m * k * op.units,
  };
  return ctx.f16Weights ? withF16Weights(low, ['kernel']) : low;
}
