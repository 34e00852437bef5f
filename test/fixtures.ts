// Test data by path relative to the repository root: read from disk in Node, fetched in the browser
// (the browser runner serves the repository at the page's origin).
import { readBytes } from '../src/io/source.js';

export const fixtureBytes = (path: string): Promise<Uint8Array> => readBytes(path);

export async function fixtureText(path: string): Promise<string> {
  return new TextDecoder().decode(await readBytes(path));
}

export async function fixtureJson<T>(path: string): Promise<T> {
  return JSON.parse(await fixtureText(path)) as T;
}

/** Every keras-js file, read up front (from disk in Node, fetched in the browser). */
export const KERAS_JS_DIR = 'test/fixtures/keras-js';
const KERAS_JS_FILES = [
  'activations.json',
  'layers/advanced_activations.json',
  'layers/convolutional/Conv2D.json',
  'layers/convolutional/SeparableConv2D.json',
  'layers/convolutional/UpSampling2D.json',
  'layers/convolutional/ZeroPadding2D.json',
  'layers/core/Activation.json',
  'layers/core/Dense.json',
  'layers/core/Flatten.json',
  'layers/merge/Add.json',
  'layers/merge/Concatenate.json',
  'layers/normalization/BatchNormalization.json',
  'layers/pooling/MaxPooling2D.json',
  'layers/pooling/AveragePooling2D.json',
  'layers/pooling/GlobalAveragePooling2D.json',
  'layers/pooling/GlobalMaxPooling2D.json',
];
const kerasJs = new Map<string, unknown>();
export async function loadKerasJs(): Promise<void> {
  await Promise.all(KERAS_JS_FILES.map(async (f) => kerasJs.set(f, await fixtureJson(`${KERAS_JS_DIR}/${f}`))));
}
export function kerasJsCases<T>(file: string): Record<string, T> {
  const cases = kerasJs.get(file);
  if (!cases) throw new Error(`keras-js file ${file} not loaded`);
  return cases as Record<string, T>;
}
