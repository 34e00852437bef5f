// The page of `npm run bench -- --peers --browser` (bundled into build/bench-browser/ by scripts/build.mjs,
// opened by bench/browser-peers.ts): the peers rows in one Chromium page, webgpu-cnn and TF.js's WebGPU
// backend on the browser's own adapter, files fetched from the served repository.
import { GpuContext } from '../../src/gpu/context.js';
import {
  type BenchFiles,
  measureRow,
  PEER_LABELS,
  type Peer,
  type PeerRow,
  rowSummary,
  selectWork,
} from '../peer-work.js';
import { loadTfWebgpu, tfGraph } from '../tfjs-peer.js';

async function fetched(path: string): Promise<Response> {
  const response = await fetch(`/${path}`);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response;
}

const bytes = async (path: string) => new Uint8Array(await (await fetched(path)).arrayBuffer());
const httpFiles: BenchFiles = { text: async (path) => (await fetched(path)).text(), bytes, source: bytes };

export interface PageRow {
  adapter: string;
  tfjs: string;
  row: PeerRow;
}

let setUp: Promise<{ ctx: GpuContext; peers: Peer[]; tfjs: string }> | undefined;

/** One row by name, on the page's context and TF.js (both made by the first call). */
async function benchPeerRow(name: string): Promise<PageRow> {
  setUp ??= (async () => {
    const ctx = await GpuContext.create();
    const tf = await loadTfWebgpu(navigator.gpu);
    console.log(`TF.js ${tf.version_core} on backend '${tf.getBackend()}'; webgpu-cnn on ${ctx.description}\n`);
    const peers: Peer[] = [{ name: 'tfjs', label: PEER_LABELS.tfjs, open: async (g) => tfGraph(tf, g) }];
    return { ctx, peers, tfjs: tf.version_core };
  })();
  const { ctx, peers, tfjs } = await setUp;
  const work = selectWork().find((w) => w.name === name);
  if (!work) throw new Error(`no row '${name}'`);
  const row = await measureRow(ctx, work, httpFiles, peers);
  console.log(rowSummary(row, peers));
  return { adapter: ctx.description, tfjs, row };
}

(globalThis as { benchPeerRow?: typeof benchPeerRow }).benchPeerRow = benchPeerRow;
