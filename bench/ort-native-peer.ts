// ONNX Runtime for Node on its CPU execution provider as a peer: native code on both cores, what a
// Node user without a GPU would pick, and so the honest ceiling on this machine. It runs the same
// exported ONNX graph as ORT-Web (bench/onnx-export.ts). Dev-only. Its package ships the CPU build;
// its install script only fetches optional GPU files from outside, and .npmrc skips it.
import type { WeightedGraph } from '../src/graph/ir.js';
import { toOnnx } from './onnx-export.js';
import { type OrtRunner, ortRunner } from './ort-peer.js';

type OrtNode = typeof import('onnxruntime-node');

export async function loadOrtNative(): Promise<OrtNode> {
  return (await import(/* @vite-ignore */ 'onnxruntime-node')) as OrtNode;
}

export function ortNativeGraph(ort: OrtNode, g: WeightedGraph): Promise<OrtRunner> {
  return ortRunner(ort, g, toOnnx(g), 'cpu');
}
