// The fuzz test: every damaged input from fuzz-cases.ts goes through the CLI, in-process (the same
// runCli the `webgpu-cnn` binary runs) and, for a sample, as a real process. Each must end in exit code 2
// (bad usage or input) or 3 (device), with exactly one line `webgpu-cnn: …` naming the file, option, layer
// or line at fault, no stack trace, nothing new left behind, and within a time limit. Cases whose damage
// may leave the input valid (a flipped pixel byte) may also succeed. Prints the counts by outcome.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../src/tools/main.js';
import type { CliIo } from '../src/tools/io.js';
import { fuzzCases, type FuzzCase } from './fuzz-cases.js';

const test = suite('fuzz');
const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const CASE_TIMEOUT_MS = 60_000;

/** Every file under `root` (relative paths), to see what a case left behind. */
function listFiles(root: string): Set<string> {
  const out = new Set<string>();
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path, `${rel}${name}/`);
      else out.add(`${rel}${name}`);
    }
  };
  walk(root, '');
  return out;
}

interface Outcome {
  code: number | 'timeout';
  err: string[];
  out: string[];
}

async function runInProcess(argv: string[]): Promise<Outcome> {
  const err: string[] = [],
    out: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(...l.split('\n')), tty: false, quiet: false };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), CASE_TIMEOUT_MS)));
  const code = await Promise.race([runCli(argv, io), timeout]);
  clearTimeout(timer);
  return { code, err, out };
}

/** Progress notices of a slow load ('compiling 14 kernels … (first run only)…', '…: done in 1.2 s'): not errors. */
const NOTICE = /…$|: done in [\d.]+ s$/;

/** Why an outcome breaks the contract, or undefined when it keeps it. */
function violation(c: FuzzCase, o: Outcome, before: Set<string>): string | undefined {
  if (o.code === 'timeout') return `no answer within ${CASE_TIMEOUT_MS / 1000} s`;
  const stack = o.err.find((l) => /^\s+at\s/.test(l));
  if (stack) return `a stack trace: ${stack}`;
  const after = listFiles(dir);
  const tmp = [...after].filter((f) => /\.tmp|tmp\./.test(f));
  if (tmp.length) return `temporary files left: ${tmp.join(', ')}`;
  if (o.code === 0) {
    if (!c.mayPass) return 'exit 0 for an input that must be refused';
    return undefined;
  }
  const created = [...after].filter((f) => !before.has(f));
  if (created.length) return `files created by a refused run: ${created.join(', ')}`;
  if (o.code !== 2 && o.code !== 3) return `exit ${o.code} (${o.err.join(' | ')})`;
  const lines = o.err.filter((l) => l.trim() && !/artificially reduced/.test(l) && !NOTICE.test(l));
  if (lines.length !== 1 && !/WGSL/.test(lines[0] ?? '')) return `${lines.length} error lines: ${lines.join(' | ')}`;
  if (!lines[0].startsWith('webgpu-cnn: ')) return `the error line does not start with 'webgpu-cnn: ': ${lines[0]}`;
  if (/internal error|undefined|\[object Object\]|TypeError|RangeError/.test(lines[0]))
    return `not a named error: ${lines[0]}`;
  if (c.names && !c.names.test(lines[0])) return `the error does not name ${c.names}: ${lines[0]}`;
  return undefined;
}

test('in-process, every damaged input is refused by name (or, if the damage may be harmless, accepted)', async () => {
  const cases = await fuzzCases(dir);
  const counts = new Map<string, number>();
  const failures: string[] = [];
  const started = performance.now();
  for (const c of cases) {
    const before = listFiles(dir);
    const o = await runInProcess(c.argv);
    const problem = violation(c, o, before);
    const outcome = problem ? 'VIOLATION' : o.code === 0 ? 'accepted' : `refused (exit ${o.code})`;
    counts.set(`${c.group}: ${outcome}`, (counts.get(`${c.group}: ${outcome}`) ?? 0) + 1);
    if (problem) failures.push(`[${c.group}] ${c.name} (webgpu-cnn ${c.argv.join(' ')}): ${problem}`);
    // Outputs of accepted runs go away, so the next case starts from the same files.
    for (const f of listFiles(dir)) if (!before.has(f)) rmSync(join(dir, f), { force: true });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\n  ${cases.length} fuzz cases in ${seconds} s:`);
  for (const [k, n] of [...counts].sort()) console.log(`    ${k}: ${n}`);
  assert.ok(cases.length > 200, `only ${cases.length} cases`);
  assert.is(failures.length, 0, `\n${failures.join('\n')}`);
});

test('as a real process: exit codes, one line on stderr, no stack trace', async () => {
  const cases = (await fuzzCases(dir)).filter((_, i) => i % 25 === 0);
  for (const c of cases) {
    const r = spawnSync(process.execPath, ['dist/cli.js', ...c.argv], { encoding: 'utf8', timeout: CASE_TIMEOUT_MS });
    const err = r.stderr.split('\n').filter((l) => l.trim() && !/artificially reduced/.test(l) && !NOTICE.test(l));
    const label = `${c.name}: exit ${r.status}, stderr ${JSON.stringify(err)}`;
    assert.ok(r.status === 2 || r.status === 3 || (c.mayPass && r.status === 0), label);
    if (r.status !== 0) {
      assert.is(err.length, 1, label);
      assert.match(err[0], /^webgpu-cnn: /, label);
    }
    assert.not.match(r.stderr, /^\s+at\s/m, label);
  }
});

test.run();
