// The planner: from an optimized graph and a batch size, the kernel calls in order with every binding
// resolved to a weight, a model input, or an arena slot. Intermediates share slots by liveness over
// the topological order: a slot returns to the free list after the last node that reads it, and a new
// value takes the smallest free slot big enough (or grows the largest free one). Pure: no device.
import type { DeviceCaps, KernelCall } from '../ops/kernel-call.js';
import { sizeOf } from '../ops/kernel-call.js';
import { TensorTooLargeError } from '../gpu/errors.js';
import { describeNode, isAlias, type Graph, type Node } from './ir.js';
import { lowerNode, type LowerOptions } from './lower.js';
import { UsageError } from '../errors.js';

export type BufferRef =
  | { kind: 'weight'; node: string; role: string }
  | { kind: 'input'; index: number }
  | { kind: 'slot'; slot: number };

export interface PlannedCall {
  call: KernelCall;
  /** One per binding, in binding order. */
  buffers: BufferRef[];
}

export interface PlanStep {
  node: Node;
  calls: PlannedCall[];
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

/** Shapes of every value at batch `batch`, lowering each node once. */
export function planGraph(
  graph: Graph, batch: number, caps: DeviceCaps, keep: ReadonlySet<string> = new Set(), options: LowerOptions = {},
): ExecutionPlan {
  if (!Number.isInteger(batch) || batch < 1) throw new UsageError(`batch must be a positive integer, got ${batch}`);
  const shapes = new Map<string, number[]>();
  const lowered = graph.nodes.map((node) => {
    if (node.op.kind === 'input') {
      shapes.set(node.name, [batch, ...node.op.shape]);
      return { node, calls: [] as KernelCall[], inputRoles: {} as Record<string, number>, temps: [] as number[] };
    }
    const low = lowerNode(node, node.inputs.map((i) => shapes.get(i)!), caps, options);
    shapes.set(node.name, low.shape);
    return { node, ...low };
  });

  // Each value's root: the value whose buffer it shares (itself unless an alias op).
  const root = new Map<string, string>();
  for (const { node } of lowered) root.set(node.name, isAlias(node.op) ? root.get(node.inputs[0])! : node.name);

  const lastUse = new Map<string, number>();
  lowered.forEach(({ node }, i) => node.inputs.forEach((name) => lastUse.set(root.get(name)!, i)));
  for (const name of [...graph.outputs, ...keep]) {
    if (!root.has(name)) throw new UsageError(`${graph.name}: no layer named '${name}' (asked to keep or read it)`);
    lastUse.set(root.get(name)!, Infinity);
  }

  const values = new Map<string, BufferRef>();
  const slotBytes: number[] = [];
  const free: number[] = [];
  const inputBytes: number[] = [];
  const releaseAfter = new Map<number, number[]>(); // step index → slots freed after it
  const steps: PlanStep[] = [];

  lowered.forEach(({ node, calls, inputRoles, temps = [] }, i) => {
    const bytes = 4 * sizeOf(shapes.get(node.name)!);
    if (bytes > caps.maxStorageBindingBytes) {
      throw new TensorTooLargeError(
        `${describeNode(node)}: output [${shapes.get(node.name)!.join(', ')}] is ${bytes} bytes, over the device's ` +
          `maxStorageBufferBindingSize of ${caps.maxStorageBindingBytes}`,
      );
    }
    let ref: BufferRef;
    if (node.op.kind === 'input') {
      ref = { kind: 'input', index: graph.inputs.indexOf(node.name) };
      inputBytes[ref.index] = bytes;
    } else if (isAlias(node.op)) {
      ref = values.get(root.get(node.name)!)!;
    } else {
      ref = { kind: 'slot', slot: takeSlot(bytes, slotBytes, free) };
      const end = lastUse.get(node.name) ?? i; // a dangling branch is computed, then its slot is free again
      if (end !== Infinity) releaseAfter.set(end, [...(releaseAfter.get(end) ?? []), ref.slot]);
    }
    values.set(node.name, ref);
    const output = ref;
    // Scratch buffers: taken after the output (so never the same slot), free again right after the node.
    const tempRefs = temps.map((bytes): BufferRef => {
      if (bytes > caps.maxStorageBindingBytes) {
        throw new TensorTooLargeError(`${describeNode(node)}: a ${bytes}-byte scratch buffer is over the device's maxStorageBufferBindingSize of ${caps.maxStorageBindingBytes}`);
      }
      return { kind: 'slot', slot: takeSlot(bytes, slotBytes, free) };
    });
    steps.push({
      node,
      calls: calls.map((call) => ({
        call,
        buffers: call.bindings.map((role, b): BufferRef => {
          if (role.startsWith('tmp#')) return tempRefs[Number(role.slice(4))];
          if (b === call.bindings.length - 1) return output;
          const input = inputRoles[role];
          return input === undefined ? { kind: 'weight', node: node.name, role } : values.get(node.inputs[input])!;
        }),
      })),
    });
    free.push(...(releaseAfter.get(i) ?? []), ...tempRefs.map((r) => (r as { slot: number }).slot));
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
