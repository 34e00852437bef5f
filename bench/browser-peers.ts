// `npm run bench -- --peers --browser`: the rows of --peers in one headless Chromium page (Debian's, on its
// WebGPU adapter: SwiftShader here), webgpu-cnn against TF.js's WebGPU backend. The page is
// bench/browser/peers-page.ts; ONNX Runtime Web is not set up in the page (its wasm files), so TF.js only.
import { launchChromium, serveRepo } from '../scripts/test-browser.mjs';
import type { PageRow } from './browser/peers-page.js';
import { type PeerRow, peerTable, selectWork } from './peer-work.js';
import { generateFiles } from './peers.js';

const PAGE = `<!doctype html><meta charset="utf-8"><title>webgpu-cnn peers</title>
<script type="module" src="/build/bench-browser/peers-page.js"></script>`;

/** Each row in turn in one page (a row that fails is reported and the next runs). */
export async function benchPeersInBrowser(
  filter?: string,
  only?: string,
): Promise<{ adapter: string; rows: PeerRow[] }> {
  if (only && only !== 'tfjs') throw new Error(`--browser runs TF.js only (the page has no '${only}')`);
  const work = selectWork(filter);
  await generateFiles(work); // the page fetches them
  const { server, origin } = await serveRepo({ '/peers.html': PAGE });
  const browser = await launchChromium();
  const rows: PeerRow[] = [];
  let adapter = 'unknown',
    tfjs = '';
  try {
    const page = await browser.context.newPage();
    page.on('console', (m) => console.log(m.text()));
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(`${origin}/peers.html`);
    await page.waitForFunction(() => 'benchPeerRow' in globalThis, undefined, { timeout: 120_000 });
    for (const w of work) {
      try {
        const result = (await page.evaluate(
          (name) => (globalThis as unknown as { benchPeerRow(n: string): Promise<unknown> }).benchPeerRow(name),
          w.name,
        )) as PageRow;
        rows.push(result.row);
        ({ adapter, tfjs } = result);
      } catch (e) {
        console.error(`  ${w.name}: failed in the page (${(e as Error).message.split('\n')[0]})`);
      }
    }
  } finally {
    await browser.close();
    server.close();
  }
  console.log(`\n${peerTable(rows, ['tfjs'])}`);
  console.log(`Warm medians including readback, one Chromium page on ${adapter}, TF.js ${tfjs}, identical weights.`);
  return { adapter, rows };
}
