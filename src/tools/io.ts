// Where a command's text goes, and progress for its long steps: a bar with counts and ETA on a terminal
// (cli-progress), a few plain lines otherwise, nothing with --quiet. Commands take a CliIo so the same code
// runs as the `webgpu-cnn` process and in-process (the fuzz test captures its output).
import { SingleBar } from 'cli-progress';

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
      barsize: 24, hideCursor: true, clearOnComplete: false, stream: process.stderr, etaBuffer: 20,
      // Under the wrapper stderr is a pipe to the terminal: draw anyway.
      noTTYOutput: true, notTTYSchedule: 200,
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
  let done = 0, reported = 0;
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
