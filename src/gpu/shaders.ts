// Every kernel's WGSL source and what is known about it, from the catalogue scripts/gen-shaders.mjs
// generates out of shaders/ (esbuild's text loader inlines the files, so Node and the browser get the
// same strings with no file access at run time). Adding a kernel is adding its .wgsl file.
import { ENUMS, KERNEL_INFO, KERNEL_SOURCES, LIBRARY_SOURCES } from './shaders.generated.js';

export type KernelName = keyof typeof KERNEL_SOURCES;

export const KERNELS: Readonly<Record<KernelName, string>> = KERNEL_SOURCES;
export const COMMON = LIBRARY_SOURCES;
export { ENUMS, KERNEL_INFO };

export function kernelFile(name: KernelName): string {
  return `shaders/${name}.wgsl`;
}

/** The kernel's spec constants and their defaults in its .wgsl file. */
