// Where the benchmarks keep the weight files they generate once (deterministic weights in each format's
// exact layout, since the real files are not shipped): paths only, so that a page can fetch them too.
// Writing them needs Node: bench/yolo.ts (Darknet) and bench/models.ts (VGG16's Keras .h5).

export const CACHE = 'bench/.cache';

/** The cfgs the benchmarks run with generated weights: the bundled ones and AlexeyAB's from the zoo fixtures. */
export const CFGS = {
  'yolov3.cfg': 'assets/darknet/yolov3.cfg',
  'yolov3-tiny.cfg': 'assets/darknet/yolov3-tiny.cfg',
  'yolov4.cfg': 'test/fixtures/darknet-zoo/cfg/yolov4.cfg',
  'yolov4-tiny.cfg': 'test/fixtures/darknet-zoo/cfg/yolov4-tiny.cfg',
} as const;

export type DarknetCfg = keyof typeof CFGS;
/** A generated file: Darknet weights for one of CFGS, or VGG16's Keras weights. */
export type GeneratedFile = DarknetCfg | 'vgg16';

export function generatedPath(file: GeneratedFile): string {
  return file === 'vgg16'
    ? `${CACHE}/vgg16_generated_weights.h5`
    : `${CACHE}/${file.replace('.cfg', '')}_generated.weights`;
}
