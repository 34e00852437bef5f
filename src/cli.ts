#!/usr/bin/env node
// The `webgpu-cnn` command line.
import { GpuContext } from './gpu/context.js';
import { detect, detectVideo } from './tools/darknet-commands.js';
import { classify, inspect, predict, validate } from './tools/keras-commands.js';
import { runKernelsOnce } from './tools/kernels.js';
import { tuneCommand } from './tools/tune-command.js';

const HELP = `webgpu-cnn — WebGPU CNN inference

Usage: webgpu-cnn <command> [options]

Commands:
  detect [--cfg c.cfg --weights w.weights --names coco.names] img.jpg [more …] [--out path]
              detect objects the Darknet way (letterbox, [yolo] heads, per-class NMS); with no
              model arguments it uses the bundled Yolo-Fastest 1.1 (COCO). Prints Darknet's
              "dog: 61%" lines and "dog 0.61 (x1, y1) (x2, y2)" lines, and writes an annotated
              image next to each input (NAME_detections.jpg) or to --out
              options: --thresh 0.5 --nms 0.45 --size 416 --no-letterbox --profile --f16
  detect-video in.mp4 out.mp4 | frames/ outdir/   [same model options]
              detect frame by frame (video through ffmpeg, or a directory of frames), print each
              frame's boxes and the frames per second, write the annotated video or frames
  classify --model vgg16.h5 a.jpg [b.png …] [--top 5] [--preprocess caffe|tf|torch|none]
              ImageNet top-5 per image, as Keras's decode_predictions prints them
  predict --model m.h5|m.keras input.png|input.npy [--out y.npy] [--preprocess none|unit|caffe|tf|torch]
              run any Keras model on an image or a .npy batch; print the output, write it as .npy
  inspect m.h5|m.keras [--input-shape 224,224,3]
              layers, output shapes and parameter counts, like model.summary()
  validate --model m --input x.npy [--expected y.npy] [--layers refdir/] [--tol 1e-4]
              max abs / relative error per output and per layer against reference .npy files;
              exits 1 over the tolerance (relative to the reference's max abs)
  tune [--model m.h5 …] [--cfg c.cfg …] [--size 416] [--batch 1] [--all]
              time the kernel variants for each shape class of these models (default: yolov3,
              yolov3-tiny, Yolo-Fastest) on this adapter and cache the fastest; later runs on the
              same adapter use them ($WEBGPU_CNN_TUNING or ~/.cache/webgpu-cnn/tuning.json)
  kernels     print the adapter and run every kernel once, with a table of times
  info        print the adapter, its limits and features
  help        this text

Model options: --input-shape H,W,C for inputs of unknown size; --interpolation nearest|bilinear
for image resizing (Keras's load_img default is nearest); --f16 stores conv and dense weights as
f16 (half the memory; sums stay f32; needs the adapter's shader-f16 feature).
validate --f16 reports what that costs against the reference outputs.
`;

async function info(): Promise<void> {
  const ctx = await GpuContext.create();
  try {
    console.log(`adapter: ${ctx.description}`);
    console.log(`features: ${[...ctx.device.features].sort().join(', ')}`);
    const l = ctx.device.limits;
    for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize'] as const) {
      console.log(`${k}: ${l[k]}`);
    }
  } finally {
    ctx.dispose();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'kernels': await runKernelsOnce(); return 0;
    case 'info': await info(); return 0;
    case 'detect': return detect(argv.slice(1));
    case 'tune': return tuneCommand(argv.slice(1));
    case 'detect-video': return detectVideo(argv.slice(1));
    case 'classify': return classify(argv.slice(1));
    case 'predict': return predict(argv.slice(1));
    case 'inspect': return inspect(argv.slice(1));
    case 'validate': return validate(argv.slice(1));
    case undefined: case 'help': case '--help': case '-h': console.log(HELP); return 0;
    default:
      console.error(`webgpu-cnn: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`webgpu-cnn: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
