// `npm run bench -- yolo`: yolov3, yolov4 and yolov4-tiny at 416 (weights generated once into bench/.cache/
// in the exact format), yolov3-tiny at 416 and the bundled Yolo-Fastest at 320, each detecting on dog.jpg:
// compile time, first run, warm median (p10/p90) of the forward pass (input upload to readback), and pre-/
// post-processing shown separately, with per-layer GPU times.
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import type { GpuContext } from '../src/gpu/context.js';
import { Detector } from '../src/models/yolo/detector.js';
import { decodeImage } from '../src/io/image.js';
import { fmt, formatTable } from '../src/tools/table.js';
import { writeDarknetWeights } from '../test/darknet-writer.js';
import { CACHE, CFGS, generatedPath, type DarknetCfg } from './generated-files.js';
import { sample, stats, type Stats } from './stats.js';

/** The weights file for `cfg` (a key of CFGS), generated once in the exact format. */
export function generatedWeights(cfg: DarknetCfg): string {
  const file = generatedPath(cfg);
  if (!existsSync(file)) {
    mkdirSync(CACHE, { recursive: true });
    console.log(`writing ${file} (once)…`);
    writeDarknetWeights(`${file}.tmp`, readFileSync(CFGS[cfg], 'utf8'), 11);
    renameSync(`${file}.tmp`, file);
  }
  return file;
}

interface YoloResult {
  model: string;
  input: number;
  gflop: number;
  loadMs: number;
  compileMs: number;
  firstMs: number;
  forward: Stats;
  preprocess: Stats;
  postprocess: Stats;
  gpuMs: number;
  peakBytes: number;
  layers: { name: string; kernels: string[]; ms: number }[];
}

export async function benchYolo(ctx: GpuContext, filter?: string): Promise<YoloResult[]> {
  const cases = [
    { model: 'yolov3', size: 416, cfg: CFGS['yolov3.cfg'], weights: () => generatedWeights('yolov3.cfg') },
    { model: 'yolov4', size: 416, cfg: CFGS['yolov4.cfg'], weights: () => generatedWeights('yolov4.cfg') },
    {
      model: 'yolov4-tiny',
      size: 416,
      cfg: CFGS['yolov4-tiny.cfg'],
      weights: () => generatedWeights('yolov4-tiny.cfg'),
    },
    {
      model: 'yolov3-tiny',
      size: 416,
      cfg: CFGS['yolov3-tiny.cfg'],
      weights: () => generatedWeights('yolov3-tiny.cfg'),
    },
    {
      model: 'yolo-fastest-1.1',
      size: 320,
      cfg: 'assets/darknet/yolo-fastest-1.1.cfg',
      weights: () => 'assets/darknet/yolo-fastest-1.1.weights',
    },
  ].filter((c) => !filter || c.model.includes(filter));
  const image = await decodeImage('assets/images/dog.jpg');
  const results: YoloResult[] = [];
  for (const c of cases) {
    const weights = c.weights();
    const t0 = performance.now();
    const det = await Detector.load({
      ctx,
      cfg: c.cfg,
      weights,
      names: 'assets/darknet/coco.names',
      inputSize: [c.size, c.size],
    });
    const loadMs = performance.now() - t0;
    try {
      const first = await det.detect(image);
      const pre: number[] = [],
        post: number[] = [];
      const forward = await sample(
        async () => {
          const r = await det.detect(image);
          pre.push(r.timings.preprocessMs);
          post.push(r.timings.postprocessMs);
          return r.timings.inferenceMs;
        },
        5,
        3000,
        30,
      );
      const profiled = await det.detect(image, { profile: true });
      const layers = (profiled.layers ?? []).map((l) => ({ name: l.fused.join('+'), kernels: l.kernels, ms: l.ms }));
      const r: YoloResult = {
        model: c.model,
        input: c.size,
        gflop: det.model.flops(1) / 1e9,
        loadMs,
        compileMs: det.model.compileMs(1) ?? 0,
        firstMs: first.timings.inferenceMs,
        forward: stats(forward),
        preprocess: stats(pre),
        postprocess: stats(post),
        gpuMs: layers.reduce((s, l) => s + l.ms, 0),
        peakBytes: det.model.memory(1).peakBytes,
        layers,
      };
      results.push(r);
      console.log(`  ${c.model} ${c.size}: forward warm median ${fmt(r.forward.median, 1)} ms`);
      if (layers.length) {
        const top = [...layers].sort((a, b) => b.ms - a.ms).slice(0, 8);
        console.log(`  slowest layers of ${c.model} (of ${layers.length}, ${fmt(r.gpuMs, 1)} ms GPU in all):`);
        console.log(
          formatTable(
            ['layer', 'kernels', 'ms', '%'],
            top.map((l) => [l.name, l.kernels.join(', '), fmt(l.ms), fmt((100 * l.ms) / r.gpuMs, 1)]),
          ).replace(/^/gm, '    '),
        );
      }
    } finally {
      det.dispose();
    }
  }
  console.log(
    `\n${formatTable(
      [
        'model',
        'input',
        'GFLOP',
        'load ms',
        'compile ms',
        'first ms',
        'forward median',
        'p10',
        'p90',
        'GFLOP/s',
        'preprocess ms',
        'postprocess ms',
        'peak GPU MB',
      ],
      results.map((r) => [
        r.model,
        r.input,
        fmt(r.gflop),
        fmt(r.loadMs, 0),
        fmt(r.compileMs, 0),
        fmt(r.firstMs, 0),
        fmt(r.forward.median, 1),
        fmt(r.forward.p10, 1),
        fmt(r.forward.p90, 1),
        fmt(r.gflop / (r.forward.median / 1000)),
        fmt(r.preprocess.median, 1),
        fmt(r.postprocess.median, 2),
        fmt(r.peakBytes / 2 ** 20, 0),
      ]),
    )}`,
  );
  console.log(
    'forward = input upload, all dispatches, readback of the heads; ' +
      'preprocess = letterbox of the decoded image; postprocess = [yolo] decoding + NMS on the CPU.',
  );
  return results;
}
