// `npm run bench -- <suite> [filter]`. Prints tables and writes JSON to bench/results/.
import { execSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { GpuContext } from '../src/gpu/context.js';
import { benchVgg16 } from './models.js';
import { benchOps } from './ops.js';
import { benchYolo } from './yolo.js';
import { benchVariants } from './variants.js';

function gitCommit(): string {
  try {
    return execSync('git rev-parse --short HEAD', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    return 'unknown';
  }
}

async function main(argv: string[]): Promise<void> {
  const [suite = 'ops', filter] = argv;
  if (!['ops', 'variants', 'vgg16', 'yolo'].includes(suite)) throw new Error(`unknown benchmark suite '${suite}' (available: ops, variants, vgg16, yolo)`);
  const ctx = await GpuContext.create();
  try {
    console.log(`adapter: ${ctx.description}`);
    console.log(`LP_NUM_THREADS=${process.env.LP_NUM_THREADS ?? '(unset)'}\n`);
    if (suite === 'variants') return await benchVariants(ctx, filter);
    const results = suite === 'vgg16' ? await benchVgg16(ctx) : suite === 'yolo' ? await benchYolo(ctx, filter) : await benchOps(ctx, filter);
    mkdirSync('bench/results', { recursive: true });
    const file = `bench/results/${suite}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(file, JSON.stringify({ suite, adapter: ctx.description, commit: gitCommit(), date: new Date().toISOString(), env: { LP_NUM_THREADS: process.env.LP_NUM_THREADS ?? null }, results }, null, 2));
    console.log(`\nwrote ${file}`);
  } finally {
    ctx.dispose();
  }
}

main(process.argv.slice(2)).catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
