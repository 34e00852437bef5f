// Uploading a plan's weights: each node's lowering says which weights its dispatches bind, how to make
// them from the node's arrays (as they are, transformed for Winograd, split into binding-sized parts) and
// in which dtype; they are made, checked against what the lowering expects, and uploaded once.
import { ModelFileError, UsageError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import { toF16Array } from '../gpu/f16.js';
import type { NodeWeights, WeightUse } from '../ops/lowering.js';
import { describeNode, type GraphWeights, type Node } from './ir.js';
import type { PlanStep } from './plan.js';
import type { OnLoadProgress } from '../progress.js';

/** GPU buffers of the uploaded weights: node → weight name → parts (one unless split). */
export type UploadedWeights = Map<string, Map<string, GPUBuffer[]>>;

function fail(node: Node, message: string): never {
  const file = node.source?.file;
  const text = `${describeNode(node)}: ${message}`;
  if (file) throw new ModelFileError(file, text.replace(` in ${file}`, ''), { layer: node.source?.layer ?? node.name });
  throw new UsageError(text);
}

/** The values of one weight use (one part of it with `part`), checked to be the size the lowering expects. */
function make(node: Node, use: WeightUse, arrays: NodeWeights, part?: number): Float32Array {
  if (use.direct !== undefined) {
    const a = arrays[use.direct];
    if (!a) fail(node, `has no '${use.direct}' weights`);
    if (a.length !== use.length)
      fail(node, `its ${use.direct} holds ${a.length} values; the layer needs ${use.length}`);
    return a;
  }
  const values = part !== undefined ? use.makePart!(arrays, part) : use.make!(arrays);
  if (part === undefined && values.length !== use.length)
    fail(node, `its ${use.name} weights are ${values.length} values; the layer needs ${use.length}`);
  return values;
}

/** Uploads every weight the steps' lowerings use; on any failure, what was uploaded is freed. */
export function uploadWeights(
  ctx: GpuContext,
  steps: PlanStep[],
  weights: GraphWeights,
  onProgress?: OnLoadProgress,
): { buffers: UploadedWeights; bytes: number } {
  const buffers: UploadedWeights = new Map();
  let bytes = 0;
  const total = onProgress
    ? steps.reduce((n, s) => n + (s.lowering?.weights.reduce((m, w) => m + 4 * w.length, 0) ?? 0), 0)
    : 0;
  let done = 0;
  try {
    for (const { node, lowering } of steps) {
      if (!lowering?.weights.length) continue;
      const arrays = weights.get(node.name) ?? {};
      const byName = new Map<string, GPUBuffer[]>();
      for (const use of lowering.weights) {
        const parts = use.parts
          ? Array.from({ length: use.parts }, (_, i) => make(node, use, arrays, i))
          : [make(node, use, arrays)];
        if (use.parts && parts.reduce((n, p) => n + p.length, 0) !== use.length)
          fail(node, `its ${use.name} weights do not split into ${use.parts} parts of ${use.length} values`);
        const uploaded = parts.map((values, i) =>
          ctx.upload(
            use.dtype === 'f16' ? toF16Array(values) : values,
            `${node.name}/${use.name}${use.parts ? `[${i}]` : ''}`,
          ),
        );
        bytes += uploaded.reduce((n, b) => n + b.size, 0);
        byName.set(use.name, uploaded);
        done += 4 * use.length;
        onProgress?.({ stage: 'upload', done, total });
      }
      buffers.set(node.name, byName);
    }
  } catch (e) {
    buffers.forEach((m) => m.forEach((list) => list.forEach((b) => ctx.destroyBuffer(b))));
    throw e;
  }
  return { buffers, bytes };
}

/**
 * A plan at another batch size binds the same weights (routes and layouts do not depend on the batch);
 * this checks it, so a lowering that one day does will fail loudly rather than read the wrong buffer.
 */
export function checkSameWeights(steps: PlanStep[], uploaded: UploadedWeights): void {
  for (const { node, lowering } of steps) {
    for (const use of lowering?.weights ?? []) {
      const parts = uploaded.get(node.name)?.get(use.name);
      if (!parts || parts.length !== (use.parts ?? 1)) {
        throw new Error(
          `${describeNode(node)}: at this batch size it needs weights '${use.name}' that were not uploaded for batch 1`,
        );
      }
    }
  }
}
