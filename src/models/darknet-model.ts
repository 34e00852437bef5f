// Loading a Darknet cfg + weights pair straight to a runnable Model (the Detector adds letterboxing,
// head decoding and NMS on top).
import type { ModelOptions } from '../graph/model.js';
import { buildDarknet, type DarknetBuildOptions, type DarknetNetwork } from '../io/darknet/network.js';
import { readBytes, readText, sourceName, type ByteSource } from '../io/source.js';
import { runnable, type LoadedModel, type LoaderOptions } from './loaded.js';

/** What a cfg says about its network: the input size, the detection heads, NMS and letterboxing. */
export type DarknetInfo = Omit<DarknetNetwork, 'graph' | 'weights'>;

export interface DarknetModelOptions extends DarknetBuildOptions, ModelOptions, LoaderOptions {
  /** Run at this input size ([width, height], multiples of 32) instead of the cfg's. */
  inputSize?: [number, number];
}

/**
 * Loads a Darknet model: `cfg` a path, URL, File/Blob, bytes or the cfg text itself; `weights` the matching
 * .weights file (its size is checked against the cfg before any value is read).
 */
export async function loadDarknetModel(
  cfg: ByteSource,
  weights: ByteSource,
  options: DarknetModelOptions = {},
): Promise<LoadedModel<DarknetInfo>> {
  const cfgText = await readText(cfg, 'cfg');
  const weightsName = sourceName(weights, 'weights');
  const bytes = await readBytes(weights, weightsName);
  const {
    graph,
    weights: graphWeights,
    ...info
  } = buildDarknet(cfgText.text, cfgText.name, { bytes, file: weightsName }, options.inputSize, options);
  return { model: await runnable({ graph, weights: graphWeights }, options, options), info };
}
