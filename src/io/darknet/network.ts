// Darknet cfg + weights → Graph, in one walk over the cfg with the section handlers (sections.ts): each
// section is validated and sized first (so a weights file of the wrong size fails before any value is
// read), then built, reading its weights in cfg order. The file size must match the cfg exactly.
import type { Graph, GraphWeights, Node, Op } from '../../graph/ir.js';
import type { NodeWeights } from '../../ops/lowering.js';
import { ModelFileError } from '../../errors.js';
import { Options, parseCfg } from './cfg.js';
import {
  layerName,
  SECTIONS,
  type DetectionHead,
  type LayerContext,
  type NmsRule,
  type PlannedLayer,
  type Shape3,
} from './sections.js';
import { readWeightsHeader, WeightReader, type WeightsHeader } from './weights.js';

export type { DetectionHead, NmsRule, RegionHead, YoloHead } from './sections.js';

export interface DarknetNetwork {
  graph: Graph;
  /** The conv weights (batch norm folded in, HWIO), by node name. */
  weights: GraphWeights;
  /** The [yolo] and [region] layers in cfg order, one per graph output. */
  heads: DetectionHead[];
  /** NMS as Darknet's detector runs it: the last layer's nms_kind and beta_nms (default if it is not a head). */
  nms: NmsRule;
  width: number;
  height: number;
  channels: number;
  /** [net] letter_box (AlexeyAB); pjreddie always letterboxes. */
  letterbox: boolean;
  /** Header of the weights file. */
  version?: WeightsHeader;
}

export interface DarknetBuildOptions {
  /**
   * Accept weights holding NaN or ±Inf, and negative batch-norm variances
   * (refused by default: they silently give no boxes).
   */
  allowBadWeights?: boolean;
}

/** The network input's size from [net], or `inputSize` ([width, height]) when given; multiples of 32. */
function netInput(o: Options, inputSize?: [number, number]): Shape3 {
  const w = inputSize?.[0] ?? o.int('width', undefined, { min: 32 });
  const h = inputSize?.[1] ?? o.int('height', undefined, { min: 32 });
  if (w % 32 || h % 32) o.error('width', `input ${w}×${h} must be a multiple of 32`);
  if (w > 8192 || h > 8192) o.error('width', `input ${w}×${h} is larger than 8192 pixels on a side`);
  // The detector letterboxes RGB images: a network for another number of channels cannot take them.
  const c = o.int('channels', 3);
  if (c !== 3)
    o.error('channels', `${c}-channel networks are not supported (the detector feeds RGB images: channels=3)`);
  return { h, w, c };
}

/**
 * Builds the graph. With `weights`, the file size is checked first (header + 4 × parameters) and the
 * arrays are read; without, the convs get zero weights (for shapes and summaries only).
 */
export function buildDarknet(
  cfgText: string,
  cfgFile: string,
  weights?: { bytes: Uint8Array; file: string },
  inputSize?: [number, number],
  options: DarknetBuildOptions = {},
): DarknetNetwork {
  const { net, layers } = parseCfg(cfgText, cfgFile, SECTIONS);
  const netOpts = new Options(net, cfgFile);
  const input = netInput(netOpts, inputSize);

  // Validate and size every layer.
  const shapes: Shape3[] = [];
  const planned: PlannedLayer[] = layers.map((s, i) => {
    const o = new Options(s, cfgFile, layerName(i, s.type));
    const at: LayerContext = {
      index: i,
      shapeOf: (j) => (j < 0 ? input : shapes[j]),
      layers(key, required = false) {
        const list = o.ints(key, required ? undefined : []);
        if (required && !list.length) o.error(key, 'lists no layers');
        return list.map((r) => {
          if (!Number.isInteger(r)) o.error(key, `${r} is not a layer index`);
          const abs = r < 0 ? i + r : r;
          if (abs < 0 || abs >= i) o.error(key, `layer ${r} (absolute ${abs}) does not exist before layer ${i}`);
          return abs;
        });
      },
    };
    const layer = SECTIONS[s.type].plan(o, at);
    shapes.push(layer.shape);
    return layer;
  });
  if (!planned.some((l) => l.head)) throw new ModelFileError(cfgFile, 'has no [yolo] or [region] layer');

  const params = planned.reduce((n, l) => n + l.weightCount, 0);
  let reader: WeightReader | undefined;
  let version: WeightsHeader | undefined;
  if (weights) {
    const { header, start } = readWeightsHeader(weights.bytes, weights.file);
    const expected = start + 4 * params;
    if (weights.bytes.length !== expected) {
      throw new ModelFileError(
        weights.file,
        `is ${weights.bytes.length} bytes, but ${cfgFile} needs ${expected} ` +
          `(a ${start}-byte header + ${params} float32 parameters): ` +
          `${weights.bytes.length < expected ? 'truncated, or ' : ''}weights for another cfg`,
      );
    }
    reader = new WeightReader(weights.bytes, start);
    version = header;
  }

  const nodes: Node[] = [{ name: 'input', op: { kind: 'input', shape: [input.h, input.w, input.c] }, inputs: [] }];
  const graphWeights = new Map<string, NodeWeights>();
  const names = layers.map((s, i) => layerName(i, s.type));
  const heads: DetectionHead[] = [];
  planned.forEach((layer, i) => {
    const name = names[i];
    const section = layers[i];
    layer.build({
      name,
      nodeOf: (j) => (j < 0 ? 'input' : names[j]),
      add: (op: Op, inputs: string[], nodeName = name, arrays?: NodeWeights) => {
        nodes.push({
          name: nodeName,
          op,
          inputs,
          source: { className: `[${section.type}]`, file: cfgFile, layer: name },
        });
        if (arrays) graphWeights.set(nodeName, arrays);
        return nodeName;
      },
      take(n, tensor, check = {}) {
        if (!reader) return new Float32Array(n);
        const values = reader.take(n);
        if (!options.allowBadWeights) checkWeights(values, tensor, check.above, weights!.file, name, section.line);
        return values;
      },
    });
    if (layer.head) heads.push({ ...layer.head, output: name } as DetectionHead);
  });
  const graph: Graph = {
    name: cfgFile.split('/').pop()!,
    nodes,
    inputs: ['input'],
    outputs: heads.map((h) => h.output),
  };
  const last = planned[planned.length - 1].head;
  const nms: NmsRule = last ? last.nms : { kind: 'default', beta: 0.6 };
  return {
    graph,
    weights: graphWeights,
    heads,
    nms,
    width: input.w,
    height: input.h,
    channels: input.c,
    letterbox: netOpts.int('letter_box', 1) !== 0,
    version,
  };
}

function checkWeights(
  values: Float32Array,
  tensor: string,
  above: number | undefined,
  file: string,
  layer: string,
  line: number,
): void {
  const bad = values.findIndex((v) => !Number.isFinite(v) || (above !== undefined && v <= above));
  if (bad < 0) return;
  const what = Number.isFinite(values[bad]) ? `${values[bad]}, not above ${above}` : `${values[bad]}`;
  throw new ModelFileError(
    file,
    `layer ${layer} (cfg line ${line}): ${tensor}[${bad}] is ${what}; ` +
      'the file is damaged (load with allowBadWeights / --allow-bad-weights to use it anyway)',
    { layer, field: tensor },
  );
}
