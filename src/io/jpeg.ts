// JPEG through MozJPEG (libjpeg-turbo's decoder, compiled to wasm by Squoosh, packaged as
// @jsquash/jpeg). It upsamples chroma the way libjpeg and stb_image do, so Darknet's and Keras's
// pipelines see within a level or two of the pixels they would; pure-JS decoders that replicate
// chroma drift enough to move detection boxes by pixels.
import { isNode } from '../env.js';
import { ModelFileError } from './errors.js';

type Codec = 'dec' | 'enc';
interface Loaded<F> {
  run: F;
  messages: string[];
}

type DecodeFn = (bytes: ArrayBuffer) => Promise<{ width: number; height: number; data: Uint8ClampedArray }>;
type EncodeFn = (
  img: { width: number; height: number; data: Uint8ClampedArray },
  options: { quality: number },
) => Promise<ArrayBuffer>;

const cache = new Map<Codec, Promise<Loaded<unknown>>>();

async function load<F>(codec: Codec): Promise<Loaded<F>> {
  const messages: string[] = [];
  const mod = codec === 'dec' ? await import('@jsquash/jpeg/decode.js') : await import('@jsquash/jpeg/encode.js');
  // libjpeg reports problems through stderr; keep them for the error message instead.
  const options = { print: (m: string) => messages.push(m), printErr: (m: string) => messages.push(m) };
  if (isNode) {
    const [{ createRequire }, fs] = await Promise.all([
      import(/* @vite-ignore */ 'node:module'),
      import(/* @vite-ignore */ 'node:fs'),
    ]);
    const path = createRequire(import.meta.url).resolve(`@jsquash/jpeg/codec/${codec}/mozjpeg_${codec}.wasm`);
    // init(module, options) exists in the JS; the bundled typings only declare init(options).
    const initWith = mod.init as unknown as (m: WebAssembly.Module, o: object) => Promise<void>;
    await initWith(await WebAssembly.compile(fs.readFileSync(path)), options);
  } else {
    await mod.init(options as never);
  }
  return { run: mod.default as F, messages };
}

function codec<F>(which: Codec): Promise<Loaded<F>> {
  if (!cache.has(which)) cache.set(which, load(which));
  return cache.get(which) as Promise<Loaded<F>>;
}

/** RGBA pixels of a JPEG; a damaged file fails with libjpeg's own diagnosis. */
export async function decodeJpeg(
  bytes: Uint8Array,
  name: string,
): Promise<{ width: number; height: number; data: Uint8Array }> {
  const dec = await codec<DecodeFn>('dec');
  dec.messages.length = 0;
  try {
    // A copy of exactly these bytes (a Node Buffer's .buffer may be a larger shared pool).
    const img = await dec.run(new Uint8Array(bytes).buffer as ArrayBuffer);
    // libjpeg only warns about a truncated file and fills the rest with grey; treat it as damage.
    const truncated = dec.messages.find((m) => /premature end/i.test(m));
    if (truncated) throw new Error(truncated);
    return {
      width: img.width,
      height: img.height,
      data: new Uint8Array(img.data.buffer, img.data.byteOffset, img.data.byteLength),
    };
  } catch (e) {
    const why = dec.messages.length ? dec.messages.join('; ') : (e as Error).message;
    throw new ModelFileError(name, `image does not decode: ${why}`);
  }
}

/** JPEG bytes of an RGBA image. */
export async function encodeJpeg(
  img: { width: number; height: number; data: Uint8Array },
  quality = 90,
): Promise<Uint8Array> {
  const enc = await codec<EncodeFn>('enc');
  const data = new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return new Uint8Array(await enc.run({ width: img.width, height: img.height, data }, { quality }));
}
