#!/usr/bin/env node
// The `webgpu-cnn` command line.
import { GpuContext } from './gpu/context.js';
import { runKernelsOnce } from './tools/kernels.js';

const HELP = `webgpu-cnn — WebGPU CNN inference

Usage: webgpu-cnn <command> [options]

Commands:
  kernels     print the adapter and run every kernel once, with a table of times
  info        print the adapter, its limits and features
  help        this text
`;

async function info(): Promise<void> {
  const ctx = await GpuContext.create();
  try {
    console.log(`adapter: ${ctx.description}`);
    console.log(`features: ${[...ctx.device.features].sort().join(', ')}`);
    const l = ctx.device.limits;
    for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupStorageSize'] as const) {
      console.log(`${k}: ${l[k]}`);
    }
  } finally {
    ctx.dispose();
  }
}

async function main(argv: string[]): Promise<number> {
  const [command] = argv;
  switch (command) {
    case 'kernels': await runKernelsOnce(); return 0;
    case 'info': await info(); return 0;
    case undefined: case 'help': case '--help': case '-h': console.log(HELP); return 0;
    default:
      console.error(`webgpu-cnn: unknown command '${command}'\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(`webgpu-cnn: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
