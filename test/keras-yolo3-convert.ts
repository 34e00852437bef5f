// A Darknet cfg + weights converted to a keras-yolo3-style Keras model (a Keras 2 full-model .h5 whose outputs
// are the convs before each [yolo]), the way keras-yolo3's convert.py builds it, but with a chosen batch-norm
// epsilon and Darknet's own padding (ZeroPadding2D of size/2 on every side, then a 'valid' conv), so that with
// AlexeyAB's epsilon it computes what Darknet computes. Written from the cfg with the independent readers of
// darknet-writer.ts; used to check that a Keras YOLO run the Darknet way gives the Darknet loader's detections.
import { darknetShapes, readDarknetCfg } from './darknet-writer.js';
import { writeFullModelH5, type LayerWeights } from './keras-writer.js';

interface KerasLayerConfig {
  class_name: string;
  name: string;
  config: Record<string, unknown>;
  inbound_nodes: unknown[];
}

/** Writes the converted model to `path`; returns the output layer names (one per [yolo], in cfg order). */
export async function writeKerasYolo3(
  path: string,
  cfgText: string,
  weights: Uint8Array,
  epsilon: number,
): Promise<string[]> {
  const { net, layers } = readDarknetCfg(cfgText);
  const shapes = darknetShapes(layers, { c: 3, h: Number(net.height), w: Number(net.width) });
  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  let at = 20;
  const take = (n: number) => Float32Array.from({ length: n }, () => ((at += 4), view.getFloat32(at - 4, true)));
  const config: KerasLayerConfig[] = [];
  const arrays = new Map<string, LayerWeights>();
  const add = (cls: string, name: string, cfg: Record<string, unknown>, inputs: string[], w?: LayerWeights) => {
    config.push({
      class_name: cls,
      name,
      config: { name, trainable: true, dtype: 'float32', ...cfg },
      inbound_nodes: [inputs.map((i) => [i, 0, 0, {}])],
    });
    if (w) arrays.set(name, w);
    return name;
  };
  config.push({
    class_name: 'InputLayer',
    name: 'input_1',
    inbound_nodes: [],
    config: {
      batch_input_shape: [null, null, null, 3],
      dtype: 'float32',
      sparse: false,
      ragged: false,
      name: 'input_1',
    },
  });
  const outs: string[] = [];
  const outputs: string[] = [];
  layers.forEach((l, i) => {
    const o = l.opts;
    const prev = i ? outs[i - 1] : 'input_1';
    const ref = (r: string) => outs[Number(r) < 0 ? i + Number(r) : Number(r)];
    switch (l.type) {
      case 'convolutional': {
        const n = Number(o.filters),
          size = Number(o.size),
          stride = Number(o.stride ?? 1);
        const pad = o.pad === '1' ? Math.floor(size / 2) : Number(o.padding ?? 0);
        const c = i ? shapes[i - 1].c : 3;
        const groups = Number(o.groups ?? 1),
          bn = o.batch_normalize === '1';
        if (groups !== 1 && groups !== c)
          throw new Error(`layer ${i}: grouped convs other than depthwise are not converted`);
        const biases = take(n);
        const [scales, mean, variance] = bn ? [take(n), take(n), take(n)] : [];
        const cg = c / groups;
        const oihw = take(n * cg * size * size);
        const hwio = new Float32Array(oihw.length);
        for (let f = 0; f < n; f++)
          for (let k = 0; k < cg; k++)
            for (let y = 0; y < size; y++)
              for (let x = 0; x < size; x++) {
                hwio[((y * size + x) * cg + k) * n + f] = oihw[((f * cg + k) * size + y) * size + x];
              }
        let x = prev;
        if (pad)
          x = add(
            'ZeroPadding2D',
            `pad_${i}`,
            {
              padding: [
                [pad, pad],
                [pad, pad],
              ],
              data_format: 'channels_last',
            },
            [x],
          );
        const common = {
          kernel_size: [size, size],
          strides: [stride, stride],
          padding: 'valid',
          use_bias: !bn,
          activation: 'linear',
          data_format: 'channels_last',
          dilation_rate: [1, 1],
        };
        const bias: LayerWeights = bn ? [] : [{ name: 'bias:0', shape: [n], data: biases }];
        x =
          groups === c && c > 1
            ? add(
                'DepthwiseConv2D',
                `conv_${i}`,
                { ...common, depth_multiplier: 1 },
                [x],
                [{ name: 'depthwise_kernel:0', shape: [size, size, c, 1], data: hwio }, ...bias],
              )
            : add(
                'Conv2D',
                `conv_${i}`,
                { ...common, filters: n, groups: 1 },
                [x],
                [{ name: 'kernel:0', shape: [size, size, c, n], data: hwio }, ...bias],
              );
        if (bn) {
          x = add(
            'BatchNormalization',
            `bn_${i}`,
            { axis: -1, epsilon, momentum: 0.99, center: true, scale: true },
            [x],
            [
              { name: 'gamma:0', shape: [n], data: scales! },
              { name: 'beta:0', shape: [n], data: biases },
              { name: 'moving_mean:0', shape: [n], data: mean! },
              { name: 'moving_variance:0', shape: [n], data: variance! },
            ],
          );
        }
        const act = o.activation ?? 'logistic';
        if (act === 'leaky') x = add('LeakyReLU', `leaky_${i}`, { alpha: 0.1 }, [x]);
        else if (act === 'relu') x = add('ReLU', `relu_${i}`, {}, [x]);
        else if (act !== 'linear') throw new Error(`layer ${i}: activation ${act} is not converted`);
        outs.push(x);
        break;
      }
      case 'route': {
        const from = o.layers.split(',').map(ref);
        if (o.groups && o.groups !== '1') throw new Error(`layer ${i}: route groups are not converted`);
        outs.push(from.length === 1 ? from[0] : add('Concatenate', `concat_${i}`, { axis: -1 }, from));
        break;
      }
      case 'shortcut':
        if ((o.activation ?? 'linear') !== 'linear')
          throw new Error(`layer ${i}: shortcut activation is not converted`);
        outs.push(add('Add', `add_${i}`, {}, [prev, ref(o.from)]));
        break;
      case 'upsample': {
        const s = Number(o.stride ?? 2);
        outs.push(
          add('UpSampling2D', `up_${i}`, { size: [s, s], data_format: 'channels_last', interpolation: 'nearest' }, [
            prev,
          ]),
        );
        break;
      }
      case 'maxpool': {
        const s = Number(o.stride ?? 1),
          size = Number(o.size ?? s);
        outs.push(
          add(
            'MaxPooling2D',
            `pool_${i}`,
            { pool_size: [size, size], strides: [s, s], padding: 'same', data_format: 'channels_last' },
            [prev],
          ),
        );
        break;
      }
      case 'dropout':
        outs.push(prev);
        break;
      case 'yolo':
        outputs.push(prev);
        outs.push(prev);
        break;
      default:
        throw new Error(`layer ${i}: [${l.type}] is not converted`);
    }
  });
  const modelConfig = {
    class_name: 'Functional',
    config: {
      name: 'model',
      layers: config,
      input_layers: [['input_1', 0, 0]],
      output_layers: outputs.map((n) => [n, 0, 0]),
    },
  };
  await writeFullModelH5(
    path,
    modelConfig,
    config.map((c) => c.name),
    arrays,
    { strings: 'fixed', weightNames: 'prefixed', kerasVersion: '2.4.0' },
  );
  return outputs;
}
