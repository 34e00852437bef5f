// @node-only (the weights writer uses node:fs). Every section and key the Darknet loader supports beyond
// yolov3's, in small cfgs with generated weights, layer by layer against the independent float64 forward pass
// (darknet-reference.ts); and each new key's bad values failing with the cfg line that holds them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildDarknet } from '../src/io/darknet/network.js';
import { Model } from '../src/graph/model.js';
import { activateHead } from '../src/models/yolo/yolo.js';
import { darknetWeights } from './darknet-writer.js';
import { referenceForward, toNhwc } from './darknet-reference.js';
import { assertClose, randomArray, withGpu } from './harness.js';

const test = suite('darknet sections');
const gpu = withGpu(test);

const conv = (filters: number, size: number, activation: string, extra: string[] = []) => [
  '[convolutional]',
  `filters=${filters}`,
  `size=${size}`,
  'pad=1',
  'batch_normalize=1',
  `activation=${activation}`,
  ...extra,
];

/** Sections in one network: the layer indices in comments are those the `from=`/`layers=` keys refer to. */
const SECTIONS_CFG = [
  '[net]',
  'width=64',
  'height=32',
  'channels=3',
  ...conv(16, 3, 'mish'), // 0
  ...conv(16, 3, 'swish', ['stride_x=2', 'stride_y=1']), // 1: 32×32 (the width halved)
  ...conv(16, 3, 'hard_mish'), // 2
  ...conv(16, 1, 'gelu'), // 3
  ...conv(16, 3, 'relu6'), // 4
  '[shortcut]',
  'from=-3, -4',
  'weights_type=per_channel',
  'weights_normalization=softmax',
  'activation=swish', // 5
  '[shortcut]',
  'from=-2',
  'weights_type=per_feature',
  'weights_normalization=relu',
  'activation=leaky', // 6
  ...conv(8, 1, 'tanh'), // 7: 8 channels
  '[route]',
  'layers=-2', // 8: 16 channels
  '[shortcut]',
  'from=-2, 5',
  'activation=mish', // 9: layer 7 adds into the first 8 channels
  '[shortcut]',
  'from=-1',
  'weights_type=per_channel', // 10
  ...conv(8, 1, 'linear'), // 11: 8 channels
  '[shortcut]',
  'from=-2',
  'activation=logistic', // 12: only the first 8 of layer 10's 16 channels
  '[route]',
  'layers=10', // 13
  '[avgpool]', // 14
  ...conv(4, 1, 'relu'), // 15
  ...conv(16, 1, 'logistic'), // 16
  '[scale_channels]',
  'from=-4', // 17: 16×32×32 · 16×1×1
  ...conv(1, 3, 'logistic'), // 18
  '[scale_channels]',
  'from=-2',
  'scale_wh=1',
  'activation=leaky', // 19
  ...conv(16, 3, 'elu'), // 20
  '[sam]',
  'from=-2', // 21
  '[local_avgpool]',
  'size=3',
  'stride=2', // 22: 16×16
  '[maxpool]',
  'size=2',
  'stride_x=1',
  'stride_y=2', // 23: 16×8
  '[maxpool]',
  'maxpool_depth=1',
  'out_channels=4', // 24: 4 channels
  '[route]',
  'layers=-1, 23',
  'groups=2',
  'group_id=1', // 25: 2 + 8 channels
  '[reorg3d]',
  'stride=2', // 26: 8×4×40
  '[route]',
  'layers=23', // 27
  '[reorg]',
  'stride=2', // 28: 8×4×64
  '[route]',
  'layers=-1, -3', // 29: 104 channels
  ...conv(2 * 7, 1, 'logistic'), // 30
  '[yolo]',
  'mask=0,1',
  'anchors=10,14, 23,27',
  'classes=2',
  'num=2',
  'new_coords=1',
  'scale_x_y=2.0',
  'nms_kind=diounms',
  'beta_nms=0.7', // 31
  '[route]',
  'layers=-3', // 32
  ...conv(3 * 7, 1, 'linear'), // 33
  '[region]',
  'anchors=1.08,1.19, 3.42,4.41, 6.63,11.38',
  'classes=2',
  'coords=4',
  'num=3',
  'softmax=1', // 34
].join('\n');

test(
  'mish, swish, hard_mish, gelu, relu6, tanh, elu; weighted multi-input shortcuts; scale_channels; sam; ' +
    'local_avgpool; stride_x/y; maxpool_depth; per-input route groups; reorg and reorg3d; ' +
    '[yolo] new_coords and [region]: every layer as float64',
  async () => {
    const cfg = SECTIONS_CFG;
    const weights = darknetWeights(cfg, 3, { kernelGain: 2 });
    const net = buildDarknet(cfg, 'sections.cfg', { bytes: weights, file: 'sections.weights' });
    assert.equal(net.nms, { kind: 'default', beta: 0.6 }, 'the last layer, [region], has the default NMS');
    assert.equal(
      net.heads.map((h) => h.kind),
      ['yolo', 'region'],
    );
    const layers = [...new Set(net.graph.nodes.map((n) => n.source?.layer).filter((n): n is string => !!n))];
    const model = await Model.create(await gpu(), net, { keep: layers });
    try {
      const x = randomArray(64 * 32 * 3, 8, 0, 1);
      const nchw = new Float64Array(x.length);
      for (let p = 0; p < 64 * 32; p++) for (let c = 0; c < 3; c++) nchw[c * 64 * 32 + p] = x[p * 3 + c];
      const ref = referenceForward(cfg, weights, nchw, [32, 64]);
      const r = await model.run(x, { intermediates: layers });
      assert.is(ref.length, 35);
      ref.forEach((t, i) => {
        const name = layers.find((l) => l.startsWith(`${i}_`))!;
        const got = r.intermediates.get(name)!;
        const head = net.heads.find((h) => h.layer === i);
        const want = head?.kind === 'region' ? t.d : toNhwc(t);
        assertClose(head ? activateHead(got.data, head) : got.data, want, 1e-5, `layer ${name}`, 'normalized');
      });
    } finally {
      model.dispose();
    }
  },
);

test("route groups take each input's own slice, not a slice of the concatenation", () => {
  const net = buildDarknet(SECTIONS_CFG, 'sections.cfg');
  const slices = net.graph.nodes
    .filter((n) => n.name.startsWith('25_route/group'))
    .map((n) => n.op.kind === 'slice' && [n.op.begin, n.op.size]);
  assert.equal(slices, [
    [2, 2],
    [8, 8],
  ]);
});

/** SECTIONS_CFG with `key=value` put into the section starting at `header` (its first occurrence after `after`). */
function withKey(header: string, line: string, after = 0): { cfg: string; line: number } {
  const lines = SECTIONS_CFG.split('\n');
  const at = lines.findIndex((l, i) => i >= after && l === header);
  lines.splice(at + 1, 0, line);
  return { cfg: lines.join('\n'), line: at + 2 };
}

const BAD: [string, string, string, RegExp][] = [
  [
    '[shortcut]',
    'weights_type=per_pixel',
    'weights_type',
    /'per_pixel' is not one of none, per_feature, per_layer, per_channel/,
  ],
  [
    '[scale_channels]',
    'activation=mish',
    'activation',
    /'mish' is computed by Darknet only in \[convolutional\] and \[shortcut\]/,
  ],
  ['[sam]', 'activation=swish', 'activation', /only in \[convolutional\] and \[shortcut\]/],
  ['[maxpool]', 'stride_x=0', 'stride_x', /0 is below the minimum of 1/],
  ['[reorg]', 'reverse=1', 'reverse', /the reverse reorg is not supported/],
  ['[reorg3d]', 'antialiasing=1', 'antialiasing', /key 'antialiasing' in \[reorg3d\] is not supported/],
  ['[yolo]', 'nms_kind=softnms', 'nms_kind', /'softnms' is not one of default, greedynms, diounms, cornersnms/],
  ['[region]', 'coords=5', 'coords', /coords: 5 is not supported/],
  ['[region]', 'tree=data/9k.tree', 'tree', /key 'tree' in \[region\] is not supported/],
  ['[local_avgpool]', 'maxpool_depth=1', 'maxpool_depth', /key 'maxpool_depth' in \[local_avgpool\] is not supported/],
];

test('bad keys and values of the new sections fail naming their cfg line', () => {
  for (const [header, line, , pattern] of BAD) {
    const { cfg, line: n } = withKey(header, line);
    assert.throws(
      () => buildDarknet(cfg, 'bad.cfg'),
      (e: Error) => e.message.startsWith(`bad.cfg: line ${n}: `) && pattern.test(e.message),
      `${header} ${line}`,
    );
  }
  const lines = SECTIONS_CFG.split('\n');
  const swap = (from: string, to: string) => lines.map((l) => (l === from ? to : l)).join('\n');
  const lineOf = (text: string) => lines.indexOf(text) + 1;
  const cases: [string, RegExp][] = [
    [
      swap('from=-3, -4', 'from=-3, 0'),
      new RegExp(`line ${lineOf('from=-3, -4')}: \\[shortcut\\] from: adds layer 0 \\(64×32×16\\) to 32×32×16`),
    ],
    [
      swap('from=-4', 'from=-2'),
      new RegExp(`line ${lineOf('from=-4')}: \\[scale_channels\\] from: scales layer 15 \\(1×1×4\\) by 1×1×16`),
    ],
    [
      swap('out_channels=4', 'out_channels=5'),
      new RegExp(`line ${lineOf('out_channels=4')}: \\[maxpool\\] out_channels: 5 does not divide the 16`),
    ],
    [
      swap('anchors=1.08,1.19, 3.42,4.41, 6.63,11.38', 'anchors=1.08,1.19'),
      /\[region\] anchors: needs 3 \(w, h\) pairs \(num=3\), got 2 values/,
    ],
    [
      swap('classes=2', 'classes=3'),
      /\[yolo\] classes: the layer before has 14 channels, but 2 anchors × \(5 \+ 3 classes\) = 16/,
    ],
    [
      swap('layers=-1, 23', 'layers=-1, 22'),
      /\[route\] layers: concatenates layers of different sizes \(16×8, 16×16\)/,
    ],
    [swap('[reorg]', '[reorg]\nstride=3'), /\[reorg\] stride: 3 does not divide the input's 16×8/],
  ];
  for (const [cfg, pattern] of cases)
    assert.throws(
      () => buildDarknet(cfg, 'bad.cfg'),
      (e: Error) => pattern.test(e.message),
      String(pattern),
    );
});

test('weights_type needs its weights: a file one float short fails with both sizes', () => {
  const weights = darknetWeights(SECTIONS_CFG, 3);
  assert.throws(
    () => buildDarknet(SECTIONS_CFG, 's.cfg', { bytes: weights.subarray(0, weights.length - 4), file: 's.weights' }),
    new RegExp(`s\\.weights: is ${weights.length - 4} bytes, but s\\.cfg needs ${weights.length}`),
  );
});

test.run();
