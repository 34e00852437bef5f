// The graph IR: a list of nodes in topological order, each producing one value named after the node.
// Weights live on the nodes as CPU arrays in the internal layout (NHWC activations, HWIO conv
// weights, k×n dense weights); loaders convert to this layout once, and the planner uploads it.
import type { Activation } from '../ops/activation.js';
import type { BatchNormParams } from '../ops/batchnorm.js';
import type { Conv2dAttrs } from '../ops/conv2d.js';
import type { Pool2dAttrs } from '../ops/pool2d.js';
import { UsageError } from '../errors.js';

export type Op =
  | { kind: 'input'; shape: number[] }
  /**
   * With `residual`, the node's second input is added in the epilogue: 'after' the activation
   * (Darknet's [shortcut] after a conv) or 'before' it (Keras's Add followed by an activation).
   */
  | { kind: 'conv2d'; attrs: Conv2dAttrs; weights: Float32Array; shape: [number, number, number, number]; bias?: Float32Array; residual?: 'after' | 'before' }
  | { kind: 'dense'; weights: Float32Array; units: number; bias?: Float32Array; activation?: Activation }
  | { kind: 'pool2d'; attrs: Pool2dAttrs }
  | { kind: 'global-pool'; pool: 'max' | 'avg'; keepDims: boolean }
  | { kind: 'batchnorm'; params: BatchNormParams; axis: number; activation?: Activation }
  /** y = x·scale + offset, per channel (last axis) or scalar (arrays of length 1). */
  | { kind: 'scale'; scale: Float32Array; offset: Float32Array }
  | { kind: 'activation'; activation: Activation }
  | { kind: 'softmax' }
  | { kind: 'add'; activation?: Activation }
  | { kind: 'concat'; axis: number }
  | { kind: 'upsample'; factors: [number, number] }
  | { kind: 'pad'; pads: [number, number, number, number] }
  /** Target shape without the batch axis; one entry may be -1. No data moves. */
  | { kind: 'reshape'; shape: number[] }
  | { kind: 'transpose'; perm: number[] }
  | { kind: 'slice'; axis: number; begin: number; size: number }
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

/** Ops whose output is their input's buffer under another shape. */
export function isAlias(op: Op): boolean {
  return op.kind === 'identity' || op.kind === 'reshape';
}

export function describeNode(node: Node): string {
  return `layer '${node.source?.layer ?? node.name}' (${node.source?.className ?? node.op.kind})${node.source?.file ? ` in ${node.source.file}` : ''}`;
}

/** Number of weight values a node holds (its parameter count). */
export function paramCount(op: Op): number {
  switch (op.kind) {
    case 'conv2d': return op.weights.length + (op.bias?.length ?? 0);
    case 'dense': return op.weights.length + (op.bias?.length ?? 0);
    case 'batchnorm': {
      const p = op.params;
      return (p.gamma?.length ?? 0) + (p.beta?.length ?? 0) + p.mean.length + p.variance.length;
    }
    default: return 0;
  }
}

/** Checks names are unique, inputs exist and come first (topological order), and outputs exist. */
export function validateGraph(graph: Graph): void {
  const seen = new Set<string>();
  for (const node of graph.nodes) {
    if (seen.has(node.name)) throw new UsageError(`${graph.name}: two layers are named '${node.name}'`);
    for (const input of node.inputs) {
      if (!seen.has(input)) {
        const exists = graph.nodes.some((n) => n.name === input);
        throw new UsageError(`${describeNode(node)}: input '${input}' ${exists ? 'comes after it (not in topological order)' : 'does not exist'}`);
      }
    }
    seen.add(node.name);
  }
  for (const name of [...graph.inputs, ...graph.outputs]) {
    if (!seen.has(name)) throw new UsageError(`${graph.name}: model input/output '${name}' is not a layer`);
  }
  for (const name of graph.inputs) {
    if (graph.nodes.find((n) => n.name === name)?.op.kind !== 'input') throw new UsageError(`${graph.name}: '${name}' is not an input layer`);
  }
}
