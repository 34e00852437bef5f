// The planner: from an optimized graph and a batch size, every node lowered once, and every dispatch's
// bindings resolved to a weight, a model input, or an arena slot. Intermediates share slots by liveness
// over the topological order: a slot returns to the free list after the last node that reads it, and a
// new value takes the smallest free slot big enough (or grows the largest free one). Pure: no device.
import { TensorTooLargeError, UsageError } from '../errors.js';
import type { DeviceCaps, Dispatch } from '../gpu/dispatch.js';
import { sizeOf } from '../ops/grid.js';
import type { LowerOptions, Lowering } from '../ops/lowering.js';
import { describeNode, type Graph, type Node } from './ir.js';
import { lowerNode } from './lower.js';

export type BufferRef =
  | { kind: 'weight'; node: string; name: string; part?: number }
  | { kind: 'input'; index: number }
  | { kind: 'slot'; slot: number };

export interface PlannedDispatch {
  dispatch: Dispatch;
  /** One per binding, in binding order. */
  buffers: BufferRef[];
}

export interface PlanStep {
  node: Node;
  /** Absent for inputs. */
  lowering?: Lowering;
  dispatches: PlannedDispatch[];
}

export interface ExecutionPlan {
  batch: number;
  shapes: Map<string, number[]>;
  steps: PlanStep[];
  /** Where each value lives (aliases resolve to their root). */
  values: Map<string, BufferRef>;
  /** Byte size of each arena slot. */
  slotBytes: number[];
  inputBytes: number[];
}

/** Every node lowered at batch `batch` (shapes flow from the inputs), in graph order. */
export function lowerGraph(
  graph: Graph,
  batch: number,
  caps: DeviceCaps,
  options: LowerOptions = {},
): { shapes: Map<string, number[]>; steps: PlanStep[] } {
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`batch must be a positive integer, got ${batch}`);
  const shapes = new Map<string, number[]>();
  const steps = graph.nodes.map((node): PlanStep => {
    if (node.op.kind === 'input') {
      shapes.set(node.name, [batch, ...node.op.shape]);
      return { node, dispatches: [] };
    }
    const lowering = lowerNode(
      node,
      node.inputs.map((i) => shapes.get(i)!),
      caps,
      options,
    );
    shapes.set(node.name, lowering.shape);
    return { node, lowering, dispatches: [] };
  });
  return { shapes, steps };
}

export function planGraph(
  graph: Graph,
  batch: number,
  caps: DeviceCaps,
  keep: ReadonlySet<string> = new Set(),
  options: LowerOptions = {},
): ExecutionPlan {
  const { shapes, steps } = lowerGraph(graph, batch, caps, options);

  // Each value's root: the value whose buffer it shares (itself unless its lowering is an alias).
  const root = new Map<string, string>();
  for (const { node, lowering } of steps) root.set(node.name, lowering?.alias ? root.get(node.inputs[0])! : node.name);

  const lastUse = new Map<string, number>();
  steps.forEach(({ node }, i) => node.inputs.forEach((name) => lastUse.set(root.get(name)!, i)));
  for (const name of [...graph.outputs, ...keep]) {
    if (!root.has(name)) throw new UsageError(`${graph.name}: no layer named '${name}' (asked to keep or read it)`);
    lastUse.set(root.get(name)!, Infinity);
  }

  const values = new Map<string, BufferRef>();
  const slotBytes: number[] = [];
  const free: number[] = [];
  const inputBytes: number[] = [];
  const releaseAfter = new Map<number, number[]>(); // step index → slots freed after it

  steps.forEach((step, i) => {
    const { node, lowering } = step;
    const bytes = 4 * sizeOf(shapes.get(node.name)!);
    if (bytes > caps.maxStorageBindingBytes) {
      throw new TensorTooLargeError(
        `${describeNode(node)}: output [${shapes.get(node.name)!.join(', ')}] is ${bytes} bytes, over the device's ` +
          `maxStorageBufferBindingSize of ${caps.maxStorageBindingBytes}`,
      );
    }
    let out: BufferRef;
    if (!lowering) {
      out = { kind: 'input', index: graph.inputs.indexOf(node.name) };
      inputBytes[out.index] = bytes;
    } else if (lowering.alias) {
      out = values.get(root.get(node.name)!)!;
    } else {
      out = { kind: 'slot', slot: takeSlot(bytes, slotBytes, free) };
      const end = lastUse.get(node.name) ?? i; // a dangling branch is computed, then its slot is free again
      if (end !== Infinity) releaseAfter.set(end, [...(releaseAfter.get(end) ?? []), out.slot]);
    }
    values.set(node.name, out);
    // Scratch buffers: taken after the output (so never the same slot), free again right after the node.
    const scratch = (lowering?.scratch ?? []).map((b): BufferRef => {
      if (b > caps.maxStorageBindingBytes) {
        throw new TensorTooLargeError(
          `${describeNode(node)}: a ${b}-byte scratch buffer is over the device's ` +
            `maxStorageBufferBindingSize of ${caps.maxStorageBindingBytes}`,
        );
      }
      return { kind: 'slot', slot: takeSlot(b, slotBytes, free) };
    });
    step.dispatches = (lowering?.dispatches ?? []).map((dispatch) => ({
      dispatch,
      buffers: dispatch.bindings.map((b): BufferRef => {
        switch (b.kind) {
          case 'input':
            return values.get(node.inputs[b.index])!;
          case 'weight':
            return { kind: 'weight', node: node.name, name: b.name, ...(b.part === undefined ? {} : { part: b.part }) };
          case 'scratch':
            return scratch[b.index];
          case 'output':
            return out;
        }
      }),
    }));
    free.push(...(releaseAfter.get(i) ?? []), ...scratch.map((r) => (r as { slot: number }).slot));
  });
  return { batch, shapes, steps, values, slotBytes, inputBytes };
}

function takeSlot(bytes: number, slotBytes: number[], free: number[]): number {
  let best = -1;
  for (const s of free) if (slotBytes[s] >= bytes && (best < 0 || slotBytes[s] < slotBytes[best])) best = s;
  if (best < 0 && free.length) {
    best = free.reduce((a, b) => (slotBytes[b] > slotBytes[a] ? b : a));
    slotBytes[best] = bytes;
  }
  if (best < 0) {
    slotBytes.push(bytes);
    return slotBytes.length - 1;
  }
  free.splice(free.indexOf(best), 1);
  return best;
}
