// Object detection the Darknet way: load a cfg + weights (the bundled Yolo-Fastest by default), decode a
// JPEG as Darknet's stb_image does, letterbox it, run the network, decode the [yolo] / [region] heads and
// suppress per class with the cfg's NMS kind. Or a YOLO exported to Keras keras-yolo3's way (fromKeras),
// run with keras-yolo3's own preprocessing and decoding, or with Darknet's.
import { assetUrl } from '../../assets.js';
import type { LayerTiming, Model } from '../../graph/model.js';
import { ModelFileError } from '../../io/errors.js';
import { decodeImage, isRgbaImage, type RgbaImage } from '../../io/image.js';
import { readText, sourceName, type ByteSource } from '../../io/source.js';
import type { DarknetNetwork } from '../../io/darknet/network.js';
import { loadDarknetModel, type DarknetModelOptions } from '../darknet-model.js';
import { runnable } from '../loaded.js';
import { loadKerasYolo, type KerasYoloOptions, type KerasYoloSetup } from './keras-detector.js';
import { kerasLetterbox, kerasYolo3Detections, kerasYolo3Eval } from './keras-yolo3.js';
import { letterbox as letterboxImage, stretch } from './letterbox.js';
import { nms as suppress } from './nms.js';
import { activateHead, decodeHead, toDetections, type Candidate, type Detection } from './yolo.js';

export type { Detection } from './yolo.js';
export type { KerasYoloOptions } from './keras-detector.js';

/** A path (Node), URL, File/Blob or bytes; cfg and names may also be the text itself. */
export type Source = ByteSource;

/** A cfg and its weights, and the loader's options (input size, ctx, f16 weights, onProgress…). */
export interface DetectorOptions extends DarknetModelOptions {
  cfg: Source;
  weights: Source;
  /** Class names, one per line (coco.names), or the list. */
  names?: Source | string[];
}

export interface DetectOptions {
  /** Darknet's -thresh (objectness and class probability), default 0.5; keras-yolo3's score, default 0.3. */
  thresh?: number;
  /** Darknet's nms threshold (IoU, or DIoU for the cfg's greedynms / diounms), default 0.45. */
  nms?: number;
  /** Letterbox (Darknet's default) or plain stretch resize. */
  letterbox?: boolean;
  /** Per-layer GPU times. */
  profile?: boolean;
}

export interface DetectResult {
  detections: Detection[];
  width: number;
  height: number;
  /** Milliseconds: decode + letterbox, forward pass (incl. readback), yolo decoding + NMS. */
  timings: { preprocessMs: number; inferenceMs: number; postprocessMs: number };
  layers?: LayerTiming[];
}

/** The bundled default: Yolo-Fastest 1.1 (COCO, 320×320), public domain. */
export const BUNDLED = {
  cfg: 'darknet/yolo-fastest-1.1.cfg',
  weights: 'darknet/yolo-fastest-1.1.weights',
  names: 'darknet/coco.names',
};

export class Detector {
  private constructor(
    readonly network: Omit<DarknetNetwork, 'graph' | 'weights'>,
    readonly model: Model,
    readonly names: string[],
    /** A keras-yolo3 model run its own way (fromKeras with preprocess 'keras-yolo3'). */
    readonly keras?: KerasYoloSetup,
  ) {}

  private disposed = false;

  /** Loads a detector; with no options, the bundled Yolo-Fastest. */
  static async load(options: Partial<DetectorOptions> = {}): Promise<Detector> {
    const namesSource = options.names ?? (options.cfg ? undefined : await assetUrl(BUNDLED.names));
    const names = Array.isArray(namesSource)
      ? namesSource
      : namesSource
        ? (await readText(namesSource, 'names')).text
            .split(/\r?\n/)
            .map((s) => s.trim())
            .filter(Boolean)
        : [];
    const cfg = options.cfg ?? (await assetUrl(BUNDLED.cfg));
    const weights = options.weights ?? (await assetUrl(BUNDLED.weights));
    const { model, info } = await loadDarknetModel(cfg, weights, options);
    return new Detector(info, model, names);
  }

  /**
   * A YOLO exported to Keras keras-yolo3's way (an .h5 or .keras whose outputs are the raw head convs), with its
   * anchors and class names. By default it runs as keras-yolo3 does (`preprocess: 'keras-yolo3'`: PIL decoding and
   * bicubic letterbox onto grey 128, its decoding, score 0.3, per-class NMS at 0.45, masks by head count);
   * `preprocess: 'darknet'` runs it as the Darknet loader runs a cfg ([yolo] heads with `masks`).
   */
  static async fromKeras(options: KerasYoloOptions): Promise<Detector> {
    const { graph, weights, network, names, masks, keras } = await loadKerasYolo(options);
    const model = await runnable({ graph, weights }, options, { f16Weights: options.f16Weights });
    const channels = (i: number) => model.outputShapes[i][model.outputShapes[i].length - 1];
    const bad = model.outputShapes.findIndex((_, i) => channels(i) !== masks[i].length * (5 + names.length));
    if (bad >= 0) {
      const c = channels(bad),
        n = masks[bad].length;
      model.dispose();
      throw new ModelFileError(
        sourceName(options.model, 'model'),
        `output ${bad} (${graph.outputs[bad]}) has ${c} channels, ` +
          `but ${n} anchors × (5 + ${names.length} classes) = ${n * (5 + names.length)}`,
      );
    }
    return new Detector(network, model, names, keras);
  }

  /**
   * The network's input for an image: letterboxed (or stretched) HWC floats in 0…1, as Darknet or keras-yolo3 makes it.
   */
  prepare(image: RgbaImage, letterbox = this.network.letterbox): Float32Array {
    const { width, height } = this.network;
    if (this.keras) return kerasLetterbox(image, width, height);
    return (letterbox ? letterboxImage(image, width, height) : stretch(image, width, height)).data;
  }

  /** Raw head outputs (NHWC, before Darknet's logistic) for a prepared input. */
  async forward(
    input: Float32Array,
    profile = false,
  ): Promise<{ outputs: Float32Array[]; shapes: number[][]; layers?: LayerTiming[] }> {
    const r = await this.model.run(input, { profile });
    return { outputs: r.outputs, shapes: r.shapes, layers: r.timings };
  }

  /**
   * Detections in image pixels for a file, encoded bytes, or decoded RGBA image. A JPEG it decodes itself is
   * decoded as stb_image (Darknet) does, so that the network sees Darknet's pixels (keras-yolo3 models: as
   * Pillow does, through libjpeg-turbo).
   */
  async detect(image: ByteSource | RgbaImage, options: DetectOptions = {}): Promise<DetectResult> {
    const thresh = options.thresh ?? (this.keras ? 0.3 : 0.5),
      nms = options.nms ?? 0.45;
    const letterbox = options.letterbox ?? this.network.letterbox;
    const t0 = performance.now();
    const img = isRgbaImage(image) ? image : await decodeImage(image, { jpeg: this.keras ? 'mozjpeg' : 'stb' });
    const input = this.prepare(img, letterbox);
    const t1 = performance.now();
    const { outputs, shapes, layers } = await this.forward(input, options.profile);
    const t2 = performance.now();
    if (this.keras) {
      const boxes = kerasYolo3Eval(outputs, shapes, {
        ...this.keras,
        classes: this.network.heads[0].classes,
        imageW: img.width,
        imageH: img.height,
        score: thresh,
        iou: nms,
      });
      const detections = kerasYolo3Detections(boxes, this.names, img.width, img.height).sort(
        (a, b) => b.score - a.score,
      );
      return {
        detections,
        width: img.width,
        height: img.height,
        layers,
        timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: performance.now() - t2 },
      };
    }
    const geometry = {
      netW: this.network.width,
      netH: this.network.height,
      imageW: img.width,
      imageH: img.height,
      letterbox,
    };
    const candidates: Candidate[] = [];
    this.network.heads.forEach((head, i) =>
      candidates.push(...decodeHead(activateHead(outputs[i], head), shapes[i], head, geometry, thresh)),
    );
    // As detector test: the NMS kind and the class count are the last layer's.
    const classes = this.network.heads[this.network.heads.length - 1].classes;
    const kept = suppress(candidates, classes, nms, this.network.nms);
    const detections = toDetections(kept, this.names, img.width, img.height, thresh);
    const t3 = performance.now();
    return {
      detections,
      width: img.width,
      height: img.height,
      layers,
      timings: { preprocessMs: t1 - t0, inferenceMs: t2 - t1, postprocessMs: t3 - t2 },
    };
  }

  /** Frees the model's GPU memory (and gives back its lease on the shared context, if it took one). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.model.dispose(); // and the lease on the shared context, if the loader took one
  }
}
