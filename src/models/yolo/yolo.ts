// [yolo] decoding, letterbox correction and per-class NMS, as Darknet does them (get_yolo_detections,
// correct_yolo_boxes, do_nms_sort), on the CPU from the heads' NHWC outputs.
import type { YoloHead } from '../../io/darknet/network.js';

/** A box in Darknet's relative centre format (fractions of the image). */
export interface RelBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Candidate {
  box: RelBox;
  objectness: number;
  /** obj × σ(class), zeroed below the threshold and by NMS. */
  probs: Float32Array;
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/**
 * Applies Darknet's in-place logistic to x, y, objectness and classes of one head's NHWC output
 * ([1, H, W, anchors·(5+classes)]); w and h stay raw. Returns a new array.
 */
export function activateHead(data: Float32Array, head: YoloHead): Float32Array {
  const per = 5 + head.classes;
  const out = Float32Array.from(data);
  for (let i = 0; i < out.length; i++) {
    const e = (i % (head.mask.length * per)) % per;
    if (e !== 2 && e !== 3) out[i] = sigmoid(out[i]);
  }
  return out;
}

export interface DecodeGeometry {
  netW: number;
  netH: number;
  imageW: number;
  imageH: number;
  /** Whether the input was letterboxed (else stretched). */
  letterbox: boolean;
}

/** Candidates of one activated head with objectness above `thresh`, boxes relative to the original image. */
export function decodeHead(act: Float32Array, shape: number[], head: YoloHead, g: DecodeGeometry, thresh: number): Candidate[] {
  const [, h, w, c] = shape;
  const per = 5 + head.classes;
  if (c !== head.mask.length * per) throw new Error(`yolo head '${head.output}': ${c} channels, expected ${head.mask.length}×${per}`);
  const s = head.scaleXY;
  const out: Candidate[] = [];
  for (let row = 0; row < h; row++)
    for (let col = 0; col < w; col++)
      for (let a = 0; a < head.mask.length; a++) {
        const base = (row * w + col) * c + a * per;
        const objectness = act[base + 4];
        if (objectness <= thresh) continue;
        const [aw, ah] = head.anchors[head.mask[a]];
        const box = {
          x: (col + act[base] * s - (s - 1) / 2) / w,
          y: (row + act[base + 1] * s - (s - 1) / 2) / h,
          w: (Math.exp(act[base + 2]) * aw) / g.netW,
          h: (Math.exp(act[base + 3]) * ah) / g.netH,
        };
        const probs = new Float32Array(head.classes);
        for (let k = 0; k < head.classes; k++) {
          const p = objectness * act[base + 5 + k];
          probs[k] = p > thresh ? p : 0;
        }
        out.push({ box: correctBox(box, g), objectness, probs });
      }
  return out;
}

/** correct_yolo_boxes: from letterboxed-input coordinates back to the original image's. */
function correctBox(b: RelBox, g: DecodeGeometry): RelBox {
  let newW = g.netW, newH = g.netH;
  if (g.letterbox) {
    if (Math.fround(g.netW / g.imageW) < Math.fround(g.netH / g.imageH)) {
      newH = Math.trunc((g.imageH * g.netW) / g.imageW);
    } else {
      newW = Math.trunc((g.imageW * g.netH) / g.imageH);
    }
  }
  return {
    x: (b.x - (g.netW - newW) / 2 / g.netW) / (newW / g.netW),
    y: (b.y - (g.netH - newH) / 2 / g.netH) / (newH / g.netH),
    w: b.w * (g.netW / newW),
    h: b.h * (g.netH / newH),
  };
}

function overlap(x1: number, w1: number, x2: number, w2: number): number {
  const left = Math.max(x1 - w1 / 2, x2 - w2 / 2);
  const right = Math.min(x1 + w1 / 2, x2 + w2 / 2);
  return right - left;
}

export function boxIou(a: RelBox, b: RelBox): number {
  const w = overlap(a.x, a.w, b.x, b.w), h = overlap(a.y, a.h, b.y, b.h);
  const inter = w < 0 || h < 0 ? 0 : w * h;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** do_nms_sort: per class, sorted by that class's probability, suppress later boxes with IoU > `iou`. */
export function nmsSort(cands: Candidate[], classes: number, iou: number): Candidate[] {
  const kept = cands.filter((c) => c.objectness !== 0);
  for (let k = 0; k < classes; k++) {
    // Candidates at 0 for this class neither suppress nor matter when suppressed: leave them out.
    const order = kept.filter((c) => c.probs[k] > 0).sort((a, b) => b.probs[k] - a.probs[k]);
    for (let i = 0; i < order.length; i++) {
      if (order[i].probs[k] === 0) continue;
      for (let j = i + 1; j < order.length; j++) {
        if (boxIou(order[i].box, order[j].box) > iou) order[j].probs[k] = 0;
      }
    }
  }
  return kept;
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
}

/** Every (box, class) with probability above `thresh`, best first, with Darknet's pixel rounding. */
export function toDetections(cands: Candidate[], names: string[], imageW: number, imageH: number, thresh: number): Detection[] {
  const out: Detection[] = [];
  for (const c of cands) {
    const b = c.box;
    const clampX = (v: number) => Math.min(Math.max(v, 0), imageW - 1);
    const clampY = (v: number) => Math.min(Math.max(v, 0), imageH - 1);
    const box = {
      x1: clampX(Math.trunc((b.x - b.w / 2) * imageW)), x2: clampX(Math.trunc((b.x + b.w / 2) * imageW)),
      y1: clampY(Math.trunc((b.y - b.h / 2) * imageH)), y2: clampY(Math.trunc((b.y + b.h / 2) * imageH)),
    };
    c.probs.forEach((p, k) => {
      if (p > thresh) out.push({ classIndex: k, className: names[k] ?? `class ${k}`, score: p, objectness: c.objectness, box, relative: b });
    });
  }
  return out.sort((a, b) => b.score - a.score);
}
