// Loading a Keras file straight to a runnable Model, recognising Keras's application weight files
// (weights-only, with no architecture inside) by their layer names.
import type { ModelOptions } from '../graph/model.js';
import type { ByteSource } from '../io/source.js';
import { loadKerasGraph, type KerasLoadOptions, type LoadedKeras } from '../io/keras.js';
import type { KerasModelSpec } from '../io/keras-config.js';
import {
  applicationArchitecture,
  layerNamesOf,
  recognizeFamily,
  type ApplicationFamily,
} from './keras-applications.js';
import { runnable, type LoadedModel, type LoaderOptions } from './loaded.js';
import { vgg16Architecture, type Vgg16Options } from './vgg16.js';

/** For VGG16 weight files: the pooling of a headless model (the input shape is the loader's). */
type VggChoice = Pick<Vgg16Options, 'pooling'>;

/**
 * How a Keras file was read (architecture, format, Keras version), and the keras.applications family
 * its layer names belong to (if any).
 */
export type KerasInfo = Omit<LoadedKeras, 'graph' | 'weights'> & { family?: ApplicationFamily };

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
    return vgg16Architecture({
      includeTop,
      pooling: options.pooling,
      inputShape: options.inputShape as Vgg16Options['inputShape'],
    });
  };
}

export interface KerasModelOptions extends KerasLoadOptions, VggChoice, ModelOptions, LoaderOptions {}

/**
 * Loads any supported Keras file (.keras, .h5 full model or weights-only application file; see loadKerasGraph)
 * and makes it runnable; the file is read once.
 */
export async function loadKerasModel(
  source: ByteSource,
  options: KerasModelOptions = {},
): Promise<LoadedModel<KerasInfo>> {
  const loaded = await loadKerasGraph(source, { recognize: recognizeApplication(options), ...options });
  const { graph, weights, ...read } = loaded;
  const info = { ...read, family: recognizeFamily(layerNamesOf(read.spec)) };
  // A nested model (ConvNeXt's stem) is kept by the name of the layer whose output is its own.
  const keep = options.keep && [...options.keep].map((n) => info.spec.nestedOutputs?.[n] ?? n);
  return { model: await runnable({ graph, weights }, options, { ...options, keep }), info };
}
