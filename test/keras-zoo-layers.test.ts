// Every case of test/fixtures/keras-zoo/layers/ (small models made with real Keras 3.15, see its README
// and LAYERS.md), in both formats (.keras and legacy .h5): loaded, run at the fixture's batch, and every
// output and saved intermediate compared with Keras's to 1e-4 of the reference's max (most agree to 1e-6).
import { suite } from 'uvu';
import { parseNpy } from '../src/io/npy.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { fixtureBytes, fixtureJson } from './fixtures.js';
import { closeness, rejects, withGpu } from './harness.js';

const DIR = 'test/fixtures/keras-zoo/layers';
interface Case {
  inputs: number[][];
  outputs: number[][];
  nodes: string[];
}
const manifest = await fixtureJson<{ cases: Record<string, Case> }>(`${DIR}/manifest.json`);

const test = suite('keras-zoo layers (real Keras 3.15)');
const gpu = withGpu(test);
const TOL = 1e-4;
const npy = async (name: string) => parseNpy(await fixtureBytes(`${DIR}/${name}`), name).data;

/** The worst relative error per case and format, printed at the end. */
const report: string[] = [];

for (const [name, c] of Object.entries(manifest.cases)) {
  for (const ext of ['keras', 'h5']) {
    const file = `${name}.${ext}`;
    if (name === 'lambda') {
      test(`${file} is refused, naming the Lambda layer`, async () => {
        await rejects(
          loadKerasModel(await fixtureBytes(`${DIR}/${file}`), { ctx: await gpu(), name: file }),
          /layer 'my_lambda'.*Lambda layer holds arbitrary Python/,
        );
      });
      continue;
    }
    test(file, async () => {
      const ctx = await gpu();
      const { model, info } = await loadKerasModel(await fixtureBytes(`${DIR}/${file}`), {
        ctx,
        name: file,
        keep: c.nodes,
      });
      try {
        const xs = await Promise.all(c.inputs.map((_, i) => npy(`${name}.in${i}.npy`)));
        // A nested model's output is that of its last layer.
        const layerOf = (n: string) => info.spec.nestedOutputs?.[n] ?? n;
        const r = await model.run(xs, { batch: c.inputs[0][0], intermediates: c.nodes.map(layerOf) });
        const checks: [string, Float32Array, number[]][] = [
          ...r.outputs.map((y, i): [string, Float32Array, number[]] => [`out${i}`, y, r.shapes[i]]),
          ...c.nodes.map((n): [string, Float32Array, number[]] => [
            `node.${n}`,
            r.intermediates.get(layerOf(n))!.data,
            r.intermediates.get(layerOf(n))!.shape,
          ]),
        ];
        let worst = 0;
        for (const [what, got, shape] of checks) {
          const want = await npy(`${name}.${what}.npy`);
          const expectedShape = what.startsWith('out') ? c.outputs[Number(what.slice(3))] : undefined;
          if (expectedShape && shape.join() !== expectedShape.join())
            throw new Error(`${file} ${what}: shape [${shape}] != Keras [${expectedShape}]`);
          const e = closeness(got, want);
          if (!(e.relative <= TOL))
            throw new Error(
              `${file} ${what}: max rel error ${e.relative.toExponential(2)} ` +
                `(abs ${e.maxAbs.toExponential(2)}) > ${TOL}`,
            );
          worst = Math.max(worst, e.relative);
        }
        report.push(`${file} ${worst.toExponential(1)}`);
      } finally {
        model.dispose();
      }
    });
  }
}

test.after(() => console.log(`max relative error per file: ${report.join(', ')}`));
test.run();
