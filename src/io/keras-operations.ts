// Keras's broadcasting merge layers (Multiply, Subtract, Maximum, Minimum, Average), InceptionResNetV2's
// CustomScaleLayer, and the operation nodes Keras 3 records when a model's code does arithmetic or calls
// keras.ops on Keras tensors (`x + 3.0`, `ops.gelu(x)`): LAYERS.md §1, §2 and §4.
import type { Op } from '../graph/ir.js';
import type { Activation } from '../ops/activation.js';
import type { BinaryOp } from '../ops/elementwise.js';
import type { KerasLayer } from './keras-config.js';
import type { ConfigReader } from './keras-config-reader.js';
import { LayerError } from './keras-config-reader.js';

/** The IR nodes of one layer, before their weights are attached (these layers have none). */
export type OpNode = { name: string; op: Op; inputs: string[] };

/** Merge layers by class, as pairwise binary ops folded left to right. */
const MERGES: Record<string, BinaryOp> = {
  Multiply: 'mul',
  Subtract: 'sub',
  Maximum: 'max',
  Minimum: 'min',
  Average: 'add',
};

export const MERGE_LAYERS = Object.keys(MERGES);

/** `inputs` folded left to right by `op`; the last node takes the layer's name unless `last` says otherwise. */
function chain(name: string, inputs: string[], op: Op, last = name): OpNode[] {
  const nodes: OpNode[] = [];
  let acc = inputs[0];
  for (let i = 1; i < inputs.length; i++) {
    const out = i === inputs.length - 1 ? last : `${name}/partial${i}`;
    nodes.push({ name: out, op, inputs: [acc, inputs[i]] });
    acc = out;
  }
  return nodes;
}

/** Multiply, Subtract, Maximum, Minimum, Average: ranks aligned after the batch axis, then broadcast. */
export function convertMerge(layer: KerasLayer): OpNode[] {
  const { name, inbound, className } = layer;
  if (inbound.length < 2) throw new LayerError(`needs at least two inputs, has ${inbound.length}`);
  if (className === 'Subtract' && inbound.length !== 2)
    throw new LayerError(`takes exactly two inputs, has ${inbound.length}`);
  const op: Op = { kind: 'binary', op: MERGES[className], batchAligned: true };
  if (className !== 'Average') return chain(name, inbound, op);
  // Keras: (((x0 + x1) + x2) …) / n.
  return [
    ...chain(name, inbound, op, `${name}/sum`),
    { name, op: { kind: 'binary', op: 'div', constant: { value: inbound.length } }, inputs: [`${name}/sum`] },
  ];
}

/** InceptionResNetV2's CustomScaleLayer: [x, up] → x + up·scale. */
export function convertCustomScale(layer: KerasLayer, c: ConfigReader): OpNode[] {
  const { name, inbound } = layer;
  if (inbound.length !== 2) throw new LayerError(`takes [x, up], has ${inbound.length} inputs`);
  const scale = c.number('scale');
  return [
    { name: `${name}/scaled`, op: { kind: 'binary', op: 'mul', constant: { value: scale } }, inputs: [inbound[1]] },
    { name, op: { kind: 'binary', op: 'add', batchAligned: true }, inputs: [inbound[0], `${name}/scaled`] },
  ];
}

const OP_BINARY: Record<string, BinaryOp> = {
  Add: 'add',
  Subtract: 'sub',
  Multiply: 'mul',
  TrueDivide: 'div',
  Divide: 'div',
  Maximum: 'max',
  Minimum: 'min',
};

/** Operation nodes that apply an activation, by class name. */
function opActivation(className: string, c: ConfigReader): Activation | undefined {
  switch (className) {
    case 'Relu':
      return { kind: 'relu' };
    case 'Relu6':
      return { kind: 'relu6' };
    case 'Sigmoid':
      return { kind: 'sigmoid' };
    case 'Tanh':
      return { kind: 'tanh' };
    case 'Silu':
    case 'Swish':
      return { kind: 'swish' };
    case 'HardSigmoid':
      return { kind: 'hard_sigmoid', slope: 1 / 6, offset: 0.5 };
    case 'HardSilu':
    case 'HardSwish':
      return { kind: 'hard_swish' };
    case 'LeakyRelu':
      return { kind: 'leaky', alpha: c.number('negative_slope', 0.2) };
    // keras.ops.gelu defaults to the tanh form, unlike Activation('gelu').
    case 'Gelu':
      return { kind: 'gelu', approximate: c.bool('approximate', true) };
    case 'Elu':
      return { kind: 'elu', alpha: c.number('alpha', 1) };
    case 'Selu':
      return { kind: 'selu' };
    case 'Softplus':
      return { kind: 'softplus' };
    case 'Softsign':
      return { kind: 'softsign' };
    case 'Exp':
      return { kind: 'exponential' };
    case 'LogSigmoid':
      return { kind: 'log_sigmoid' };
    case 'HardTanh':
      return { kind: 'hard_tanh' };
    case 'Mish':
      return { kind: 'mish' };
    default:
      return undefined;
  }
}

/** The operation node classes this loader runs. */
export const OPERATIONS = [
  ...Object.keys(OP_BINARY),
  'Negative',
  'Relu',
  'Relu6',
  'Sigmoid',
  'Tanh',
  'Silu',
  'Swish',
  'HardSigmoid',
  'HardSilu',
  'HardSwish',
  'LeakyRelu',
  'Gelu',
  'Elu',
  'Selu',
  'Softplus',
  'Softsign',
  'Exp',
  'LogSigmoid',
  'HardTanh',
  'Mish',
];

const sameShape = (a?: (number | null)[], b?: (number | null)[]) =>
  !!a && !!b && a.length === b.length && a.every((d, i) => d === b[i]);

/** One Keras 3 operation node: operands are tensors or Python numbers, NumPy broadcasting. */
export function convertOperation(layer: KerasLayer, c: ConfigReader): OpNode[] {
  const { name, className } = layer;
  const operands = layer.operands ?? layer.inbound;
  const tensors = operands.filter((o): o is string => typeof o === 'string');
  const act = opActivation(className, c);
  if (act || className === 'Negative') {
    if (operands.length !== 1 || tensors.length !== 1)
      throw new LayerError(`takes one tensor, has ${operands.length} operand(s)`);
    const op: Op = act
      ? { kind: 'activation', activation: act }
      : { kind: 'binary', op: 'mul', constant: { value: -1 } };
    return [{ name, op, inputs: tensors }];
  }
  const binary = OP_BINARY[className];
  if (!binary) throw new LayerError(`operation '${className}' is not supported; supported: ${OPERATIONS.join(', ')}`);
  if (operands.length !== 2 || !tensors.length)
    throw new LayerError(`takes two operands (at least one a tensor), has ${JSON.stringify(operands)}`);
  const [a, b] = operands;
  if (typeof a === 'number' || typeof b === 'number') {
    const value = (typeof a === 'number' ? a : b) as number;
    return [
      { name, op: { kind: 'binary', op: binary, constant: { value, first: typeof a === 'number' } }, inputs: tensors },
    ];
  }
  // Two same-shaped tensors added (ConvNeXt's `inputs + x`) are a residual add the conv before can absorb.
  const shapes = layer.inboundShapes;
  if (binary === 'add' && sameShape(shapes?.[0], shapes?.[1])) return [{ name, op: { kind: 'add' }, inputs: tensors }];
  return [{ name, op: { kind: 'binary', op: binary }, inputs: tensors }];
}
