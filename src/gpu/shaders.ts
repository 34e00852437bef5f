// Every kernel's WGSL source, by name. esbuild's text loader inlines the files, so Node and the
// browser get the same strings with no file access at run time.
import activation from '../../shaders/activation.wgsl';
import batchnorm from '../../shaders/batchnorm.wgsl';
import binary from '../../shaders/binary.wgsl';
import commonActivation from '../../shaders/common/activation.wgsl';
import commonSubgroupTile from '../../shaders/common/subgroup-tile.wgsl';
import concat from '../../shaders/concat.wgsl';
import slice from '../../shaders/slice.wgsl';
import conv2d from '../../shaders/conv2d.wgsl';
import conv2dSubgroup from '../../shaders/conv2d-subgroup.wgsl';
import depthwiseConv2d from '../../shaders/depthwise-conv2d.wgsl';
import depthwiseConv2dVec4 from '../../shaders/depthwise-conv2d-vec4.wgsl';
import winogradInput from '../../shaders/winograd-input.wgsl';
import winogradOutput from '../../shaders/winograd-output.wgsl';
import winograd4Input from '../../shaders/winograd4-input.wgsl';
import winograd4Output from '../../shaders/winograd4-output.wgsl';
import winograd4OutputVec4 from '../../shaders/winograd4-output-vec4.wgsl';
import gemm from '../../shaders/gemm.wgsl';
import gemmSubgroup from '../../shaders/gemm-subgroup.wgsl';
import gemmTiled from '../../shaders/gemm-tiled.wgsl';
import gemmVec4 from '../../shaders/gemm-vec4.wgsl';
import globalPool from '../../shaders/global-pool.wgsl';
import pad from '../../shaders/pad.wgsl';
import pool2d from '../../shaders/pool2d.wgsl';
import softmax from '../../shaders/softmax.wgsl';
import transpose from '../../shaders/transpose.wgsl';
import upsample from '../../shaders/upsample.wgsl';

export const KERNELS = {
  activation,
  batchnorm,
  binary,
  concat,
  slice,
  conv2d,
  'conv2d-subgroup': conv2dSubgroup,
  'depthwise-conv2d': depthwiseConv2d,
  'depthwise-conv2d-vec4': depthwiseConv2dVec4,
  'winograd-input': winogradInput,
  'winograd-output': winogradOutput,
  'winograd4-input': winograd4Input,
  'winograd4-output': winograd4Output,
  'winograd4-output-vec4': winograd4OutputVec4,
  gemm,
  'gemm-subgroup': gemmSubgroup,
  'gemm-tiled': gemmTiled,
  'gemm-vec4': gemmVec4,
  'global-pool': globalPool,
  pad,
  pool2d,
  softmax,
  transpose,
  upsample,
} as const;

/** Shared function libraries a kernel can pull in with a `// @requires NAME` header line. */
export const COMMON: Record<string, string> = { activation: commonActivation, 'subgroup-tile': commonSubgroupTile };

export type KernelName = keyof typeof KERNELS;

export function kernelFile(name: KernelName): string {
  return `shaders/${name}.wgsl`;
}
