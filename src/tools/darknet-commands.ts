// CLI commands for YOLO detectors: detect (images) and detect-video (a video through ffmpeg, or a directory of
// frames), for Darknet cfg + weights or a keras-yolo3-style Keras model (--model with --anchors and --classes).
// They print Darknet's "name: NN%" lines and keras-yolo3's "class score (x1, y1) (x2, y2)" lines (a Keras model
// run keras-yolo3's way prints just what keras-yolo3 prints), and write annotated images. Everything a user
// gave is checked before the model is loaded.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { Detector, type Detection } from '../models/yolo/detector.js';
import { darknetOrder, darknetPercent } from '../models/yolo/darknet-print.js';
import { drawDetections } from '../models/yolo/draw.js';
import { kerasYolo3Lines, parseMasks } from '../models/yolo/keras-yolo3.js';
import { ModelFileError, UsageError } from '../errors.js';
import { decodeImage, saveImage } from '../io/image.js';
import { parseCommand, type CommandSpec, type OptionTable, type Values } from './args.js';
import { loadProgress, startProgress, type CliIo } from './io.js';
import { imageOutputs } from './output.js';
import { fmt, formatTable } from './table.js';
import { checkVideoOutput, openFrameSink, openFrameSource } from './video.js';

export const MODEL_OPTIONS = {
  cfg: { kind: 'string', placeholder: 'FILE.cfg', help: 'Darknet network (default: the bundled Yolo-Fastest 1.1)' },
  weights: { kind: 'string', placeholder: 'FILE.weights', help: 'its weights (give both --cfg and --weights)' },
  names: {
    kind: 'string',
    placeholder: 'FILE.names',
    help: 'class names, one per line (default coco.names for the bundled model)',
  },
  model: {
    kind: 'string',
    placeholder: 'FILE.h5',
    help: 'a keras-yolo3-style Keras YOLO (.h5 or .keras) instead of a cfg; with --anchors, --classes',
  },
  anchors: {
    kind: 'string',
    placeholder: 'FILE.txt',
    help: "the Keras model's anchors (keras-yolo3's yolo_anchors.txt)",
  },
  classes: { kind: 'string', placeholder: 'FILE.txt', help: "the Keras model's class names, one per line" },
  masks: {
    kind: 'string',
    placeholder: '6,7,8/3,4,5/0,1,2',
    help: "anchor indices per output (default keras-yolo3's for 3 or 2 outputs)",
  },
  preprocess: {
    kind: 'choice',
    choices: ['keras-yolo3', 'darknet'],
    help: "a Keras model: keras-yolo3's letterbox and decoding (default), or Darknet's",
  },
  thresh: {
    kind: 'number',
    min: 0,
    max: 1,
    help: "Darknet's -thresh, objectness × class probability (default 0.5; keras-yolo3's score, default 0.3)",
  },
  nms: {
    kind: 'number',
    min: 0,
    max: 1,
    default: 0.45,
    help: "IoU (DIoU for a cfg's greedynms/diounms) above which NMS drops a box",
  },
  size: {
    kind: 'string',
    placeholder: 'W[xH]',
    help: "input size, multiples of 32 (default: the cfg's, or the Keras model's, else 416)",
  },
  'no-letterbox': { kind: 'flag', help: 'stretch the image to the input size instead of letterboxing it' },
  f16: { kind: 'flag', help: 'store weights as f16 (half the memory; needs the adapter’s shader-f16)' },
  'max-pixels': { kind: 'number', min: 1, integer: true, default: 100_000_000, help: 'refuse images with more pixels' },
  'allow-bad-weights': {
    kind: 'flag',
    help: 'load weights holding NaN, ±Inf or negative variances (refused by default)',
  },
  quiet: { kind: 'flag', short: 'q', help: 'print results only: no progress or notices' },
} as const satisfies OptionTable;

type ModelValues = Values<typeof MODEL_OPTIONS>;

/** '416' or '416x320' as [width, height], each a positive multiple of 32. */
export function parseInputSize(text: string | undefined, option = '--size'): [number, number] | undefined {
  if (text === undefined) return undefined;
  const dims = text.split(/[x×,]/);
  const values = dims.map((d) => (/^\d+$/.test(d.trim()) ? Number(d) : NaN));
  if (dims.length > 2 || values.some((v) => !(v >= 32 && v % 32 === 0 && v <= 8192))) {
    throw new UsageError(`'${text}' is not a size: give W or WxH, multiples of 32 from 32 to 8192`, option);
  }
  return [values[0], values[1] ?? values[0]];
}

function checkModelFiles(v: ModelValues): void {
  if (v.model) {
    if (v.cfg || v.weights)
      throw new UsageError('give either --model (Keras) or --cfg and --weights (Darknet), not both');
    if (!v.anchors || !v.classes) throw new UsageError('a Keras --model needs --anchors and --classes');
    if (v.masks) parseMasksOption(v.masks);
  } else {
    if (!!v.cfg !== !!v.weights)
      throw new UsageError('give both --cfg and --weights (or neither, for the bundled Yolo-Fastest)');
    for (const [option, value] of [
      ['--anchors', v.anchors],
      ['--classes', v.classes],
      ['--masks', v.masks],
      ['--preprocess', v.preprocess],
    ]) {
      if (value) throw new UsageError(`${option} goes with a Keras --model`);
    }
  }
  for (const f of [v.cfg, v.weights, v.names, v.model, v.anchors, v.classes]) if (f) checkInputFile(f);
}

function parseMasksOption(text: string): number[][] {
  try {
    return parseMasks(text);
  } catch (e) {
    throw new UsageError((e as Error).message, '--masks');
  }
}

/** A Keras model run keras-yolo3's way (its decoding, its printout and PIL's JPEG pixels). */
const kerasWay = (v: ModelValues) => !!v.model && v.preprocess !== 'darknet';

/** Throws ModelFileError unless `path` is an existing regular file. */
export function checkInputFile(path: string): void {
  if (!existsSync(path)) throw new ModelFileError(path, 'no such file');
  if (statSync(path).isDirectory()) throw new ModelFileError(path, 'is a directory, not a file');
}

function loadDetector(v: ModelValues, io: CliIo): Promise<Detector> {
  if (v.model) {
    return Detector.fromKeras({
      model: v.model,
      anchors: v.anchors!,
      classes: v.classes!,
      masks: v.masks ? parseMasksOption(v.masks) : undefined,
      preprocess: v.preprocess,
      inputSize: parseInputSize(v.size),
      f16Weights: v.f16,
      allowBadWeights: v['allow-bad-weights'],
    });
  }
  return Detector.load({
    cfg: v.cfg,
    weights: v.weights,
    names: v.names,
    inputSize: parseInputSize(v.size),
    f16Weights: v.f16,
    allowBadWeights: v['allow-bad-weights'],
    onProgress: loadProgress(io),
  });
}

/**
 * Darknet's lines ("dog: 61%", in detector test's order and rounding) then keras-yolo3's ("dog 0.61 (114, 190)
 * (406, 507)") for the same detections in the same order.
 */
export function detectionLines(detections: Detection[]): string[] {
  const ordered = darknetOrder(detections);
  return [
    ...ordered.map((d) => `${d.className}: ${darknetPercent(d.score)}%`),
    ...ordered.map((d) => `${d.className} ${d.score.toFixed(2)} (${d.box.x1}, ${d.box.y1}) (${d.box.x2}, ${d.box.y2})`),
  ];
}

export const DETECT = {
  name: 'detect',
  args: 'IMAGE [IMAGE …]',
  summary:
    'Detect objects the Darknet way (letterbox, [yolo]/[region] heads, per-class NMS) and write annotated images.',
  details:
    'Prints Darknet\'s "dog: 61%" lines and keras-yolo3\'s "dog 0.61 (x1, y1) (x2, y2)" lines per image.\n' +
    "With --model (a keras-yolo3-style Keras YOLO, --anchors and --classes), keras-yolo3's own letterbox, decoding\n" +
    'and printout ("Found N boxes for img"), or with --preprocess darknet the Darknet way.\n' +
    'Writes NAME_detections.jpg next to each input (NAME_detections.png for a PNG input); with --out, that file\n' +
    '(one input) or inside that directory (several inputs, or an existing directory). .jpg, .jpeg and .png only.',
  options: {
    ...MODEL_OPTIONS,
    out: { kind: 'string', short: 'o', placeholder: 'PATH', help: 'annotated image (one input) or directory' },
    profile: { kind: 'flag', help: 'print per-layer GPU times' },
  },
  positionals: { min: 1 },
} as const satisfies CommandSpec;

/** A first run longer than this is explained. */
const FIRST_RUN_NOTE_MS = 1000;

export async function detect(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(DETECT, argv);
  io.quiet = values.quiet;
  parseInputSize(values.size);
  checkModelFiles(values);
  positionals.forEach(checkInputFile);
  const outputs = imageOutputs(positionals, values.out);
  const det = await loadDetector(values, io);
  try {
    for (const [i, file] of positionals.entries()) {
      // JPEGs decoded as Darknet's stb_image does, so that the network sees Darknet's pixels (keras-yolo3: Pillow's).
      const image = await decodeImage(file, {
        maxPixels: values['max-pixels'],
        jpeg: kerasWay(values) ? 'mozjpeg' : 'stb',
      });
      const r = await det.detect(image, {
        thresh: values.thresh,
        nms: values.nms,
        letterbox: !values['no-letterbox'],
        profile: values.profile,
      });
      io.out(
        `${file}: Predicted in ${fmt(r.timings.inferenceMs / 1000, 3)} seconds ` +
          `(preprocess ${fmt(r.timings.preprocessMs, 1)} ms, postprocess ${fmt(r.timings.postprocessMs, 1)} ms).`,
      );
      // Software adapters compile each kernel at its first dispatch, so a first run on a new machine
      // is slow for a reason the user cannot see; said once, on stderr, so that stdout stays Darknet's.
      if (i === 0 && !io.quiet && r.timings.inferenceMs > FIRST_RUN_NOTE_MS)
        io.err('(the first run includes compiling kernels for this adapter; later runs reuse them)');
      if (det.keras) kerasYolo3Lines(r.detections).forEach((l) => io.out(l));
      else {
        io.out(`Found ${r.detections.length} boxes for ${basename(file)}`);
        detectionLines(r.detections).forEach((l) => io.out(l));
      }
      if (outputs.makeDirectory) mkdirSync(outputs.makeDirectory, { recursive: true });
      await saveImage(drawDetections(image, r.detections, det.network.heads[0].classes), outputs.paths[i]);
      io.out(`wrote ${outputs.paths[i]}\n`);
      if (r.layers)
        io.out(
          `${formatTable(
            ['layer', 'kernels', 'ms'],
            r.layers.map((l) => [l.fused.join('+'), l.kernels.join(', '), fmt(l.ms)]),
          )}\n`,
        );
    }
    return 0;
  } finally {
    det.dispose();
  }
}

export const DETECT_VIDEO = {
  name: 'detect-video',
  args: 'INPUT OUTPUT',
  summary: 'Detect objects frame by frame in a video (through ffmpeg) or a directory of frames.',
  details:
    'INPUT is a video file or a directory of .jpg/.png frames; OUTPUT a video (.mp4, .m4v, .mov, .mkv, .avi,\n' +
    'H.264) or, for a frames directory input, a directory of annotated frame_00000.jpg…. The video appears at\n' +
    'OUTPUT only once it is complete. Prints "Found N boxes for frame i" per frame and the frames per second.',
  options: {
    ...MODEL_OPTIONS,
    'mixed-sizes': {
      kind: 'choice',
      choices: ['scale', 'refuse'],
      default: 'scale',
      help: 'frames of another size than the first',
    },
    'decode-errors': {
      kind: 'choice',
      choices: ['fail', 'conceal'],
      default: 'fail',
      help: 'a damaged video: stop, or let ffmpeg patch it',
    },
  },
  positionals: { min: 2, max: 2 },
} as const satisfies CommandSpec;

export async function detectVideo(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommand(DETECT_VIDEO, argv);
  io.quiet = values.quiet;
  const [input, output] = positionals;
  parseInputSize(values.size);
  checkModelFiles(values);
  if (!existsSync(input)) throw new ModelFileError(input, 'no such file or directory');
  const kind = statSync(input).isDirectory() && !extname(output) ? 'frames' : 'video';
  checkVideoOutput(output, kind);
  const notice = (m: string) => io.quiet || io.err(m);
  const source = await openFrameSource(input, {
    mixedSizes: values['mixed-sizes'],
    decodeErrors: values['decode-errors'],
    onNotice: notice,
    jpeg: kerasWay(values) ? 'mozjpeg' : 'stb',
  });
  let det: Detector | undefined;
  let sink: ReturnType<typeof openFrameSink> | undefined;
  try {
    det = await loadDetector(values, io);
    sink = openFrameSink(output, { width: source.width, height: source.height, fps: source.fps, kind });
    const classes = det.network.heads[0].classes;
    const progress = io.tty ? startProgress(io, 'frames', source.count, 'frames') : undefined;
    const start = performance.now();
    let n = 0;
    for await (const frame of source.frames()) {
      const r = await det.detect(frame, { thresh: values.thresh, nms: values.nms, letterbox: !values['no-letterbox'] });
      await sink.write(drawDetections(frame, r.detections, classes));
      n++;
      const fps = n / ((performance.now() - start) / 1000);
      if (progress) progress.tick(1, `${fmt(fps, 2)} fps · ${r.detections.length} boxes`);
      else if (!io.quiet) {
        const eta = source.count && source.count > n ? `, ${fmt((source.count - n) / fps, 0)} s left` : '';
        const ofCount = source.count ? ` of ${source.count}` : '';
        io.out(`Found ${r.detections.length} boxes for frame ${n - 1}${ofCount} (${fmt(fps, 2)} fps${eta})`);
        const lines = det.keras
          ? kerasYolo3Lines(r.detections).slice(1)
          : detectionLines(r.detections).slice(r.detections.length);
        lines.forEach((l) => io.out(`  ${l}`));
      }
    }
    progress?.done();
    await sink.finish();
    const seconds = (performance.now() - start) / 1000;
    io.out(`${n} frames in ${fmt(seconds, 2)} s: ${fmt(n / seconds, 2)} frames per second; wrote ${output}`);
    return 0;
  } catch (e) {
    await sink?.abort();
    throw e;
  } finally {
    await source.close();
    det?.dispose();
  }
}
