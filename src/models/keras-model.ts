// Loading a Keras file straight to a runnable Model, recognising Keras's application weight files
// (weights-only, with no architecture inside) by their layer names.
import { GpuContext } from '../gpu/context.js';
import { Model, type ModelOptions } from '../graph/model.js';
import type { ByteSource } from '../io/source.js';
import { loadKerasGraph, type KerasLoadOptions, type LoadedKeras } from '../io/keras.js';
import type { KerasModelSpec } from '../io/keras-config.js';
import { tuneGraph } from '../tune/tuner.js';
import { applicationArchitecture, layerNamesOf, recognizeFamily, type ApplicationFamily } from './keras-applications.js';
import { vgg16Architecture, type Vgg16Options } from './vgg16.js';

/** For VGG16 weight files: the pooling of a headless model (the input shape is the loader's). */
type VggChoice = Pick<Vgg16Options, 'pooling'>;

export interface LoadedModel {
  model: Model;
  /** How the file was read, and the keras.applications family its layer names belong to (if any). */
  info: Omit<LoadedKeras, 'graph' | 'weights'> & { family?: ApplicationFamily };
}

export interface TuneOption {
  /** Tune the model's shape classes this adapter has no cached choice for, before planning (src/tune/tuner.ts). */
  tune?: boolean;
}

/**
 * The architecture of a weights-only application file from its layer names and weight shapes: VGG16,
 * VGG19, ResNet50, MobileNet (any alpha) and MobileNetV2 (any alpha), with or without the top.
 */
export function recognizeApplication(
  options: KerasLoadOptions & VggChoice,
): (names: string[], weightShapes: (layer: string) => number[][]) => Promise<KerasModelSpec | undefined> {
  return async (names, weightShapes) => {
    const family = recognizeFamily(names);
    if (family?.asset) {
      const file = names.map((name) => ({ name, shapes: weightShapes(name) })).filter((l) => l.shapes.length);
      return applicationArchitecture(family, file, { pooling: options.pooling, inputShape: options.inputShape });
    }
    if (!names.includes('block1_conv1')) return undefined;
    const includeTop = names.includes('fc1');
    return vgg16Architecture({ includeTop, pooling: options.pooling, inputShape: options.inputShape as Vgg16Options['inputShape'] });
  };
}

export interface KerasModelOptions extends KerasLoadOptions, VggChoice, ModelOptions, TuneOption {
  /** Run on this device; by default the process's shared one (GpuContext.shared), leased until dispose(). */
  ctx?: GpuContext;
}

/** `ctx`, or a lease on the shared context that the model gives back on dispose(). */
async function contextFor(options: { ctx?: GpuContext }): Promise<{ ctx: GpuContext; releaseContext: boolean }> {
  return options.ctx ? { ctx: options.ctx, releaseContext: false } : { ctx: await GpuContext.shared(), releaseContext: true };
}

/**
 * Loads any supported Keras file (.keras, .h5 full model or weights-only application file; see loadKerasGraph)
 * and makes it runnable; the file is read once.
 */
export async function loadKerasModel(source: ByteSource, options: KerasModelOptions = {}): Promise<LoadedModel> {
  const loaded = await loadKerasGraph(source, { recognize: recognizeApplication(options), ...options });
  const { graph, weights, ...read } = loaded;
  const info = { ...read, family: recognizeFamily(layerNamesOf(read.spec)) };
  const { ctx, releaseContext } = await contextFor(options);
  try {
    if (options.tune) await tuneGraph(ctx, graph);
  } catch (e) {
    if (releaseContext) ctx.release();
    throw e;
  }
  // A nested model (ConvNeXt's stem) is kept by the name of the layer whose output is its own.
  const keep = options.keep && [...options.keep].map((n) => info.spec.nestedOutputs?.[n] ?? n);
  return { model: await Model.create(ctx, { graph, weights }, { ...options, keep, releaseContext }), info };
}

/**
 * Keras's `VGG16(weights=…)`: the VGG16 architecture with Keras's application weight file
 * (vgg16_weights_tf_dim_ordering_tf_kernels.h5, or the _notop file with `includeTop: false`).
 */
export async function loadVgg16(weightsFile: ByteSource, options: Vgg16Options & ModelOptions & { ctx?: GpuContext } = {}): Promise<Model> {
  const { graph, weights } = await loadKerasGraph(weightsFile, { architecture: vgg16Architecture(options) });
  const { ctx, releaseContext } = await contextFor(options);
  return Model.create(ctx, { graph, weights }, { ...options, releaseContext });
}
