// Public API of webgpu-cnn.
export { GpuContext, type KernelTiming } from './gpu/context.js';
export type { DeviceOptions } from './gpu/device.js';
export {
  WebgpuCnnError,
  UsageError,
  ModelFileError,
  LimitError,
  GpuError,
  TensorTooLargeError,
  type FileLocation,
} from './errors.js';
export { Tensor } from './tensor.js';
export * as ops from './eager.js';
export type { OpOptions } from './eager.js';
export type { Activation } from './ops/activation.js';
export type { Conv2dAttrs, Conv2dVariant } from './ops/conv2d.js';
export type { BinaryOp } from './ops/elementwise.js';
export type { Shape } from './ops/grid.js';
export type { Pool2dAttrs } from './ops/pool2d.js';
export type { Padding, PaddingMode, ExplicitPadding } from './ops/padding.js';
export { foldBatchNorm, type BatchNormParams } from './ops/batchnorm.js';

// Graphs and models
export type { Graph, Node, Op } from './graph/ir.js';
export { optimize } from './graph/passes.js';
export {
  Model,
  type ModelOptions,
  type ModelInput,
  type RunOptions,
  type RunResult,
  type LayerTiming,
  type MemoryReport,
} from './graph/model.js';

// Files
export type { ByteSource } from './io/source.js';
export { loadKerasGraph, type KerasLoadOptions, type LoadedKeras, type KerasFormat } from './io/keras.js';
export { parseModelConfig, type KerasModelSpec, type KerasLayer } from './io/keras-config.js';
export { SUPPORTED_LAYERS } from './io/keras-layers.js';
export {
  decodeImage,
  fromImageData,
  fromImageSource,
  resizeImage,
  centerCrop,
  resizeAndCenterCrop,
  imageToArray,
  loadImage,
  type RgbaImage,
  type Interpolation,
  type DecodeOptions,
} from './io/image.js';
export { parseNpy, formatNpy, readNpy, writeNpy, type NpyArray } from './io/npy.js';

// Applications
export { loadKerasModel, type KerasInfo, type KerasModelOptions } from './models/keras-model.js';
export type { LoadedModel, LoaderOptions } from './models/loaded.js';
export { loadDarknetModel, type DarknetInfo, type DarknetModelOptions } from './models/darknet-model.js';
export { vgg16Architecture, type Vgg16Options } from './models/vgg16.js';
export { preprocessInput, decodePredictions, type PreprocessMode, type Prediction } from './models/imagenet.js';

// Transfer learning: codes from a base, a dense head trained on the GPU, saved for Keras
export {
  trainHead,
  type TrainOptions,
  type TrainResult,
  type EpochMetrics,
  type LabelledSet,
} from './train/trainer.js';
export { initHead, type HeadSpec, type HeadWeights, type DenseWeights } from './train/head.js';
export type { OptimizerConfig, OptimizerKind } from './train/optimizer.js';
export { loadCodeBase, computeCodes, codesTensor, codeLength, type CodeBase, type CodeOptions } from './train/codes.js';
export { toTargets, parseLabelNpy, type Targets } from './train/labels.js';
export { headModel, fullModel } from './train/export.js';
export {
  saveKerasModel,
  saveKerasArchive,
  saveKerasH5,
  type SequentialModel,
  type SavedLayer,
} from './io/keras-save.js';

// Darknet / YOLO
export {
  Detector,
  BUNDLED,
  type DetectorOptions,
  type DetectOptions,
  type DetectResult,
  type Detection,
  type KerasYoloOptions,
} from './models/yolo/detector.js';
export {
  buildDarknet,
  type DarknetNetwork,
  type DarknetBuildOptions,
  type DetectionHead,
  type NmsRule,
  type RegionHead,
  type YoloHead,
} from './io/darknet/network.js';
export { darknetLines, darknetOrder, darknetPercent } from './models/yolo/darknet-print.js';
export { kerasYolo3Lines, kerasYolo3Order } from './models/yolo/keras-yolo3.js';
export { letterbox, stretch, type LetterboxResult } from './models/yolo/letterbox.js';
export { drawDetections, classColor } from './models/yolo/draw.js';
export { encodeImage, saveImage } from './io/image.js';
