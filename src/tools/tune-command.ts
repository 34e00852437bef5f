// `webgpu-cnn tune`: measure the tile variants for the shape classes of some models on this adapter
// and cache the fastest (later GpuContexts on the same adapter use them).
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { assetPath } from '../assets.js';
import { buildDarknet } from '../darknet/network.js';
import { GpuContext } from '../gpu/context.js';
import { loadTuning, saveTuning } from '../gpu/tuning-cache.js';
import type { Graph } from '../graph/ir.js';
import { loadKerasGraph } from '../io/keras.js';
import { fmt, formatTable } from './table.js';
import { describe, tune, tuneCasesForGraph, type TuneCase } from './tuner.js';

export async function tuneCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { model: { type: 'string', multiple: true }, cfg: { type: 'string', multiple: true }, size: { type: 'string', default: '416' }, batch: { type: 'string', default: '1' }, all: { type: 'boolean', default: false } },
  });
  const graphs: Graph[] = [];
  for (const m of values.model ?? []) graphs.push((await loadKerasGraph(m)).graph);
  const size = Number(values.size);
  const cfgs = values.cfg?.length ? values.cfg : [await assetPath('darknet/yolov3.cfg'), await assetPath('darknet/yolov3-tiny.cfg'), await assetPath('darknet/yolo-fastest-1.1.cfg')];
  if (!values.model?.length || values.cfg?.length) {
    // Shapes are all the tuner needs: cfgs are built without weights.
    for (const c of cfgs) graphs.push(buildDarknet(readFileSync(c, 'utf8'), c, undefined, c.includes('fastest') ? undefined : [size, size]).graph);
  }
  const ctx = await GpuContext.create({ tuning: false });
  try {
    console.log(`adapter: ${ctx.description}`);
    const known = values.all ? {} : await loadTuning(ctx.description);
    const cases = new Map<string, TuneCase>();
    for (const g of graphs) for (const c of tuneCasesForGraph(g, ctx.caps, Number(values.batch))) if (!cases.has(c.key) && !known[c.key]) cases.set(c.key, c);
    if (!cases.size) {
      console.log('every shape class of these models is tuned already (--all to measure again)');
      return 0;
    }
    const results = await tune(ctx, [...cases.values()], (l) => console.log(`  ${l}`));
    const file = await saveTuning(ctx.description, Object.fromEntries(results.map((r) => [r.key, r.chosen])));
    console.log('\n' + formatTable(['shape class', 'fastest variant', 'ms', 'default ms', 'gain'],
      results.map((r) => [r.key, describe(r.chosen), fmt(r.ms), fmt(r.defaultMs), `${fmt(r.defaultMs / r.ms, 2)}×`])));
    console.log(`\nwrote ${file}`);
    return 0;
  } finally {
    ctx.dispose();
  }
}
