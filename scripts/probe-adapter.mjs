// Prints the adapter Node sees through Dawn; exits 1 when there is none.
import { create, globals } from 'webgpu';
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) {
  console.error('No WebGPU adapter found by Dawn.');
  process.exit(1);
}
const { vendor, architecture, device, description } = adapter.info;
console.log(`WebGPU adapter: ${[vendor, architecture, device, description].filter(Boolean).join(' / ')}`);
process.exit(0);
