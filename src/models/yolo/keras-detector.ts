// Loading a keras-yolo3-style Keras YOLO for the Detector: the model file (its outputs are the raw head
// convs, one per scale, in yolo_eval's order), the anchors file, the class names, and the anchor masks (given,
// or keras-yolo3's by head count). Models whose input is (None, None, 3) run at `inputSize` (default 416,
// keras-yolo3's model_image_size).
import type { GpuContext } from '../../gpu/context.js';
import type { Graph, GraphWeights } from '../../graph/ir.js';
import type { DarknetNetwork, NmsRule, YoloHead } from '../../io/darknet/network.js';
import { ModelFileError } from '../../io/errors.js';
import { loadKerasGraph } from '../../io/keras.js';
import { readBytes, sourceName, type ByteSource } from '../../io/source.js';
import { kerasYolo3Masks, parseAnchors } from './keras-yolo3.js';

export interface KerasYoloOptions {
  /** The .h5 or .keras file (path, URL, File/Blob or bytes). */
  model: ByteSource;
  /** keras-yolo3's yolo_anchors.txt (a source, or its text "10,13,  16,30, …"), or the (w, h) pairs. */
  anchors: ByteSource | [number, number][];
  /** Class names, one per line (coco_classes.txt), or the list. */
  classes: ByteSource | string[];
  /**
   * Anchor indices per output, in output order; default keras-yolo3's: [[6,7,8],[3,4,5],[0,1,2]] or [[3,4,5],[1,2,3]].
   */
  masks?: number[][];
  /** 'keras-yolo3' (default): its letterbox and decoding; 'darknet': Darknet's letterbox, decoding and NMS. */
  preprocess?: 'keras-yolo3' | 'darknet';
  /** With preprocess 'darknet': the NMS the cfg's last [yolo] asks for (default: Darknet's default, by IoU). */
  nms?: NmsRule;
  /** [width, height], multiples of 32, for a model whose input size is not fixed (default 416 × 416). */
  inputSize?: [number, number];
  ctx?: GpuContext;
  f16Weights?: boolean;
  allowBadWeights?: boolean;
}

/** What keras-yolo3's decoding needs beyond the network. */
export interface KerasYoloSetup {
  anchors: [number, number][];
  masks: number[][];
}

async function text(source: ByteSource, what: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(source, sourceName(source, what)));
}

const isAnchorText = (s: unknown): s is string => typeof s === 'string' && /^[\d.,\s]+$/.test(s) && s.includes(',');

export async function loadKerasYolo(options: KerasYoloOptions): Promise<{
  graph: Graph;
  weights: GraphWeights;
  network: Omit<DarknetNetwork, 'graph' | 'weights'>;
  names: string[];
  masks: number[][];
  keras?: KerasYoloSetup;
}> {
  const file = sourceName(options.model, 'model');
  const anchorName = Array.isArray(options.anchors) ? 'anchors' : sourceName(options.anchors, 'anchors');
  let anchors: [number, number][];
  try {
    anchors = Array.isArray(options.anchors)
      ? options.anchors
      : parseAnchors(isAnchorText(options.anchors) ? options.anchors : await text(options.anchors, 'anchors'));
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(anchorName, (e as Error).message);
  }
  const names = Array.isArray(options.classes)
    ? options.classes
    : (await text(options.classes, 'classes'))
        .split(/\r?\n/)
        .map((s) => s.trim())
        .filter(Boolean);
  const [w, h] = options.inputSize ?? [416, 416];
  const load = (inputShape?: number[]) =>
    loadKerasGraph(options.model, { inputShape, allowBadWeights: options.allowBadWeights, name: file });
  let loaded: Awaited<ReturnType<typeof load>>;
  try {
    loaded = await load(options.inputSize ? [h, w, 3] : undefined);
  } catch (e) {
    // keras-yolo3's own export leaves the input size open: (None, None, 3).
    if (!(e instanceof ModelFileError && e.field === 'batch_shape' && /not fully known/.test(e.message))) throw e;
    loaded = await load([h, w, 3]);
  }
  const { graph, weights } = loaded;
  const input = graph.nodes.find((n) => n.name === graph.inputs[0])!.op as { shape: number[] };
  const [netH, netW, channels] = input.shape;
  if (channels !== 3 || netH % 32 || netW % 32) {
    throw new ModelFileError(
      file,
      `a YOLO takes 3-channel inputs in multiples of 32, this model's input is ${input.shape.join('×')}`,
    );
  }
  const masks = options.masks ?? kerasYolo3Masks(graph.outputs.length);
  if (masks.length !== graph.outputs.length) {
    throw new ModelFileError(file, `has ${graph.outputs.length} outputs, but ${masks.length} anchor masks were given`);
  }
  const bad = masks.flat().find((m) => m >= anchors.length);
  if (bad !== undefined)
    throw new ModelFileError(anchorName, `has ${anchors.length} anchors; mask index ${bad} is out of range`);
  const nms = options.nms ?? { kind: 'default', beta: 0.6 };
  const heads: YoloHead[] = graph.outputs.map((output, i) => ({
    kind: 'yolo',
    output,
    layer: i,
    mask: masks[i],
    anchors,
    classes: names.length,
    scaleXY: 1,
    newCoords: false,
    nms,
  }));
  const network = { heads, nms, width: netW, height: netH, channels, letterbox: true };
  const keras = (options.preprocess ?? 'keras-yolo3') === 'keras-yolo3' ? { anchors, masks } : undefined;
  return { graph, weights, network, names, masks, keras };
}
