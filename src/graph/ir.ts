// The graph IR: a list of nodes in topological order, each producing one value named after the node.
// Nodes carry shapes and attributes only; weight arrays live beside the graph (GraphWeights, by node
// name) in the internal layout (NHWC activations, HWIO conv kernels, [in, out] dense kernels), so a
// model can upload them and let them go. Each op's attributes are defined by its op family in src/ops/.
import { UsageError } from '../errors.js';
import type { Activation } from '../ops/activation.js';
import type { BatchNormOp, ScaleOp } from '../ops/batchnorm.js';
import type { Conv2dOp } from '../ops/conv2d.js';
import type { Crop2dOp } from '../ops/crop2d.js';
import type { BinaryOpAttrs } from '../ops/elementwise.js';
import type { DenseOp } from '../ops/gemm.js';
import type { LayerNormOp } from '../ops/layer-norm.js';
import type { NodeWeights } from '../ops/lowering.js';
import type { Pool2dAttrs } from '../ops/pool2d.js';
import type { ReorgOp } from '../ops/reorg.js';

export type Op =
  | { kind: 'input'; shape: number[] }
  /** Weights: kernel (HWIO), bias. */
  | ({ kind: 'conv2d' } & Conv2dOp)
  /** Weights: kernel [in, units], bias. */
  | ({ kind: 'dense' } & DenseOp)
  | { kind: 'pool2d'; attrs: Pool2dAttrs }
  | { kind: 'global-pool'; pool: 'max' | 'avg'; keepDims: boolean }
  /** Weights: gamma, beta (each optional), mean, variance. */
  | ({ kind: 'batchnorm' } & BatchNormOp)
  /** y = x·scale + offset, per channel (last axis) or scalar. Weights: scale, offset. */
  | ({ kind: 'scale' } & ScaleOp)
  | { kind: 'activation'; activation: Activation }
  | { kind: 'softmax' }
  | { kind: 'log-softmax' }
  /** Keras's LayerNormalization over `axes`. Weights: gamma, beta (each optional). */
  | ({ kind: 'layer-norm' } & LayerNormOp)
  /** Same-shaped add (a residual: it can fold into the conv producing one operand). */
  | { kind: 'add'; activation?: Activation }
  /** Elementwise with NumPy broadcasting; weights: 'operand' when `operandShape` is given. */
  | ({ kind: 'binary' } & BinaryOpAttrs)
  | { kind: 'concat'; axis: number }
  | { kind: 'upsample'; factors: [number, number] }
  | { kind: 'pad'; pads: [number, number, number, number] }
  /** Target shape without the batch axis; one entry may be -1. No data moves. */
  | { kind: 'reshape'; shape: number[] }
  | { kind: 'transpose'; perm: number[] }
  | { kind: 'slice'; axis: number; begin: number; size: number }
  /** Darknet's [reorg] / [reorg3d] permutation (src/ops/reorg.ts). */
  | ({ kind: 'reorg' } & ReorgOp)
  | ({ kind: 'crop2d' } & Crop2dOp)
  /** Dropout at inference, and any layer that passes its input through. No data moves. */
  | { kind: 'identity' };

export type OpKind = Op['kind'];

/** Where a node came from, for error messages and summaries. */
export interface NodeSource {
  className: string;
  file?: string;
  /** The model layer this node implements, when its name differs (helper nodes such as 'x/linear'). */
  layer?: string;
}

export interface Node {
  name: string;
  op: Op;
  /** Names of the nodes whose values this node reads. */
  inputs: string[];
  source?: NodeSource;
  /** Names of the layers folded into this node by passes (in order), for reporting. */
  fused?: string[];
}

export interface Graph {
  name: string;
  nodes: Node[];
  /** Input node names, in the order run() takes inputs. */
  inputs: string[];
  /** Output node names, in the order run() returns outputs. */
  outputs: string[];
}

/** Weight arrays by node name, then by the name the op family gives them ('kernel', 'bias', 'mean', …). */
export type GraphWeights = ReadonlyMap<string, NodeWeights>;

/** What the loaders return: the graph, and its weights beside it. */
export interface WeightedGraph {
  graph: Graph;
  weights: GraphWeights;
}

/** A node with its weight arrays alongside, as loaders and hand-written graphs build it. */
export type WeightedNode = Node & { weights?: NodeWeights };

/** Splits nodes built with their weights into the graph and the weights beside it. */
export function weighted(graph: Omit<Graph, 'nodes'> & { nodes: WeightedNode[] }): WeightedGraph {
  const weights = new Map<string, NodeWeights>();
  const nodes = graph.nodes.map(({ weights: w, ...node }): Node => {
    if (w) weights.set(node.name, w);
    return node;
  });
  return { graph: { ...graph, nodes }, weights };
}

export function describeNode(node: Node): string {
  const file = node.source?.file ? ` in ${node.source.file}` : '';
  return `layer '${node.source?.layer ?? node.name}' (${node.source?.className ?? node.op.kind})${file}`;
}

/** Number of weight values a node holds (its parameter count). */
export function paramCount(weights: NodeWeights | undefined): number {
  return Object.values(weights ?? {}).reduce((n, a) => n + a.length, 0);
}

/** Checks names are unique, inputs exist and come first (topological order), and outputs exist. */
export function validateGraph(graph: Graph): void {
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    if (seen.has(node.name)) throw new UsageError(`${graph.name}: two layers are named '${node.name}'`);
    for (const input of node.inputs) {
      if (!seen.has(input)) {
        const exists = graph.nodes.some((n) => n.name === input);
        const problem = exists ? 'comes after it (not in topological order)' : 'does not exist';
        throw new UsageError(`${describeNode(node)}: input '${input}' ${problem}`);
      }
    }
    seen.add(node.name);
  }
  for (const name of [...graph.inputs, ...graph.outputs]) {
    if (!seen.has(name)) throw new UsageError(`${graph.name}: model input/output '${name}' is not a layer`);
  }
  for (const name of graph.inputs) {
    if (graph.nodes.find((n) => n.name === name)?.op.kind !== 'input')
      throw new UsageError(`${graph.name}: '${name}' is not an input layer`);
  }
}
