// Images in and out of tensors: PNG (upng-js) and JPEG (MozJPEG, see jpeg.ts) decoding, Pillow-exact nearest and
// bilinear resizing (what Keras's load_img does), center crops, and HWC float conversion.
import UPNG from 'upng-js';
import { ModelFileError } from './errors.js';
import { decodeJpeg } from './jpeg.js';
import { readBytes, sourceName, type ByteSource } from './source.js';
import { checkImageSize, checkPngChunks, isJpeg, isPng } from './image-header.js';
import { UsageError } from '../errors.js';

/** 8-bit RGBA pixels, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export type Interpolation = 'nearest' | 'bilinear';

/** Whether `x` is a decoded image (rather than a path, URL, Blob or encoded bytes). */
export function isRgbaImage(x: unknown): x is RgbaImage {
  return (
    typeof x === 'object' &&
    x !== null &&
    !ArrayBuffer.isView(x) &&
    !(x instanceof ArrayBuffer) &&
    !(x instanceof URL) &&
    'data' in x &&
    'width' in x &&
    'height' in x
  );
}

export interface DecodeOptions {
  /** For messages when the source is bytes. */
  name?: string;
  /** Refuse images with more pixels than this, from the header, before decoding (default 100 million). */
  maxPixels?: number;
  /**
   * 'stb': decode JPEGs exactly as stb_image does (jpeg-stb.ts), what Darknet-style preprocessing wants;
   * 'mozjpeg' (default): libjpeg-turbo's decoder, as Keras (Pillow) sees them.
   */
  jpeg?: 'mozjpeg' | 'stb';
}

/**
 * Decodes a PNG or JPEG from a path, URL, File/Blob or bytes; anything else, a damaged file, or an image
 * over `maxPixels` fails naming the file. A string as second argument is the name (older signature).
 */
export async function decodeImage(source: ByteSource, options: DecodeOptions | string = {}): Promise<RgbaImage> {
  const opts = typeof options === 'string' ? { name: options } : options;
  const name = opts.name ?? sourceName(source, 'image');
  const bytes = await readBytes(source, name);
  checkImageSize(bytes, name, opts.maxPixels);
  try {
    if (isPng(bytes)) {
      checkPngChunks(bytes, name);
      const png = UPNG.decode(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
      const rgba = new Uint8Array(UPNG.toRGBA8(png)[0] ?? new ArrayBuffer(0));
      if (!png.width || !png.height || rgba.length !== png.width * png.height * 4)
        throw new Error('the image data does not fill the image');
      return { width: png.width, height: png.height, data: rgba };
    }
  } catch (e) {
    if (e instanceof ModelFileError) throw e;
    throw new ModelFileError(name, `image does not decode: ${(e as Error)?.message || 'damaged PNG data'}`);
  }
  if (isJpeg(bytes)) {
    return opts.jpeg === 'stb' ? (await import('./jpeg-stb.js')).decodeJpegStb(bytes, name) : decodeJpeg(bytes, name);
  }
  throw new ModelFileError(name, 'is not a PNG or JPEG image');
}

/** From a browser ImageData (canvas getImageData), or anything with the same fields. */
export function fromImageData(image: { width: number; height: number; data: ArrayLike<number> }): RgbaImage {
  return { width: image.width, height: image.height, data: Uint8Array.from(image.data) };
}

/**
 * Pillow's Image.resize: 'nearest' samples source pixel floor((x + 0.5)·in/out); 'bilinear' is
 * Pillow's separable triangle filter, widened when shrinking (so it antialiases), rounded to 8 bits
 * after each pass as Pillow does.
 */
export function resizeImage(
  img: RgbaImage,
  width: number,
  height: number,
  interpolation: Interpolation = 'nearest',
): RgbaImage {
  if (width === img.width && height === img.height) return img;
  if (interpolation === 'nearest') {
    const out = new Uint8Array(width * height * 4);
    const sx = img.width / width,
      sy = img.height / height;
    for (let y = 0; y < height; y++) {
      const iy = Math.min(Math.floor((y + 0.5) * sy), img.height - 1);
      for (let x = 0; x < width; x++) {
        const ix = Math.min(Math.floor((x + 0.5) * sx), img.width - 1);
        out.set(img.data.subarray((iy * img.width + ix) * 4, (iy * img.width + ix) * 4 + 4), (y * width + x) * 4);
      }
    }
    return { width, height, data: out };
  }
  const horizontal = resamplePass(img.data, img.width, img.height, width, true);
  return { width, height, data: resamplePass(horizontal, width, img.height, height, false) };
}

/** One Pillow resampling pass along x (horizontal) or y, with the bilinear (triangle) filter. */
function resamplePass(src: Uint8Array, w: number, h: number, outSize: number, horizontal: boolean): Uint8Array {
  const inSize = horizontal ? w : h;
  if (inSize === outSize) return src;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // the triangle's support is 1
  const out = new Uint8Array(horizontal ? outSize * h * 4 : w * outSize * 4);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const weights: number[] = [];
    let total = 0;
    for (let i = lo; i < hi; i++) {
      const t = Math.abs((i - center + 0.5) / filterScale);
      const wgt = t < 1 ? 1 - t : 0;
      weights.push(wgt);
      total += wgt;
    }
    const lines = horizontal ? h : w;
    for (let line = 0; line < lines; line++) {
      for (let ch = 0; ch < 4; ch++) {
        let acc = 0;
        for (let i = lo; i < hi; i++) {
          const idx = horizontal ? (line * w + i) * 4 + ch : (i * w + line) * 4 + ch;
          acc += src[idx] * weights[i - lo];
        }
        const v = Math.round(acc / (total || 1));
        const at = horizontal ? (line * outSize + o) * 4 + ch : (o * w + line) * 4 + ch;
        out[at] = v < 0 ? 0 : v > 255 ? 255 : v;
      }
    }
  }
  return out;
}

/** The central width×height region (Keras's crop after a resize of the shorter side). */
export function centerCrop(img: RgbaImage, width: number, height: number): RgbaImage {
  if (width > img.width || height > img.height)
    throw new UsageError(`cannot crop ${width}×${height} from a ${img.width}×${img.height} image`);
  const x0 = Math.floor((img.width - width) / 2),
    y0 = Math.floor((img.height - height) / 2);
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    out.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + width) * 4), y * width * 4);
  }
  return { width, height, data: out };
}

/** Resizes the shorter side to `size` keeping the aspect ratio, then crops the center size×size. */
export function resizeAndCenterCrop(
  img: RgbaImage,
  size: number,
  interpolation: Interpolation = 'bilinear',
): RgbaImage {
  const s = size / Math.min(img.width, img.height);
  const resized = resizeImage(
    img,
    Math.max(size, Math.round(img.width * s)),
    Math.max(size, Math.round(img.height * s)),
    interpolation,
  );
  return centerCrop(resized, size, size);
}

/**
 * HWC float values 0…255 with 3 (RGB) or 1 channel; one channel is Pillow's 'L' conversion
 * (ITU-R 601 luma in 16-bit fixed point, rounded), as load_img(color_mode='grayscale') gives.
 */
export function imageToArray(img: RgbaImage, channels: 1 | 3 = 3): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * channels);
  const d = img.data;
  for (let i = 0; i < n; i++) {
    if (channels === 1) {
      out[i] = (d[4 * i] * 19595 + d[4 * i + 1] * 38470 + d[4 * i + 2] * 7471 + 0x8000) >> 16;
    } else {
      out[3 * i] = d[4 * i];
      out[3 * i + 1] = d[4 * i + 1];
      out[3 * i + 2] = d[4 * i + 2];
    }
  }
  return out;
}

/** Keras's load_img + img_to_array: decode, resize to width×height, HWC floats 0…255. */
export async function loadImage(
  source: ByteSource | RgbaImage,
  options: { width?: number; height?: number; channels?: 1 | 3; interpolation?: Interpolation; name?: string } = {},
): Promise<Float32Array> {
  const img = isRgbaImage(source) ? source : await decodeImage(source, options.name);
  const sized = resizeImage(
    img,
    options.width ?? img.width,
    options.height ?? img.height,
    options.interpolation ?? 'nearest',
  );
  return imageToArray(sized, options.channels ?? 3);
}

/** A browser image source (ImageBitmap, canvas, <img>, a <video> frame) drawn to an RGBA image. */
export function fromImageSource(source: CanvasImageSource & { width?: number; height?: number }): RgbaImage {
  const el = source as {
    naturalWidth?: number;
    naturalHeight?: number;
    videoWidth?: number;
    videoHeight?: number;
    width: number;
    height: number;
  };
  const width = el.videoWidth || el.naturalWidth || Number(el.width);
  const height = el.videoHeight || el.naturalHeight || Number(el.height);
  if (typeof OffscreenCanvas === 'undefined') throw new UsageError('fromImageSource needs a browser (OffscreenCanvas)');
  const g = new OffscreenCanvas(width, height).getContext('2d');
  if (!g) throw new Error('no 2D canvas context');
  g.drawImage(source, 0, 0);
  return fromImageData(g.getImageData(0, 0, width, height));
}

export type ImageFormat = 'png' | 'jpeg';

/** The format a file name asks for by its extension (.png, .jpg, .jpeg); anything else is refused by name. */
export function imageFormatOf(name: string): ImageFormat {
  if (/\.png$/i.test(name)) return 'png';
  if (/\.jpe?g$/i.test(name)) return 'jpeg';
  throw new ModelFileError(name, 'cannot write an image with this extension (use .jpg, .jpeg or .png)');
}

/** PNG or JPEG bytes of an image: `target` is the format or a file name whose extension says it. */
export async function encodeImage(img: RgbaImage, target: ImageFormat | string): Promise<Uint8Array> {
  const format = target === 'png' || target === 'jpeg' ? target : imageFormatOf(target);
  if (format === 'png') {
    const buf = img.data.buffer.slice(img.data.byteOffset, img.data.byteOffset + img.data.byteLength) as ArrayBuffer;
    return new Uint8Array(UPNG.encode([buf], img.width, img.height, 0));
  }
  const { encodeJpeg } = await import('./jpeg.js');
  return encodeJpeg(img);
}

/** Writes an image through a temporary file and a rename (no half-written files). */
export async function saveImage(img: RgbaImage, path: string): Promise<void> {
  const { writeFileAtomic } = await import('./write.js');
  await writeFileAtomic(path, await encodeImage(img, path));
}
