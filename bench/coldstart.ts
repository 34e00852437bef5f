// `npm run bench -- coldstart [filter]`: process start → first result in a fresh child process, cold
// (an empty Mesa shader cache: MESA_SHADER_CACHE_DIR is a new directory per run) and warm (the same
// directory, primed by one unmeasured run), for webgpu-cnn (also with f16 weights), TF.js's WebGPU
// backend and ONNX Runtime Web's WebGPU provider, on Yolo-Fastest 320, yolov3-tiny 416 and VGG16 224
// (the graphs and weights of `npm run bench -- --peers`). Then, for webgpu-cnn, every pipeline of each
// plan compiled and first-dispatched one at a time in a cold child: what each costs, and (under `perf`,
// where it runs) how much of that is Dawn/Tint, Mesa and LLVM.
//
// The filter is a comma-separated list of words, each narrowing one thing (default: everything):
//   models fastest | tiny | vgg16;  frameworks ours | f16 | tfjs | ort;  parts starts | pipelines | tiles;
//   runs=N (default 3).  Not in the default: `tiles` compiles the subgroup GEMM/conv tile variants alone;
//   `speed` times warm runs as wall and CPU time (for judging what a compile-time remedy costs at run time).
// Why children: lavapipe JIT-compiles a pipeline at its first dispatch, and Mesa keeps what it compiled
// in its on-disk cache (~/.cache/mesa_shader_cache_db by default), so only a new process with a new cache
// directory sees what a new user sees. Writes bench/results/coldstart-<date>.md beside the suite's JSON.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildDarknet } from '../src/io/darknet/network.js';
import { GpuContext } from '../src/gpu/context.js';
import { packParams, paramBytes } from '../src/gpu/params.js';
import { KERNELS, type KernelName } from '../src/gpu/shaders.js';
import { shaderKeyString, type ShaderKey } from '../src/gpu/specialize.js';
import type { WeightedGraph } from '../src/graph/ir.js';
import { Model } from '../src/graph/model.js';
import { planGraph } from '../src/graph/plan.js';
import { loadKerasGraph } from '../src/io/keras.js';
import { vgg16Architecture } from '../src/models/vgg16.js';
import { scratch, type Binding, type Dispatch as KernelCall } from '../src/gpu/dispatch.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { vgg16WeightsFile } from './models.js';
import { generatedWeights } from './yolo.js';

// ---------------------------------------------------------------------------------------------------
// What is measured

/** Where a child finds its graph: plain data, so that it can travel as JSON. */
export type GraphSource =
  | { kind: 'darknet'; cfg: string; weights: string; size: number }
  | { kind: 'vgg16'; file: string };

interface ModelCase {
  id: string;
  name: string;
  input: number[];
  source: () => Promise<GraphSource>;
}

const MODELS: ModelCase[] = [
  {
    id: 'fastest',
    name: 'Yolo-Fastest 320',
    input: [320, 320, 3],
    source: async () => ({
      kind: 'darknet',
      cfg: 'assets/darknet/yolo-fastest-1.1.cfg',
      weights: 'assets/darknet/yolo-fastest-1.1.weights',
      size: 320,
    }),
  },
  {
    id: 'tiny',
    name: 'yolov3-tiny 416',
    input: [416, 416, 3],
    source: async () => ({
      kind: 'darknet',
      cfg: 'assets/darknet/yolov3-tiny.cfg',
      weights: generatedWeights('yolov3-tiny.cfg'),
      size: 416,
    }),
  },
  {
    id: 'vgg16',
    name: 'VGG16 224',
    input: [224, 224, 3],
    source: async () => ({ kind: 'vgg16', file: await vgg16WeightsFile() }),
  },
];

type Framework = 'cli' | 'ours' | 'f16' | 'tfjs' | 'ort';
const FRAMEWORK_LABELS: Record<Framework, string> = {
  cli: 'webgpu-cnn detect (CLI)',
  ours: 'webgpu-cnn',
  f16: 'webgpu-cnn --f16',
  tfjs: 'TF.js WebGPU',
  ort: 'ORT-Web WebGPU',
};
/** Each framework's phases, in order, as [label, from mark, to mark]; 'compile' is taken from the model. */
const PHASES: Record<'ours' | 'tfjs' | 'ort', [string, string, string][]> = {
  ours: [
    ['node start', 'spawn', 'start'],
    ['import', 'start', 'import'],
    ['device', 'import', 'device'],
    ['read + upload', 'device', 'model'],
    ['first run', 'model', 'first'],
  ],
  tfjs: [
    ['node start', 'spawn', 'start'],
    ['import', 'start', 'import'],
    ['device', 'import', 'device'],
    ['graph/load', 'device', 'graph'],
    ['weights', 'graph', 'model'],
    ['first run', 'model', 'first'],
  ],
  ort: [
    ['node start', 'spawn', 'start'],
    ['import', 'start', 'import'],
    ['graph/load', 'import', 'graph'],
    ['ONNX export', 'graph', 'export'],
    ['session', 'export', 'model'],
    ['first run', 'model', 'first'],
  ],
};

// ---------------------------------------------------------------------------------------------------
// The child scripts: generated into build/coldstart/ (inside the repository, so that bare imports such as
// '@tensorflow/tfjs-core' resolve to the same node_modules as the bench bundles' own imports).

const PRELUDE = `import { readdirSync, readFileSync } from 'node:fs';
const at = () => performance.timeOrigin + performance.now();
const marks = { start: at() };
const mark = (name) => { marks[name] = at(); };
const [root, sourceJson, optionsJson] = process.argv.slice(2);
const source = JSON.parse(sourceJson);
const options = JSON.parse(optionsJson);
const options_ = options;
// The peers' graphs: what bench/peers.ts gives them (the graph and weights our loaders read).
async function buildGraph() {
  const { graphOf } = await import(root + '/build/bench/coldstart.js');
  return graphOf(source);
}
// Ours through the public loaders, as a user's program would run it.
async function loadOurs(lib, ctx) {
  const options = { ctx, f16Weights: !!options_.f16 };
  if (source.kind === 'vgg16') return (await lib.loadKerasModel(source.file, options)).model;
  const size = [source.size, source.size];
  return (await lib.loadDarknetModel(source.cfg, source.weights, { ...options, size })).model;
}
const x = Float32Array.from({ length: options.input.reduce((a, b) => a * b, 1) }, (_, i) => 0.5 + 0.5 * Math.sin(i));
// CPU ms of the JS thread and of all other threads (Dawn's, Mesa's JIT, V8's), from /proc (ns precision).
function threadCpu() {
  let main = 0, other = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let ns = 0;
    const stat = '/proc/self/task/' + tid + '/schedstat';
    try { ns = Number(readFileSync(stat, 'utf8').split(' ')[0]); } catch { continue; }
    if (Number(tid) === process.pid) main += ns / 1e6; else other += ns / 1e6;
  }
  return { main, other };
}
const report = (extra) =>
  process.stdout.write('\\nCOLDSTART_RESULT ' + JSON.stringify({ marks, cpu: threadCpu(), ...extra }) + '\\n');
`;

const OURS = `${PRELUDE}
const lib = await import(root + '/dist/index.js');
mark('import');
const ctx = await lib.GpuContext.create();
mark('device');
const model = await loadOurs(lib, ctx);
mark('model');
const first = await model.run(x);
mark('first');
const firstCpu = threadCpu();
await model.run(x);
mark('second');
report({ firstCpu, compileMs: model.compileMs(1), sample: first.outputs[0][0] });
model.dispose();
ctx.dispose();
process.exit(0);
`;

/** As bench/peers.ts: TF.js finds the adapter through navigator.gpu, set before its backend is imported. */
const TFJS = `${PRELUDE}
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const gpu = create([]);
globalThis.navigator ??= {};
globalThis.navigator.gpu ??= gpu;
await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-backend-webgpu');
mark('import');
const { loadTfWebgpu, tfGraph } = await import(root + '/build/bench/tfjs-peer.js');
const tf = await loadTfWebgpu(gpu);
mark('device');
const lib = await import(root + '/dist/index.js');
const graph = lib.optimize(await buildGraph());
mark('graph');
const runner = tfGraph(tf, graph);
mark('model');
const first = await runner.run(x, 1);
mark('first');
const firstCpu = threadCpu();
await runner.run(x, 1);
mark('second');
report({ firstCpu, sample: first[0][0] });
runner.dispose();
process.exit(0);
`;

/**
 * As bench/ort-peer.ts, without its placement check (a throwaway session that would double the
 * session cost; the peers suite checks that every node runs on WebGPU).
 */
const ORT = `${PRELUDE}
const { create, globals } = await import('webgpu');
Object.assign(globalThis, globals);
const gpu = create([]);
const { loadOrtWebgpu } = await import(root + '/build/bench/ort-peer.js');
const ort = await loadOrtWebgpu(gpu);
mark('import');
const lib = await import(root + '/dist/index.js');
const graph = lib.optimize(await buildGraph());
mark('graph');
const { toOnnx } = await import(root + '/build/bench/onnx-export.js');
const onnx = toOnnx(graph);
mark('export');
const sessionOptions = { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' };
const session = await ort.InferenceSession.create(onnx, sessionOptions);
mark('model');
const feeds = { [graph.graph.inputs[0]]: new ort.Tensor('float32', x, [1, ...options.input]) };
const first = await session.run(feeds);
mark('first');
const firstCpu = threadCpu();
await session.run(feeds);
mark('second');
report({ firstCpu, sample: first[graph.graph.outputs[0]].data[0] });
await session.release();
process.exit(0);
`;

const PROBE = `${PRELUDE}
const { probePipelines, probeTiles } = await import(root + '/build/bench/coldstart.js');
report(options.tiles ? await probeTiles(options.tiles) : await probePipelines(source, options));
process.exit(0);
`;

/** Warm speed: per run, wall time and CPU time (the JS thread; lavapipe's workers, i.e. the work itself). */
const SPEED = `${PRELUDE}
const lib = await import(root + '/dist/index.js');
const ctx = await lib.GpuContext.create();
const model = await loadOurs(lib, ctx);
for (let i = 0; i < 3; i++) await model.run(x);
const runs = [];
for (let i = 0; i < options.runs; i++) {
  const c0 = threadCpu(), t0 = at();
  await model.run(x);
  const t1 = at(), c1 = threadCpu();
  runs.push({ wall: t1 - t0, js: c1.main - c0.main, other: c1.other - c0.other });
}
report({ runs });
model.dispose();
ctx.dispose();
process.exit(0);
`;

const SCRIPTS = { ours: OURS, f16: OURS, tfjs: TFJS, ort: ORT, probe: PROBE, speed: SPEED };

function writeScripts(root: string): Record<keyof typeof SCRIPTS, string> {
  const dir = join(root, 'build/coldstart');
  mkdirSync(dir, { recursive: true });
  const paths = {} as Record<keyof typeof SCRIPTS, string>;
  for (const [name, text] of Object.entries(SCRIPTS)) {
    paths[name as keyof typeof SCRIPTS] = join(dir, `${name === 'f16' ? 'ours' : name}.mjs`);
    writeFileSync(paths[name as keyof typeof SCRIPTS], `// Generated by bench/coldstart.ts.\n${text}`);
  }
  return paths;
}

// ---------------------------------------------------------------------------------------------------
// Running children

interface ChildResult {
  marks: Record<string, number>;
  [key: string]: unknown;
}

const CHILD_TIMEOUT_MS = 30 * 60 * 1000;
const PERF_HZ = 1000;

function childEnv(cacheDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, MESA_SHADER_CACHE_DIR: cacheDir };
  // As the library does for itself (src/gpu/device.ts), so that the peers run lavapipe the same way.
  env.LP_NUM_THREADS ??= '8';
  delete env.MESA_SHADER_CACHE_DISABLE; // a disabled cache would make every run cold
  return env;
}

/** Runs `node script root source options` (under `perf record` when `perfData` is given). */
function runChild(script: string, args: string[], cacheDir: string, perfData?: string): Promise<ChildResult> {
  const node = [process.execPath, script, ...args];
  const [cmd, ...argv] = perfData
    ? ['perf', 'record', '-q', '-e', 'cpu-clock', '-F', String(PERF_HZ), '-k', 'mono', '-o', perfData, '--', ...node]
    : node;
  return new Promise((done, fail) => {
    const load = loadavg()[0];
    const spawnAt = performance.timeOrigin + performance.now();
    const child = spawn(cmd, argv, { cwd: args[0], env: childEnv(cacheDir), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '',
      err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('COLDSTART_RESULT '));
      if (code !== 0 || !line) {
        const why = err
          .split('\n')
          .filter((l) => l.trim() && !/^Warning: max/.test(l))
          .slice(-3)
          .join(' | ');
        return fail(new Error(`child exited with ${code}: ${why || 'no result'}`));
      }
      const result = JSON.parse(line.slice('COLDSTART_RESULT '.length)) as ChildResult;
      result.marks.spawn = spawnAt;
      result.load = load;
      done(result);
    });
  });
}

const newCacheDir = () => mkdtempSync(join(tmpdir(), 'coldstart-mesa-'));

// ---------------------------------------------------------------------------------------------------
// Warm speed, as wall time and as CPU time (on a shared machine the CPU time is the steadier figure)

interface SpeedResult {
  model: string;
  f16: boolean;
  wallMs: number;
  jsCpuMs: number;
  workerCpuMs: number;
  runs: number;
  error?: string;
}

const SPEED_RUNS = 20;

async function measureSpeed(
  scripts: Record<string, string>,
  root: string,
  model: ModelCase,
  f16: boolean,
): Promise<SpeedResult> {
  // A lasting cache (content-addressed, so variants of the shaders can share it): only the first time is cold.
  const dir = join(root, 'bench/.cache/mesa-shader-cache');
  mkdirSync(dir, { recursive: true });
  const base = { model: model.name, f16, runs: SPEED_RUNS };
  try {
    const args = [
      root,
      JSON.stringify(await model.source()),
      JSON.stringify({ input: model.input, f16, runs: SPEED_RUNS }),
    ];
    const { runs } = (await runChild(scripts.speed, args, dir)) as unknown as {
      runs: { wall: number; js: number; other: number }[];
    };
    const med = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
    const r = { ...base, wallMs: med((x) => x.wall), jsCpuMs: med((x) => x.js), workerCpuMs: med((x) => x.other) };
    console.log(
      `  ${model.name}${f16 ? ' --f16' : ''}: warm ${fmt(r.wallMs, 1)} ms, worker CPU ${fmt(r.workerCpuMs, 0)} ms`,
    );
    return r;
  } catch (e) {
    return { ...base, wallMs: NaN, jsCpuMs: NaN, workerCpuMs: NaN, error: (e as Error).message };
  }
}

function speedTable(results: SpeedResult[]): [string[], string[][]] {
  const header = ['model', 'warm median ms', 'lavapipe worker CPU ms per run', 'JS thread CPU ms per run'];
  return [
    header,
    results.map((r) => [
      `${r.model}${r.f16 ? ' --f16' : ''}`,
      r.error ? `failed: ${r.error}` : fmt(r.wallMs, 1),
      fmt(r.workerCpuMs, 0),
      fmt(r.jsCpuMs, 0),
    ]),
  ];
}

// ---------------------------------------------------------------------------------------------------
// Starts: cold and warm, per framework and model

interface StartRun {
  totalMs: number;
  phases: Record<string, number>;
  /** The second run in the same process: what the first run costs beyond a warm one. */
  secondRunMs: number;
  /** CPU ms up to the first result: the JS thread, and all others (for us and TF.js mostly lavapipe's JIT). */
  cpu?: { main: number; other: number };
  /** The machine's 1-minute load average when the run started (cold starts are noisy on a shared machine). */
  load: number;
}

interface StartSeries {
  model: string;
  framework: Framework;
  cold: StartRun[];
  warm: StartRun[];
  error?: string;
}

function startRun(framework: Exclude<Framework, 'cli'>, r: ChildResult): StartRun {
  const m = r.marks;
  const phases: Record<string, number> = {};
  for (const [label, from, to] of PHASES[framework === 'f16' ? 'ours' : framework]) phases[label] = m[to] - m[from];
  if (typeof r.compileMs === 'number') {
    // The loader reads and uploads the weights, then compiles: the compile is split out of that phase.
    phases.compile = r.compileMs;
    phases['read + upload'] -= r.compileMs;
  }
  const cpu = r.firstCpu as { main: number; other: number };
  return { totalMs: m.first - m.spawn, phases, secondRunMs: m.second - m.first, cpu, load: r.load as number };
}

/**
 * The README's first command, `webgpu-cnn detect` on the bundled image with the bundled default model:
 * process start → exit, the whole of what a new user waits for (reading, decoding and drawing included).
 */
function runCli(root: string, dir: string): Promise<StartRun> {
  return new Promise((done, fail) => {
    const load = loadavg()[0];
    const t0 = performance.now();
    const argv = ['dist/cli.js', 'detect', 'assets/images/dog.jpg', '--out', join(dir, 'predictions.jpg'), '--quiet'];
    const child = spawn(process.execPath, argv, { cwd: root, env: childEnv(dir), stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => {
      const totalMs = performance.now() - t0;
      if (code === 0) done({ totalMs, phases: {}, secondRunMs: NaN, load });
      else fail(new Error(`detect exited with ${code}: ${err.trim().split('\n').at(-1)}`));
    });
  });
}

async function measureStarts(
  scripts: Record<string, string>,
  root: string,
  model: ModelCase,
  framework: Framework,
  runs: number,
): Promise<StartSeries> {
  const series: StartSeries = { model: model.name, framework, cold: [], warm: [] };
  const args = [
    root,
    JSON.stringify(await model.source()),
    JSON.stringify({ input: model.input, f16: framework === 'f16' }),
  ];
  const once = async (dir: string) =>
    framework === 'cli' ? runCli(root, dir) : startRun(framework, await runChild(scripts[framework], args, dir));
  try {
    for (let i = 0; i < runs; i++) {
      const dir = newCacheDir();
      try {
        series.cold.push(await once(dir));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      console.log(`  ${model.name}, ${FRAMEWORK_LABELS[framework]}: cold ${fmt(series.cold[i].totalMs / 1000, 2)} s`);
    }
    const dir = newCacheDir();
    try {
      await once(dir); // primes the cache
      for (let i = 0; i < runs; i++) series.warm.push(await once(dir));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    console.log(
      `  ${model.name}, ${FRAMEWORK_LABELS[framework]}: warm ` +
        `${series.warm.map((r) => fmt(r.totalMs / 1000, 2)).join(', ')} s`,
    );
  } catch (e) {
    series.error = (e as Error).message;
    console.log(`  ${model.name}, ${FRAMEWORK_LABELS[framework]}: failed (${series.error})`);
  }
  return series;
}

// ---------------------------------------------------------------------------------------------------
// Per-pipeline figures (run inside a child, from build/bench/coldstart.js)

/** Milliseconds on CLOCK_MONOTONIC, the clock `perf record -k mono` stamps its samples with. */
const mono = () => Number(process.hrtime.bigint()) / 1e6;
type Span = [number, number];

/** CPU time (ms) of this process's JS thread and of all its other threads (Dawn's, Mesa's), from /proc. */
export function threadCpuMs(): { main: number; other: number } {
  let main = 0,
    other = 0;
  for (const tid of readdirSync('/proc/self/task')) {
    let ns: number;
    try {
      ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      continue; // the thread ended
    }
    if (Number(tid) === process.pid) main += ns / 1e6;
    else other += ns / 1e6;
  }
  return { main, other };
}

interface CreationSpans {
  module?: Span;
  pipeline?: Span;
}

/**
 * Records, per label (the pipeline cache labels both with the shader key), when createShaderModule →
 * getCompilationInfo (Tint parses and validates the WGSL) and createComputePipelineAsync (Tint writes
 * SPIR-V, lavapipe turns it into NIR and optimizes it) started and finished.
 */
function recordCreation(device: GPUDevice): Map<string, CreationSpans> {
  const spans = new Map<string, CreationSpans>();
  const of = (label = '') => spans.get(label) ?? (spans.set(label, {}), spans.get(label)!);
  const createModule = device.createShaderModule.bind(device);
  device.createShaderModule = (desc) => {
    const t0 = mono();
    const module = createModule(desc);
    const info = module.getCompilationInfo.bind(module);
    module.getCompilationInfo = async () => {
      const r = await info();
      of(desc.label).module = [t0, mono()];
      return r;
    };
    return module;
  };
  const createPipeline = device.createComputePipelineAsync.bind(device);
  device.createComputePipelineAsync = async (desc) => {
    const t0 = mono();
    const pipeline = await createPipeline(desc);
    of(desc.label).pipeline = [t0, mono()];
    return pipeline;
  };
  return spans;
}

export interface PipelineFigure {
  key: string;
  kernel: string;
  spec: Record<string, number>;
  /** Nodes whose calls use it (in plan order), and how many calls. */
  layers: string[];
  calls: number;
  module: Span;
  pipeline: Span;
  /** One workgroup of the first call's params: lavapipe compiles the pipeline here. */
  firstDispatch: Span;
  secondDispatch: Span;
  /** CPU time of the threads other than the JS thread during the first dispatch (the JIT). */
  driverCpuMs: number;
  /** CPU time of the JS thread meanwhile (dawn.node polls for the GPU while a promise is pending). */
  jsCpuMs: number;
}

export interface ProbeResult {
  dispatches: number;
  pipelines: PipelineFigure[];
  /** Model.create with the pipelines created one at a time, and the two runs after all were dispatched once. */
  createMs: number;
  firstRunMs: number;
  secondRunMs: number;
  pid: number;
  perf?: Record<string, Split>;
}

/** Storage buffers for a one-workgroup dispatch; robust buffer access clamps what falls outside them. */
function scratchBuffers(ctx: GpuContext): (i: number) => GPUBuffer {
  const buffers: GPUBuffer[] = [];
  return (i) => (buffers[i] ??= ctx.createBuffer(4 << 20, `scratch ${i}`));
}

/** Dispatches one workgroup of `call` with scratch buffers and waits for the queue: its first dispatch JIT-compiles. */
async function dispatchOnce(ctx: GpuContext, call: KernelCall, scratch: (i: number) => GPUBuffer): Promise<Span> {
  const uniform = ctx.createBuffer(paramBytes(call.kernel), 'params', 0x40 | 0x8); // UNIFORM | COPY_DST
  ctx.device.queue.writeBuffer(uniform, 0, packParams(call.kernel, call.params));
  const pipeline = ctx.pipelines.get(call);
  const entries: GPUBindGroupEntry[] = call.bindings.map((_, i) => ({ binding: i, resource: { buffer: scratch(i) } }));
  entries.push({ binding: call.bindings.length, resource: { buffer: uniform } });
  const group = ctx.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  await ctx.device.queue.onSubmittedWorkDone();
  const t0 = mono();
  const encoder = ctx.device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(1, 1, 1);
  pass.end();
  ctx.device.queue.submit([encoder.finish()]);
  await ctx.device.queue.onSubmittedWorkDone();
  const span: Span = [t0, mono()];
  ctx.destroyBuffer(uniform);
  return span;
}

/** The plan's distinct pipelines in the order of first use, with the nodes that use each. */
function distinctPipelines(
  model: Model,
  f16: boolean,
): { calls: number; first: Map<string, { call: KernelCall; layers: string[] }> } {
  const plan = planGraph(model.graph, 1, model.ctx.caps, new Set(), { f16Weights: f16 });
  const first = new Map<string, { call: KernelCall; layers: string[] }>();
  let calls = 0;
  for (const step of plan.steps) {
    for (const { dispatch: call } of step.dispatches) {
      calls++;
      const key = shaderKeyString(call);
      if (!first.has(key)) first.set(key, { call, layers: [] });
      first.get(key)!.layers.push(step.node.name);
    }
  }
  return { calls, first };
}

export async function graphOf(source: GraphSource): Promise<WeightedGraph> {
  if (source.kind === 'vgg16') return loadKerasGraph(source.file, { architecture: vgg16Architecture() });
  const bytes = new Uint8Array(readFileSync(source.weights));
  const size: [number, number] = [source.size, source.size];
  return buildDarknet(readFileSync(source.cfg, 'utf8'), source.cfg, { bytes, file: source.weights }, size);
}

async function timeMs(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * Model.create with its pipelines created one at a time (so that each has its own time span), then each
 * distinct pipeline dispatched alone, twice: the first time lavapipe compiles it, the second is the floor.
 */
export async function probePipelines(
  source: GraphSource,
  options: { f16?: boolean; input: number[] },
): Promise<ProbeResult> {
  const ctx = await GpuContext.create();
  const spans = recordCreation(ctx.device);
  // One pipeline at a time, so that each creation has its own time span.
  ctx.compile = async (dispatches) => {
    for (const d of dispatches) await ctx.pipelines.compile({ kernel: d.kernel, spec: d.spec });
  };
  const graph = await graphOf(source);
  let model!: Model;
  const createMs = await timeMs(async () => (model = await Model.create(ctx, graph, { f16Weights: options.f16 })));
  const { calls, first } = distinctPipelines(model, !!options.f16);
  const scratch = scratchBuffers(ctx);
  const pipelines: PipelineFigure[] = [];
  for (const [key, { call, layers }] of first) {
    const cpu0 = threadCpuMs();
    const firstDispatch = await dispatchOnce(ctx, call, scratch);
    const cpu1 = threadCpuMs();
    const secondDispatch = await dispatchOnce(ctx, call, scratch);
    const { module, pipeline } = spans.get(key) ?? {};
    pipelines.push({
      key,
      kernel: call.kernel,
      spec: { ...call.spec },
      layers,
      calls: layers.length,
      module: module!,
      pipeline: pipeline!,
      firstDispatch,
      secondDispatch,
      driverCpuMs: cpu1.other - cpu0.other,
      jsCpuMs: cpu1.main - cpu0.main,
    });
    console.error(`${key}: first dispatch ${fmt(firstDispatch[1] - firstDispatch[0], 0)} ms`);
  }
  const x = new Float32Array(options.input.reduce((a, b) => a * b, 1)).fill(0.5);
  const firstRunMs = await timeMs(() => model.run(x));
  const secondRunMs = await timeMs(() => model.run(x));
  model.dispose();
  ctx.dispose();
  return { dispatches: calls, pipelines, createMs, firstRunMs, secondRunMs, pid: process.pid };
}

/** The subgroup tile variants the planners choose between, compiled and dispatched alone (zero params). */
export async function probeTiles(keys: ShaderKey[]): Promise<{ pipelines: PipelineFigure[] }> {
  const ctx = await GpuContext.create();
  const spans = recordCreation(ctx.device);
  const scratch = scratchBuffers(ctx);
  const pipelines: PipelineFigure[] = [];
  for (const key of keys) {
    await ctx.pipelines.compile(key);
    const call: KernelCall = {
      ...key,
      params: zeroParams(key.kernel),
      workgroups: [1, 1, 1],
      bindings: storageBindings(key.kernel),
    };
    const cpu0 = threadCpuMs();
    const firstDispatch = await dispatchOnce(ctx, call, scratch);
    const cpu1 = threadCpuMs();
    const secondDispatch = await dispatchOnce(ctx, call, scratch);
    const id = shaderKeyString(key);
    const { module, pipeline } = spans.get(id) ?? {};
    pipelines.push({
      key: id,
      kernel: key.kernel,
      spec: { ...key.spec },
      layers: [],
      calls: 0,
      module: module!,
      pipeline: pipeline!,
      firstDispatch,
      secondDispatch,
      driverCpuMs: cpu1.other - cpu0.other,
      jsCpuMs: cpu1.main - cpu0.main,
    });
    console.error(`${id}: first dispatch ${fmt(firstDispatch[1] - firstDispatch[0], 0)} ms`);
  }
  ctx.dispose();
  return { pipelines };
}

function zeroParams(kernel: KernelName): Record<string, number> {
  const body = /struct\s+Params\s*\{([^}]*)\}/.exec(KERNELS[kernel])![1].replace(/\/\/[^\n]*/g, '');
  return Object.fromEntries(
    body
      .split(',')
      .map((f) => f.trim())
      .filter(Boolean)
      .map((f) => [f.split(':')[0].trim(), 0]),
  );
}

function storageBindings(kernel: KernelName): Binding[] {
  return [...KERNELS[kernel].matchAll(/@binding\((\d+)\)\s*var<storage/g)].map((m) => scratch(Number(m[1])));
}

/** The tile variants of gemm-subgroup and conv2d-subgroup that defaultGemmVariant / defaultConv2dVariant pick from. */
function tileKeys(): ShaderKey[] {
  const keys: ShaderKey[] = [];
  for (const tm of [8, 16, 32]) {
    for (const tn of [1, 2, 4]) keys.push({ kernel: 'gemm-subgroup', spec: { TM: tm, TN: tn, WG_X: 8, BIAS: 1 } });
  }
  for (const tn of [1, 2, 4]) keys.push({ kernel: 'conv2d-subgroup', spec: { TM: 16, TN: tn, WG_X: 8 } });
  return keys;
}

// ---------------------------------------------------------------------------------------------------
// perf: whose code ran when

/** CPU ms of the JS thread, and of the other threads by library, within one or more time spans. */
export interface Split {
  js: number;
  dawn: number;
  mesa: number;
  llvm: number;
  other: number;
}

const emptySplit = (): Split => ({ js: 0, dawn: 0, mesa: 0, llvm: 0, other: 0 });

function libraryOf(dso: string): keyof Split {
  if (dso.includes('dawn.node')) return 'dawn';
  if (dso.includes('libvulkan_lvp')) return 'mesa';
  if (dso.includes('libLLVM')) return 'llvm';
  return 'other';
}

const perfAvailable = () => spawnSync('perf', ['--version']).status === 0;

/** Samples as [tid, ms on CLOCK_MONOTONIC, library]. */
function perfSamples(perfData: string): [number, number, keyof Split][] {
  const r = spawnSync('perf', ['script', '-i', perfData, '-F', 'tid,time,ip,dso'], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
  });
  const samples: [number, number, keyof Split][] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*(\d+)\s+([\d.]+):\s+\S+\s+\((.*)\)\s*$/.exec(line);
    if (m) samples.push([Number(m[1]), Number(m[2]) * 1000, libraryOf(m[3])]);
  }
  return samples;
}

/** Attributes each sample to the named span sets it falls in. */
function splitBySpans(
  samples: [number, number, keyof Split][],
  pid: number,
  spans: Record<string, Span[]>,
): Record<string, Split> {
  const out: Record<string, Split> = {};
  const ms = 1000 / PERF_HZ;
  for (const [name, list] of Object.entries(spans)) {
    const split = emptySplit();
    for (const [tid, t, lib] of samples) {
      if (!list.some(([a, b]) => t >= a && t <= b)) continue;
      split[tid === pid ? 'js' : lib] += ms;
    }
    out[name] = split;
  }
  return out;
}

function perfSplits(perfData: string, probe: ProbeResult): Record<string, Split> {
  const samples = perfSamples(perfData);
  const all = (pick: (p: PipelineFigure) => Span) => probe.pipelines.map(pick).filter(Boolean);
  const splits = splitBySpans(samples, probe.pid, {
    'createShaderModule + getCompilationInfo': all((p) => p.module),
    createComputePipelineAsync: all((p) => p.pipeline),
    'first dispatch': all((p) => p.firstDispatch),
  });
  for (const p of probe.pipelines) splits[p.key] = splitBySpans(samples, probe.pid, { d: [p.firstDispatch] }).d;
  return splits;
}

async function measurePipelines(
  scripts: Record<string, string>,
  root: string,
  model: ModelCase,
  f16: boolean,
  usePerf: boolean,
): Promise<{ model: string; f16: boolean; probe?: ProbeResult; error?: string }> {
  const dir = newCacheDir();
  const perfData = usePerf ? join(dir, 'perf.data') : undefined;
  try {
    const args = [root, JSON.stringify(await model.source()), JSON.stringify({ input: model.input, f16 })];
    const probe = (await runChild(scripts.probe, args, dir, perfData)) as unknown as ProbeResult;
    if (perfData) probe.perf = perfSplits(perfData, probe);
    return { model: model.name, f16, probe };
  } catch (e) {
    return { model: model.name, f16, error: (e as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureTiles(scripts: Record<string, string>, root: string): Promise<{ pipelines: PipelineFigure[] }> {
  const dir = newCacheDir();
  try {
    const options = { input: [1], tiles: tileKeys() };
    return (await runChild(scripts.probe, [root, '{}', JSON.stringify(options)], dir)) as unknown as {
      pipelines: PipelineFigure[];
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// Tables

const len = ([a, b]: Span) => b - a;
const seconds = (ms: number) => fmt(ms / 1000, 2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];

function range(runs: StartRun[]): string {
  if (!runs.length) return '–';
  const t = runs.map((r) => r.totalMs);
  return `${seconds(Math.min(...t))}–${seconds(Math.max(...t))} s`;
}

function startsTable(series: StartSeries[]): [string[], string[][]] {
  const header = [
    'model',
    'framework',
    'cold (min–max)',
    'cold CPU: other threads / JS thread (medians)',
    'warm (min–max)',
    'second run (warm median)',
    'load avg (cold runs)',
  ];
  const cpu = (runs: StartRun[]) =>
    runs.length && runs[0].cpu
      ? `${seconds(median(runs.map((r) => r.cpu!.other)))} / ${seconds(median(runs.map((r) => r.cpu!.main)))} s`
      : '–';
  const loads = (runs: StartRun[]) => (runs.length ? runs.map((r) => fmt(r.load, 1)).join(', ') : '–');
  const rows = series.map((s) => [
    s.model,
    FRAMEWORK_LABELS[s.framework],
    s.error ? `failed: ${s.error}` : range(s.cold),
    cpu(s.cold),
    range(s.warm),
    s.warm.length && s.framework !== 'cli' ? `${fmt(median(s.warm.map((r) => r.secondRunMs)), 0)} ms` : '–',
    loads(s.cold),
  ]);
  return [header, rows];
}

/** Median of each phase over the runs, in seconds. */
function phasesTable(series: StartSeries[], framework: 'ours' | 'tfjs' | 'ort'): [string[], string[][]] {
  const labels = PHASES[framework].map(([l]) => l);
  if (framework === 'ours') labels.splice(labels.indexOf('first run'), 0, 'compile');
  const header = ['model', 'framework', 'cache', ...labels, 'total'];
  const rows: string[][] = [];
  for (const s of series.filter((x) =>
    framework === 'ours' ? x.framework === 'ours' || x.framework === 'f16' : x.framework === framework,
  )) {
    for (const [cache, runs] of [
      ['cold', s.cold],
      ['warm', s.warm],
    ] as const) {
      if (!runs.length) continue;
      rows.push([
        s.model,
        FRAMEWORK_LABELS[s.framework],
        cache,
        ...labels.map((l) => seconds(median(runs.map((r) => r.phases[l])))),
        seconds(median(runs.map((r) => r.totalMs))),
      ]);
    }
  }
  return [header, rows];
}

function countsTable(probes: { model: string; f16: boolean; probe?: ProbeResult }[]): [string[], string[][]] {
  const header = [
    'model',
    'dispatches',
    'pipelines',
    'WGSL files',
    'spec combinations per file',
    'create (1 at a time)',
    'sum of first dispatches',
    'first run after',
    'second run',
  ];
  const rows = probes
    .filter((p) => p.probe)
    .map(({ model, f16, probe }) => {
      const files = new Map<string, number>();
      for (const p of probe!.pipelines) files.set(p.kernel, (files.get(p.kernel) ?? 0) + 1);
      return [
        `${model}${f16 ? ' --f16' : ''}`,
        String(probe!.dispatches),
        String(probe!.pipelines.length),
        String(files.size),
        [...files].map(([k, n]) => `${k} ${n}`).join(', '),
        `${seconds(probe!.createMs)} s`,
        `${seconds(probe!.pipelines.reduce((s, p) => s + len(p.firstDispatch), 0))} s`,
        `${fmt(probe!.firstRunMs, 0)} ms`,
        `${fmt(probe!.secondRunMs, 0)} ms`,
      ];
    });
  return [header, rows];
}

function slowestTable(model: string, pipelines: PipelineFigure[], top: number): [string[], string[][]] {
  const header = [
    'model',
    'pipeline (kernel{spec})',
    'calls',
    'module ms',
    'pipeline ms',
    'first dispatch ms',
    'JIT CPU ms',
    'JS CPU ms',
    'second ms',
  ];
  const rows = [...pipelines]
    .sort((a, b) => len(b.firstDispatch) - len(a.firstDispatch))
    .slice(0, top)
    .map((p) => [
      model,
      p.key,
      String(p.calls),
      fmt(len(p.module), 0),
      fmt(len(p.pipeline), 0),
      fmt(len(p.firstDispatch), 0),
      fmt(p.driverCpuMs, 0),
      fmt(p.jsCpuMs, 0),
      fmt(len(p.secondDispatch), 1),
    ]);
  return [header, rows];
}

function splitTable(probes: { model: string; f16: boolean; probe?: ProbeResult }[]): [string[], string[][]] {
  const header = [
    'model',
    'stage',
    'wall s',
    'Dawn/Tint CPU s',
    'Mesa CPU s',
    'LLVM CPU s',
    'other threads s',
    'JS thread s',
  ];
  const rows: string[][] = [];
  for (const { model, f16, probe } of probes) {
    if (!probe?.perf) continue;
    const wall: Record<string, (p: PipelineFigure) => Span> = {
      'createShaderModule + getCompilationInfo': (p) => p.module,
      createComputePipelineAsync: (p) => p.pipeline,
      'first dispatch': (p) => p.firstDispatch,
    };
    for (const [stage, pick] of Object.entries(wall)) {
      const s = probe.perf[stage];
      rows.push([
        `${model}${f16 ? ' --f16' : ''}`,
        stage,
        seconds(probe.pipelines.reduce((t, p) => t + len(pick(p)), 0)),
        seconds(s.dawn),
        seconds(s.mesa),
        seconds(s.llvm),
        seconds(s.other),
        seconds(s.js),
      ]);
    }
  }
  return [header, rows];
}

function tilesTable(pipelines: PipelineFigure[]): [string[], string[][]] {
  const header = ['pipeline', 'pipeline ms', 'first dispatch ms', 'JIT CPU ms'];
  return [
    header,
    pipelines.map((p) => [p.key, fmt(len(p.pipeline), 0), fmt(len(p.firstDispatch), 0), fmt(p.driverCpuMs, 0)]),
  ];
}

const markdown = ([header, rows]: [string[], string[][]]) =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---|').join('')}`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

// ---------------------------------------------------------------------------------------------------
// The suite

interface Selection {
  models: ModelCase[];
  frameworks: Framework[];
  parts: Set<string>;
  runs: number;
}

function select(filter?: string): Selection {
  const words = (filter ?? '')
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  const runs = Number(words.find((w) => w.startsWith('runs='))?.slice(5) ?? 3);
  const pick = <T extends string>(all: T[], fallback: T[]) =>
    words.some((w) => all.includes(w as T)) ? all.filter((a) => words.includes(a)) : fallback;
  const models = pick(
    MODELS.map((m) => m.id),
    MODELS.map((m) => m.id),
  ).map((id) => MODELS.find((m) => m.id === id)!);
  const all: Framework[] = ['cli', 'ours', 'f16', 'tfjs', 'ort'];
  const frameworks = pick<Framework>(all, all);
  const parts = new Set(pick(['starts', 'pipelines', 'tiles', 'speed'], ['starts', 'pipelines']));
  const known = new Set([...MODELS.map((m) => m.id), ...all, 'starts', 'pipelines', 'tiles', 'speed']);
  const unknown = words.filter((w) => !known.has(w) && !w.startsWith('runs='));
  if (unknown.length || !(runs >= 1))
    throw new Error(
      `coldstart: unknown filter word(s) ${unknown.join(', ') || `runs=${runs}`} (see bench/coldstart.ts)`,
    );
  return { models, frameworks, parts, runs };
}

export async function benchColdstart(filter?: string): Promise<object> {
  const { models, frameworks, parts, runs } = select(filter);
  const root = resolve('.');
  const scripts = writeScripts(root);
  const usePerf = perfAvailable();
  console.log(
    `cold = new MESA_SHADER_CACHE_DIR per run; warm = one primed directory; ${runs} runs each, ` +
      'one child process per run',
  );
  const starts: StartSeries[] = [];
  if (parts.has('starts')) {
    for (const model of models) {
      for (const fw of frameworks.filter((f) => f !== 'cli' || model.id === 'fastest')) {
        starts.push(await measureStarts(scripts, root, model, fw, runs));
      }
    }
  }
  const probes: { model: string; f16: boolean; probe?: ProbeResult; error?: string }[] = [];
  if (parts.has('pipelines')) {
    for (const model of models) {
      for (const f16 of [false, true].filter((f) => frameworks.includes(f ? 'f16' : 'ours'))) {
        console.log(
          `  pipelines of ${model.name}${f16 ? ' --f16' : ''}, one at a time${usePerf ? ', under perf' : ''}…`,
        );
        probes.push(await measurePipelines(scripts, root, model, f16, usePerf));
        if (probes.at(-1)!.error) console.log(`    failed: ${probes.at(-1)!.error}`);
      }
    }
  }
  const tiles = parts.has('tiles') ? await measureTiles(scripts, root) : undefined;
  const speed: SpeedResult[] = [];
  if (parts.has('speed')) {
    for (const model of models) {
      for (const f16 of [false, true].filter((f) => frameworks.includes(f ? 'f16' : 'ours'))) {
        speed.push(await measureSpeed(scripts, root, model, f16));
      }
    }
  }

  const sections: [string, [string[], string[][]]][] = [];
  if (starts.length) {
    sections.push(['Process start → first result', startsTable(starts)]);
    for (const fw of ['ours', 'tfjs', 'ort'] as const) {
      if (starts.some((s) => (fw === 'ours' ? s.framework !== 'tfjs' && s.framework !== 'ort' : s.framework === fw))) {
        sections.push([`Phases, ${FRAMEWORK_LABELS[fw]} (medians, s)`, phasesTable(starts, fw)]);
      }
    }
  }
  if (probes.some((p) => p.probe)) {
    sections.push(['Pipelines per plan (cold, created and first-dispatched one at a time)', countsTable(probes)]);
    for (const { model, f16, probe } of probes) {
      if (probe)
        sections.push([
          `Slowest first dispatches, ${model}${f16 ? ' --f16' : ''}`,
          slowestTable(model, probe.pipelines, 8),
        ]);
    }
    if (probes.some((p) => p.probe?.perf))
      sections.push(['Who compiles (perf samples, summed over the pipelines)', splitTable(probes)]);
  }
  if (tiles) sections.push(['Subgroup tile variants alone (cold, zero params)', tilesTable(tiles.pipelines)]);
  if (speed.length)
    sections.push([`Warm speed, webgpu-cnn (medians of ${SPEED_RUNS} runs after 3)`, speedTable(speed)]);
  for (const [title, table] of sections) console.log(`\n${title}\n${formatTable(...table)}`);
  writeMarkdown(sections, runs);
  return { runs, perf: usePerf, starts, probes, tiles, speed };
}

function writeMarkdown(sections: [string, [string[], string[][]]][], runs: number): void {
  mkdirSync('bench/results', { recursive: true });
  const file = `bench/results/coldstart-${new Date().toISOString().replace(/[:.]/g, '-')}.md`;
  const intro =
    `Cold: a new MESA_SHADER_CACHE_DIR per run; warm: one directory primed by an unmeasured run. ${runs} runs each, ` +
    `one child process per run, LP_NUM_THREADS=${process.env.LP_NUM_THREADS ?? 8}.`;
  writeFileSync(
    file,
    [intro, ...sections.map(([title, table]) => `### ${title}\n\n${markdown(table)}`)].join('\n\n') + '\n',
  );
  console.log(`\nwrote ${file}`);
}
