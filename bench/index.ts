// `npm run bench [-- <suite> [filter]] [--peers [--browser]] [--peer tfjs|ort|native] [--compare a.json b.json]`.
//   no suite: ops, vgg16 and yolo in turn;  --peers: the same work through TF.js's WebGPU backend,
//   ONNX Runtime Web's WebGPU provider and ONNX Runtime for Node's native CPU provider (--peer: only
//   one of them), or with --browser ours and TF.js in one Chromium page;  f16: f32 vs f16 weights;
//   coldstart: process start → first result (bench/coldstart.ts).
// Prints tables and writes JSON (and, for --peers, Markdown) to bench/results/.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { benchVgg16 } from './models.js';
import { benchF16 } from './f16.js';
import { benchOps } from './ops.js';
import { benchPeersInBrowser } from './browser-peers.js';
import { benchPeers, PEER_LABELS, peerCells, type PeerRow } from './peers.js';
import { benchVariants } from './variants.js';
import { benchColdstart } from './coldstart.js';
import { benchSoak } from './soak.js';
import { benchYolo } from './yolo.js';
import { benchTrain } from './train.js';

const SUITES = ['ops', 'variants', 'vgg16', 'yolo', 'peers', 'f16', 'soak', 'train', 'coldstart'] as const;

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
}

function peersMarkdown(adapter: string, rows: PeerRow[]): string {
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.peers)))] as (keyof typeof PEER_LABELS)[];
  const header = [
    'work',
    'webgpu-cnn ms',
    'GFLOP/s',
    ...names.flatMap((n) => [`${PEER_LABELS[n]} ms`, `${PEER_LABELS[n]} / ours`, 'max diff / max out']),
  ];
  const lines = [
    `Adapter: ${adapter}; warm medians including readback, identical weights, one process.`,
    '',
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---|').join('')}`,
    ...rows.map((r) => {
      const cells = [r.work, fmt(r.ours.median, 1), fmt(r.gflops, 1), ...names.flatMap((n) => peerCells(r.peers[n]))];
      return `| ${cells.join(' | ')} |`;
    }),
  ];
  return `${lines.join('\n')}\n`;
}

/** Medians of two result files of the same suite, row by row (rows matched by name). */
function compare(a: string, b: string): void {
  const [ra, rb] = [a, b].map((f) => JSON.parse(readFileSync(f, 'utf8')));
  if (ra.adapter !== rb.adapter)
    throw new Error(`different adapters: '${ra.adapter}' vs '${rb.adapter}'; compare runs on the same adapter`);
  const rowsOf = (r: { results: unknown }) => {
    const list = Array.isArray(r.results) ? r.results : ((r.results as { batches?: unknown[] }).batches ?? []);
    return new Map(
      (list as Record<string, unknown>[]).map((x) => [String(x.name ?? x.work ?? x.model ?? `batch ${x.batch}`), x]),
    );
  };
  const median = (x: Record<string, unknown>) =>
    ((x.gpu ?? x.wall ?? x.forward ?? x.ours ?? x.warm) as { median: number } | undefined)?.median;
  const [ma, mb] = [rowsOf(ra), rowsOf(rb)];
  const rows = [...ma.keys()]
    .filter((k) => mb.has(k))
    .map((k) => {
      const [x, y] = [median(ma.get(k)!), median(mb.get(k)!)];
      return [k, fmt(x), fmt(y), x && y ? `${fmt(x / y, 2)}×` : '–'];
    });
  console.log(`${a} (${ra.commit}) vs ${b} (${rb.commit}) on ${ra.adapter}`);
  console.log(formatTable(['row', 'A median ms', 'B median ms', 'A / B'], rows));
}

/** Writes a suite's results to bench/results/ as JSON (and, for the peers, Markdown). */
function writeResults(suite: string, { adapter, rows }: { adapter: string; rows: unknown }): void {
  mkdirSync('bench/results', { recursive: true });
  const base = `bench/results/${suite}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const env = { LP_NUM_THREADS: process.env.LP_NUM_THREADS ?? null };
  const json = { suite, adapter, commit: gitCommit(), date: new Date().toISOString(), env, results: rows };
  writeFileSync(`${base}.json`, JSON.stringify(json, null, 2));
  const peers = suite.startsWith('peers');
  if (peers) writeFileSync(`${base}.md`, peersMarkdown(adapter, rows as PeerRow[]));
  console.log(`\nwrote ${base}.json${peers ? ' and .md' : ''}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--compare') return compare(argv[1], argv[2]);
  const peers = argv.includes('--peers');
  const inBrowser = argv.includes('--browser');
  if (inBrowser && !peers) throw new Error('--browser goes with --peers');
  const onlyAt = argv.indexOf('--peer');
  const only = onlyAt >= 0 ? argv[onlyAt + 1] : undefined;
  const [first, second] = argv.filter(
    (a, i) => a !== '--peers' && a !== '--browser' && i !== onlyAt && (onlyAt < 0 || i !== onlyAt + 1),
  );
  if (inBrowser) return writeResults('peers-browser', await benchPeersInBrowser(first, only));
  const suites = peers || only ? ['peers'] : first ? [first] : ['ops', 'vgg16', 'yolo'];
  const filter = peers || only ? first : second;
  for (const s of suites)
    if (!(SUITES as readonly string[]).includes(s))
      throw new Error(`unknown benchmark suite '${s}' (available: ${SUITES.join(', ')})`);
  const ctx = await GpuContext.create();
  try {
    console.log(`adapter: ${ctx.description}`);
    console.log(`LP_NUM_THREADS=${process.env.LP_NUM_THREADS ?? '(unset)'}\n`);
    for (const suite of suites) {
      if (suite === 'variants') {
        await benchVariants(ctx, filter);
        continue;
      }
      const results =
        suite === 'vgg16'
          ? await benchVgg16(ctx)
          : suite === 'yolo'
            ? await benchYolo(ctx, filter)
            : suite === 'peers'
              ? await benchPeers(ctx, filter, only)
              : suite === 'f16'
                ? await benchF16(ctx, filter)
                : suite === 'soak'
                  ? await benchSoak()
                  : suite === 'train'
                    ? await benchTrain(ctx, filter)
                    : suite === 'coldstart'
                      ? await benchColdstart(filter)
                      : await benchOps(ctx, filter);
      writeResults(suite, { adapter: ctx.description, rows: results });
    }
  } finally {
    ctx.dispose();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
