// Codes for transfer learning: a base model's output at one layer (fc1, block5_pool, …), optionally
// pooled over space, for each image: the features a head is trained on. The base is cut at that layer
// (nothing after it is uploaded or run) and images go through it in batches, prepared the Keras way
// (load_img's nearest resize, preprocess_input).
import { UsageError } from '../errors.js';
import type { GpuContext } from '../gpu/context.js';
import type { Graph, GraphWeights } from '../graph/ir.js';
import { Model } from '../graph/model.js';
import {
  decodeImage,
  imageToArray,
  isRgbaImage,
  resizeImage,
  type Interpolation,
  type RgbaImage,
} from '../io/image.js';
import { loadKerasGraph, type LoadedKeras } from '../io/keras.js';
import type { ByteSource } from '../io/source.js';
import { preprocessInput, type PreprocessMode } from '../models/imagenet.js';
import { Tensor } from '../tensor.js';
import { recognizeApplication } from '../models/keras-model.js';

export type CodePreprocess = PreprocessMode | 'none' | 'unit';

export interface CodeOptions {
  /** The layer whose output is the code (default: the model's output). */
  layer?: string;
  /** Pool a 4-D code over its height and width (Keras's GlobalAveragePooling2D / GlobalMaxPooling2D). */
  pooling?: 'avg' | 'max';
  /** Images per forward pass (default 8). */
  batch?: number;
  /** Default 'caffe' (VGG16's preprocess_input). */
  preprocess?: CodePreprocess;
  interpolation?: Interpolation;
  maxPixels?: number;
  /** After each batch, with the images done so far. */
  onBatch?: (done: number, total: number) => void;
}

/** A base model cut at its code layer, ready to compute codes. */
export interface CodeBase {
  ctx: GpuContext;
  loaded: LoadedKeras;
  layer: string;
  /** Input [H, W, C] and code shape (without the batch; 3-D before pooling). */
  inputShape: number[];
  layerShape: number[];
  model: Model;
  dispose(): void;
}

/** The nodes `layer` needs (its ancestors), with it as the only output. */
function cutAt(graph: Graph, weights: GraphWeights, layer: string): { graph: Graph; weights: GraphWeights } {
  const nodes = graph.nodes.filter((n) => (n.source?.layer ?? n.name) === layer);
  if (!nodes.length) throw new UsageError(`the base has no layer '${layer}'`, '--layer');
  const last = nodes[nodes.length - 1].name;
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    graph.nodes.find((n) => n.name === name)?.inputs.forEach(visit);
  };
  visit(last);
  const kept = graph.nodes.filter((n) => needed.has(n.name));
  return {
    graph: { ...graph, nodes: kept, inputs: graph.inputs.filter((i) => needed.has(i)), outputs: [last] },
    weights: new Map([...weights].filter(([name]) => needed.has(name))),
  };
}

/** Loads `source` (any Keras file the library reads, VGG16's weight files included) cut at `layer`. */
export async function loadCodeBase(
  ctx: GpuContext,
  source: ByteSource,
  layer?: string,
  inputShape?: number[],
): Promise<CodeBase> {
  const loaded = await loadKerasGraph(source, { inputShape, recognize: recognizeApplication({ inputShape }) });
  const name = layer ?? loaded.spec.outputs[0];
  const cut = cutAt(loaded.graph, loaded.weights, name);
  const model = await Model.create(ctx, cut);
  return {
    ctx,
    loaded,
    layer: name,
    model,
    inputShape: model.inputShapes[0],
    layerShape: model.outputShapes[0],
    dispose: () => model.dispose(),
  };
}

function prepare(x: Float32Array, mode: CodePreprocess): Float32Array {
  if (mode === 'none') return x;
  if (mode === 'unit') return x.map((v) => v / 255);
  return preprocessInput(x, mode);
}

/** One image as the base's input. */
export async function imageInput(
  image: ByteSource | RgbaImage,
  shape: number[],
  options: CodeOptions,
): Promise<Float32Array> {
  const [h, w, c] = shape;
  if (shape.length !== 3 || (c !== 1 && c !== 3))
    throw new UsageError(`the base's input [${shape.join(', ')}] is not an image (H, W, 1 or 3)`);
  const img = isRgbaImage(image) ? image : await decodeImage(image, { maxPixels: options.maxPixels });
  return prepare(
    imageToArray(resizeImage(img, w, h, options.interpolation ?? 'nearest'), c as 1 | 3),
    options.preprocess ?? 'caffe',
  );
}

/** The code length for a layer output shape and pooling. */
export function codeLength(layerShape: number[], pooling?: 'avg' | 'max'): number {
  return layerShape.length === 3 && pooling ? layerShape[2] : layerShape.reduce((a, b) => a * b, 1);
}

/** Pools each of `n` H×W×C maps over H and W in float64 (or keeps them flat, in Keras's Flatten order). */
function pool(y: Float32Array, n: number, shape: number[], pooling?: 'avg' | 'max'): Float32Array {
  if (shape.length !== 3 || !pooling) return y;
  const [h, w, c] = shape;
  const out = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      let acc = pooling === 'max' ? -Infinity : 0;
      for (let p = 0; p < h * w; p++) {
        const v = y[(i * h * w + p) * c + ch];
        acc = pooling === 'max' ? Math.max(acc, v) : acc + v;
      }
      out[i * c + ch] = pooling === 'max' ? acc : acc / (h * w);
    }
  }
  return out;
}

/** Codes of `images` ([images.length, codeLength]) through a loaded base. */
export async function computeCodes(
  base: CodeBase,
  images: (ByteSource | RgbaImage)[],
  options: CodeOptions = {},
): Promise<Float32Array> {
  const batch = options.batch ?? 8;
  const per = base.inputShape.reduce((a, b) => a * b, 1);
  const length = codeLength(base.layerShape, options.pooling);
  const codes = new Float32Array(images.length * length);
  for (let start = 0; start < images.length; start += batch) {
    const chunk = images.slice(start, start + batch);
    const x = new Float32Array(chunk.length * per);
    for (const [i, image] of chunk.entries()) x.set(await imageInput(image, base.inputShape, options), i * per);
    const y = await base.model.predict(x, chunk.length);
    codes.set(pool(y, chunk.length, base.layerShape, options.pooling), start * length);
    options.onBatch?.(start + chunk.length, images.length);
  }
  return codes;
}

/** The codes as a GPU tensor [images, codeLength] on the base's context (the caller disposes it). */
export async function codesTensor(
  base: CodeBase,
  images: (ByteSource | RgbaImage)[],
  options: CodeOptions = {},
): Promise<Tensor> {
  const codes = await computeCodes(base, images, options);
  return Tensor.fromArray(base.ctx, codes, [images.length, codes.length / Math.max(1, images.length)], 'codes');
}
