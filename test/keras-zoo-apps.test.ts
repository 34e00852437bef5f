// @node-only: every keras.applications family of test/fixtures/keras-zoo/apps/ (small variants made with
// real Keras 3.15 through the public constructors, logits heads; see its README), in every format
// committed (.keras, and the legacy .h5 for at least one model per family): loaded, run on the stored
// batch of 2, and compared with Keras's predict to 1e-4 of the output's max. Prints the max per file.
// Where Keras's own float32 output is that far from the exact answer (InceptionV3: a 1e-6 change of the
// input moves its output by 7e-4), test/fixtures/keras-zoo-f64/ holds the same model run by Keras in float64
// (scripts/keras-fixtures/float64_reference.py), and the loader must be within 1e-4 of that instead.
import { existsSync } from 'node:fs';
import { suite } from 'uvu';
import { parseNpy } from '../src/io/npy.js';
import { loadKerasModel } from '../src/models/keras-model.js';
import { fixtureBytes, fixtureJson } from './fixtures.js';
import { closeness, withGpu } from './harness.js';

const DIR = 'test/fixtures/keras-zoo/apps';
const F64 = 'test/fixtures/keras-zoo-f64';
interface App {
  input_shape: number[];
  output_shape: number[];
  files: Record<string, number>;
}
// The fixtures are committed separately from this test; without them there is nothing to compare.
const manifest = existsSync(`${DIR}/manifest.json`)
  ? await fixtureJson<{ models: Record<string, App> }>(`${DIR}/manifest.json`)
  : { models: {} };
const only = process.env.ZOO_ONLY?.split(',');

const test = suite('keras-zoo applications (real Keras 3.15)');
const gpu = withGpu(test);
const TOL = 1e-4;
const npy = async (name: string) => parseNpy(await fixtureBytes(`${DIR}/${name}`), name).data;
const report: string[] = [];

for (const [name, app] of Object.entries(manifest.models)) {
  if (only && !only.includes(name)) continue;
  for (const ext of ['keras', 'h5']) {
    const file = `${name}.${ext}`;
    if (!(file in app.files) || !existsSync(`${DIR}/${file}`)) continue;
    test(file, async () => {
      const started = performance.now();
      const { model } = await loadKerasModel(`${DIR}/${file}`, { ctx: await gpu() });
      try {
        const y = await model.predict(await npy(`${name}.input.npy`), app.input_shape[0]);
        const e = closeness(y, await npy(`${name}.output.npy`));
        const exact = existsSync(`${F64}/${name}.output64.npy`)
          ? closeness(y, parseNpy(await fixtureBytes(`${F64}/${name}.output64.npy`)).data)
          : undefined;
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const f64 = exact ? ` (float64 Keras: ${exact.relative.toExponential(1)})` : '';
        report.push(`${file} ${e.relative.toExponential(1)}${f64} in ${seconds} s`);
        const worst = Math.min(e.relative, exact?.relative ?? Infinity);
        if (!(worst <= TOL))
          throw new Error(
            `${file}: max rel error ${e.relative.toExponential(2)} (abs ${e.maxAbs.toExponential(2)}) > ${TOL}`,
          );
      } finally {
        model.dispose();
      }
    });
  }
}

test.after(() => console.log(`max relative error (load + run time) per file:\n  ${report.join('\n  ')}`));
test.run();
