// Graph rewrites that remove whole kernels: zero padding folded into the conv after it, batch norm and
// per-channel multiplies folded into the conv or dense before it, standalone activations folded into
// the op before them, and residual adds folded into the conv or dense that produces one of their
// operands. A merged node takes the name of the last
// layer it absorbs, so its value is exactly that layer's output and consumers need no renaming; its weights
// move with it. Layers named in `keep` (intermediates the caller wants to read) are never absorbed.
import { foldBatchNorm } from '../ops/batchnorm.js';
import type { NodeWeights } from '../ops/lowering.js';
import { fuseChannelScalePass } from './channel-scale-pass.js';
import type { Graph, GraphWeights, Node, WeightedGraph } from './ir.js';
import { absorbsActivation } from './lower.js';

function consumerCounts(graph: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  graph.nodes.forEach((n) => n.inputs.forEach(bump));
  graph.outputs.forEach(bump);
  return counts;
}

const isLinear = (a: { kind: string } | undefined) => !a || a.kind === 'linear';

interface Merge {
  op: Node['op'];
  /** The merged node's weights (default: the producer's, moved to the merged name). */
  weights?: NodeWeights;
}

/**
 * Rewrites the graph by merging each node into its sole producer when `merge` returns the merged op.
 * The merged node sits at the producer's position (its inputs are earlier, its consumers later).
 */
function mergeIntoProducer(
  g: WeightedGraph,
  keep: ReadonlySet<string>,
  merge: (producer: Node, node: Node) => Merge | undefined,
): WeightedGraph {
  const { graph } = g;
  const counts = consumerCounts(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const replaced = new Map<string, Node>(); // producer name → merged node
  const weights = new Map(g.weights);
  const dropped = new Set<string>();
  for (const node of graph.nodes) {
    if (node.inputs.length !== 1) continue;
    const producer = replaced.get(node.inputs[0]) ? undefined : byName.get(node.inputs[0]);
    if (!producer || counts.get(producer.name) !== 1 || keep.has(producer.name)) continue;
    const merged = merge(producer, node);
    if (!merged) continue;
    replaced.set(producer.name, {
      name: node.name,
      op: merged.op,
      inputs: producer.inputs,
      source: producer.source,
      fused: [...(producer.fused ?? [producer.name]), ...(node.fused ?? [node.name])],
    });
    const moved = merged.weights ?? weights.get(producer.name);
    weights.delete(producer.name);
    weights.delete(node.name);
    if (moved) weights.set(node.name, moved);
    dropped.add(node.name);
  }
  const nodes = graph.nodes.filter((n) => !dropped.has(n.name)).map((n) => replaced.get(n.name) ?? n);
  return { graph: { ...graph, nodes }, weights };
}

/**
 * A zero padding read only by a convolution becomes the convolution's own padding (Keras's ZeroPadding2D
 * before a 'valid' strided conv in MobileNet, ResNet and EfficientNet): one pass over the tensor fewer.
 * The conv's padding must be 'valid' or explicit; 'same' depends on the shapes, which are not known here.
 */
function foldPadPass(g: WeightedGraph, keep: ReadonlySet<string>): WeightedGraph {
  return mergeIntoProducer(g, keep, (producer, node) => {
    const pad = producer.op,
      conv = node.op;
    if (pad.kind !== 'pad' || conv.kind !== 'conv2d') return undefined;
    const own = conv.attrs.padding ?? 'valid';
    if (own === 'same') return undefined;
    const base = own === 'valid' ? [0, 0, 0, 0] : own;
    const padding = [0, 1, 2, 3].map((i) => base[i] + pad.pads[i]) as [number, number, number, number];
    return { op: { ...conv, attrs: { ...conv.attrs, padding } }, weights: g.weights.get(node.name) };
  });
}

function foldBatchNormPass(g: WeightedGraph, keep: ReadonlySet<string>): WeightedGraph {
  return mergeIntoProducer(g, keep, (producer, node) => {
    const p = producer.op,
      bn = node.op;
    if (bn.kind !== 'batchnorm') return undefined;
    const pw = g.weights.get(producer.name),
      bw = g.weights.get(node.name);
    if (!pw?.kernel || !bw) return undefined;
    const params = { gamma: bw.gamma, beta: bw.beta, mean: bw.mean, variance: bw.variance, epsilon: bn.epsilon };
    if (p.kind === 'conv2d' && isLinear(p.attrs.activation) && (bn.axis === -1 || bn.axis === 3)) {
      const folded = foldBatchNorm(pw.kernel, pw.bias, params);
      return {
        op: { ...p, attrs: { ...p.attrs, activation: bn.activation } },
        weights: { kernel: folded.weights, bias: folded.bias },
      };
    }
    if (p.kind === 'dense' && isLinear(p.activation) && bn.axis === -1) {
      const folded = foldBatchNorm(pw.kernel, pw.bias, params);
      return { op: { ...p, activation: bn.activation }, weights: { kernel: folded.weights, bias: folded.bias } };
    }
    return undefined;
  });
}

/**
 * A multiply by a constant per output channel (ConvNeXt's LayerScale, a Keras `x * c` node) read only by
 * it folds into the linear conv or dense before it: w'[…, o] = w[…, o]·γ[o], b'[o] = b[o]·γ[o], which is
 * the batch-norm fold with mean 0, variance 1 and ε 0 (as Rescaling runs on the batch-norm kernel). In
 * a ConvNeXt block at 56×56×96 the multiply was 13% of the block's time (lavapipe).
 */
function foldChannelMultiplyPass(g: WeightedGraph, keep: ReadonlySet<string>): WeightedGraph {
  return mergeIntoProducer(g, keep, (producer, node) => {
    const m = node.op,
      p = producer.op;
    if (m.kind !== 'binary' || m.op !== 'mul') return undefined;
    const pw = g.weights.get(producer.name);
    const oc = p.kind === 'conv2d' ? p.kernelShape[3] : p.kind === 'dense' ? p.units : 0;
    const linear =
      p.kind === 'conv2d'
        ? isLinear(p.attrs.activation) && !p.residual && !p.channelScale
        : p.kind === 'dense' && isLinear(p.activation);
    if (!oc || !linear || !pw?.kernel) return undefined;
    const gamma = m.constant ? Float32Array.of(m.constant.value) : g.weights.get(node.name)?.operand;
    // One value, or one per channel of the last axis. Only a 1-D operand: a longer one of ones would
    // broadcast a lower-rank output up to its rank, which the folded node would not.
    if (!gamma || (m.operandShape && m.operandShape.length !== 1)) return undefined;
    if (gamma.length !== 1 && gamma.length !== oc) return undefined;
    const identity = { mean: new Float32Array(oc), variance: new Float32Array(oc).fill(1), epsilon: 0 };
    const scale = gamma.length === oc ? gamma : new Float32Array(oc).fill(gamma[0]);
    const folded = foldBatchNorm(pw.kernel, pw.bias, { ...identity, gamma: scale });
    const weights = { ...pw, kernel: folded.weights, bias: folded.bias };
    if (p.kind === 'conv2d') return { op: { ...p, attrs: { ...p.attrs, activation: m.activation } }, weights };
    if (p.kind === 'dense') return { op: { ...p, activation: m.activation }, weights };
    return undefined;
  });
}

export function fuseActivationPass(g: WeightedGraph, keep: ReadonlySet<string>): WeightedGraph {
  return mergeIntoProducer(g, keep, (producer, node) => {
    if (node.op.kind !== 'activation' || !absorbsActivation(producer.op.kind)) return undefined;
    const activation = node.op.activation;
    const p = producer.op;
    switch (p.kind) {
      case 'conv2d':
        return isLinear(p.attrs.activation) ? { op: { ...p, attrs: { ...p.attrs, activation } } } : undefined;
      case 'dense':
      case 'batchnorm':
      case 'add':
      case 'binary':
        return isLinear(p.activation) ? { op: { ...p, activation } } : undefined;
      default:
        return undefined;
    }
  });
}

/**
 * Folds an add into the conv (or dense) that produces one of its operands: its epilogue adds the other
 * operand, after its activation (Darknet's shortcut: leaky conv, linear add) or before the add's
 * activation (Keras: linear conv, Add, ReLU). `absorbs` says which convs can (their lowering knows:
 * the Winograd route, 1×1 convs on the subgroup GEMM). The other operand must already exist where the
 * conv runs. Pass-through nodes between the conv and the add (used only there) are folded in too.
 */
export function fuseResidualPass(
  g: WeightedGraph,
  keep: ReadonlySet<string>,
  absorbs: (conv: Node) => boolean,
): WeightedGraph {
  const { graph } = g;
  const counts = consumerCounts(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const index = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const replaced = new Map<string, Node>(); // conv name → merged node
  const weights = new Map(g.weights);
  const dropped = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op.kind !== 'add' || node.inputs.length !== 2) continue;
    for (const [c, o] of [
      [0, 1],
      [1, 0],
    ]) {
      // Pass-through nodes between the conv and the add (Darknet's [dropout]) go with the add.
      const between: string[] = [];
      let conv = byName.get(node.inputs[c]);
      while (conv?.op.kind === 'identity' && counts.get(conv.name) === 1 && !keep.has(conv.name)) {
        between.push(conv.name);
        conv = byName.get(conv.inputs[0]);
      }
      const other = node.inputs[o];
      const op = conv?.op;
      if (!conv || (op?.kind !== 'conv2d' && op?.kind !== 'dense') || op.residual || replaced.has(conv.name)) continue;
      if (counts.get(conv.name) !== 1 || keep.has(conv.name) || !absorbs(conv)) continue;
      if (index.get(other)! >= index.get(conv.name)!) continue;
      const convAct = op.kind === 'conv2d' ? op.attrs.activation : op.activation,
        addAct = node.op.activation;
      const residual = isLinear(addAct) ? 'after' : isLinear(convAct) ? 'before' : undefined;
      if (!residual) continue;
      const activation = residual === 'after' ? convAct : addAct;
      replaced.set(conv.name, {
        // A channel-scaled conv keeps its scale as the last input.
        name: node.name,
        inputs: [conv.inputs[0], other, ...conv.inputs.slice(1)],
        source: conv.source,
        op:
          op.kind === 'conv2d'
            ? { ...op, residual, attrs: { ...op.attrs, activation } }
            : { ...op, residual, activation },
        fused: [...(conv.fused ?? [conv.name]), ...between.reverse(), ...(node.fused ?? [node.name])],
      });
      const moved = weights.get(conv.name);
      weights.delete(conv.name);
      if (moved) weights.set(node.name, moved);
      dropped.add(node.name);
      between.forEach((name) => dropped.add(name));
      break;
    }
  }
  return {
    graph: { ...graph, nodes: graph.nodes.filter((n) => !dropped.has(n.name)).map((n) => replaced.get(n.name) ?? n) },
    weights,
  };
}

/** The standard pipeline before shapes are known: fold zero pads and batch norms, then fuse activations. */
export function optimize(g: WeightedGraph, keep: Iterable<string> = []): WeightedGraph {
  const protect = new Set([...keep, ...g.graph.outputs]);
  const folded = foldChannelMultiplyPass(foldBatchNormPass(foldPadPass(g, protect), protect), protect);
  return fuseChannelScalePass(fuseActivationPass(folded, protect), protect);
}

export type { GraphWeights };
