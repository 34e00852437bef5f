// Keras's imagenet_utils: preprocess_input (caffe / tf / torch) and decode_predictions.
import classIndex from '../../assets/imagenet_class_index.json';
import { UsageError } from '../errors.js';

export type PreprocessMode = 'caffe' | 'tf' | 'torch';

const CAFFE_MEAN_BGR = [103.939, 116.779, 123.68];
const TORCH_MEAN = [0.485, 0.456, 0.406];
const TORCH_STD = [0.229, 0.224, 0.225];

/**
 * `x` is NHWC (or HWC) RGB in 0…255, as load_img gives. 'caffe' (VGG16, ResNet50): flip to BGR and
 * subtract the ImageNet mean, no scaling. 'tf': x/127.5 − 1. 'torch': x/255, then per-channel
 * (x − mean)/std in RGB. Returns a new array.
 */
export function preprocessInput(x: Float32Array, mode: PreprocessMode = 'caffe'): Float32Array {
  if (x.length % 3) throw new UsageError(`preprocessInput: ${x.length} values are not whole RGB pixels`);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i += 3) {
    for (let c = 0; c < 3; c++) {
      const v = x[i + c];
      if (mode === 'caffe') out[i + 2 - c] = v - CAFFE_MEAN_BGR[2 - c];
      else if (mode === 'tf') out[i + c] = v / 127.5 - 1;
      else out[i + c] = (v / 255 - TORCH_MEAN[c]) / TORCH_STD[c];
    }
  }
  return out;
}

export interface Prediction {
  wnid: string;
  label: string;
  probability: number;
  classIndex: number;
}

const CLASSES = classIndex as unknown as Record<string, [string, string]>;

/** The top `top` classes of each row of (N, 1000) probabilities, highest first, as Keras returns them. */
export function decodePredictions(probs: Float32Array, top = 5): Prediction[][] {
  if (probs.length % 1000) {
    throw new UsageError(`decodePredictions expects a batch of 1000-class rows, got ${probs.length} values`);
  }
  const rows: Prediction[][] = [];
  for (let r = 0; r < probs.length / 1000; r++) {
    const row = probs.subarray(r * 1000, (r + 1) * 1000);
    const order = Array.from(row.keys()).sort((a, b) => row[b] - row[a] || a - b);
    rows.push(
      order
        .slice(0, top)
        .map((i) => ({ wnid: CLASSES[i][0], label: CLASSES[i][1], probability: row[i], classIndex: i })),
    );
  }
  return rows;
}
