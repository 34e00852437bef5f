// Loading a Keras file straight to a runnable Model, recognising Keras's VGG16 weight files.
import type { GpuContext } from '../gpu/context.js';
import { Model, type ModelOptions } from '../graph/model.js';
import { Hdf5File } from '../io/hdf5.js';
import { isNode, readBytes, type ByteSource } from '../io/source.js';
import { loadKerasGraph, type KerasLoadOptions, type LoadedKeras } from '../io/keras.js';
import { vgg16Architecture, type Vgg16Options } from './vgg16.js';

/** For VGG16 weight files: the pooling of a headless model (the input shape is the loader's). */
type VggChoice = Pick<Vgg16Options, 'pooling'>;

export interface LoadedModel {
  model: Model;
  info: Omit<LoadedKeras, 'graph'>;
}

/**
 * A legacy weights-only file whose layers are VGG16's gets the VGG16 architecture (with or without
 * the top, by whether it holds fc1). Other files carry their own.
 */
async function guessArchitecture(source: ByteSource, options: KerasLoadOptions & VggChoice): Promise<KerasLoadOptions> {
  if (options.architecture) return options;
  let names: string[] | undefined;
  try {
    const local = typeof source === 'string' && isNode ? source : await readBytes(source);
    if (!(typeof local === 'string') && local[0] === 0x50 && local[1] === 0x4b) return options; // a .keras zip
    const h5 = await Hdf5File.open(local, options.name);
    try {
      if (h5.stringAttr('/', 'model_config') === undefined) names = h5.stringListAttr('/', 'layer_names');
    } finally {
      h5.close();
    }
  } catch {
    return options; // not HDF5 (a .keras zip, or damaged): the loader reports it properly
  }
  if (!names?.includes('block1_conv1')) return options;
  const includeTop = names.includes('fc1');
  return { ...options, architecture: vgg16Architecture({ includeTop, pooling: options.pooling, inputShape: options.inputShape as Vgg16Options['inputShape'] }) };
}

/** Loads any supported Keras file (see loadKerasGraph) and makes it runnable on `ctx`. */
export async function loadKerasModel(
  ctx: GpuContext, source: ByteSource, options: KerasLoadOptions & VggChoice & ModelOptions = {},
): Promise<LoadedModel> {
  const loaded = await loadKerasGraph(source, await guessArchitecture(source, options));
  const { graph, ...info } = loaded;
  return { model: await Model.create(ctx, graph, options), info };
}

/**
 * Keras's `VGG16(weights=…)`: the VGG16 architecture with Keras's application weight file
 * (vgg16_weights_tf_dim_ordering_tf_kernels.h5, or the _notop file with `includeTop: false`).
 */
export async function loadVgg16(
  ctx: GpuContext, weightsFile: ByteSource, options: Vgg16Options & ModelOptions = {},
): Promise<Model> {
  const architecture = vgg16Architecture(options);
  const { graph } = await loadKerasGraph(weightsFile, { architecture });
  return Model.create(ctx, graph, options);
}
