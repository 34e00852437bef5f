// Loading a Keras file straight to a runnable Model, recognising Keras's application weight files
// (weights-only, with no architecture inside) by their layer names.
import type { GpuContext } from '../gpu/context.js';
import { Model, type ModelOptions } from '../graph/model.js';
import type { ByteSource } from '../io/source.js';
import { loadKerasGraph, type KerasLoadOptions, type LoadedKeras } from '../io/keras.js';
import type { KerasModelSpec } from '../io/keras-config.js';
import { tuneGraph } from '../tune/tuner.js';
import { vgg16Architecture, type Vgg16Options } from './vgg16.js';

/** For VGG16 weight files: the pooling of a headless model (the input shape is the loader's). */
type VggChoice = Pick<Vgg16Options, 'pooling'>;

export interface LoadedModel {
  model: Model;
  info: Omit<LoadedKeras, 'graph' | 'weights'>;
}

export interface TuneOption {
  /** Tune the model's shape classes this adapter has no cached choice for, before planning (src/tune/tuner.ts). */
  tune?: boolean;
}

/** The architecture of a weights-only file from its layer names: VGG16 (with or without the top) for now. */
export function recognizeApplication(options: KerasLoadOptions & VggChoice): (names: string[]) => KerasModelSpec | undefined {
  return (names) => {
    if (!names.includes('block1_conv1')) return undefined;
    const includeTop = names.includes('fc1');
    return vgg16Architecture({ includeTop, pooling: options.pooling, inputShape: options.inputShape as Vgg16Options['inputShape'] });
  };
}

/** Loads any supported Keras file (see loadKerasGraph) and makes it runnable on `ctx`; the file is read once. */
export async function loadKerasModel(
  ctx: GpuContext, source: ByteSource, options: KerasLoadOptions & VggChoice & ModelOptions & TuneOption = {},
): Promise<LoadedModel> {
  const loaded = await loadKerasGraph(source, { recognize: recognizeApplication(options), ...options });
  const { graph, weights, ...info } = loaded;
  if (options.tune) await tuneGraph(ctx, graph);
  // A nested model (ConvNeXt's stem) is kept by the name of the layer whose output is its own.
  const keep = options.keep && [...options.keep].map((n) => info.spec.nestedOutputs?.[n] ?? n);
  return { model: await Model.create(ctx, { graph, weights }, { ...options, keep }), info };
}

/**
 * Keras's `VGG16(weights=…)`: the VGG16 architecture with Keras's application weight file
 * (vgg16_weights_tf_dim_ordering_tf_kernels.h5, or the _notop file with `includeTop: false`).
 */
export async function loadVgg16(
  ctx: GpuContext, weightsFile: ByteSource, options: Vgg16Options & ModelOptions = {},
): Promise<Model> {
  const architecture = vgg16Architecture(options);
  const { graph, weights } = await loadKerasGraph(weightsFile, { architecture });
  return Model.create(ctx, { graph, weights }, options);
}
