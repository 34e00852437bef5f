// The soak routine (test/soak.ts) at reduced counts: resident memory stays flat over create/dispose cycles,
// many detections and predictions; GPU memory held by the shared context returns to the same figure after
// every dispose; overlapping calls keep their answers. `npm run bench -- soak` runs the full counts.
// @node-only: it reads the process's resident memory.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runSoak } from './soak.js';

const test = suite('soak');

test('create/dispose cycles, repeated calls and overlapping calls leave memory flat and answers exact', async () => {
  const r = await runSoak({ cycles: 12, detects: 40, predicts: 100, overlapRounds: 2 });
  console.log(`  ${JSON.stringify({ ...r, cycleLiveBytes: [...new Set(r.cycleLiveBytes)] })}`);
  // The first cycles warm up (allocator arenas, compiled pipelines); the bound is the 50 MB over 50 cycles.
  assert.ok(r.cycleRssMb.growth <= 50, `cycles grew resident memory by ${r.cycleRssMb.growth} MB`);
  assert.is(new Set(r.cycleLiveBytes).size, 1, `GPU bytes after each dispose: ${r.cycleLiveBytes.join(', ')}`);
  assert.ok(r.detectRssMb.growth <= 30, `detections grew resident memory by ${r.detectRssMb.growth} MB`);
  assert.ok(r.predictRssMb.growth <= 30, `predictions grew resident memory by ${r.predictRssMb.growth} MB`);
  assert.is(r.overlapMismatches, 0);
});

test.run();
