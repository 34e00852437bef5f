"""Model-zoo fixtures: every keras.applications CNN family, built small (dev-only).

    /work/venv/bin/python scripts/keras-fixtures/zoo.py            # all models + preprocessing
    /work/venv/bin/python scripts/keras-fixtures/zoo.py ResNet50   # just some models
    /work/venv/bin/python scripts/keras-fixtures/zoo.py --preprocess
    /work/venv/bin/python scripts/keras-fixtures/zoo.py --refresh-manifest  # texts and sizes only

Every model is made by the family's own *public* constructor (keras.applications.X), with
weights=None, classes=5, classifier_activation=None (logits) and the smallest input size the
family accepts. Width is reduced by intercepting, for the duration of the call, the one
internal hook each family scales its width with (see WIDTH below): the depth, block structure,
layer kinds, options and layer names are those of the real model. Then every weight is set to
seeded random values (common.randomize_weights) and the model is saved as .keras and .h5, run
on a seeded batch of 2 inputs, and both files are loaded back and checked.
"""

import contextlib
import copy
import math
import os
import sys

import common  # noqa: F401  (sets up TF first)
from common import (OUT_ROOT, save_model, VERSIONS, check_roundtrip, check_h5, file_size, fresh, keras_config_json,
                    h5_config_json, layer_kinds, predict, randomize_weights, calibrate_batchnorm, save_npy, seed_of,
                    write_json)

import numpy as np
import keras
from keras.src.applications import (convnext, densenet, efficientnet, efficientnet_v2,
                                    inception_resnet_v2, inception_v3, mobilenet, mobilenet_v2,
                                    mobilenet_v3, nasnet, resnet, resnet_v2, vgg16, vgg19,
                                    xception, imagenet_utils)

OUT = os.path.join(OUT_ROOT, "apps")

# --------------------------------------------------------------------------------------------------
# Width-reduction hooks
# --------------------------------------------------------------------------------------------------

KEEP_NAMES = {"predictions", "conv_preds", "Logits", "logits"}  # classifier layers: never scaled


def _div(k):
    return lambda n: max(1, int(math.ceil(n / k)))


class _ScaledLayers:
    """Stands in for `keras.src.layers` inside one application module: Conv2D, SeparableConv2D
    and Dense get their filters/units divided by k (rounded up); everything else is the real
    thing. Used for families whose width is written as literal filter counts."""

    def __init__(self, real, fn):
        self._real = real
        self._fn = fn

    def __getattr__(self, name):
        attr = getattr(self._real, name)
        if name not in ("Conv2D", "SeparableConv2D", "Dense"):
            return attr
        key = "units" if name == "Dense" else "filters"
        fn = self._fn

        def make(*args, **kw):
            if kw.get("name") not in KEEP_NAMES:
                if args:
                    args = (fn(args[0]),) + tuple(args[1:])
                else:
                    kw[key] = fn(kw[key])
            return attr(*args, **kw)

        return make


@contextlib.contextmanager
def patched(module, attr, value):
    old = getattr(module, attr)
    setattr(module, attr, value)
    try:
        yield
    finally:
        setattr(module, attr, old)


@contextlib.contextmanager
def scaled_layers(module, k):
    with patched(module, "layers", _ScaledLayers(module.layers, _div(k))):
        yield


@contextlib.contextmanager
def irv2_width(k):
    """InceptionResNetV2: every conv goes through conv2d_bn(x, filters, ...); divide filters by k,
    except for the residual up-projection (the only use_bias=True call), whose width must equal
    its input's."""
    orig = inception_resnet_v2.conv2d_bn

    def conv2d_bn(x, filters, kernel_size, *a, **kw):
        if not kw.get("use_bias", False):
            filters = _div(k)(filters)
        return orig(x, filters, kernel_size, *a, **kw)

    with patched(inception_resnet_v2, "conv2d_bn", conv2d_bn):
        yield


@contextlib.contextmanager
def densenet_growth(growth):
    """DenseNet: growth rate 32 is hard-coded in dense_block's conv_block(x, 32, ...) calls."""
    orig = densenet.conv_block

    def conv_block(x, growth_rate, name):
        return orig(x, growth, name)

    with patched(densenet, "conv_block", conv_block):
        yield


IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_VAR = [0.229**2, 0.224**2, 0.225**2]


@contextlib.contextmanager
def efficientnet_width(scale):
    """EfficientNet(width_coefficient, depth_coefficient, ...): width_coefficient *= scale, depth
    kept. Also make the stem exactly as with weights='imagenet': that path adds
    Rescaling([1/sqrt(stddev)...]) after the Normalization layer, and its Normalization holds the
    ImageNet mean/variance as weights (the real files do), so we set those too."""
    orig = efficientnet.EfficientNet
    real_layers = efficientnet.layers
    norm_layers = []

    class _L:
        def __getattr__(self, name):
            if name != "Normalization":
                return getattr(real_layers, name)

            def make(*a, **kw):
                layer = real_layers.Normalization(*a, **kw)
                norm_layers.append(layer)

                def apply(x):
                    y = layer(x)
                    return real_layers.Rescaling(
                        [1.0 / math.sqrt(s) for s in efficientnet.IMAGENET_STDDEV_RGB])(y)

                return apply

            return make

    def EfficientNet(width_coefficient, *a, **kw):
        model = orig(width_coefficient * scale, *a, **kw)
        for layer in norm_layers:
            layer.adapt_mean.assign(np.array(IMAGENET_MEAN, np.float32))
            layer.adapt_variance.assign(np.array(IMAGENET_VAR, np.float32))
            layer.finalize_state()
        return model

    with patched(efficientnet, "EfficientNet", EfficientNet), patched(efficientnet, "layers", _L()):
        yield


@contextlib.contextmanager
def mobilenet_v3_last(div):
    """MobileNetV3(stack_fn, last_point_ch, ...): the last 1x1 conv (1024 / 1280 wide, fixed for
    alpha <= 1) holds most of the weights; divide its width."""
    orig = mobilenet_v3.MobileNetV3

    def MobileNetV3(stack_fn, last_point_ch, *a, **kw):
        return orig(stack_fn, last_point_ch // div, *a, **kw)

    with patched(mobilenet_v3, "MobileNetV3", MobileNetV3):
        yield


@contextlib.contextmanager
def efficientnet_v2_width(scale):
    orig = efficientnet_v2.EfficientNetV2

    def EfficientNetV2(*a, **kw):
        if a:
            a = (a[0] * scale,) + tuple(a[1:])
        else:
            kw["width_coefficient"] = kw["width_coefficient"] * scale
        return orig(*a, **kw)

    with patched(efficientnet_v2, "EfficientNetV2", EfficientNetV2):
        yield


@contextlib.contextmanager
def nasnet_width(penultimate, stem_div):
    orig = nasnet.NASNet

    def NASNet(input_shape=None, **kw):
        kw["penultimate_filters"] = penultimate
        kw["stem_block_filters"] = max(1, kw["stem_block_filters"] // stem_div)
        return orig(input_shape, **kw)

    with patched(nasnet, "NASNet", NASNet):
        yield


@contextlib.contextmanager
def convnext_width(div):
    orig = convnext.ConvNeXt

    def ConvNeXt(depths=None, projection_dims=None, **kw):
        projection_dims = [max(1, d // div) for d in projection_dims]
        return orig(depths=depths, projection_dims=projection_dims, **kw)

    with patched(convnext, "ConvNeXt", ConvNeXt):
        yield


# --------------------------------------------------------------------------------------------------
# Depth-reduction hooks (for the variants that differ from their family's base model only in
# repeat counts; see REDUCED below): every stage / dense block / cell group is capped at CAP
# repeats, which keeps its first (stride/width-changing) block and one identity-residual block.

CAP = 2


@contextlib.contextmanager
def resnet_depth(cap=CAP):
    o1, o2 = resnet.stack_residual_blocks_v1, resnet.stack_residual_blocks_v2

    def s1(x, filters, blocks, *a, **kw):
        return o1(x, filters, min(blocks, cap), *a, **kw)

    def s2(x, filters, blocks, *a, **kw):
        return o2(x, filters, min(blocks, cap), *a, **kw)

    with patched(resnet, "stack_residual_blocks_v1", s1), \
            patched(resnet, "stack_residual_blocks_v2", s2):
        yield


@contextlib.contextmanager
def densenet_depth(cap=CAP):
    orig = densenet.dense_block

    def dense_block(x, blocks, name):
        return orig(x, min(blocks, cap), name)

    with patched(densenet, "dense_block", dense_block):
        yield


@contextlib.contextmanager
def efficientnet_depth(cap=CAP):
    """EfficientNet(width, depth, ...): the real repeats are ceil(depth * repeats); pass
    depth_coefficient=1 with blocks_args whose repeats are min(real, cap)."""
    orig = efficientnet.EfficientNet

    def EfficientNet(width_coefficient, depth_coefficient, *a, **kw):
        args = copy.deepcopy(efficientnet.DEFAULT_BLOCKS_ARGS)
        for b in args:
            b["repeats"] = min(int(math.ceil(depth_coefficient * b["repeats"])), cap)
        kw["blocks_args"] = args
        return orig(width_coefficient, 1.0, *a, **kw)

    with patched(efficientnet, "EfficientNet", EfficientNet):
        yield


@contextlib.contextmanager
def efficientnet_v2_depth(cap=CAP):
    orig = efficientnet_v2.EfficientNetV2

    def EfficientNetV2(*a, **kw):
        assert not a
        d = kw["depth_coefficient"]
        args = copy.deepcopy(efficientnet_v2.DEFAULT_BLOCKS_ARGS[kw["name"]])
        for b in args:
            b["num_repeat"] = min(int(math.ceil(d * b["num_repeat"])), cap)
        kw.update(blocks_args=args, depth_coefficient=1.0)
        return orig(**kw)

    with patched(efficientnet_v2, "EfficientNetV2", EfficientNetV2):
        yield


@contextlib.contextmanager
def convnext_depth(cap=CAP):
    orig = convnext.ConvNeXt

    def ConvNeXt(depths=None, **kw):
        return orig(depths=[min(d, cap) for d in depths], **kw)

    with patched(convnext, "ConvNeXt", ConvNeXt):
        yield


@contextlib.contextmanager
def nasnet_depth(cap=CAP):
    orig = nasnet.NASNet

    def NASNet(input_shape=None, **kw):
        kw["num_blocks"] = min(kw["num_blocks"], cap)
        return orig(input_shape, **kw)

    with patched(nasnet, "NASNet", NASNet):
        yield


@contextlib.contextmanager
def hooks(*cms):
    with contextlib.ExitStack() as st:
        for cm in cms:
            st.enter_context(cm)
        yield


# --------------------------------------------------------------------------------------------------
# The zoo
# --------------------------------------------------------------------------------------------------

A = keras.applications
COMMON = dict(weights=None, classes=5, classifier_activation=None)

# name: (constructor, input size, width hook, constructor kwargs, keep .h5 twin, what differs)
ZOO = {}


def add(name, ctor, size, hook, kwargs=None, h5=False, differs="", preprocessing=None):
    ZOO[name] = dict(ctor=ctor, size=size, hook=hook, kwargs=kwargs or {}, h5=h5,
                     differs=differs, preprocessing=preprocessing)


RED = (f"; REDUCED DEPTH: every stage capped at {CAP} blocks (the first, stride/width-changing"
       " block and one identity-residual block)")

for n, mod, h5 in (("VGG16", vgg16, True), ("VGG19", vgg19, False)):
    add(n, getattr(A, n), 32, lambda m=mod: scaled_layers(m, 16), h5=h5,
        differs="all Conv2D filters and the two 4096-unit Dense layers divided by 16 "
                "(64->4 ... 512->32, 4096->256); depth as real")
add("ResNet50", A.ResNet50, 32, lambda: scaled_layers(resnet, 16), h5=True,
    differs="all Conv2D filters divided by 16 (64->4, 256->16, ..., 2048->128); depth as real "
            "(stages 3,4,6,3)")
add("ResNet50V2", A.ResNet50V2, 32, lambda: scaled_layers(resnet, 16),
    differs="all Conv2D filters divided by 16 (64->4, ..., 2048->128); depth as real (3,4,6,3)")
for n, real in (("ResNet101", "3,4,23,3"), ("ResNet152", "3,8,36,3"), ("ResNet101V2", "3,4,23,3"),
                ("ResNet152V2", "3,8,36,3")):
    add(n, getattr(A, n), 32, lambda: hooks(resnet_depth(), scaled_layers(resnet, 16)),
        differs=f"all Conv2D filters divided by 16{RED}: stages {real} -> 2,2,2,2")
add("InceptionV3", A.InceptionV3, 75, lambda: scaled_layers(inception_v3, 16), h5=True,
    differs="all Conv2D filters divided by 16, rounded up (32->2, 48->3, 80->5, 192->12, "
            "2048->128); depth as real")
add("InceptionResNetV2", A.InceptionResNetV2, 75, lambda: irv2_width(16),
    differs="conv2d_bn filters divided by 16, rounded up, except the residual up-projections "
            "(which must match their input's width); depth as real (10/20/10 blocks)")
add("Xception", A.Xception, 71, lambda: scaled_layers(xception, 16), h5=True,
    differs="all Conv2D/SeparableConv2D filters divided by 16 (32->2, 728->46, 2048->128); "
            "depth as real")
add("MobileNet", A.MobileNet, 32, None, dict(alpha=0.25),
    differs="public constructor, alpha=0.25 (the smallest ImageNet width); nothing else")
add("MobileNetV2", A.MobileNetV2, 32, None, dict(alpha=0.35),
    differs="public constructor, alpha=0.35 (the smallest ImageNet width); nothing else")
add("MobileNetV3Small", A.MobileNetV3Small, 32, lambda: mobilenet_v3_last(8), dict(alpha=0.25),
    h5=True,
    differs="alpha=0.25 (ImageNet widths are 0.75/1.0) and the last 1x1 conv (last_point_ch) 128 "
            "instead of 1024; depth, SE blocks, hard_swish, include_preprocessing=True as real")
add("MobileNetV3Large", A.MobileNetV3Large, 32, lambda: mobilenet_v3_last(8), dict(alpha=0.25),
    differs="alpha=0.25 (ImageNet widths 0.75/1.0) and the last 1x1 conv 160 instead of 1280; "
            "depth, SE blocks, hard_swish, include_preprocessing=True as real")
add("DenseNet121", A.DenseNet121, 32, lambda: densenet_growth(4),
    differs="growth rate 4 instead of 32 (bottleneck 1x1 convs 16 instead of 128 filters); "
            "stem (64 filters), transitions (compression 0.5) and depth (6,12,24,16) as real")
for n, h5, real in (("DenseNet169", True, "6,12,32,32"), ("DenseNet201", False, "6,12,48,32")):
    add(n, getattr(A, n), 32, lambda: hooks(densenet_depth(), densenet_growth(4)), h5=h5,
        differs=f"growth rate 4 instead of 32; REDUCED DEPTH: conv blocks per dense block "
                f"{real} -> 2,2,2,2 (stem and transitions as real)")
add("NASNetMobile", A.NASNetMobile, 32, lambda: nasnet_width(96, 8),
    differs="penultimate_filters 96 instead of 1056 (cell width 4 instead of 44), "
            "stem_block_filters 4 instead of 32; num_blocks=4, skip_reduction=False as real")
add("NASNetLarge", A.NASNetLarge, 32, lambda: hooks(nasnet_depth(1), nasnet_width(96, 8)), h5=True,
    differs="penultimate_filters 96 instead of 4032 (cell width 4 instead of 168), "
            "stem_block_filters 12 instead of 96; skip_reduction=True as real; REDUCED DEPTH: "
            "num_blocks (normal cells per stage) 6 -> 1")


def _eff_repeats(d):
    return [int(math.ceil(d * b["repeats"])) for b in efficientnet.DEFAULT_BLOCKS_ARGS]


EFF_DEPTH = [1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 2.6, 3.1]
add("EfficientNetB0", A.EfficientNetB0, 32, lambda: efficientnet_width(0.1), h5=True,
    differs="width_coefficient x0.1 (channels rounded to multiples of 8, min 8); depth "
            "(repeats 1,2,2,3,3,4,1), dropout and everything else as real; stem exactly as the "
            "weights='imagenet' build (Rescaling 1/255, Normalization with ImageNet "
            "mean/variance as weights, Rescaling by 1/sqrt(stddev))")
for i in range(1, 8):
    r = _eff_repeats(EFF_DEPTH[i])
    add(f"EfficientNetB{i}", getattr(A, f"EfficientNetB{i}"), 32,
        lambda: hooks(efficientnet_depth(), efficientnet_width(0.05)),
        differs="width_coefficient x0.05 (channels rounded to multiples of 8, min 8); stem as "
                f"EfficientNetB0's{RED}: repeats {','.join(map(str, r))} -> "
                f"{','.join(str(min(x, CAP)) for x in r)}")


def _v2_repeats(name, d):
    return [int(math.ceil(d * b["num_repeat"])) for b in efficientnet_v2.DEFAULT_BLOCKS_ARGS[name]]


add("EfficientNetV2B0", A.EfficientNetV2B0, 32, lambda: efficientnet_v2_width(0.1),
    differs="width_coefficient x0.1 (min 8 channels); depth (repeats 1,2,2,3,5,8) and block "
            "args as real; include_preprocessing=True (default)")
for n, key, d in (("B1", "efficientnetv2-b1", 1.1), ("B2", "efficientnetv2-b2", 1.2),
                  ("B3", "efficientnetv2-b3", 1.4), ("S", "efficientnetv2-s", 1.0),
                  ("M", "efficientnetv2-m", 1.0), ("L", "efficientnetv2-l", 1.0)):
    r = _v2_repeats(key, d)
    add(f"EfficientNetV2{n}", getattr(A, f"EfficientNetV2{n}"), 32,
        lambda: hooks(efficientnet_v2_depth(), efficientnet_v2_width(0.05)),
        differs="width_coefficient x0.05 (min 8 channels); block args (kinds, kernel sizes, "
                f"expansion, SE) as real; include_preprocessing=True{RED}: repeats "
                f"{','.join(map(str, r))} -> {','.join(str(min(x, CAP)) for x in r)}")
add("ConvNeXtTiny", A.ConvNeXtTiny, 32, lambda: convnext_width(32), h5=True,
    differs="projection_dims divided by 32 (96,192,384,768 -> 3,6,12,24); depths (3,3,9,3), "
            "LayerScale, include_preprocessing=True as real")
for n in ("Small", "Base", "Large", "XLarge"):
    add(f"ConvNeXt{n}", getattr(A, f"ConvNeXt{n}"), 32,
        lambda: hooks(convnext_depth(), convnext_width(32)),
        differs=f"projection_dims divided by 32; LayerScale, include_preprocessing=True as real"
                f"{RED}: depths 3,3,27,3 -> 2,2,2,2")

BUILTIN_PREPROC = ("EfficientNet", "ConvNeXt", "MobileNetV3")


def build(name):
    spec = ZOO[name]
    fresh(seed_of(name))
    kw = dict(COMMON, input_shape=(spec["size"], spec["size"], 3), **spec["kwargs"])
    ctx = spec["hook"]() if spec["hook"] else contextlib.nullcontext()
    with ctx:
        model = spec["ctor"](**kw)
    return model


def make(name, log):
    spec = ZOO[name]
    model = build(name)
    rng = np.random.default_rng(seed_of(name))
    # BN gamma U(0.2, 0.6): with calibrated statistics, gamma around 1 put the deeper nets in a
    # chaotic regime (EfficientNetB5: a 1e-6 input change moved the logits by 6e-3 relative)
    unknown = randomize_weights(model, rng, bn_gamma=(0.2, 0.6))
    if unknown:
        print("  weights left as built:", unknown[:5], "..." if len(unknown) > 5 else "")
    size = spec["size"]
    lo, hi = (0, 255) if name.startswith(BUILTIN_PREPROC) else (-1, 1)
    x = rng.uniform(lo, hi, (2, size, size, 3)).astype(np.float32)
    xcal = rng.uniform(lo, hi, (16, size, size, 3)).astype(np.float32)
    calibrate_batchnorm(model, xcal, rng)
    y = predict(model, x)
    assert np.all(np.isfinite(y)), name
    # conditioning: graph (predict) vs eager execution, and a 1e-6 relative input perturbation;
    # both must stay small, or a loader with other rounding could not match the fixture
    scale = float(np.max(np.abs(y)))
    eager = float(np.max(np.abs(np.asarray(model(x, training=False)) - y)) / scale)
    xp = (x + 1e-6 * np.max(np.abs(x)) * rng.standard_normal(x.shape)).astype(np.float32)
    sens = float(np.max(np.abs(predict(model, xp) - y)) / scale)
    assert eager < 1e-3 and sens < 1e-2, (name, eager, sens)
    spread = float(np.std(y[0] - y[1]))
    base = os.path.join(OUT, name)
    save_model(model, base, h5=spec["h5"])
    files = [name + ".keras"] + ([name + ".h5"] if spec["h5"] else [])
    save_npy(base + ".input.npy", x)
    save_npy(base + ".output.npy", y)
    files += [name + ".input.npy", name + ".output.npy"]
    errs = {name + ".keras": check_roundtrip(base + ".keras", x, y)}
    h5_note = None
    if spec["h5"]:
        errs[name + ".h5"], h5_note = check_h5(base + ".h5", base + ".keras", x, y)
    cfg = keras_config_json(base + ".keras")
    kinds = sorted(layer_kinds(cfg))
    if spec["h5"]:
        h5_names = {l["class_name"] for l in h5_config_json(base + ".h5")["config"]["layers"]}
        assert h5_names == {l["class_name"] for l in cfg["config"]["layers"]}, name
    rec = dict(
        name=name,
        constructor=f"keras.applications.{name}",
        input_shape=[2, size, size, 3],
        input_range="U(0,255)" if name.startswith(BUILTIN_PREPROC) else "U(-1,1)",
        output_shape=list(y.shape),
        output_abs_max=float(np.max(np.abs(y))),
        output_batch_spread=spread,
        eager_vs_predict_rel=eager,
        perturb_1e6_rel=sens,
        params=int(model.count_params()),
        layers=len(model.layers),
        layer_kinds=kinds,
        files={f: file_size(os.path.join(OUT, f)) for f in files},
        reload_max_rel_err=errs,
        differs=spec["differs"],
        h5_keras_load_model_fails=h5_note,
        kwargs={k: v for k, v in spec["kwargs"].items()},
        seed=seed_of(name),
    )
    log[name] = rec
    print(f"{name}: {rec['params']} params, {len(model.layers)} layers, |y|max "
          f"{rec['output_abs_max']:.3g}, spread {spread:.3g}, eager {eager:.2g}, sens {sens:.2g}, "
          f"{sum(rec['files'].values()) / 1e6:.2f} MB")
    return rec


# --------------------------------------------------------------------------------------------------
# preprocess_input
# --------------------------------------------------------------------------------------------------

PREPROC_MODULES = {
    "VGG16": vgg16, "VGG19": vgg19, "ResNet50/101/152": resnet, "ResNetV2": resnet_v2,
    "InceptionV3": inception_v3, "InceptionResNetV2": inception_resnet_v2, "Xception": xception,
    "MobileNet": mobilenet, "MobileNetV2": mobilenet_v2, "MobileNetV3": mobilenet_v3,
    "DenseNet": densenet, "NASNet": nasnet, "EfficientNet": efficientnet,
    "EfficientNetV2": efficientnet_v2, "ConvNeXt": convnext,
}


def preprocess():
    img_path = os.path.join(common.REPO, "assets", "images", "dog.jpg")
    img = keras.utils.load_img(img_path, target_size=(224, 224))
    raw = keras.utils.img_to_array(img, dtype="float32")[None]
    modes = {
        "caffe": imagenet_utils.preprocess_input(raw.copy(), mode="caffe"),
        "tf": imagenet_utils.preprocess_input(raw.copy(), mode="tf"),
        "torch": imagenet_utils.preprocess_input(raw.copy(), mode="torch"),
        "identity": raw.copy(),
    }
    table = {}
    for fam, mod in PREPROC_MODULES.items():
        got = np.asarray(mod.preprocess_input(raw.copy()), np.float32)
        match = [m for m, v in modes.items() if got.shape == v.shape and np.array_equal(got, v)]
        assert len(match) == 1, (fam, match)
        table[fam] = match[0]
    for m, v in modes.items():
        save_npy(os.path.join(OUT, f"preprocess_{m}.npy"), v)
    print(table)
    return table


def main(argv):
    os.makedirs(OUT, exist_ok=True)
    manifest_path = os.path.join(OUT, "manifest.json")
    manifest = {}
    if os.path.exists(manifest_path):
        import json
        with open(manifest_path) as f:
            manifest = json.load(f)
    if argv == ["--refresh-manifest"]:
        # re-derive the descriptive fields (what differs, file sizes) without rebuilding
        for name, rec in manifest.get("models", {}).items():
            rec["differs"] = ZOO[name]["differs"]
            rec["files"] = {f: file_size(os.path.join(OUT, f)) for f in rec["files"]}
        write_json(manifest_path, manifest)
        return
    names = [a for a in argv if not a.startswith("-")] or list(ZOO)
    if "--preprocess" in argv or not [a for a in argv if not a.startswith("-")]:
        manifest["_preprocess_input"] = preprocess()
        if argv == ["--preprocess"]:
            names = []
    for name in names:
        log = manifest.setdefault("models", {})
        make(name, log)
        manifest["_versions"] = VERSIONS
        write_json(manifest_path, manifest)
    write_json(manifest_path, manifest)


if __name__ == "__main__":
    main(sys.argv[1:])
