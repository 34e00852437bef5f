// Per-class non-maximum suppression as AlexeyAB's detector runs it (do_nms_sort and diounms_sort): boxes
// sorted by the class's probability, each suppressing the later ones that overlap it too much, by IoU or,
// for greedynms and diounms, by DIoU.
import type { NmsRule } from '../../io/darknet/network.js';
import type { Candidate, RelBox } from './yolo.js';

function overlap(x1: number, w1: number, x2: number, w2: number): number {
  const left = Math.max(x1 - w1 / 2, x2 - w2 / 2);
  const right = Math.min(x1 + w1 / 2, x2 + w2 / 2);
  return right - left;
}

/** box_iou: 0 where the boxes do not meet. */
export function boxIou(a: RelBox, b: RelBox): number {
  const w = overlap(a.x, a.w, b.x, b.w),
    h = overlap(a.y, a.h, b.y, b.h);
  const inter = w < 0 || h < 0 ? 0 : w * h;
  const union = a.w * a.h + b.w * b.h - inter;
  return inter === 0 || union === 0 ? 0 : inter / union;
}

/**
 * box_diou_nms: IoU − (d²/c²)^β, d the distance between the centres, c the diagonal of the smallest box
 * enclosing both (IoU alone when c = 0). greedynms uses β = 0.6 whatever beta_nms says.
 */
export function boxDiou(a: RelBox, b: RelBox, beta: number): number {
  const left = Math.min(a.x - a.w / 2, b.x - b.w / 2),
    right = Math.max(a.x + a.w / 2, b.x + b.w / 2);
  const top = Math.min(a.y - a.h / 2, b.y - b.h / 2),
    bottom = Math.max(a.y + a.h / 2, b.y + b.h / 2);
  const c = (right - left) ** 2 + (bottom - top) ** 2;
  const iou = boxIou(a, b);
  if (c === 0) return iou;
  const d = (a.x - b.x) ** 2 + (a.y - b.y) ** 2;
  return iou - (d / c) ** beta;
}

const DEFAULT_RULE: NmsRule = { kind: 'default', beta: 0.6 };

/**
 * Suppresses in place (a class's probability set to 0) and returns the candidates with non-zero objectness.
 * `thresh` is Darknet's nms (0.45 in detector test): a later box goes when its overlap measure exceeds it.
 */
export function nms(cands: Candidate[], classes: number, thresh: number, rule: NmsRule = DEFAULT_RULE): Candidate[] {
  const overlapOf =
    rule.kind === 'greedynms'
      ? (a: RelBox, b: RelBox) => boxDiou(a, b, 0.6)
      : rule.kind === 'diounms'
        ? (a: RelBox, b: RelBox) => boxDiou(a, b, rule.beta)
        : boxIou;
  const kept = cands.filter((c) => c.objectness !== 0);
  for (let k = 0; k < classes; k++) {
    // Candidates at 0 for this class neither suppress nor matter when suppressed: leave them out.
    const order = kept.filter((c) => c.probs[k] > 0).sort((a, b) => b.probs[k] - a.probs[k]);
    for (let i = 0; i < order.length; i++) {
      if (order[i].probs[k] === 0) continue;
      for (let j = i + 1; j < order.length; j++) {
        if (overlapOf(order[i].box, order[j].box) > thresh) order[j].probs[k] = 0;
      }
    }
  }
  return kept;
}
