// Where the bundled files (assets/) are: beside dist/ in the package, and two levels up from the
// build/<kind>/ bundles of tests and benchmarks.
import { isNode } from './env.js';

const CANDIDATES = ['../assets/', '../../assets/'];

export async function assetUrl(name: string): Promise<URL> {
  const urls = CANDIDATES.map((c) => new URL(c + name, import.meta.url));
  if (!isNode) {
    for (const u of urls) {
      const head = await fetch(u, { method: 'HEAD' }).catch(() => undefined);
      if (head?.ok) return u;
    }
    return urls[0];
  }
  const fs = await import(/* @vite-ignore */ 'node:fs');
  return urls.find((u) => fs.existsSync(u)) ?? urls[0];
}

/** A bundled asset's path on disk (Node only). */
export async function assetPath(name: string): Promise<string> {
  const { fileURLToPath } = await import(/* @vite-ignore */ 'node:url');
  return fileURLToPath(await assetUrl(name));
}
