// The `webgpu-cnn` command line: a table of commands (each declares its options once, for parsing and
// --help), and one place that turns errors into a single line on stderr and an exit code:
//   0 success · 1 validate found errors over the tolerance · 2 bad usage or bad input (an option, a file)
//   3 GPU or device failure · 4 internal error (a bug: please report it).
import { GpuError, ModelFileError, UsageError, WebgpuCnnError } from '../errors.js';
import { GpuContext } from '../gpu/context.js';
import { formatHelp, parseCommand, type CommandSpec } from './args.js';
import { DETECT, DETECT_VIDEO, detect, detectVideo } from './darknet-commands.js';
import { processIo, type CliIo } from './io.js';
import { CLASSIFY, classify, INSPECT, inspect, PREDICT, predict, VALIDATE, validate } from './keras-commands.js';
import { runKernelsOnce } from './kernels.js';
import { TUNE, tuneCommand } from './tune-command.js';
import { CODES, codesCommand, TRAIN_HEAD, trainHeadCommand } from './train-commands.js';

const EXIT = { ok: 0, overTolerance: 1, usage: 2, gpu: 3, internal: 4 } as const;

const INFO = {
  name: 'info',
  args: '',
  summary: 'Print the adapter, its limits and features.',
  options: {},
  positionals: { min: 0, max: 0 },
} as const satisfies CommandSpec;
const KERNELS = {
  name: 'kernels',
  args: '',
  summary: 'Print the adapter and run every kernel once, with a table of times.',
  options: {},
  positionals: { min: 0, max: 0 },
} as const satisfies CommandSpec;

async function info(argv: string[], io: CliIo): Promise<number> {
  parseCommand(INFO, argv);
  const ctx = await GpuContext.create();
  try {
    io.out(`adapter: ${ctx.description}`);
    io.out(`features: ${[...ctx.device.features].sort().join(', ')}`);
    const l = ctx.device.limits;
    for (const k of [
      'maxStorageBufferBindingSize',
      'maxBufferSize',
      'maxComputeInvocationsPerWorkgroup',
      'maxStorageBuffersPerShaderStage',
      'maxComputeWorkgroupStorageSize',
    ] as const) {
      io.out(`${k}: ${l[k]}`);
    }
    return 0;
  } finally {
    ctx.dispose();
  }
}

async function kernels(argv: string[], io: CliIo): Promise<number> {
  parseCommand(KERNELS, argv);
  await runKernelsOnce(io.out);
  return 0;
}

const COMMANDS: { spec: CommandSpec; run: (argv: string[], io: CliIo) => Promise<number> }[] = [
  { spec: DETECT, run: detect },
  { spec: DETECT_VIDEO, run: detectVideo },
  { spec: CLASSIFY, run: classify },
  { spec: PREDICT, run: predict },
  { spec: INSPECT, run: inspect },
  { spec: VALIDATE, run: validate },
  { spec: CODES, run: codesCommand },
  { spec: TRAIN_HEAD, run: trainHeadCommand },
  { spec: TUNE, run: tuneCommand },
  { spec: KERNELS, run: kernels },
  { spec: INFO, run: info },
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.spec.name.length));
  return [
    'webgpu-cnn — WebGPU CNN inference: Keras and Darknet models',
    '',
    'Usage: webgpu-cnn <command> [options] [arguments]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.spec.name.padEnd(width)}  ${c.spec.summary}`),
    '',
    "Run 'webgpu-cnn <command> --help' for a command's options and their defaults.",
    'Exit codes: 0 success, 1 validate over tolerance, 2 bad usage or input, 3 GPU/device failure, 4 internal error.',
  ].join('\n');
}

/** WebGPU's own exceptions (device lost, mapping aborted) carry DOM names rather than our classes. */
const isWebGpuException = (e: unknown) =>
  e instanceof Error &&
  ['OperationError', 'AbortError', 'GPUPipelineError', 'GPUValidationError', 'GPUOutOfMemoryError'].includes(e.name);

/** The exit code for an error, and its one line (further lines, such as a compiler's, indented below). */
function describeFailure(e: unknown): { code: number; text: string } {
  const message = e instanceof Error ? e.message || e.name : String(e);
  const [first, ...rest] = message.split('\n');
  const text = `webgpu-cnn: ${first}${rest.length ? `\n${rest.map((l) => `  ${l}`).join('\n')}` : ''}`;
  if (e instanceof UsageError || e instanceof ModelFileError) return { code: EXIT.usage, text };
  if (e instanceof GpuError) return { code: EXIT.gpu, text };
  if (isWebGpuException(e))
    return { code: EXIT.gpu, text: `webgpu-cnn: WebGPU ${(e as Error).name}: ${first || 'the device failed'}` };
  if (e instanceof WebgpuCnnError) return { code: EXIT.usage, text };
  return { code: EXIT.internal, text: `webgpu-cnn: internal error: ${first} (please report it)` };
}

/** Runs one command line; never throws: failures are printed to `io.err` and returned as exit codes. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      const topic = COMMANDS.find((c) => c.spec.name === rest[0]);
      io.out(topic ? formatHelp(topic.spec) : overview());
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.spec.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'; run 'webgpu-cnn --help' for the list`);
    if (rest.includes('--help') || rest.includes('-h')) {
      io.out(formatHelp(command.spec));
      return EXIT.ok;
    }
    return await command.run(rest, io);
  } catch (e) {
    const failure = describeFailure(e);
    io.err(failure.text);
    if (failure.code === EXIT.internal && process.env.WEBGPU_CNN_DEBUG) io.err(String((e as Error).stack));
    return failure.code;
  }
}
