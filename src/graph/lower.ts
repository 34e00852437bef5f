// Lowering: one IR node → its output shape and the KernelCalls that compute it. Each call's bindings
// name roles; `inputRoles` says which node input a role reads, and every other role except the last
// (the output) is one of the node's weights, from `nodeWeights`.
import { planActivation } from '../ops/activation.js';
import { batchNormAffine, planBatchNorm } from '../ops/batchnorm.js';
import { conv2dOutputShape, planConv2d, residualFits } from '../ops/conv2d.js';
import { planBinary, planSoftmax } from '../ops/elementwise.js';
import { planGemm, splitGemmWeight } from '../ops/gemm.js';
import { sizeOf, type DeviceCaps, type KernelCall, type Shape } from '../ops/kernel-call.js';
import {
  concatOutputShape, padOutputShape, planConcat, planPad, planSlice, planTranspose, planUpsample, sliceOutputShape,
  transposeOutputShape, upsampleOutputShape,
} from '../ops/layout.js';
import { globalPoolOutputShape, planGlobalPool, planPool2d, pool2dOutputShape } from '../ops/pool2d.js';
import { describeNode, type Node, type Op } from './ir.js';
import { planWinograd, winogradApplies, winogradTileFor, winogradWeights } from '../ops/winograd.js';
import { ModelFileError, UsageError, WebgpuCnnError } from '../errors.js';

export interface Lowered {
  shape: number[];
  calls: KernelCall[];
  /** Binding role → index into node.inputs. */
  inputRoles: Record<string, number>;
  /** Bytes of the scratch buffers the calls bind as 'tmp#0', 'tmp#1', … (alive only during the node). */
  temps?: number[];
}

export interface LowerOptions {
  /** Run 3×3 stride-1 convolutions as Winograd where it applies (default true). */
  winograd?: boolean;
  /**
   * Store conv and dense weights as f16 (needs the adapter's shader-f16): half the weight memory and
   * bandwidth; the kernels read them into f32, so sums and activations stay f32.
   */
  f16Weights?: boolean;
}

/** Kernels whose weight operand (binding 1) has an f16 variant (the F16 spec). */
const F16_WEIGHT_KERNELS = new Set(['conv2d', 'conv2d-subgroup', 'gemm', 'gemm-vec4', 'gemm-tiled', 'gemm-subgroup']);
/** The weight roles those kernels bind there: direct conv, Winograd, dense blocks ('b#i'). */
const F16_WEIGHT_ROLES = new Set(['w', 'u', 'b']);

function withF16Weights(low: Lowered): Lowered {
  const calls = low.calls.map((call) => (F16_WEIGHT_KERNELS.has(call.kernel) && F16_WEIGHT_ROLES.has(call.bindings[1].replace(/#\d+$/, ''))
    ? { ...call, spec: { ...call.spec, F16: 1 } } : call));
  return { ...low, calls };
}

const useWinograd = (x: Shape, op: Op & { kind: 'conv2d' }, options: LowerOptions) =>
  options.winograd !== false && winogradApplies(x, op.shape, op.attrs);

const X = { x: 0 };

/** Resolves a Reshape target (without batch, one -1 allowed) against the input shape. */
export function reshapeTarget(input: Shape, target: readonly number[]): number[] {
  const total = sizeOf(input.slice(1));
  const known = target.filter((d) => d !== -1);
  const free = target.length - known.length;
  const knownSize = sizeOf(known);
  if (free > 1 || (free === 1 && total % knownSize) || (free === 0 && knownSize !== total)) {
    throw new Error(`cannot reshape [${input.slice(1).join(', ')}] (${total} values) to [${target.join(', ')}]`);
  }
  return [input[0], ...target.map((d) => (d === -1 ? total / knownSize : d))];
}

function lowerOp(op: Op, inputs: Shape[], caps: DeviceCaps, options: LowerOptions): Lowered {
  const x = inputs[0];
  switch (op.kind) {
    case 'input':
      return { shape: [...x], calls: [], inputRoles: {} };
    case 'identity':
      return { shape: [...x], calls: [], inputRoles: {} };
    case 'reshape':
      return { shape: reshapeTarget(x, op.shape), calls: [], inputRoles: {} };
    case 'conv2d': {
      const shape = conv2dOutputShape(x, op.shape, op.attrs);
      if (useWinograd(x, op, options)) {
        if (op.residual && inputs[1]?.join() !== shape.join()) throw new Error(`residual [${inputs[1]}] does not match the output [${shape}]`);
        const plan = planWinograd(x, op.shape, op.attrs, caps, winogradTileFor(op.shape), op.residual);
        return { shape, ...plan, inputRoles: op.residual ? { x: 0, r: 1 } : X };
      }
      if (op.residual && inputs[1]?.join() !== shape.join()) throw new Error(`residual [${inputs[1]}] does not match the output [${shape}]`);
      if (op.residual && !residualFits(x, op.shape, op.attrs, caps)) {
        throw new Error('a fused residual needs the Winograd route (3×3, stride 1, ≥ 32 channels) or a 1×1 conv on the subgroup GEMM');
      }
      return { shape, calls: planConv2d(x, op.shape, op.attrs, caps, undefined, op.residual), inputRoles: op.residual ? { x: 0, r: 1 } : X };
    }
    case 'dense': {
      const k = x[x.length - 1];
      // Zero-length weights: a model's copy after upload, already checked at load.
      if (op.weights.length && k * op.units !== op.weights.length) {
        throw new Error(`input has ${k} features but the kernel holds ${op.weights.length} values for ${op.units} units`);
      }
      const calls = planGemm({ m: sizeOf(x) / k, k, n: op.units }, op.activation, caps);
      return { shape: [...x.slice(0, -1), op.units], calls, inputRoles: { a: 0 } };
    }
    case 'pool2d':
      return { shape: pool2dOutputShape(x, op.attrs), calls: [planPool2d(x, op.attrs, caps)], inputRoles: X };
    case 'global-pool': {
      const [n, c] = globalPoolOutputShape(x);
      return { shape: op.keepDims ? [n, 1, 1, c] : [n, c], calls: [planGlobalPool(x, op.pool, caps)], inputRoles: X };
    }
    case 'batchnorm': {
      const call = planBatchNorm(x, op.axis, op.params.epsilon, op.activation, caps);
      if (call.params.channels !== op.params.mean.length) {
        throw new Error(`axis ${op.axis} has ${call.params.channels} channels, the weights have ${op.params.mean.length}`);
      }
      return { shape: [...x], calls: [call], inputRoles: X };
    }
    case 'scale': {
      // Rescaling reuses the batch-norm kernel with mean 0, variance 1, ε 0: exactly x·scale + offset.
      const call = planBatchNorm(x, -1, 0, undefined, caps);
      for (const v of [op.scale, op.offset]) {
        if (v.length > 1 && v.length !== x[x.length - 1]) throw new Error(`scale has ${v.length} values for ${x[x.length - 1]} channels`);
      }
      return { shape: [...x], calls: [call], inputRoles: X };
    }
    case 'activation':
      return { shape: [...x], calls: [planActivation(x, op.activation, caps)], inputRoles: X };
    case 'softmax':
      return { shape: [...x], calls: [planSoftmax(x, caps)], inputRoles: X };
    case 'add': {
      if (inputs.length !== 2) throw new Error(`add takes 2 inputs here, got ${inputs.length}`);
      if (x.length !== inputs[1].length || x.some((d, i) => d !== inputs[1][i])) {
        throw new Error(`cannot add shapes [${x.join(', ')}] and [${inputs[1].join(', ')}]`);
      }
      return { shape: [...x], calls: [planBinary('add', x, inputs[1], op.activation, caps)], inputRoles: { a: 0, b: 1 } };
    }
    case 'concat': {
      const inputRoles: Record<string, number> = {};
      inputs.forEach((_, i) => (inputRoles[`x#${i}`] = i));
      return { shape: concatOutputShape(inputs, op.axis), calls: planConcat(inputs, op.axis, caps), inputRoles };
    }
    case 'upsample':
      return { shape: upsampleOutputShape(x, op.factors), calls: [planUpsample(x, op.factors, caps)], inputRoles: X };
    case 'pad':
      return { shape: padOutputShape(x, op.pads), calls: [planPad(x, op.pads, caps)], inputRoles: X };
    case 'slice':
      return { shape: sliceOutputShape(x, op.axis, op.size), calls: [planSlice(x, op.axis, op.begin, op.size, caps)], inputRoles: X };
    case 'transpose':
      return { shape: transposeOutputShape(x, op.perm), calls: [planTranspose(x, op.perm, caps)], inputRoles: X };
  }
}

/** Output shape and kernel calls of one node; errors name the layer. */
export function lowerNode(node: Node, inputs: Shape[], caps: DeviceCaps, options: LowerOptions = {}): Lowered {
  try {
    const low = lowerOp(node.op, inputs, caps, options);
    return options.f16Weights ? withF16Weights(low) : low;
  } catch (e) {
    if (e instanceof WebgpuCnnError) throw e;
    // A node from a file: the file is at fault (shapes that do not fit together); else the caller's graph is.
    const message = `${describeNode(node)}: ${(e as Error).message}`;
    const file = node.source?.file;
    if (file) throw new ModelFileError(file, message.replace(` in ${file}`, ''), { layer: node.source?.layer ?? node.name });
    throw new UsageError(message);
  }
}

/** The node's weights by binding role, in the layout its kernels read (dense kernels split into blocks). */
export function nodeWeights(node: Node, inputs: Shape[], caps: DeviceCaps, options: LowerOptions = {}): Record<string, Float32Array> {
  const op = node.op;
  switch (op.kind) {
    case 'conv2d': {
      const b = op.bias ?? new Float32Array(op.shape[3]);
      if (useWinograd(inputs[0], op, options)) return { u: winogradWeights(op.weights, op.shape[2], op.shape[3], winogradTileFor(op.shape)), b };
      return { w: op.weights, b };
    }
    case 'dense': {
      const k = op.weights.length / op.units;
      const weights: Record<string, Float32Array> = { bias: op.bias ?? new Float32Array(op.units) };
      splitGemmWeight(op.weights, { m: 1, k, n: op.units }, caps).forEach((block, i) => (weights[`b#${i}`] = block));
      return weights;
    }
    case 'batchnorm':
      return { ...batchNormAffine(op.params), mean: op.params.mean, variance: op.params.variance };
    case 'scale': {
      const c = inputs[0][inputs[0].length - 1];
      const widen = (v: Float32Array) => (v.length === c ? v : new Float32Array(c).fill(v[0]));
      return { gamma: widen(op.scale), beta: widen(op.offset), mean: new Float32Array(c), variance: new Float32Array(c).fill(1) };
    }
    default:
      return {};
  }
}
