// `npm run bench -- --peers`: the same work, with identical weights, through webgpu-cnn, through
// TensorFlow.js's WebGPU backend and through ONNX Runtime Web's WebGPU provider, in one process on
// the same adapter, and through ONNX Runtime for Node's native CPU provider (no adapter at all).
// Each row: warm medians including readback, the ratio peer / ours, and how closely the outputs agree.
// The rows and their measurement: bench/peer-work.ts; in Chromium: bench/browser-peers.ts.
import { readFileSync } from 'node:fs';
import type { GpuContext } from '../src/gpu/context.js';
import { vgg16WeightsFile } from './models.js';
import { loadOrtNative, ortNativeGraph } from './ort-native-peer.js';
import { loadOrtWebgpu, ortGraph } from './ort-peer.js';
import {
  type BenchFiles,
  measureRow,
  PEER_LABELS,
  type Peer,
  type PeerName,
  type PeerRow,
  peerTable,
  rowSummary,
  selectWork,
  type Work,
} from './peer-work.js';
import { loadTfWebgpu, tfGraph } from './tfjs-peer.js';
import { generatedWeights } from './yolo.js';

export { PEER_LABELS, peerCells, type PeerRow } from './peer-work.js';

export const diskFiles: BenchFiles = {
  text: async (path) => readFileSync(path, 'utf8'),
  bytes: async (path) => new Uint8Array(readFileSync(path)),
  source: async (path) => path,
};

/** Writes the generated weight files `rows` read, once (bench/.cache/). */
export async function generateFiles(rows: Work[]): Promise<void> {
  for (const file of new Set(rows.flatMap((w) => w.generated ?? []))) {
    if (file === 'vgg16') await vgg16WeightsFile();
    else generatedWeights(file);
  }
}

async function loadPeers(only?: PeerName): Promise<Peer[]> {
  const { create } = (await import(/* @vite-ignore */ 'webgpu')) as { create: (o: string[]) => GPU };
  const gpu = create([]);
  const peers: Peer[] = [];
  if (!only || only === 'tfjs') {
    const tf = await loadTfWebgpu(gpu);
    console.log(`TF.js ${tf.version_core} on backend '${tf.getBackend()}'`);
    peers.push({ name: 'tfjs', label: PEER_LABELS.tfjs, open: async (g) => tfGraph(tf, g) });
  }
  if (!only || only === 'ort') {
    const ort = await loadOrtWebgpu(gpu);
    console.log(`ONNX Runtime Web ${ort.env.versions.web} with the webgpu execution provider`);
    peers.push({ name: 'ort', label: PEER_LABELS.ort, open: (g) => ortGraph(ort, g) });
  }
  if (!only || only === 'native') {
    const ort = await loadOrtNative();
    console.log(`ONNX Runtime for Node ${ort.env.versions.node ?? ''} with the cpu execution provider`);
    peers.push({ name: 'native', label: PEER_LABELS.native, open: (g) => ortNativeGraph(ort, g) });
  }
  console.log('');
  return peers;
}

/** `only` restricts the run to one peer ('tfjs', 'ort' or 'native'). */
export async function benchPeers(ctx: GpuContext, filter?: string, only?: string): Promise<PeerRow[]> {
  if (only && !(only in PEER_LABELS))
    throw new Error(`unknown peer '${only}' (available: ${Object.keys(PEER_LABELS).join(', ')})`);
  const peers = await loadPeers(only as PeerName | undefined);
  const work = selectWork(filter);
  await generateFiles(work);
  const rows: PeerRow[] = [];
  for (const w of work) {
    const row = await measureRow(ctx, w, diskFiles, peers);
    rows.push(row);
    console.log(rowSummary(row, peers));
  }
  console.log(
    `\n${peerTable(
      rows,
      peers.map((p) => p.name),
    )}`,
  );
  console.log(
    'Warm medians including readback, same process, same adapter, identical weights ' +
      '(the optimized graph; ONNX Runtime gets it as an ONNX file).',
  );
  return rows;
}
