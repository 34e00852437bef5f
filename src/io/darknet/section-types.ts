// The contract between the Darknet network walk (network.ts) and the section handlers (sections.ts and the
// files it gathers): what a handler sees of the layers before it, what it returns, and the detection heads.
import type { Op } from '../../graph/ir.js';
import type { Options } from './cfg.js';

export interface Shape3 {
  h: number;
  w: number;
  c: number;
}

/**
 * How boxes of one class suppress each other (AlexeyAB's nms_kind, from the last head): `default` by IoU,
 * `greedynms` by DIoU with β = 0.6, `diounms` by DIoU with β = `beta`, `cornersnms` by IoU.
 */
export interface NmsRule {
  kind: 'default' | 'greedynms' | 'diounms' | 'cornersnms';
  beta: number;
}

interface HeadBase {
  /** The graph output (the conv feeding the head) this head decodes. */
  output: string;
  /** Darknet layer index of the [yolo] / [region] section. */
  layer: number;
  classes: number;
  /** NMS as this layer asks for it (the detector takes the last head's). */
  nms: NmsRule;
}

/** A [yolo] layer: anchors in input pixels, the masked ones decoded at this scale. */
export interface YoloHead extends HeadBase {
  kind: 'yolo';
  mask: number[];
  /** All anchors as (w, h) pairs in input pixels. */
  anchors: [number, number][];
  scaleXY: number;
  /** new_coords=1 (scaled-YOLOv4, YOLOv7): no logistic in the layer, w = (2·t)²·anchor. */
  newCoords: boolean;
}

/** A [region] layer (YOLOv2): every anchor at every cell, anchors in grid cells, optional class softmax. */
export interface RegionHead extends HeadBase {
  kind: 'region';
  /** (w, h) pairs in grid cells, one per anchor. */
  anchors: [number, number][];
  softmax: boolean;
}

export type DetectionHead = YoloHead | RegionHead;

/** What a section needs to know about the layers before it. */
export interface LayerContext {
  index: number;
  /** Output shape of an earlier layer; -1 is the network input. */
  shapeOf(layer: number): Shape3;
  /** Absolute indices of `key`'s layer references (negative = relative), each an earlier layer. */
  layers(key: string, required?: boolean): number[];
}

/** Adds nodes for one section, reading its weights in file order. */
export interface NodeBuilder {
  /** The node name for this layer (`12_conv`). */
  name: string;
  /** Node names of earlier layers by index (-1 = the input). */
  nodeOf(layer: number): string;
  /** Adds a node (named `name` unless given) with its weight arrays, if it has any; returns its name. */
  add(op: Op, inputs: string[], name?: string, weights?: Record<string, Float32Array>): string;
  /**
   * The next `n` float32 weights of this layer, named `tensor` in errors: checked finite (and, with
   * `above`, greater than it) unless the loader was told to allow bad weights.
   */
  take(n: number, tensor: string, check?: { above?: number }): Float32Array;
}

export interface PlannedLayer {
  shape: Shape3;
  /** float32 values this layer stores in the weights file. */
  weightCount: number;
  build(b: NodeBuilder): void;
  head?: Omit<YoloHead, 'output'> | Omit<RegionHead, 'output'>;
}

export interface SectionHandler {
  /** Keys that change the computation; any other key not in `ignored` fails with its line. */
  keys: readonly string[];
  /** Training-only keys (or Darknet bookkeeping): accepted and ignored. */
  ignored: readonly string[];
  plan(o: Options, at: LayerContext): PlannedLayer;
}
