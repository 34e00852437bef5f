// The registry of lowerings: each op kind → its op family's lower function (src/ops/), and whether its
// epilogue takes a fused activation. Lowering a node here adds the layer and file to any error.
import { GpuError, ModelFileError, UsageError, WebgpuCnnError } from '../errors.js';
import type { DeviceCaps } from '../gpu/dispatch.js';
import { lowerActivation } from '../ops/activation.js';
import { lowerBatchNorm, lowerScale } from '../ops/batchnorm.js';
import { lowerConv2d } from '../ops/conv2d.js';
import { lowerCrop2d } from '../ops/crop2d.js';
import { lowerAdd, lowerBinary, lowerSoftmax } from '../ops/elementwise.js';
import { lowerDense } from '../ops/gemm.js';
import { lowerLayerNorm, lowerLogSoftmax } from '../ops/layer-norm.js';
import type { Shape } from '../ops/grid.js';
import {
  lowerConcat,
  lowerIdentity,
  lowerPad,
  lowerReshape,
  lowerSlice,
  lowerTranspose,
  lowerUpsample,
} from '../ops/layout.js';
import type { LowerContext, LowerOptions, Lowering } from '../ops/lowering.js';
import { lowerGlobalPool, lowerPool2d } from '../ops/pool2d.js';
import { lowerReorg } from '../ops/reorg.js';
import { describeNode, type Node, type Op, type OpKind } from './ir.js';

type LowerFn<K extends OpKind> = (op: Extract<Op, { kind: K }>, ctx: LowerContext) => Lowering;

interface OpEntry<K extends OpKind> {
  lower: LowerFn<K>;
  /** A standalone activation after it folds into its epilogue (fuseActivationPass). */
  absorbsActivation?: boolean;
}

const OPS: { [K in Exclude<OpKind, 'input'>]: OpEntry<K> } = {
  conv2d: { lower: lowerConv2d, absorbsActivation: true },
  dense: { lower: lowerDense, absorbsActivation: true },
  batchnorm: { lower: lowerBatchNorm, absorbsActivation: true },
  add: { lower: lowerAdd, absorbsActivation: true },
  binary: { lower: lowerBinary, absorbsActivation: true },
  scale: { lower: lowerScale },
  pool2d: { lower: lowerPool2d },
  'global-pool': { lower: lowerGlobalPool },
  activation: { lower: lowerActivation },
  softmax: { lower: lowerSoftmax },
  'log-softmax': { lower: lowerLogSoftmax },
  'layer-norm': { lower: lowerLayerNorm },
  concat: { lower: lowerConcat },
  upsample: { lower: lowerUpsample },
  pad: { lower: lowerPad },
  reshape: { lower: lowerReshape },
  transpose: { lower: lowerTranspose },
  slice: { lower: lowerSlice },
  crop2d: { lower: lowerCrop2d },
  identity: { lower: lowerIdentity },
  reorg: { lower: lowerReorg },
};

export function absorbsActivation(kind: OpKind): boolean {
  return kind !== 'input' && !!OPS[kind].absorbsActivation;
}

/** The node's lowering at these input shapes; errors name the layer (and the file it came from). */
export function lowerNode(node: Node, inputs: Shape[], caps: DeviceCaps, options: LowerOptions = {}): Lowering {
  if (node.op.kind === 'input') throw new Error(`${describeNode(node)}: an input has no lowering`);
  try {
    const entry = OPS[node.op.kind] as OpEntry<typeof node.op.kind>;
    return entry.lower(node.op as never, { caps, inputs, ...options });
  } catch (e) {
    const message = `${describeNode(node)}: ${(e as Error).message}`;
    if (e instanceof GpuError) throw new (e.constructor as typeof GpuError)(message);
    if (e instanceof WebgpuCnnError) throw e;
    // A node from a file: the file is at fault (shapes that do not fit together); else the caller's graph is.
    const file = node.source?.file;
    if (file)
      throw new ModelFileError(file, message.replace(` in ${file}`, ''), { layer: node.source?.layer ?? node.name });
    throw new UsageError(message);
  }
}
