// @node-only (large generated weights). The eleven cfgs of AlexeyAB's cfg/ in test/fixtures/darknet-zoo/, each
// with its exact-size generated weights (size and sha256 as the fixtures' README records them): every head
// against the tensors real AlexeyAB Darknet computed from the same weights and input (before and after the
// head layer's own activations), and every layer's min/max/mean/mean|x| against Darknet's stats.tsv. Then
// every cfg with its widths divided by 8 (generated weights, no Darknet) layer by layer against the
// independent float64 forward pass in darknet-reference.ts. ZOO_FULL=1 also runs the float64 pass on the
// full-width models (minutes).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDarknet } from '../src/io/darknet/network.js';
import { parseNpy } from '../src/io/npy.js';
import { Model } from '../src/graph/model.js';
import { activateHead } from '../src/models/yolo/yolo.js';
import { darknetWeights } from './darknet-writer.js';
import { referenceForward, toNhwc } from './darknet-reference.js';
import { assertClose, randomArray, withGpu } from './harness.js';

const test = suite('darknet zoo vs AlexeyAB darknet');
const gpu = withGpu(test);
const ZOO = 'test/fixtures/darknet-zoo';

interface ZooModel {
  name: string;
  size: [number, number];
  gain: number;
  bytes: number;
  sha256: string;
}

// From test/fixtures/darknet-zoo/README.md §1 (seed 7 for all).
const MODELS: ZooModel[] = [
  {
    name: 'yolov4',
    size: [96, 64],
    gain: 1.5,
    bytes: 257717640,
    sha256: 'fe9e59d8cb3862d9556c48c30519c46fa0bcf3015680b7ab00f3fc97aa2d4325',
  },
  {
    name: 'yolov4-tiny',
    size: [128, 96],
    gain: 2,
    bytes: 24251276,
    sha256: '73aea148b811363bef08639bf60e256d8fa4d43d5ff643831cad9ca051b0a0ae',
  },
  {
    name: 'yolov4-tiny-3l',
    size: [96, 64],
    gain: 2,
    bytes: 25336200,
    sha256: 'a2b8b0eb9014c8c8c0ae12dc2471256769b9a26fab0507395e251778c246558a',
  },
  {
    name: 'yolov4-csp',
    size: [96, 64],
    gain: 1.45,
    bytes: 211944840,
    sha256: '9e2be220c70f175d58fb5d2fc959487201c5256f5d3544b119749834b9ed732a',
  },
  {
    name: 'yolov4x-mish',
    size: [96, 64],
    gain: 1.45,
    bytes: 399388168,
    sha256: '0fc8a76d82e927741d071b5dc8357412b80df4b3735dfc1af5ef6ea8400fb575',
  },
  {
    name: 'yolov7-tiny',
    size: [96, 64],
    gain: 1.75,
    bytes: 24967560,
    sha256: '690e4b41b4f3fa0436f63ab4318d03e54a17f00a5995fef0baf2e57e4af22634',
  },
  {
    name: 'yolov7',
    size: [96, 64],
    gain: 2.45,
    bytes: 147898248,
    sha256: 'f90b3571e44ff0e3e20c22c79e167261ae625d6166e51bcc79109ffa761cfe8c',
  },
  {
    name: 'yolov3-spp',
    size: [96, 64],
    gain: 1,
    bytes: 252209544,
    sha256: '789e0e6886a2aa0eec0c7b1d16d88662ac1c183cfbdd6804f44195b31454fa39',
  },
  {
    name: 'yolov2',
    size: [128, 96],
    gain: 2,
    bytes: 203934264,
    sha256: '8fcaad174d990bf406fa1acd67c6eae6ba14187edf3f7a5538ee5a4b1cd25309',
  },
  {
    name: 'yolov2-tiny',
    size: [128, 96],
    gain: 2,
    bytes: 44948600,
    sha256: '8eb46a63b56b5627bc374d5594da14ab199c096bd99db2b152768bd34ecabcac',
  },
  {
    name: 'yolov2-voc',
    size: [128, 96],
    gain: 2,
    bytes: 202704264,
    sha256: '37f8e6e14d102088362f976558f449d0ceb8854276fe5c1b390afac77278cb8f',
  },
];

/** Head tensors against Darknet's: max error over max |Darknet| (float32 against Darknet's float32). */
const HEAD_TOL = 1e-4;
/** Layer statistics as stats.tsv prints them (6 significant digits), relative to the layer's max |x|. */
const STATS_TOL = 1e-4;
/** Every layer against float64. */
const REF_TOL = 1e-4;

const npy = (path: string) => parseNpy(new Uint8Array(readFileSync(path)), path);
const layerIndex = (node: string) => Number(/^(\d+)_/.exec(node)?.[1] ?? -1);

/** The input Darknet ran (CHW) as NHWC, checked to be randomArray(W·H·3, 3, 0, 1) read as HWC. */
function zooInput([w, h]: [number, number]): Float32Array {
  const chw = npy(`${ZOO}/input-${w}x${h}.npy`);
  const nhwc = Float32Array.from(toNhwc({ c: 3, h, w, d: chw.data }));
  assert.equal(Array.from(nhwc.subarray(0, 64)), Array.from(randomArray(w * h * 3, 3, 0, 1).subarray(0, 64)));
  return nhwc;
}

interface Stat {
  layer: number;
  type: string;
  c: number;
  h: number;
  w: number;
  min: number;
  max: number;
  mean: number;
  meanAbs: number;
}

function readStats(model: string): Stat[] {
  return readFileSync(`${ZOO}/synthetic/${model}/stats.tsv`, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [layer, type, c, h, w, min, max, mean, meanAbs] = line.split('\t');
      return {
        layer: Number(layer),
        type,
        c: Number(c),
        h: Number(h),
        w: Number(w),
        min: Number(min),
        max: Number(max),
        mean: Number(mean),
        meanAbs: Number(meanAbs),
      };
    });
}

function statsOf(d: ArrayLike<number>): { min: number; max: number; mean: number; meanAbs: number } {
  let min = Infinity,
    max = -Infinity,
    sum = 0,
    abs = 0;
  for (let i = 0; i < d.length; i++) {
    min = Math.min(min, d[i]);
    max = Math.max(max, d[i]);
    sum += d[i];
    abs += Math.abs(d[i]);
  }
  return { min, max, mean: sum / d.length, meanAbs: abs / d.length };
}

export const results: Record<string, { heads: number; outs: number; stats: number; layers: number; ms: number }> = {};

for (const m of MODELS) {
  const at = m.size.join('×');
  test(`${m.name}: ${m.bytes}-byte weights; heads and per-layer stats match AlexeyAB Darknet at ${at}`, async () => {
    const t0 = performance.now();
    const cfgText = readFileSync(`${ZOO}/cfg/${m.name}.cfg`, 'utf8');
    const weights = darknetWeights(cfgText, 7, { kernelGain: m.gain });
    assert.is(weights.length, m.bytes);
    assert.is(createHash('sha256').update(weights).digest('hex'), m.sha256, 'the writer makes the file Darknet ran');
    const net = buildDarknet(cfgText, `${m.name}.cfg`, { bytes: weights, file: `${m.name}.weights` }, m.size);
    const layers = [...new Set(net.graph.nodes.map((n) => n.source?.layer).filter((n): n is string => !!n))];
    const model = await Model.create(await gpu(), net, { keep: layers, winograd: false });
    try {
      const r = await model.run(zooInput(m.size), { intermediates: layers });
      let heads = 0,
        outs = 0,
        stats = 0;
      net.heads.forEach((head, i) => {
        const tag = `L${String(head.layer).padStart(3, '0')}`;
        const raw = npy(`${ZOO}/synthetic/${m.name}/${tag}.in.npy`);
        const [c, h, w] = raw.shape;
        assert.equal(r.shapes[i], [1, h, w, c], `${tag} shape`);
        heads = Math.max(
          heads,
          assertClose(r.outputs[i], toNhwc({ c, h, w, d: raw.data }), HEAD_TOL, `${m.name} ${tag}.in`, 'normalized')
            .normalized,
        );
        const out = npy(`${ZOO}/synthetic/${m.name}/${tag}.out.npy`);
        // [yolo] outputs are (C, H, W); [region] outputs are location-major (H, W, num, 5+classes), which is NHWC's
        // order.
        const want = head.kind === 'region' ? out.data : toNhwc({ c, h, w, d: out.data });
        outs = Math.max(
          outs,
          assertClose(activateHead(r.outputs[i], head), want, HEAD_TOL, `${m.name} ${tag}.out`, 'normalized')
            .normalized,
        );
      });
      for (const s of readStats(m.name)) {
        const name = layers.find((l) => layerIndex(l) === s.layer)!;
        const head = net.heads.find((hd) => hd.layer === s.layer);
        const got = r.intermediates.get(name)!;
        assert.equal(got.shape.slice(1), [s.h, s.w, s.c], `layer ${s.layer} shape`);
        const mine = statsOf(head ? activateHead(got.data, head) : got.data);
        const scale = Math.max(Math.abs(s.min), Math.abs(s.max), 1e-6);
        for (const k of ['min', 'max', 'mean', 'meanAbs'] as const) {
          const err = Math.abs(mine[k] - s[k]) / scale;
          stats = Math.max(stats, err);
          assert.ok(
            err <= STATS_TOL,
            `${m.name} layer ${s.layer} (${s.type}) ${k}: ${mine[k]} vs Darknet ${s[k]} ` +
              `(${err.toExponential(2)} of ${scale})`,
          );
        }
      }
      results[m.name] = { heads, outs, stats, layers: layers.length, ms: performance.now() - t0 };
    } finally {
      model.dispose();
    }
  });
}

/** The cfg with every conv's filters divided by `by`, except the convs feeding a [yolo]/[region]. */
export function narrowCfg(cfgText: string, by: number): string {
  const sections = cfgText.split(/^(?=\[)/m);
  return sections
    .map((sec, i) => {
      if (!/^\[(convolutional|conv)\]/.test(sec)) return sec;
      if (/^\[(yolo|region)\]/.test(sections[i + 1] ?? '')) return sec;
      return sec.replace(
        /^(\s*filters\s*=\s*)(\d+)/m,
        (_, k: string, n: string) => `${k}${Math.max(1, Math.round(Number(n) / by))}`,
      );
    })
    .join('');
}

function checkAgainstReference(name: string, cfgText: string, size: [number, number], seed: number, gain: number) {
  return async () => {
    const t0 = performance.now();
    const weights = darknetWeights(cfgText, seed, { kernelGain: gain });
    const net = buildDarknet(cfgText, `${name}.cfg`, { bytes: weights, file: `${name}.weights` }, size);
    const layers = [...new Set(net.graph.nodes.map((n) => n.source?.layer).filter((n): n is string => !!n))];
    const model = await Model.create(await gpu(), net, { keep: layers });
    try {
      const x = randomArray(size[0] * size[1] * 3, 3, 0, 1);
      const nchw = new Float64Array(x.length);
      for (let p = 0; p < size[0] * size[1]; p++)
        for (let c = 0; c < 3; c++) nchw[c * size[0] * size[1] + p] = x[p * 3 + c];
      const ref = referenceForward(cfgText, weights, nchw, [size[1], size[0]]);
      const r = await model.run(x, { intermediates: layers });
      let worst = 0;
      ref.forEach((t, i) => {
        const node = layers.find((l) => layerIndex(l) === i)!;
        const got = r.intermediates.get(node)!;
        const head = net.heads.find((h) => h.layer === i);
        const want = head?.kind === 'region' ? t.d : toNhwc(t);
        const mine = head ? activateHead(got.data, head) : got.data;
        assert.is(mine.length, want.length, `${name} ${node} size`);
        worst = Math.max(worst, assertClose(mine, want, REF_TOL, `${name} ${node}`, 'normalized').normalized);
      });
      results[`${name} (float64)`] = {
        heads: worst,
        outs: 0,
        stats: 0,
        layers: ref.length,
        ms: performance.now() - t0,
      };
    } finally {
      model.dispose();
    }
  };
}

for (const m of MODELS) {
  const cfgText = narrowCfg(readFileSync(`${ZOO}/cfg/${m.name}.cfg`, 'utf8'), 8);
  test(
    `${m.name} with widths / 8: every layer matches the float64 reference`,
    checkAgainstReference(`${m.name}-narrow`, cfgText, m.size, 5, m.gain),
  );
}

if (process.env.ZOO_FULL) {
  for (const m of MODELS) {
    const cfgText = readFileSync(`${ZOO}/cfg/${m.name}.cfg`, 'utf8');
    test(
      `${m.name} full width: every layer matches the float64 reference`,
      checkAgainstReference(m.name, cfgText, m.size, 7, m.gain),
    );
  }
}

test.after(() => {
  const rows = Object.entries(results).map(([k, v]) =>
    k.endsWith('(float64)')
      ? `  ${k}: every layer within ${v.heads.toExponential(1)} (${v.layers} layers, ${(v.ms / 1000).toFixed(1)} s)`
      : `  ${k}: heads ${v.heads.toExponential(1)}, after the head ${v.outs.toExponential(1)}, ` +
        `layer stats ${v.stats.toExponential(1)} (${v.layers} layers, ${(v.ms / 1000).toFixed(1)} s)`,
  );
  console.log(`max error relative to max |reference|:\n${rows.join('\n')}`);
});

test.run();
