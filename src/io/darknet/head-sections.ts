// The detection heads: [yolo] (YOLOv3/v4/v7) and [region] (YOLOv2). Both pass the conv before them through
// (the graph's outputs are the raw conv values) and describe how src/models/yolo decodes them on the CPU.
import type { Options } from './cfg.js';
import type { NmsRule, SectionHandler, Shape3 } from './section-types.js';

const NMS_KINDS = ['default', 'greedynms', 'diounms', 'cornersnms'] as const;

function nmsRule(o: Options): NmsRule {
  const kind = o.str('nms_kind', 'default');
  if (!(NMS_KINDS as readonly string[]).includes(kind)) {
    o.error('nms_kind', `'${kind}' is not one of ${NMS_KINDS.join(', ')}`);
  }
  const beta = o.float('beta_nms', 0.6);
  if (!(beta > 0)) o.error('beta_nms', 'must be positive');
  return { kind: kind as NmsRule['kind'], beta };
}

/** The first `num` (w, h) pairs of `anchors` (Darknet reads no more), which must all be there and positive. */
function anchorPairs(o: Options, num: number): [number, number][] {
  const list = o.ints('anchors');
  if (!list.length || list.length < 2 * num || list.length % 2) {
    o.error('anchors', `needs ${num} (w, h) pairs (num=${num}), got ${list.length} values`);
  }
  if (list.some((v) => !(v > 0))) o.error('anchors', 'anchor sizes must be positive');
  return Array.from({ length: num }, (_, k) => [list[2 * k], list[2 * k + 1]]);
}

function checkChannels(o: Options, x: Shape3, anchors: number, classes: number): void {
  if (x.c !== anchors * (5 + classes)) {
    const want = `${anchors} anchors × (5 + ${classes} classes) = ${anchors * (5 + classes)}`;
    o.error('classes', `the layer before has ${x.c} channels, but ${want}`);
  }
}

export const yolo: SectionHandler = {
  keys: ['mask', 'anchors', 'classes', 'num', 'scale_x_y', 'new_coords', 'nms_kind', 'beta_nms'],
  ignored: [
    'jitter',
    'ignore_thresh',
    'truth_thresh',
    'random',
    'iou_loss',
    'iou_normalizer',
    'cls_normalizer',
    'iou_thresh',
    'max_delta',
    'counters_per_class',
    'label_smooth_eps',
    'objectness_smooth',
    'resize',
    'uc_normalizer',
    'obj_normalizer',
    'delta_normalizer',
    'focal_loss',
    'max',
    'track_history_size',
    'sim_thresh',
    'dets_for_track',
    'dets_for_show',
    'track_ciou_norm',
    'embedding_layer',
    'map',
  ],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const pairs = Math.floor(o.ints('anchors').length / 2);
    const anchors = anchorPairs(o, o.int('num', pairs, { min: 1 }));
    const classes = o.int('classes', 20, { min: 1 });
    const mask = o.ints(
      'mask',
      anchors.map((_, k) => k),
    );
    if (!mask.length || mask.some((m) => !Number.isInteger(m) || m < 0 || m >= anchors.length)) {
      o.error('mask', `entries must index the ${anchors.length} anchors`);
    }
    checkChannels(o, x, mask.length, classes);
    const scaleXY = o.float('scale_x_y', 1);
    if (!(scaleXY > 0)) o.error('scale_x_y', 'must be positive');
    const newCoords = o.int('new_coords', 0) !== 0;
    return {
      shape: x,
      weightCount: 0,
      head: { kind: 'yolo', layer: at.index, mask, anchors, classes, scaleXY, newCoords, nms: nmsRule(o) },
      build: (b) => b.add({ kind: 'identity' }, [b.nodeOf(at.index - 1)]),
    };
  },
};

export const region: SectionHandler = {
  keys: ['anchors', 'classes', 'coords', 'num', 'softmax'],
  ignored: [
    'bias_match',
    'jitter',
    'rescore',
    'object_scale',
    'noobject_scale',
    'class_scale',
    'coord_scale',
    'absolute',
    'thresh',
    'random',
    'max',
  ],
  plan(o, at) {
    const x = at.shapeOf(at.index - 1);
    const coords = o.int('coords', 4);
    // get_region_boxes reads records of classes + 5 values whatever coords says.
    if (coords !== 4) o.error('coords', `${coords} is not supported (4)`);
    const num = o.int('num', 1, { min: 1 });
    const classes = o.int('classes', 20, { min: 1 });
    const anchors = anchorPairs(o, num);
    checkChannels(o, x, num, classes);
    return {
      shape: x,
      weightCount: 0,
      head: {
        kind: 'region',
        layer: at.index,
        anchors,
        classes,
        softmax: o.int('softmax', 0) !== 0,
        nms: { kind: 'default', beta: 0.6 },
      },
      build: (b) => b.add({ kind: 'identity' }, [b.nodeOf(at.index - 1)]),
    };
  },
};
