// Folds squeeze-and-excite's channel scale (Multiply([x, s]) with s = gate(global pool of x), as
// EfficientNet, MobileNetV3 and EfficientNetV2 write it) into the 1×1 projection conv that follows, which
// then scales its weights per image (src/ops/channel-scale.ts): the multiply's output, the block's
// largest tensor, is never written. Shape-free: s is recognised by its producers, a chain of per-pixel
// ops (1×1 convs, dense, activations, constants, reshapes) back to a global pool.
import { acceptsChannelScale, GATE_MAX_REDUCED } from '../ops/channel-scale.js';
import type { Graph, Node, WeightedGraph } from './ir.js';

/** Nodes that keep a global pool's (N, 1, 1, C) or (N, C) shape per image. */
function perImage(node: Node | undefined, byName: Map<string, Node>): boolean {
  for (let depth = 0; node && depth < 16; depth++) {
    const op = node.op;
    if (op.kind === 'global-pool') return true;
    const perPixel =
      (op.kind === 'conv2d' && acceptsChannelScale(op) && !op.residual && !op.channelScale) ||
      op.kind === 'dense' ||
      op.kind === 'activation' ||
      op.kind === 'identity' ||
      op.kind === 'reshape' ||
      (op.kind === 'binary' && op.constant !== undefined && node.inputs.length === 1);
    if (!perPixel || node.inputs.length !== 1) return false;
    node = byName.get(node.inputs[0]);
  }
  return false;
}

function consumers(graph: Graph): Map<string, Node[]> {
  const out = new Map<string, Node[]>();
  graph.nodes.forEach((n) => n.inputs.forEach((i) => out.set(i, [...(out.get(i) ?? []), n])));
  return out;
}

export function fuseChannelScalePass(g: WeightedGraph, keep: ReadonlySet<string>): WeightedGraph {
  const { graph } = g;
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const readers = consumers(graph);
  const replaced = new Map<string, Node>();
  const dropped = new Set<string>();
  for (const mul of graph.nodes) {
    const op = mul.op;
    if (op.kind !== 'binary' || op.op !== 'mul' || op.constant || op.operandShape || mul.inputs.length !== 2) continue;
    if ((op.activation && op.activation.kind !== 'linear') || keep.has(mul.name) || graph.outputs.includes(mul.name))
      continue;
    const next = readers.get(mul.name) ?? [];
    const conv = next[0];
    if (next.length !== 1 || conv.op.kind !== 'conv2d' || conv.inputs[0] !== mul.name || conv.inputs.length !== 1)
      continue;
    if (!acceptsChannelScale(conv.op) || conv.op.channelScale || conv.op.residual) continue;
    const s = [1, 0].find((i) => perImage(byName.get(mul.inputs[i]), byName));
    if (s === undefined) continue;
    replaced.set(conv.name, {
      ...conv,
      inputs: [mul.inputs[1 - s], mul.inputs[s]],
      op: { ...conv.op, channelScale: true },
      fused: [...(mul.fused ?? [mul.name]), ...(conv.fused ?? [conv.name])],
    });
    dropped.add(mul.name);
  }
  if (!dropped.size) return g;
  const nodes = graph.nodes.filter((n) => !dropped.has(n.name)).map((n) => replaced.get(n.name) ?? n);
  return { graph: { ...graph, nodes }, weights: g.weights };
}

/** A 1×1 conv on a per-image value that only `reader` reads: one of squeeze-and-excite's two gate convs. */
function gateConv(node: Node | undefined, reader: Node, readers: Map<string, Node[]>, keep: ReadonlySet<string>) {
  if (node?.op.kind !== 'conv2d' || keep.has(node.name) || node.inputs.length !== 1) return undefined;
  const op = node.op;
  if (!acceptsChannelScale(op) || op.residual || op.channelScale) return undefined;
  const next = readers.get(node.name) ?? [];
  return next.length === 1 && next[0] === reader ? { node, op } : undefined;
}

/**
 * Moves squeeze-and-excite's gate, two 1×1 convs on the pooled input (reduce, then expand), into the
 * channel-scaled projection conv that reads it (src/ops/channel-scale.ts): the gate and the weight
 * scaling become one dispatch instead of three. Run after fuseChannelScalePass, on the planned graph only
 * (the peers in the benchmarks run the gate's convs as Keras does).
 */
export function fuseGatePass(g: WeightedGraph, keep: ReadonlySet<string>): WeightedGraph {
  const { graph } = g;
  const byName = new Map(graph.nodes.map((n) => [n.name, n]));
  const readers = consumers(graph);
  const weights = new Map(g.weights);
  const replaced = new Map<string, Node>();
  const dropped = new Set<string>();
  for (const conv of graph.nodes) {
    if (conv.op.kind !== 'conv2d' || !conv.op.channelScale || conv.op.gate) continue;
    const s = conv.inputs[conv.inputs.length - 1];
    const expand = gateConv(byName.get(s), conv, readers, keep);
    const reduce = expand && gateConv(byName.get(expand.node.inputs[0]), expand.node, readers, keep);
    if (!expand || !reduce || !perImage(byName.get(reduce.node.inputs[0]), byName)) continue;
    const [, , pooled, reduced] = reduce.op.kernelShape;
    if (reduced > GATE_MAX_REDUCED || expand.op.kernelShape[2] !== reduced) continue;
    const rw = g.weights.get(reduce.node.name) ?? {};
    const ew = g.weights.get(expand.node.name) ?? {};
    const own = g.weights.get(conv.name) ?? {};
    weights.set(conv.name, {
      ...own,
      gateReduceKernel: rw.kernel,
      ...(rw.bias ? { gateReduceBias: rw.bias } : {}),
      gateExpandKernel: ew.kernel,
      ...(ew.bias ? { gateExpandBias: ew.bias } : {}),
    });
    weights.delete(reduce.node.name);
    weights.delete(expand.node.name);
    replaced.set(conv.name, {
      ...conv,
      inputs: [...conv.inputs.slice(0, -1), reduce.node.inputs[0]],
      op: {
        ...conv.op,
        gate: {
          pooled,
          reduced,
          reduceActivation: reduce.op.attrs.activation,
          expandActivation: expand.op.attrs.activation,
        },
      },
      fused: [
        ...(reduce.node.fused ?? [reduce.node.name]),
        ...(expand.node.fused ?? [expand.node.name]),
        ...(conv.fused ?? [conv.name]),
      ],
    });
    dropped.add(reduce.node.name).add(expand.node.name);
  }
  if (!dropped.size) return g;
  const nodes = graph.nodes.filter((n) => !dropped.has(n.name)).map((n) => replaced.get(n.name) ?? n);
  return { graph: { ...graph, nodes }, weights };
}
