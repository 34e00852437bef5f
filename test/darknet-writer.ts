// Darknet .weights files in the exact format (header, then per conv: biases, BN scales/mean/variance,
// OIHW kernels), with deterministic values, for cfgs whose real weights are not shipped.
import { writeFileSync } from 'node:fs';
import { rng } from './harness.js';

export interface RefLayer {
  type: string;
  opts: Record<string, string>;
}

/** A minimal independent cfg reader for the reference: sections and raw key=values. */
export function readCfgForReference(text: string): { net: Record<string, string>; layers: RefLayer[] } {
  const sections: RefLayer[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.startsWith('[')) sections.push({ type: line.slice(1, -1), opts: {} });
    else {
      const [k, v] = line.split('=');
      sections[sections.length - 1].opts[k.trim()] = v.trim();
    }
  }
  return { net: sections[0].opts, layers: sections.slice(1) };
}

/** Conv layer parameter counts in file order, following channels through the network. */
export function convShapes(layers: RefLayer[], inC: number): { n: number; c: number; size: number; groups: number; bn: boolean }[] {
  const channels: number[] = [];
  const out: { n: number; c: number; size: number; groups: number; bn: boolean }[] = [];
  layers.forEach((l, i) => {
    const prev = i ? channels[i - 1] : inC;
    const o = l.opts;
    if (l.type === 'convolutional') {
      const n = Number(o.filters);
      out.push({ n, c: prev, size: Number(o.size ?? 1), groups: Number(o.groups ?? 1), bn: o.batch_normalize === '1' });
      channels.push(n);
    } else if (l.type === 'route') {
      channels.push(o.layers.split(',').map((s) => Number(s)).reduce((sum, r) => sum + channels[r < 0 ? i + r : r], 0));
    } else {
      channels.push(prev);
    }
  });
  return out;
}

/** Writes a weights file for `cfgText`; returns its size. Kernels are uniform ±√(3/fan-in). */
export function writeDarknetWeights(path: string, cfgText: string, seed: number): number {
  const { net, layers } = readCfgForReference(cfgText);
  const convs = convShapes(layers, Number(net.channels ?? 3));
  const params = convs.reduce((s, l) => s + l.n + (l.bn ? 3 * l.n : 0) + (l.n * l.c * l.size * l.size) / l.groups, 0);
  const buf = Buffer.alloc(20 + 4 * params);
  buf.writeInt32LE(0, 0);
  buf.writeInt32LE(2, 4);
  buf.writeInt32LE(0, 8);
  buf.writeBigUInt64LE(32013312n, 12);
  const next = rng(seed);
  let at = 20;
  const put = (n: number, lo: number, hi: number) => {
    for (let i = 0; i < n; i++, at += 4) buf.writeFloatLE(lo + (hi - lo) * next(), at);
  };
  for (const l of convs) {
    put(l.n, -0.1, 0.1); // biases (β with BN)
    if (l.bn) {
      put(l.n, 0.8, 1.2); // scales γ
      put(l.n, -0.1, 0.1); // rolling mean
      put(l.n, 0.5, 1.5); // rolling variance
    }
    const fanIn = (l.c / l.groups) * l.size * l.size;
    const a = Math.sqrt(3 / fanIn);
    put((l.n * l.c * l.size * l.size) / l.groups, -a, a);
  }
  writeFileSync(path, buf);
  return buf.length;
}
