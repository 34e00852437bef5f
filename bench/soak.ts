// `npm run bench -- soak`: the soak routine of the tests (test/soak.ts) at full counts: 50 create/dispose
// cycles, 500 detections, 1000 predictions, 10 rounds of 20 overlapping calls. Run node with --expose-gc
// (the bench script does) so resident memory is read after a collection.
import { fmt, formatTable } from '../src/tools/table.js';
import { runSoak, type SoakReport } from '../test/soak.js';

export async function benchSoak(): Promise<SoakReport> {
  const r = await runSoak({ cycles: 50, detects: 500, predicts: 1000, overlapRounds: 10 }, (l) =>
    console.log(`  ${l}`),
  );
  console.log(
    formatTable(
      ['phase', 'count', 'RSS first MB', 'RSS last MB', 'growth MB'],
      [
        [
          'Detector.load + detect + dispose',
          r.counts.cycles,
          r.cycleRssMb.first,
          r.cycleRssMb.last,
          r.cycleRssMb.growth,
        ],
        ['detect on one detector', r.counts.detects, r.detectRssMb.first, r.detectRssMb.last, r.detectRssMb.growth],
        ['predict on one model', r.counts.predicts, r.predictRssMb.first, r.predictRssMb.last, r.predictRssMb.growth],
      ],
    ),
  );
  console.log(`GPU bytes held after each dispose: ${[...new Set(r.cycleLiveBytes)].join(', ')}`);
  console.log(
    `overlapping calls (${r.counts.overlapRounds} × 20) with a wrong answer: ${r.overlapMismatches}; ` +
      `${fmt(r.seconds, 1)} s`,
  );
  console.log(
    `20 detections: ${fmt(r.sequentialMs, 0)} ms one after another, ` +
      `${fmt(r.overlappedMs, 0)} ms overlapping (best of ${r.counts.overlapRounds})`,
  );
  return r;
}
