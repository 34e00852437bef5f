// What `darknet detector test` prints (draw_detections_v3): one line per box over the threshold, sorted by
// the box's left edge, its best class first and then its other classes over the threshold, as
// "name: NN%" with printf's %.0f of the float prob·100.
import type { Detection } from './yolo.js';

/** printf("%.0f", v): round to nearest, ties (exact halves) to even. */
export function printfRound(v: number): number {
  const r = Math.round(v);
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** The percentage Darknet prints for a probability: %.0f of prob·100 computed in float. */
export const darknetPercent = (score: number) => printfRound(Math.fround(Math.fround(score) * 100));

/**
 * Detections in Darknet's print order: boxes by left edge (x − w/2), within a box its best class (the
 * highest probability, the lower class index on ties) then the rest by class index.
 */
export function darknetOrder(detections: readonly Detection[]): Detection[] {
  const boxes = new Map<number, Detection[]>();
  for (const d of detections) boxes.set(d.boxId, [...(boxes.get(d.boxId) ?? []), d]);
  const left = (d: Detection) => Math.fround(d.relative.x - Math.fround(d.relative.w / 2));
  return [...boxes.values()]
    .sort((a, b) => left(a[0]) - left(b[0]))
    .flatMap((ds) => {
      const byClass = [...ds].sort((a, b) => a.classIndex - b.classIndex);
      const best = byClass.reduce((m, d) => (d.score > m.score ? d : m), byClass[0]);
      return [best, ...byClass.filter((d) => d !== best)];
    });
}

/** Darknet's "name: NN%" lines, in its order. */
export const darknetLines = (detections: readonly Detection[]): string[] =>
  darknetOrder(detections).map((d) => `${d.className}: ${darknetPercent(d.score)}%`);
