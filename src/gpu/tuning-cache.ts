// The tuning cache: the tile variant chosen per shape class, keyed by the adapter's description, in
// a JSON file in Node ($WEBGPU_CNN_TUNING or ~/.cache/webgpu-cnn/tuning.json) and in localStorage in
// browsers. Written by the tuner (src/tune/tuner.ts), read when a GpuContext is created.
import { isNode } from '../env.js';
import type { TileVariant } from './dispatch.js';

export type TuningTable = Record<string, TileVariant>;

type Store = Record<string, TuningTable>;

async function cacheFile(): Promise<string> {
  const [os, path] = await Promise.all([import(/* @vite-ignore */ 'node:os'), import(/* @vite-ignore */ 'node:path')]);
  return process.env.WEBGPU_CNN_TUNING ?? path.join(os.homedir(), '.cache', 'webgpu-cnn', 'tuning.json');
}

const STORAGE_KEY = 'webgpu-cnn-tuning';

async function readStore(): Promise<Store> {
  try {
    if (!isNode) return JSON.parse(globalThis.localStorage?.getItem(STORAGE_KEY) ?? '{}') as Store;
    const fs = await import(/* @vite-ignore */ 'node:fs');
    const file = await cacheFile();
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Store) : {};
  } catch {
    return {}; // a damaged cache is ignored (and rewritten by the next tune)
  }
}

/** The cached table for this adapter ({} when none). */
export async function loadTuning(adapter: string): Promise<TuningTable> {
  return (await readStore())[adapter] ?? {};
}

/** Merges `table` into the cache for this adapter; returns where it went. */
export async function saveTuning(adapter: string, table: TuningTable): Promise<string> {
  const store = await readStore();
  store[adapter] = { ...store[adapter], ...table };
  if (!isNode) {
    globalThis.localStorage?.setItem(STORAGE_KEY, JSON.stringify(store));
    return `localStorage['${STORAGE_KEY}']`;
  }
  const [fs, path] = await Promise.all([import(/* @vite-ignore */ 'node:fs'), import(/* @vite-ignore */ 'node:path')]);
  const file = await cacheFile();
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(store, null, 2));
  fs.renameSync(`${file}.tmp`, file);
  return file;
}
