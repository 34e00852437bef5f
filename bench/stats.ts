// Timing helpers shared by the benchmarks.
import type { Tensor } from '../src/tensor.js';
export interface Stats {
  median: number;
  p10: number;
  p90: number;
  runs: number;
}

export function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.round(p * (s.length - 1))))];
  return { median: q(0.5), p10: q(0.1), p90: q(0.9), runs: s.length };
}

/** Runs `fn` at least `minRuns` times and until `minMs` has passed (at most `maxRuns`). */
export async function sample(fn: () => Promise<number>, minRuns = 5, minMs = 2000, maxRuns = 50): Promise<number[]> {
  const out: number[] = [];
  const start = performance.now();
  while (out.length < maxRuns && (out.length < minRuns || performance.now() - start < minMs)) out.push(await fn());
  return out;
}

/** Wall time of one op call including reading its result back, in ms; the result is freed. */
export async function wallMs(run: () => Promise<Tensor>): Promise<number> {
  const t0 = performance.now();
  const y = await run();
  await y.read();
  const ms = performance.now() - t0;
  y.dispose();
  return ms;
}
