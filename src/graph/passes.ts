// Graph → Graph rewrites that remove whole kernels: batch norm folded into the conv or dense before it,
// and standalone activations folded into the op before them. A merged node takes the name of the last
// layer it absorbs, so its value is exactly that layer's output and consumers need no renaming.
// Layers named in `keep` (intermediates the caller wants to read) are never absorbed.
import { foldBatchNorm } from '../ops/batchnorm.js';
import type { Graph, Node } from './ir.js';

function consumerCounts(graph: Graph): Map<string, number> {
  const counts = new Map<string, number>();
  const bump = (name: string) => counts.set(name, (counts.get(name) ?? 0) + 1);
  graph.nodes.forEach((n) => n.inputs.forEach(bump));
  graph.outputs.forEach(bump);
  return counts;
}

const isLinear = (a: { kind: string } | undefined) => !a || a.kind === 'linear';

/**
 * Rewrites `graph` by merging each node into its sole producer when `merge` returns the merged op.
 * The merged node sits at the producer's position (its inputs are earlier, its consumers later).
 */
function mergeIntoProducer(
  graph: Graph, keep: ReadonlySet<string>, merge: (producer: Node, node: Node) => Node['op'] | undefined,
): Graph {
  const counts = consumerCounts(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const replaced = new Map<string, Node>(); // producer name → merged node
  const dropped = new Set<string>();
  for (const node of graph.nodes) {
    if (node.inputs.length !== 1) continue;
    const producer = replaced.get(node.inputs[0]) ? undefined : byName.get(node.inputs[0]);
    if (!producer || counts.get(producer.name) !== 1 || keep.has(producer.name)) continue;
    const op = merge(producer, node);
    if (!op) continue;
    replaced.set(producer.name, {
      name: node.name, op, inputs: producer.inputs, source: producer.source,
      fused: [...(producer.fused ?? [producer.name]), ...(node.fused ?? [node.name])],
    });
    dropped.add(node.name);
  }
  const nodes = graph.nodes.filter((n) => !dropped.has(n.name)).map((n) => replaced.get(n.name) ?? n);
  return { ...graph, nodes };
}

export function foldBatchNormPass(graph: Graph, keep: ReadonlySet<string>): Graph {
  return mergeIntoProducer(graph, keep, (producer, node) => {
    const p = producer.op, bn = node.op;
    if (bn.kind !== 'batchnorm') return undefined;
    if (p.kind === 'conv2d' && isLinear(p.attrs.activation) && (bn.axis === -1 || bn.axis === 3)) {
      const folded = foldBatchNorm(p.weights, p.bias, bn.params);
      return { ...p, weights: folded.weights, bias: folded.bias, attrs: { ...p.attrs, activation: bn.activation } };
    }
    if (p.kind === 'dense' && isLinear(p.activation) && bn.axis === -1) {
      const folded = foldBatchNorm(p.weights, p.bias, bn.params);
      return { ...p, weights: folded.weights, bias: folded.bias, activation: bn.activation };
    }
    return undefined;
  });
}

export function fuseActivationPass(graph: Graph, keep: ReadonlySet<string>): Graph {
  return mergeIntoProducer(graph, keep, (producer, node) => {
    if (node.op.kind !== 'activation') return undefined;
    const activation = node.op.activation;
    const p = producer.op;
    switch (p.kind) {
      case 'conv2d': return isLinear(p.attrs.activation) ? { ...p, attrs: { ...p.attrs, activation } } : undefined;
      case 'dense': return isLinear(p.activation) ? { ...p, activation } : undefined;
      case 'batchnorm': return isLinear(p.activation) ? { ...p, activation } : undefined;
      case 'add': return isLinear(p.activation) ? { ...p, activation } : undefined;
      default: return undefined;
    }
  });
}

/**
 * Folds an add into the conv that produces one of its operands: the conv's epilogue adds the other
 * operand, after its activation (Darknet's shortcut: leaky conv, linear add) or before the add's
 * activation (Keras: linear conv, Add, ReLU). `fusable` says which convs have a kernel for it (the
 * Winograd route, known only with shapes). The other operand must already exist where the conv runs.
 * Pass-through nodes between the conv and the add (used only there) are folded in too.
 */
export function fuseResidualPass(graph: Graph, keep: ReadonlySet<string>, fusable: (conv: Node) => boolean): Graph {
  const counts = consumerCounts(graph);
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const index = new Map(graph.nodes.map((n, i) => [n.name, i]));
  const replaced = new Map<string, Node>(); // conv name → merged node
  const dropped = new Set<string>();
  for (const node of graph.nodes) {
    if (node.op.kind !== 'add' || node.inputs.length !== 2) continue;
    for (const [c, o] of [[0, 1], [1, 0]]) {
      // Pass-through nodes between the conv and the add (Darknet's [dropout]) go with the add.
      const between: string[] = [];
      let conv = byName.get(node.inputs[c]);
      while (conv?.op.kind === 'identity' && counts.get(conv.name) === 1 && !keep.has(conv.name)) {
        between.push(conv.name);
        conv = byName.get(conv.inputs[0]);
      }
      const other = node.inputs[o];
      if (!conv || conv.op.kind !== 'conv2d' || conv.op.residual || replaced.has(conv.name)) continue;
      if (counts.get(conv.name) !== 1 || keep.has(conv.name) || !fusable(conv)) continue;
      if (index.get(other)! >= index.get(conv.name)!) continue;
      const convAct = conv.op.attrs.activation, addAct = node.op.activation;
      const residual = isLinear(addAct) ? 'after' : isLinear(convAct) ? 'before' : undefined;
      if (!residual) continue;
      replaced.set(conv.name, {
        name: node.name, inputs: [conv.inputs[0], other], source: conv.source,
        op: { ...conv.op, residual, attrs: { ...conv.op.attrs, activation: residual === 'after' ? convAct : addAct } },
        fused: [...(conv.fused ?? [conv.name]), ...between.reverse(), ...(node.fused ?? [node.name])],
      });
      dropped.add(node.name);
      between.forEach((name) => dropped.add(name));
      break;
    }
  }
  return { ...graph, nodes: graph.nodes.filter((n) => !dropped.has(n.name)).map((n) => replaced.get(n.name) ?? n) };
}

/** The standard pipeline: fold batch norms, then fuse activations. */
export function optimize(graph: Graph, keep: Iterable<string> = []): Graph {
  const protect = new Set([...keep, ...graph.outputs]);
  return fuseActivationPass(foldBatchNormPass(graph, protect), protect);
}
