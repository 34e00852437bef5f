// `webgpu-cnn tune`: measure the tile variants for the shape classes of some models on this adapter
// and cache the fastest (later GpuContexts on the same adapter use them).
import { readFileSync } from 'node:fs';
import { assetPath } from '../assets.js';
import { buildDarknet } from '../io/darknet/network.js';
import { GpuContext } from '../gpu/context.js';
import { loadTuning, saveTuning } from '../gpu/tuning-cache.js';
import type { Graph } from '../graph/ir.js';
import { loadKerasGraph } from '../io/keras.js';
import { parseCommand, type CommandSpec } from './args.js';
import { checkInputFile, parseInputSize } from './darknet-commands.js';
import { startProgress, type CliIo } from './io.js';
import { fmt, formatTable } from './table.js';
import { describe, tune, tuneCasesForGraph, type TuningCase } from '../tune/tuner.js';

export const TUNE = {
  name: 'tune',
  args: '',
  summary: 'Time the kernel variants for each shape class of these models on this adapter and cache the fastest.',
  details:
    'Later runs on the same adapter use them ($WEBGPU_CNN_TUNING or ~/.cache/webgpu-cnn/tuning.json).\n' +
    'Without --model or --cfg: the bundled yolov3, yolov3-tiny and Yolo-Fastest cfgs.',
  options: {
    model: { kind: 'string', multiple: true, placeholder: 'FILE', help: 'a Keras model (repeatable)' },
    cfg: {
      kind: 'string',
      multiple: true,
      placeholder: 'FILE.cfg',
      help: 'a Darknet cfg (repeatable; no weights needed)',
    },
    size: { kind: 'string', default: '416', placeholder: 'W[xH]', help: 'input size for the YOLO cfgs' },
    batch: { kind: 'number', integer: true, min: 1, max: 256, default: 1, help: 'batch size to tune for' },
    all: { kind: 'flag', help: 'measure again classes that are tuned already' },
    quiet: { kind: 'flag', short: 'q', help: 'print the table only' },
  },
  positionals: { min: 0, max: 0 },
} as const satisfies CommandSpec;

export async function tuneCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parseCommand(TUNE, argv);
  io.quiet = values.quiet;
  const size = parseInputSize(values.size)!;
  [...values.model, ...values.cfg].forEach(checkInputFile);
  const graphs: Graph[] = [];
  for (const m of values.model) graphs.push((await loadKerasGraph(m)).graph);
  const cfgs = values.cfg.length
    ? values.cfg
    : [
        await assetPath('darknet/yolov3.cfg'),
        await assetPath('darknet/yolov3-tiny.cfg'),
        await assetPath('darknet/yolo-fastest-1.1.cfg'),
      ];
  if (!values.model.length || values.cfg.length) {
    // Shapes are all the tuner needs: cfgs are built without weights.
    for (const c of cfgs)
      graphs.push(buildDarknet(readFileSync(c, 'utf8'), c, undefined, c.includes('fastest') ? undefined : size).graph);
  }
  const ctx = await GpuContext.create({ tuning: false });
  try {
    io.out(`adapter: ${ctx.description}`);
    const known = values.all ? {} : await loadTuning(ctx.description);
    const cases = new Map<string, TuningCase>();
    for (const g of graphs)
      for (const c of tuneCasesForGraph(g, ctx.caps, values.batch))
        if (!cases.has(c.key) && !known[c.key]) cases.set(c.key, c);
    if (!cases.size) {
      io.out('every shape class of these models is tuned already (--all to measure again)');
      return 0;
    }
    const progress = startProgress(io, 'tuning', cases.size, 'shape classes');
    const results = await tune(ctx, [...cases.values()], (l) => {
      progress.tick(1, l);
      if (!io.tty && !io.quiet) io.err(`  ${l}`);
    });
    progress.done();
    const file = await saveTuning(ctx.description, Object.fromEntries(results.map((r) => [r.key, r.chosen])));
    io.out(
      `\n${formatTable(
        ['shape class', 'fastest variant', 'ms', 'default ms', 'gain'],
        results.map((r) => [r.key, describe(r.chosen), fmt(r.ms), fmt(r.defaultMs), `${fmt(r.defaultMs / r.ms, 2)}×`]),
      )}`,
    );
    io.out(`\nwrote ${file}`);
    return 0;
  } finally {
    ctx.dispose();
  }
}
