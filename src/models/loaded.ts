// What every model loader returns, and how it makes its graph runnable: on the caller's context or a
// lease on the shared one, tuned first when asked.
import { GpuContext } from '../gpu/context.js';
import type { WeightedGraph } from '../graph/ir.js';
import { Model, type ModelOptions } from '../graph/model.js';
import { tuneGraph } from '../tune/tuner.js';

/** A runnable model and what its file said about it (the Keras spec and format, the Darknet network's heads…). */
export interface LoadedModel<Info> {
  model: Model;
  info: Info;
}

/** Options every loader takes besides its own. */
export interface LoaderOptions {
  /** Run on this device; by default the process's shared one (GpuContext.shared), leased until dispose(). */
  ctx?: GpuContext;
  /** Tune the model's shape classes this adapter has no cached choice for, before planning (src/tune/tuner.ts). */
  tune?: boolean;
}

/** The model of a loaded graph, on `options.ctx` or on a lease of the shared context that its dispose() gives back. */
export async function runnable(
  source: WeightedGraph,
  options: LoaderOptions,
  modelOptions: ModelOptions,
): Promise<Model> {
  const given = options.ctx;
  const ctx = given ?? (await GpuContext.shared());
  try {
    if (options.tune) await tuneGraph(ctx, source.graph);
  } catch (e) {
    if (!given) ctx.release();
    throw e;
  }
  return Model.create(ctx, source, { ...modelOptions, releaseContext: !given });
}
