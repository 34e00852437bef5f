// A new user's program: only the package's public API, as `import ... from 'webgpu-cnn'`.
// test/package.test.ts installs the packed tarball into an empty project, type-checks this file with
// `tsc --strict` (NodeNext and Bundler resolution) and runs it there. When the public API changes,
// this is the one file to update.
//
// Usage: node consumer.js <image.jpg> <mnist.keras|.h5> <digit.png>; prints one JSON line.
import {
  Detector,
  GpuContext,
  Tensor,
  loadImage,
  loadKerasModel,
  ops,
  type Conv2dAttrs,
  type Detection,
  type DetectResult,
  type KerasInfo,
  type LoadedModel,
} from 'webgpu-cnn';

interface Report {
  detections: string[];
  digit: number;
  probabilitySum: number;
  conv: number[];
}

/** The bundled Yolo-Fastest on one image: class names of what it found. */
async function detect(image: string): Promise<string[]> {
  const detector = await Detector.load();
  try {
    const result: DetectResult = await detector.detect(image, { thresh: 0.5 });
    return result.detections.map((d: Detection) => d.className);
  } finally {
    detector.dispose();
  }
}

/** A Keras MNIST model on a 28×28 digit: the most likely class and the sum of the probabilities. */
async function classifyDigit(ctx: GpuContext, modelFile: string, digit: string): Promise<[number, number]> {
  const loaded: LoadedModel<KerasInfo> = await loadKerasModel(modelFile, { ctx });
  try {
    const x = await loadImage(digit, { width: 28, height: 28, channels: 1 });
    const probs = await loaded.model.predict(x.map((v) => v / 255));
    const best = probs.indexOf(Math.max(...probs));
    return [best, probs.reduce((s, p) => s + p, 0)];
  } finally {
    loaded.model.dispose();
  }
}

/** Eager ops: a 3×3 box filter over a 4×4 ramp with 'same' padding, read back. */
async function eagerConv(ctx: GpuContext): Promise<number[]> {
  const x = Tensor.fromArray(
    ctx,
    Float32Array.from({ length: 16 }, (_, i) => i),
    [1, 4, 4, 1],
  );
  const w = Tensor.fromArray(ctx, new Float32Array(9).fill(1), [3, 3, 1, 1]);
  const attrs: Conv2dAttrs = { padding: 'same' };
  const y = await ops.conv2d(x, w, null, attrs);
  try {
    return Array.from(await y.read());
  } finally {
    for (const t of [x, w, y]) t.dispose();
  }
}

async function main(): Promise<void> {
  const [image, modelFile, digit] = process.argv.slice(2);
  if (!image || !modelFile || !digit) throw new Error('usage: consumer <image> <keras model> <digit.png>');
  const detections = await detect(image);
  const ctx = await GpuContext.create();
  try {
    const [best, probabilitySum] = await classifyDigit(ctx, modelFile, digit);
    const report: Report = { detections, digit: best, probabilitySum, conv: await eagerConv(ctx) };
    console.log(JSON.stringify(report));
  } finally {
    ctx.dispose();
  }
}

await main();
