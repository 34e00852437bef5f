// subgroup-tile — the inner step shared by gemm-subgroup.wgsl and conv2d-subgroup.wgsl, appended to a
// kernel whose header says `// @requires subgroup-tile`. The kernel declares TN (quads per lane) and
// BLOCK_ACC (8 * TN). Needs `enable subgroups;` in the kernel.

// One 8-row block's share of one step of the reduction: row i's value (held by lane i of the
// subgroup) reaches every lane by broadcast and meets this lane's TN weight quads. Each block keeps
// its own accumulator array, indexed only by the unrolled i and j: with one array for the whole tile
// the compiler stopped unrolling past 64 accumulators (a 32-row × 4-quad tile then ran at 3.3 GFLOP/s
// on lavapipe instead of 37).
fn accumulate(acc: ptr<function, array<vec4<f32>, BLOCK_ACC>>, mine: f32, wv: ptr<function, array<vec4<f32>, TN>>) {
  for (var i = 0u; i < 8u; i++) {
    let v = vec4<f32>(subgroupShuffle(mine, i));
    for (var j = 0u; j < TN; j++) { (*acc)[i * TN + j] = fma(v, (*wv)[j], (*acc)[i * TN + j]); }
  }
}
