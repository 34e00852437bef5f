// Detection heads decoded as AlexeyAB's Darknet does it, on the CPU from the heads' NHWC outputs: the
// in-place activations of its [yolo] and [region] layers, get_yolo_detections / get_region_detections and
// correct_yolo_boxes. Darknet computes these in float32; so does this (Math.fround at each of its roundings),
// so that printed percentages and boxes come out as Darknet's.
import type { DetectionHead, RegionHead, YoloHead } from '../../io/darknet/network.js';

/** A box in Darknet's relative centre format (fractions of the image). */
export interface RelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Candidate {
  box: RelBox;
  /** 1 for every [region] box, as Darknet sets it. */
  objectness: number;
  /** obj × class probability, zeroed below the threshold and by NMS. */
  probs: Float32Array;
}

const f32 = Math.fround;
/** logistic_activate: 1.f/(1.f + expf(−x)) in float. */
const logistic = (v: number) => f32(1 / f32(1 + f32(Math.exp(-v))));

/**
 * A head's output as Darknet's layer leaves it, from the raw conv values (NHWC [1, H, W, anchors·(5+classes)]).
 * [yolo]: logistic on x, y, objectness and classes (not with new_coords, whose conv has applied it), then
 * x, y ← x·s − (s−1)/2 (scale_x_y, applied even at 1); w, h stay raw. [region]: logistic on objectness, a
 * softmax over the classes when the cfg asks; NHWC is already its location-major layout. Returns a copy.
 */
export function activateHead(data: Float32Array, head: DetectionHead): Float32Array {
  const per = 5 + head.classes;
  const out = Float32Array.from(data);
  if (head.kind === 'region') {
    for (let base = 0; base < out.length; base += per) {
      out[base + 4] = logistic(out[base + 4]);
      if (head.softmax) softmax(out, base + 5, head.classes);
    }
    return out;
  }
  const s = f32(head.scaleXY),
    shift = f32(-0.5 * (head.scaleXY - 1));
  for (let base = 0; base < out.length; base += per) {
    for (let e = 0; e < per; e++) {
      if (e === 2 || e === 3) continue;
      let v = head.newCoords ? out[base + e] : logistic(out[base + e]);
      if (e < 2) v = f32(f32(v * s) + shift);
      out[base + e] = v;
    }
  }
  return out;
}

/** Darknet's softmax (blas.c) in place: exp in double of x − max, stored and summed in float. */
function softmax(x: Float32Array, at: number, n: number): void {
  let largest = -Infinity;
  for (let i = 0; i < n; i++) largest = Math.max(largest, x[at + i]);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = f32(Math.exp(f32(x[at + i] - largest)));
    sum = f32(sum + e);
    x[at + i] = e;
  }
  for (let i = 0; i < n; i++) x[at + i] = f32(x[at + i] / sum);
}

export interface DecodeGeometry {
  netW: number;
  netH: number;
  imageW: number;
  imageH: number;
  /** Whether the input was letterboxed (else stretched). */
  letterbox: boolean;
}

/** Candidates of one activated head, boxes relative to the original image. */
export function decodeHead(
  act: Float32Array,
  shape: number[],
  head: DetectionHead,
  g: DecodeGeometry,
  thresh: number,
): Candidate[] {
  const [, h, w, c] = shape;
  const anchors = head.kind === 'yolo' ? head.mask.length : head.anchors.length;
  const per = 5 + head.classes;
  if (c !== anchors * per)
    throw new Error(`${head.kind} head '${head.output}': ${c} channels, expected ${anchors}×${per}`);
  const out =
    head.kind === 'yolo' ? yoloCandidates(act, h, w, head, g, thresh) : regionCandidates(act, h, w, head, thresh);
  return out.map((cand) => ({ ...cand, box: correctBox(cand.box, g) }));
}

/** Class probabilities obj × p, each kept only above the threshold. */
function classProbs(act: Float32Array, at: number, classes: number, scale: number, thresh: number): Float32Array {
  const probs = new Float32Array(classes);
  for (let k = 0; k < classes; k++) {
    const p = f32(scale * act[at + k]);
    probs[k] = p > thresh ? p : 0;
  }
  return probs;
}

/** get_yolo_box's w or h: e^t·anchor/net, or with new_coords t²·4·anchor/net (in float). */
const size = (t: number, anchor: number, net: number, newCoords: boolean) =>
  newCoords ? f32(f32(f32(f32(t * t) * 4) * f32(anchor)) / net) : f32((Math.exp(t) * f32(anchor)) / net);

/** get_yolo_detections: cells whose objectness is above the threshold. */
function yoloCandidates(
  act: Float32Array,
  h: number,
  w: number,
  head: YoloHead,
  g: DecodeGeometry,
  thresh: number,
): Candidate[] {
  const per = 5 + head.classes,
    n = head.mask.length;
  const out: Candidate[] = [];
  for (let row = 0; row < h; row++)
    for (let col = 0; col < w; col++)
      for (let a = 0; a < n; a++) {
        const base = ((row * w + col) * n + a) * per;
        const objectness = act[base + 4];
        if (!(objectness > thresh)) continue;
        const [aw, ah] = head.anchors[head.mask[a]];
        const tw = act[base + 2],
          th = act[base + 3];
        const box = {
          x: f32(f32(col + act[base]) / w),
          y: f32(f32(row + act[base + 1]) / h),
          w: size(tw, aw, g.netW, head.newCoords),
          h: size(th, ah, g.netH, head.newCoords),
        };
        out.push({ box, objectness, probs: classProbs(act, base + 5, head.classes, objectness, thresh) });
      }
  return out;
}

/** get_region_boxes: every anchor at every cell; anchors in grid cells; objectness set to 1. */
function regionCandidates(act: Float32Array, h: number, w: number, head: RegionHead, thresh: number): Candidate[] {
  const per = 5 + head.classes,
    n = head.anchors.length;
  const out: Candidate[] = [];
  for (let row = 0; row < h; row++)
    for (let col = 0; col < w; col++)
      for (let a = 0; a < n; a++) {
        const base = ((row * w + col) * n + a) * per;
        const [aw, ah] = head.anchors[a];
        const box = {
          x: f32(f32(col + logistic(act[base])) / w),
          y: f32(f32(row + logistic(act[base + 1])) / h),
          w: f32((Math.exp(act[base + 2]) * f32(aw)) / w),
          h: f32((Math.exp(act[base + 3]) * f32(ah)) / h),
        };
        out.push({ box, objectness: 1, probs: classProbs(act, base + 5, head.classes, act[base + 4], thresh) });
      }
  return out;
}

/** correct_yolo_boxes: from letterboxed-input coordinates back to the original image's. */
function correctBox(b: RelBox, g: DecodeGeometry): RelBox {
  let newW = g.netW,
    newH = g.netH;
  if (g.letterbox) {
    if (f32(g.netW / g.imageW) < f32(g.netH / g.imageH)) {
      newH = Math.trunc((g.imageH * g.netW) / g.imageW);
    } else {
      newW = Math.trunc((g.imageW * g.netH) / g.imageH);
    }
  }
  const ratioW = f32(newW / g.netW),
    ratioH = f32(newH / g.netH);
  return {
    x: f32((b.x - (g.netW - newW) / 2 / g.netW) / ratioW),
    y: f32((b.y - (g.netH - newH) / 2 / g.netH) / ratioH),
    w: f32(b.w * f32(1 / ratioW)),
    h: f32(b.h * f32(1 / ratioH)),
  };
}

export interface Detection {
  classIndex: number;
  className: string;
  /** objectness × class probability (what Darknet prints as a percentage). */
  score: number;
  objectness: number;
  /** Pixel box as Darknet draws it: ints, clamped to the image. */
  box: { x1: number; y1: number; x2: number; y2: number };
  /** Relative centre box in the original image. */
  relative: RelBox;
  /** The box as `darknet detector test -ext_output` prints it: rounded, not clamped (may be negative). */
  darknetBox: { left: number; top: number; width: number; height: number };
  /** Detections of the same box (one per class over the threshold) share this number. */
  boxId: number;
}

/** C's round(): half away from zero. */
const roundC = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

/** Every (box, class) with probability above `thresh`, best first, with Darknet's pixel rounding. */
export function toDetections(
  cands: Candidate[],
  names: string[],
  imageW: number,
  imageH: number,
  thresh: number,
): Detection[] {
  const out: Detection[] = [];
  cands.forEach((c, boxId) => {
    const b = c.box;
    const clampX = (v: number) => Math.min(Math.max(v, 0), imageW - 1);
    const clampY = (v: number) => Math.min(Math.max(v, 0), imageH - 1);
    // draw_detections_v3 draws with (int)((x − w/2.)·im.w) in double; -ext_output prints round() of float products.
    const box = {
      x1: clampX(Math.trunc((b.x - b.w / 2) * imageW)),
      x2: clampX(Math.trunc((b.x + b.w / 2) * imageW)),
      y1: clampY(Math.trunc((b.y - b.h / 2) * imageH)),
      y2: clampY(Math.trunc((b.y + b.h / 2) * imageH)),
    };
    const darknetBox = {
      left: roundC(f32(f32(b.x - f32(b.w / 2)) * imageW)),
      top: roundC(f32(f32(b.y - f32(b.h / 2)) * imageH)),
      width: roundC(f32(b.w * imageW)),
      height: roundC(f32(b.h * imageH)),
    };
    c.probs.forEach((p, k) => {
      if (p > thresh) {
        const className = names[k] ?? `class ${k}`;
        out.push({ classIndex: k, className, score: p, objectness: c.objectness, box, relative: b, darknetBox, boxId });
      }
    });
  });
  return out.sort((a, b) => b.score - a.score);
}
