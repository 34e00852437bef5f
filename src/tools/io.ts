// Where a command's text goes, and progress for its long steps: a bar with counts and ETA on a terminal
// (cli-progress), a few plain lines otherwise, nothing with --quiet. Commands take a CliIo so the same code
// runs as the `webgpu-cnn` process and in-process (the fuzz test captures its output).
import { SingleBar } from 'cli-progress';
import type { LoadProgress, OnLoadProgress } from '../progress.js';

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
  /** A terminal that redraws a progress bar in place (stderr). */
  readonly tty: boolean;
  /** --quiet: results only, no progress or notices. */
  quiet: boolean;
}

/** The process's streams. Under the `webgpu-cnn` wrapper (src/cli.ts) stderr is a pipe to a terminal, which it says. */
export const processIo = (): CliIo => ({
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  tty: !!process.stderr.isTTY || !!process.env.WEBGPU_CNN_STDERR_TTY,
  quiet: false,
});

export interface Progress {
  /** `count` more items done; `status` replaces the text after the counts. */
  tick(count?: number, status?: string): void;
  /** Stops the bar (or prints the last plain line). */
  done(): void;
}

const SILENT: Progress = { tick() {}, done() {} };

/** Progress of `total` items (unknown when undefined): a bar on a terminal, a line per 10% otherwise. */
export function startProgress(io: CliIo, label: string, total?: number, unit = 'items'): Progress {
  if (io.quiet) return SILENT;
  if (io.tty) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {value}/{total} ${unit} · {eta_formatted} left · {status}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
      etaBuffer: 20,
      // Under the wrapper stderr is a pipe to the terminal: draw anyway.
      noTTYOutput: true,
      notTTYSchedule: 200,
    });
    bar.start(total ?? 0, 0, { status: '' });
    return {
      tick: (count = 1, status = '') => {
        if (total === undefined) bar.setTotal(bar.getTotal() + count);
        bar.increment(count, { status });
      },
      done: () => bar.stop(),
    };
  }
  let done = 0,
    reported = 0;
  const started = performance.now();
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const eta = total && done ? ` · ${((seconds / done) * (total - done)).toFixed(0)} s left` : '';
    io.err(`${label}: ${done}${total ? `/${total}` : ''} ${unit} in ${seconds.toFixed(1)} s${eta}`);
  };
  return {
    tick: (count = 1) => {
      done += count;
      const step = total ? Math.max(1, Math.ceil(total / 10)) : 50;
      if (done - reported >= step) {
        reported = done;
        line();
      }
    },
    done: () => {
      if (done !== reported) line();
    },
  };
}

const STAGES: Record<
  LoadProgress['stage'],
  { label: string; unit: string; scale: number; announce: (total: number) => string }
> = {
  read: { label: 'reading weights', unit: 'layers', scale: 1, announce: (n) => `reading the weights of ${n} layers…` },
  upload: { label: 'uploading weights', unit: 'MB', scale: 1e6, announce: (n) => `uploading ${n} MB of weights…` },
  compile: {
    label: 'compiling kernels',
    unit: 'kernels',
    scale: 1,
    announce: (n) => `compiling ${n} kernels for this adapter (first run only)…`,
  },
};

/** A stage that has run this long is announced (plain output); a shorter one stays silent. */
const ANNOUNCE_AFTER_MS = 1000;

/**
 * A loader's progress (read, upload, compile): a bar per stage on a terminal; otherwise, for a stage
 * still running after a second, one line saying what it is doing and one when it is done (small
 * models, and kernels already in the driver's cache, stay silent).
 */
export function loadProgress(io: CliIo): OnLoadProgress {
  let stage: LoadProgress['stage'] | undefined;
  let bar: Progress | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let shown = 0,
    started = 0,
    announced = false;
  const end = () => {
    bar?.done();
    clearTimeout(timer);
    if (announced && stage)
      io.err(`${STAGES[stage].label}: done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    bar = timer = stage = undefined;
    announced = false;
  };
  return (p) => {
    if (io.quiet) return;
    const { label, unit, scale, announce } = STAGES[p.stage];
    const value = Math.round(p.done / scale),
      total = Math.round(p.total / scale);
    if (p.stage !== stage) {
      end();
      stage = p.stage;
      shown = 0;
      started = performance.now();
      if (io.tty) bar = startProgress(io, label, total, unit);
      else {
        timer = setTimeout(() => {
          announced = true;
          io.err(announce(total));
        }, ANNOUNCE_AFTER_MS);
        timer.unref?.();
      }
    }
    bar?.tick(value - shown);
    shown = value;
    if (p.done >= p.total) end();
  };
}
