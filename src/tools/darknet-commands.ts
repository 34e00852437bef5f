// CLI commands for Darknet detectors: detect (images) and detect-video (a video file through ffmpeg,
// or a directory of frames). Both print Darknet's "name: NN%" lines and keras-yolo3's
// "class score (x1, y1) (x2, y2)" lines, and write annotated images.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { Detector, type Detection } from '../darknet/detector.js';
import { drawDetections } from '../darknet/draw.js';
import { decodeImage, saveImage, type RgbaImage } from '../io/image.js';
import { fmt, formatTable } from './table.js';

const MODEL_OPTIONS = {
  cfg: { type: 'string' },
  weights: { type: 'string' },
  names: { type: 'string' },
  thresh: { type: 'string', default: '0.5' },
  nms: { type: 'string', default: '0.45' },
  size: { type: 'string' },
  'no-letterbox': { type: 'boolean', default: false },
  profile: { type: 'boolean', default: false },
  f16: { type: 'boolean', default: false },
} as const;

type ModelValues = { cfg?: string; weights?: string; names?: string; size?: string; f16?: boolean };

async function loadDetector(v: ModelValues): Promise<Detector> {
  if (!!v.cfg !== !!v.weights) throw new Error('give both --cfg and --weights (or neither, for the bundled Yolo-Fastest)');
  const dims = v.size?.split(/[x×,]/).map(Number);
  const size: [number, number] | undefined = dims ? [dims[0], dims[1] ?? dims[0]] : undefined;
  return Detector.load({ cfg: v.cfg, weights: v.weights, names: v.names, inputSize: size, f16Weights: v.f16 });
}

/** Darknet's lines ("dog: 61%") then keras-yolo3's ("dog 0.61 (114, 190) (406, 507)"). */
export function detectionLines(detections: Detection[]): string[] {
  return [
    ...detections.map((d) => `${d.className}: ${Math.round(d.score * 100)}%`),
    ...detections.map((d) => `${d.className} ${d.score.toFixed(2)} (${d.box.x1}, ${d.box.y1}) (${d.box.x2}, ${d.box.y2})`),
  ];
}

function defaultOutput(input: string): string {
  const ext = extname(input).toLowerCase() === '.png' ? '.png' : '.jpg';
  return join(dirname(input), `${basename(input, extname(input))}_detections${ext}`);
}

export async function detect(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...MODEL_OPTIONS, out: { type: 'string', short: 'o' } } });
  if (!positionals.length) throw new Error('detect: give one or more images (e.g. assets/images/dog.jpg)');
  if (values.out && positionals.length > 1) mkdirSync(values.out, { recursive: true });
  const det = await loadDetector(values);
  try {
    for (const file of positionals) {
      const image = await decodeImage(file);
      const r = await det.detect(image, { thresh: Number(values.thresh), nms: Number(values.nms), letterbox: !values['no-letterbox'], profile: values.profile });
      console.log(`${file}: Predicted in ${fmt(r.timings.inferenceMs / 1000, 3)} seconds (preprocess ${fmt(r.timings.preprocessMs, 1)} ms, postprocess ${fmt(r.timings.postprocessMs, 1)} ms).`);
      console.log(`Found ${r.detections.length} boxes for ${basename(file)}`);
      detectionLines(r.detections).forEach((l) => console.log(l));
      const out = !values.out ? defaultOutput(file) : positionals.length > 1 ? join(values.out, basename(defaultOutput(file))) : values.out;
      await saveImage(drawDetections(image, r.detections, det.network.heads[0].classes), out);
      console.log(`wrote ${out}\n`);
      if (r.layers) console.log(formatTable(['layer', 'kernels', 'ms'], r.layers.map((l) => [l.fused.join('+'), l.kernels.join(', '), fmt(l.ms)])) + '\n');
    }
    return 0;
  } finally {
    det.dispose();
  }
}

/** Frames from a video through ffmpeg (raw RGB on a pipe), or from a directory of images. */
interface FrameSource {
  width: number;
  height: number;
  fps: number;
  count?: number;
  frames(): AsyncGenerator<RgbaImage>;
}

function requireFfmpeg(): void {
  const probe = spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new Error('detect-video needs ffmpeg for video files (npm run setup installs it on Debian; or apt-get install ffmpeg), or give a directory of frames');
  }
}

function probeVideo(path: string): { width: number; height: number; fps: number; count?: number } {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=width,height,r_frame_rate,nb_frames', '-of', 'json', path], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${path}: ffprobe cannot read it: ${r.stderr.trim() || 'no video stream'}`);
  const s = JSON.parse(r.stdout).streams?.[0];
  if (!s) throw new Error(`${path}: no video stream`);
  const [num, den] = String(s.r_frame_rate).split('/').map(Number);
  return { width: s.width, height: s.height, fps: den ? num / den : num || 25, count: Number(s.nb_frames) || undefined };
}

function videoFrames(path: string): FrameSource {
  requireFfmpeg();
  const info = probeVideo(path);
  return {
    ...info,
    async *frames() {
      const ff = spawn('ffmpeg', ['-v', 'error', '-i', path, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const size = info.width * info.height * 4;
      let pending = Buffer.alloc(0);
      for await (const chunk of ff.stdout) {
        pending = Buffer.concat([pending, chunk as Buffer]);
        while (pending.length >= size) {
          yield { width: info.width, height: info.height, data: new Uint8Array(pending.subarray(0, size)) };
          pending = pending.subarray(size);
        }
      }
    },
  };
}

async function directoryFrames(dir: string): Promise<FrameSource> {
  const files = readdirSync(dir).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  if (!files.length) throw new Error(`${dir}: no .jpg or .png frames`);
  const first = await decodeImage(join(dir, files[0]));
  return {
    width: first.width, height: first.height, fps: 25, count: files.length,
    async *frames() {
      for (const f of files) yield await decodeImage(join(dir, f));
    },
  };
}

export async function detectVideo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { ...MODEL_OPTIONS, quiet: { type: 'boolean', default: false } } });
  const [input, output] = positionals;
  if (!input || !output) throw new Error('detect-video: give an input (video file or directory of frames) and an output (video file or directory)');
  if (!existsSync(input)) throw new Error(`${input}: no such file or directory`);
  const fromDir = statSync(input).isDirectory();
  const source = fromDir ? await directoryFrames(input) : videoFrames(input);
  const toDir = fromDir && !extname(output);
  const det = await loadDetector(values);
  let writer: ReturnType<typeof spawn> | undefined;
  const writerDone = new Promise<number>((resolve) => {
    if (toDir) {
      mkdirSync(output, { recursive: true });
      resolve(0);
      return;
    }
    requireFfmpeg();
    // Even sizes for yuv420p; the annotated frames go in as raw RGBA on stdin.
    writer = spawn('ffmpeg', ['-v', 'error', '-y', '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${source.width}x${source.height}`, '-r', String(source.fps),
      '-i', '-', '-vf', 'pad=ceil(iw/2)*2:ceil(ih/2)*2', '-pix_fmt', 'yuv420p', '-c:v', 'libx264', output], { stdio: ['pipe', 'ignore', 'inherit'] });
    writer.on('close', (code) => resolve(code ?? 1));
  });
  const classes = det.network.heads[0].classes;
  const start = performance.now();
  let n = 0;
  try {
    for await (const frame of source.frames()) {
      const r = await det.detect(frame, { thresh: Number(values.thresh), nms: Number(values.nms), letterbox: !values['no-letterbox'] });
      const annotated = drawDetections(frame, r.detections, classes);
      if (toDir) {
        await saveImage(annotated, join(output, `frame_${String(n).padStart(5, '0')}.jpg`));
      } else if (!writer!.stdin!.write(annotated.data)) {
        await new Promise((resolve) => writer!.stdin!.once('drain', resolve));
      }
      const fps = (n + 1) / ((performance.now() - start) / 1000);
      if (!values.quiet) {
        console.log(`Found ${r.detections.length} boxes for frame ${n}${source.count ? ` of ${source.count}` : ''} (${fmt(fps, 2)} fps)`);
        detectionLines(r.detections).slice(r.detections.length).forEach((l) => console.log(`  ${l}`));
      }
      n++;
    }
  } finally {
    writer?.stdin?.end();
    det.dispose();
  }
  const code = await writerDone;
  if (code !== 0) throw new Error(`ffmpeg failed writing ${output} (exit ${code})`);
  const seconds = (performance.now() - start) / 1000;
  console.log(`${n} frames in ${fmt(seconds, 2)} s: ${fmt(n / seconds, 2)} frames per second; wrote ${output}`);
  return 0;
}
