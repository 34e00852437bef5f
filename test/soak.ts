// The soak routine shared by the soak test (reduced counts, in CI) and `npm run bench -- soak` (full
// counts): create/dispose cycles of the bundled detector on the default shared context, many detections
// on one detector, a Keras-style model predicting many times, and rounds of overlapping calls. Reports
// resident memory (after a GC, when the process runs with --expose-gc) and the GPU memory the context holds.
import { Detector } from '../src/models/yolo/detector.js';
import { GpuContext } from '../src/gpu/context.js';
import { weighted, type WeightedGraph } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { decodeImage } from '../src/io/image.js';
import { randomArray } from './harness.js';

export interface SoakCounts {
  /** Detector.load → detect → dispose cycles. */
  cycles: number;
  /** detect() calls on one detector. */
  detects: number;
  /** predict() calls on one model. */
  predicts: number;
  /** Rounds of 20 overlapping detect() calls. */
  overlapRounds: number;
}

export interface SoakReport {
  counts: SoakCounts;
  /** MB of resident memory: after the warm-up cycles, after the last, and the growth in between. */
  cycleRssMb: { first: number; last: number; growth: number };
  /** GPU bytes the shared context holds after each cycle's dispose (all equal when nothing leaks). */
  cycleLiveBytes: number[];
  detectRssMb: { first: number; last: number; growth: number };
  predictRssMb: { first: number; last: number; growth: number };
  /** Overlapping calls whose answer differed from the same call made alone. */
  overlapMismatches: number;
  /** Milliseconds for 20 detect() calls made one after another, and for 20 made at once (best round of each). */
  sequentialMs: number;
  overlappedMs: number;
  seconds: number;
}

const rssMb = () => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().rss / 2 ** 20;
};

/**
 * Cycles before the baseline: resident memory climbs about 40 MB over the first three (the allocator's
 * and the driver's pools, JIT code) and then grows by well under 1 MB a cycle (30 cycles: 246 → 266 MB).
 * Measured from the first cycle, the reduced run's 12 cycles grew 45–65 MB on one machine, over the bound.
 */
const WARMUP_CYCLES = 3;

const growth = (first: number, last: number) => ({
  first: Math.round(first),
  last: Math.round(last),
  growth: Math.round(last - first),
});

function smallModelGraph(): WeightedGraph {
  return weighted({
    name: 'soak',
    inputs: ['x'],
    outputs: ['y'],
    nodes: [
      { name: 'x', op: { kind: 'input', shape: [32, 32, 3] }, inputs: [] },
      {
        name: 'c',
        op: { kind: 'conv2d', kernelShape: [3, 3, 3, 16], attrs: { padding: 'same', activation: { kind: 'relu' } } },
        inputs: ['x'],
        weights: { kernel: randomArray(432, 1, -0.3, 0.3), bias: randomArray(16, 2) },
      },
      { name: 'p', op: { kind: 'global-pool', pool: 'avg', keepDims: false }, inputs: ['c'] },
      {
        name: 'y',
        op: { kind: 'dense', units: 10 },
        inputs: ['p'],
        weights: { kernel: randomArray(160, 3), bias: randomArray(10, 4) },
      },
    ],
  });
}

export async function runSoak(counts: SoakCounts, log: (line: string) => void = () => {}): Promise<SoakReport> {
  const started = performance.now();
  const image = await decodeImage('assets/images/dog.jpg');
  const summary = (d: { detections: { className: string; score: number }[] }) =>
    JSON.stringify(d.detections.map((x) => [x.className, x.score]));

  // Create/dispose cycles on the default context: nothing passes a context, as a user's program would.
  let firstRss = 0;
  const cycleLiveBytes: number[] = [];
  const shared = await GpuContext.shared(); // held so the figure below reads the same context
  for (let i = 0; i < counts.cycles; i++) {
    const det = await Detector.load();
    await det.detect(image);
    det.dispose();
    cycleLiveBytes.push(shared.liveBytes);
    if (i === WARMUP_CYCLES - 1) firstRss = rssMb();
    if ((i + 1) % 10 === 0)
      log(`cycle ${i + 1}: ${rssMb().toFixed(0)} MB resident, ${shared.liveBytes} GPU bytes held`);
  }
  const cycleRssMb = growth(firstRss, rssMb());

  const det = await Detector.load();
  let detectRssMb = growth(0, 0),
    predictRssMb = growth(0, 0),
    overlapMismatches = 0,
    sequentialMs = Infinity,
    overlappedMs = Infinity;
  try {
    const alone = summary(await det.detect(image));
    let first = 0;
    for (let i = 0; i < counts.detects; i++) {
      if (summary(await det.detect(image)) !== alone) overlapMismatches++;
      if (i === 0) first = rssMb();
    }
    detectRssMb = growth(first, rssMb());
    for (let round = 0; round < counts.overlapRounds; round++) {
      let t = performance.now();
      for (let i = 0; i < 20; i++) await det.detect(image);
      sequentialMs = Math.min(sequentialMs, performance.now() - t);
      t = performance.now();
      const results = await Promise.all(Array.from({ length: 20 }, () => det.detect(image)));
      overlappedMs = Math.min(overlappedMs, performance.now() - t);
      overlapMismatches += results.filter((r) => summary(r) !== alone).length;
    }
  } finally {
    det.dispose();
  }

  const model = await Model.create(shared, smallModelGraph());
  try {
    const x = randomArray(32 * 32 * 3, 5, 0, 1);
    let first = 0;
    for (let i = 0; i < counts.predicts; i++) {
      await model.predict(x);
      if (i === 0) first = rssMb();
    }
    predictRssMb = growth(first, rssMb());
  } finally {
    model.dispose();
  }
  shared.release();
  return {
    counts,
    cycleRssMb,
    cycleLiveBytes,
    detectRssMb,
    predictRssMb,
    overlapMismatches,
    sequentialMs,
    overlappedMs,
    seconds: (performance.now() - started) / 1000,
  };
}
