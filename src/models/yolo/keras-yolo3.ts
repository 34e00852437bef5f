// keras-yolo3's conventions (qqwweee/keras-yolo3, yolo.py and yolo3/model.py), for YOLO models exported to
// Keras its way: letterbox_image (PIL bicubic onto grey 128, /255), yolo_head / yolo_correct_boxes /
// yolo_eval (anchor masks by head count, score ≥ 0.3, per-class tf.image.non_max_suppression at IoU 0.45,
// at most 20 boxes a class), detect_image's pixel rounding and its print order. TensorFlow computes in float32;
// so does this (Math.fround at its roundings).
import type { RgbaImage } from '../../io/image.js';
import { resizeBicubic } from '../../io/pillow-resize.js';
import type { Detection } from './yolo.js';

const f32 = Math.fround;

/** yolo_eval's masks: by number of heads, whatever the model was trained with. */
export function kerasYolo3Masks(heads: number): number[][] {
  if (heads === 3)
    return [
      [6, 7, 8],
      [3, 4, 5],
      [0, 1, 2],
    ];
  if (heads === 2)
    return [
      [3, 4, 5],
      [1, 2, 3],
    ];
  throw new Error(`keras-yolo3 has default anchor masks for 2 or 3 heads, not ${heads}: give the masks`);
}

/** get_anchors: a line of comma-separated numbers, read as (w, h) pairs. */
export function parseAnchors(text: string): [number, number][] {
  const values = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  if (!values.length || values.length % 2 || values.some((v) => !(v > 0))) {
    throw new Error(`'${text.trim().slice(0, 60)}' is not a list of positive (w, h) anchor pairs`);
  }
  return Array.from({ length: values.length / 2 }, (_, k) => [values[2 * k], values[2 * k + 1]]);
}

/** '6,7,8/3,4,5/0,1,2': one group of anchor indices per head, in output order. */
export function parseMasks(text: string): number[][] {
  const masks = text.split('/').map((g) =>
    g
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(Number),
  );
  if (masks.some((m) => !m.length || m.some((v) => !Number.isInteger(v) || v < 0))) {
    throw new Error(`'${text}' is not a list of anchor index groups such as 6,7,8/3,4,5/0,1,2`);
  }
  return masks;
}

/**
 * letterbox_image: scale = min(w/iw, h/ih), PIL bicubic resize to int(iw·scale) × int(ih·scale), pasted at
 * ((w−nw)//2, (h−nh)//2) on (128, 128, 128); then /255 in float32. HWC floats.
 */
export function kerasLetterbox(img: RgbaImage, w: number, h: number): Float32Array {
  const scale = Math.min(w / img.width, h / img.height);
  const nw = Math.trunc(img.width * scale),
    nh = Math.trunc(img.height * scale);
  const resized = resizeBicubic(img, nw, nh);
  const dx = Math.floor((w - nw) / 2),
    dy = Math.floor((h - nh) / 2);
  const out = new Float32Array(w * h * 3).fill(f32(128 / 255));
  for (let y = 0; y < nh; y++)
    for (let x = 0; x < nw; x++)
      for (let k = 0; k < 3; k++) out[((y + dy) * w + x + dx) * 3 + k] = resized.data[(y * nw + x) * 4 + k] / 255;
  return out;
}

/** tf.round: half to even. */
const roundEven = (v: number) => {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const sigmoid = (v: number) => f32(1 / f32(1 + f32(Math.exp(-v))));

interface Box {
  ymin: number;
  xmin: number;
  ymax: number;
  xmax: number;
  confidence: number;
  scores: Float32Array;
}

interface KerasYolo3Options {
  anchors: [number, number][];
  masks: number[][];
  classes: number;
  /** Original image size. */
  imageW: number;
  imageH: number;
  /** yolo_eval's score_threshold (keras-yolo3's YOLO default 0.3), kept when ≥ it. */
  score: number;
  /** NMS IoU threshold (default 0.45). */
  iou: number;
  /** Per class (default 20). */
  maxBoxes?: number;
}

/** yolo_boxes_and_scores over every head: corner boxes in image pixels and box_confidence · class probability. */
function boxesAndScores(outputs: Float32Array[], shapes: number[][], o: KerasYolo3Options): Box[] {
  // input_shape = the first output's grid × 32, (h, w).
  const inH = shapes[0][1] * 32,
    inW = shapes[0][2] * 32;
  const ratio = f32(Math.min(f32(inH / o.imageH), f32(inW / o.imageW)));
  const newH = roundEven(f32(o.imageH * ratio)),
    newW = roundEven(f32(o.imageW * ratio));
  const offY = f32(f32(f32(inH - newH) / 2) / inH),
    offX = f32(f32(f32(inW - newW) / 2) / inW);
  const scaleY = f32(inH / newH),
    scaleX = f32(inW / newW);
  const boxes: Box[] = [];
  outputs.forEach((data, l) => {
    const [, gh, gw, c] = shapes[l];
    const mask = o.masks[l],
      per = 5 + o.classes;
    if (c !== mask.length * per) {
      throw new Error(
        `output ${l} has ${c} channels, but ${mask.length} anchors × (5 + ${o.classes} classes) = ${mask.length * per}`,
      );
    }
    for (let row = 0; row < gh; row++)
      for (let col = 0; col < gw; col++)
        for (let a = 0; a < mask.length; a++) {
          const at = ((row * gw + col) * mask.length + a) * per;
          const [aw, ah] = o.anchors[mask[a]];
          const x = f32(f32(sigmoid(data[at]) + col) / gw),
            y = f32(f32(sigmoid(data[at + 1]) + row) / gh);
          const w = f32(f32(f32(Math.exp(data[at + 2])) * f32(aw)) / inW);
          const h = f32(f32(f32(Math.exp(data[at + 3])) * f32(ah)) / inH);
          const cy = f32(f32(y - offY) * scaleY),
            cx = f32(f32(x - offX) * scaleX);
          const hh = f32(h * scaleY),
            ww = f32(w * scaleX);
          const confidence = sigmoid(data[at + 4]);
          const scores = new Float32Array(o.classes);
          for (let k = 0; k < o.classes; k++) scores[k] = f32(confidence * sigmoid(data[at + 5 + k]));
          boxes.push({
            ymin: f32(f32(cy - f32(hh / 2)) * o.imageH),
            xmin: f32(f32(cx - f32(ww / 2)) * o.imageW),
            ymax: f32(f32(cy + f32(hh / 2)) * o.imageH),
            xmax: f32(f32(cx + f32(ww / 2)) * o.imageW),
            confidence,
            scores,
          });
        }
  });
  return boxes;
}

/** tf.image.non_max_suppression's IoU (corners in either order; 0 for an empty box). */
function iou(a: Box, b: Box): number {
  const areaA = (a.ymax - a.ymin) * (a.xmax - a.xmin),
    areaB = (b.ymax - b.ymin) * (b.xmax - b.xmin);
  if (areaA <= 0 || areaB <= 0) return 0;
  const h = Math.max(Math.min(a.ymax, b.ymax) - Math.max(a.ymin, b.ymin), 0);
  const w = Math.max(Math.min(a.xmax, b.xmax) - Math.max(a.xmin, b.xmin), 0);
  const inter = h * w;
  return inter / (areaA + areaB - inter);
}

interface KerasYolo3Box {
  classIndex: number;
  score: number;
  confidence: number;
  /** Image pixels, float: top, left, bottom, right. */
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** yolo_eval: per class (ascending), the boxes tf.image.non_max_suppression keeps, best first. */
export function kerasYolo3Eval(outputs: Float32Array[], shapes: number[][], o: KerasYolo3Options): KerasYolo3Box[] {
  if (o.masks.length !== outputs.length)
    throw new Error(`${o.masks.length} anchor masks for ${outputs.length} outputs`);
  const boxes = boxesAndScores(outputs, shapes, o);
  const out: KerasYolo3Box[] = [];
  for (let k = 0; k < o.classes; k++) {
    // Highest score first, the lower index on ties (its priority queue's order).
    const cands = boxes
      .map((b, i) => ({ b, i }))
      .filter(({ b }) => b.scores[k] >= o.score)
      .sort((p, q) => q.b.scores[k] - p.b.scores[k] || p.i - q.i);
    const kept: Box[] = [];
    for (const { b } of cands) {
      if (kept.length >= (o.maxBoxes ?? 20)) break;
      if (kept.some((s) => iou(s, b) > o.iou)) continue;
      kept.push(b);
      const corners = { top: b.ymin, left: b.xmin, bottom: b.ymax, right: b.xmax };
      out.push({ classIndex: k, score: b.scores[k], confidence: b.confidence, ...corners });
    }
  }
  return out;
}

/** Detections from yolo_eval's boxes, with detect_image's rounding: floor(v + 0.5), clamped to the image. */
export function kerasYolo3Detections(
  boxes: KerasYolo3Box[],
  names: string[],
  imageW: number,
  imageH: number,
): Detection[] {
  return boxes.map((b, boxId) => {
    const round = (v: number) => Math.floor(f32(v + 0.5));
    const box = {
      x1: Math.max(0, round(b.left)),
      y1: Math.max(0, round(b.top)),
      x2: Math.min(imageW, round(b.right)),
      y2: Math.min(imageH, round(b.bottom)),
    };
    const w = b.right - b.left,
      h = b.bottom - b.top;
    const relative = {
      x: (b.left + b.right) / 2 / imageW,
      y: (b.top + b.bottom) / 2 / imageH,
      w: w / imageW,
      h: h / imageH,
    };
    const darknetBox = {
      left: Math.round(b.left),
      top: Math.round(b.top),
      width: Math.round(w),
      height: Math.round(h),
    };
    const className = names[b.classIndex] ?? `class ${b.classIndex}`;
    return {
      classIndex: b.classIndex,
      className,
      score: b.score,
      objectness: b.confidence,
      box,
      relative,
      darknetBox,
      boxId,
    };
  });
}

/** detect_image's order: yolo_eval's output reversed (classes descending, each class's boxes worst first). */
export function kerasYolo3Order(detections: readonly Detection[]): Detection[] {
  return [...detections].sort((a, b) => b.classIndex - a.classIndex || a.score - b.score || b.boxId - a.boxId);
}

/** Python's '{:.2f}' of a score: toFixed, except that exact halves (only m/8 values are) go to even, not up. */
function pythonFixed2(v: number): string {
  const hundredths = v * 100;
  if (hundredths % 1 === 0.5 && Number.isInteger(v * 8)) {
    const n = Math.floor(hundredths);
    return ((n % 2 === 0 ? n : n + 1) / 100).toFixed(2);
  }
  return v.toFixed(2);
}

/** keras-yolo3's lines: "Found N boxes for img" (its literal 'img'), then "dog 0.61 (114, 190) (406, 507)" per box. */
export function kerasYolo3Lines(detections: readonly Detection[]): string[] {
  return [
    `Found ${detections.length} boxes for img`,
    ...kerasYolo3Order(detections).map(
      (d) => `${d.className} ${pythonFixed2(d.score)} (${d.box.x1}, ${d.box.y1}) (${d.box.x2}, ${d.box.y2})`,
    ),
  ];
}
