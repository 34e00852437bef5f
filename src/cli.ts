#!/usr/bin/env node
// The `webgpu-cnn` command line (src/tools/main.ts has the commands and exit codes).
//
// Dawn prints two notices from native code straight to file descriptor 2 whenever it enumerates adapters
// ("maxDynamic…BuffersPerPipelineLayout artificially reduced …"): harmless, and nothing in JavaScript can
// intercept a native write to fd 2. So the command runs in a child process whose stderr passes through
// here with exactly those lines dropped; stdin and stdout are the terminal's own, signals are forwarded,
// and the child's exit status is ours. This file imports nothing else, so the wrapper itself starts in
// milliseconds; `node dist/cli-main.js` runs a command without it.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DAWN_NOTICE = new RegExp(
  '^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced ' +
    String.raw`from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$`,
);

/** Forwards `chunk`s to stderr at once, holding back only a partial line that could still become a notice. */
function noticeFilter(): (chunk: Buffer | null) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk === null ? '\n' : chunk.toString('utf8');
    let out = '';
    for (;;) {
      const nl = pending.indexOf('\n');
      if (nl < 0) break;
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (!DAWN_NOTICE.test(line)) out += `${line}\n`;
    }
    // Progress bars redraw with \r and no newline: pass them on unless they look like a notice's start.
    if (pending && !'Warning: maxDynamic'.startsWith(pending.slice(0, 19))) {
      out += pending;
      pending = '';
    }
    if (chunk === null && out.endsWith('\n') && !out.endsWith('\n\n')) out = out.slice(0, -1);
    if (out) process.stderr.write(out);
  };
}

function runInChild(): void {
  const main = fileURLToPath(new URL('./cli-main.js', import.meta.url));
  const child = spawn(process.execPath, [...process.execArgv, main, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'pipe'],
    env: {
      ...process.env,
      ...(process.stderr.isTTY ? { WEBGPU_CNN_STDERR_TTY: String(process.stderr.columns || 80) } : {}),
    },
  });
  const filter = noticeFilter();
  child.stderr!.on('data', filter);
  child.stderr!.on('end', () => filter(null));
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (e) => {
    process.stderr.write(`webgpu-cnn: cannot start: ${e.message}\n`);
    process.exit(4);
  });
  child.on('close', (code, signal) => {
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 4);
  });
}

runInChild();
