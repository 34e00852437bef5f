// Keras's VGG16 (applications/vgg16.py) as an architecture, for its weights-only application files
// (vgg16_weights_tf_dim_ordering_tf_kernels[_notop].h5), which carry no model config.
import type { KerasLayer, KerasModelSpec } from '../io/keras-config.js';
import { UsageError } from '../errors.js';

export interface Vgg16Options {
  includeTop?: boolean;
  /** Without the top: 'avg' or 'max' adds global pooling; none leaves the 4-D block5_pool output. */
  pooling?: 'avg' | 'max' | null;
  /** Input shape without batch; 224×224×3 with the top (fc1 is sized for it). */
  inputShape?: [number, number, number];
  classes?: number;
  /** Multiplies every conv's filters and fc1/fc2's units (like MobileNet's alpha); 1 is Keras's VGG16. */
  width?: number;
}

const BLOCKS = [
  [64, 2],
  [128, 2],
  [256, 3],
  [512, 3],
  [512, 3],
] as const;

export function vgg16Architecture(options: Vgg16Options = {}): KerasModelSpec {
  const includeTop = options.includeTop ?? true;
  const inputShape = options.inputShape ?? [224, 224, 3];
  if (includeTop && (inputShape[0] !== 224 || inputShape[1] !== 224)) {
    throw new UsageError(`VGG16 with its top needs a 224×224 input, got ${inputShape[0]}×${inputShape[1]}`);
  }
  const width = options.width ?? 1;
  const scaled = (n: number) => Math.max(1, Math.round(n * width));
  const layers: KerasLayer[] = [];
  let previous = 'input_1';
  const add = (className: string, name: string, config: Record<string, unknown>) => {
    layers.push({
      className,
      name,
      config: { name, ...config },
      inbound: className === 'InputLayer' ? [] : [previous],
      scope: [],
    });
    previous = name;
  };
  add('InputLayer', 'input_1', { batch_input_shape: [null, ...inputShape] });
  BLOCKS.forEach(([filters, convs], b) => {
    for (let i = 1; i <= convs; i++) {
      add('Conv2D', `block${b + 1}_conv${i}`, {
        filters: scaled(filters),
        kernel_size: [3, 3],
        padding: 'same',
        activation: 'relu',
      });
    }
    add('MaxPooling2D', `block${b + 1}_pool`, { pool_size: [2, 2], strides: [2, 2] });
  });
  if (includeTop) {
    add('Flatten', 'flatten', {});
    add('Dense', 'fc1', { units: scaled(4096), activation: 'relu' });
    add('Dense', 'fc2', { units: scaled(4096), activation: 'relu' });
    add('Dense', 'predictions', { units: options.classes ?? 1000, activation: 'softmax' });
  } else if (options.pooling === 'avg') {
    add('GlobalAveragePooling2D', 'global_average_pooling2d', {});
  } else if (options.pooling === 'max') {
    add('GlobalMaxPooling2D', 'global_max_pooling2d', {});
  }
  return { name: 'vgg16', layers, inputs: ['input_1'], outputs: [previous] };
}
