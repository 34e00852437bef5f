"""Writes test/fixtures/keras-zoo/README.md from the manifests the other scripts leave (dev-only).

    /work/venv/bin/python scripts/keras-fixtures/report.py
"""

import json
import os

import common
from common import OUT_ROOT

import h5py
import PIL

VERS = dict(common.VERSIONS, h5py=h5py.__version__, pillow=PIL.__version__)


def load(sub, name):
    p = os.path.join(OUT_ROOT, sub, name)
    return json.load(open(p)) if os.path.exists(p) else {}


def mb(n):
    return f"{n / 1e6:.2f} MB" if n >= 1e5 else f"{n / 1e3:.0f} KB"


def dir_size(sub):
    d = os.path.join(OUT_ROOT, sub)
    return sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d)), len(os.listdir(d))


PREPROC = {
    "VGG16": ("caffe", "RGB→BGR, minus [103.939, 116.779, 123.68]; no scaling"),
    "VGG19": ("caffe", "same as VGG16"),
    "ResNet50/101/152": ("caffe", "same as VGG16"),
    "ResNetV2": ("tf", "x/127.5 − 1"),
    "InceptionV3": ("tf", "x/127.5 − 1"),
    "InceptionResNetV2": ("tf", "x/127.5 − 1"),
    "Xception": ("tf", "x/127.5 − 1"),
    "MobileNet": ("tf", "x/127.5 − 1"),
    "MobileNetV2": ("tf", "x/127.5 − 1"),
    "NASNet": ("tf", "x/127.5 − 1"),
    "DenseNet": ("torch", "x/255, minus [0.485, 0.456, 0.406], divided by [0.229, 0.224, 0.225] "
                 "(RGB)"),
    "MobileNetV3": ("identity", "built in: `Rescaling(scale=1/127.5, offset=-1)` "
                    "(include_preprocessing=True, the default)"),
    "EfficientNet": ("identity", "built in: `Rescaling(1/255)` → `Normalization(axis=-1)` with "
                     "ImageNet mean/variance held as *weights* → (only in the weights='imagenet' "
                     "build) `Rescaling([1/sqrt(0.229), 1/sqrt(0.224), 1/sqrt(0.225)])`"),
    "EfficientNetV2": ("identity", "built in (include_preprocessing=True): B0–B3 `Rescaling(1/255)` → "
                       "`Normalization(mean=[0.485,0.456,0.406], variance=[0.229²,0.224²,0.225²])` "
                       "(config, no weights); S/M/L `Rescaling(1/128, offset=-1)`"),
    "ConvNeXt": ("identity", "built in (include_preprocessing=True): `Normalization(mean=255·"
                 "[0.485,0.456,0.406], variance=(255·[0.229,0.224,0.225])²)` (config)"),
}


def main():
    apps = load("apps", "manifest.json")
    lay = load("layers", "manifest.json")
    yolo = load("yolo", "report.json")
    L = []
    w = L.append
    w("# keras-zoo: reference fixtures from real Keras")
    w("")
    w("Made by the dev-only Python scripts in `scripts/keras-fixtures/` (see its README). No test or")
    w("CI run needs Python: everything here is committed output. Nothing here was trained: the weights")
    w("are seeded random values chosen so that mistakes show (below).")
    w("")
    w("* Versions: " + ", ".join(f"{k} {v}" for k, v in sorted(VERS.items()))
      + " (CPU, `TF_ENABLE_ONEDNN_OPTS=0`, 1 intra-op thread).")
    w("* Seeds: each fixture's seed is `zlib.crc32(name) & 0x7fffffff` (recorded per fixture in the "
      "manifests); `keras.utils.set_random_seed(seed)` before building, then a "
      "`numpy.random.default_rng(seed)` draws every weight, the inputs and the calibration batch.")
    w("* Re-running a script rewrites the same bytes: `.keras` files are normalised after saving "
      "(metadata.json `date_saved` = 2026-01-01@00:00:00, zip timestamps 1980-01-01, and "
      "config.json's `shared_object_id` values, which Keras takes from Python's id(), renumbered "
      "1, 2, … — only their equality means anything); `.h5` and `.npy` are deterministic as written.")
    w("* `.npy` files are float32, little-endian, C order. Inputs and outputs have batch 2 (YOLO: 1).")
    w("* `LAYERS.md`: exact inference semantics of every kind not yet supported, checked by "
      "`scripts/keras-fixtures/verify.py` (a numpy interpreter run from the stored files alone).")
    w("* `classes.json`: every layer kind / operation node in all fixtures, with files, a sample "
      "config from `.keras` and from `.h5`, distinct config values, stored weights.")
    w("")
    tot = 0
    for sub in ("apps", "layers", "yolo"):
        s, n = dir_size(sub)
        tot += s
        w(f"* `{sub}/`: {n} files, {mb(s)}")
    import gzip
    gz = 0
    for sub in ("apps", "layers", "yolo"):
        d = os.path.join(OUT_ROOT, sub)
        for f in os.listdir(d):
            gz += len(gzip.compress(open(os.path.join(d, f), "rb").read(), 6))
    w(f"* total: {mb(tot)}; {mb(gz)} gzipped, which is about what git stores. The HDF5 structure "
      "and the JSON compress about 10x; the random float32 weights do not compress.")
    w("")
    w("## Random weights (all three folders)")
    w("")
    w("Every weight is overwritten (`common.randomize_weights`):")
    w("")
    w("* Conv/Dense kernels N(0, g/fan_in), g = 2 (apps) or 1 (layers)")
    w("* biases U(−0.2, 0.2)")
    w("* BatchNormalization gamma U(0.5, 1.5), beta U(−0.3, 0.3)")
    w("* LayerNormalization gamma U(0.5, 1.5), beta U(−0.3, 0.3)")
    w("* LayerScale U(0.5, 1.5)")
    w("* PReLU alpha U(0.05, 0.5)")
    w("")
    w("Normalization layers keep the values the script gives them.")
    w("")
    w("In `apps/` every BatchNormalization then gets moving statistics near those its input actually")
    w("has (`common.calibrate_batchnorm`, on a separate seeded batch of 16 inputs):")
    w("")
    w("* moving_mean = mean + U(−0.25, 0.25)·std")
    w("* moving_variance = (var + 0.05·E[x²] + 1e-3)·U(0.5, 1.5)")
    w("")
    w("With plain random statistics the deep nets blew up (ResNet152 to 1e6). Calibrated like this,")
    w("every BN normalises, the outputs stay O(1) and every layer matters, while mean and variance stay")
    w("arbitrary non-trivial values (not 0/1), so folding or epsilon errors show. The layer fixtures use")
    w("the plain random BN values: their BN layers are few.")
    w("")
    w("## apps/: every keras.applications CNN family, small")
    w("")
    w("Each model comes from the family's **public constructor** `keras.applications.<Name>`, called")
    w("with `weights=None, classes=5, classifier_activation=None` (logits) and the smallest input the")
    w("family accepts. Where the constructor has no width argument small enough, the one internal")
    w("hook the family builds its widths with is intercepted for the duration of the call")
    w("(`zoo.py`: `scaled_layers`, `irv2_width`, `densenet_growth`, `efficientnet_width`,")
    w("`efficientnet_v2_width`, `nasnet_width`, `convnext_width`, `mobilenet_v3_last`). So block")
    w("structure, layer kinds, options and layer names are those of the real model.")
    w("")
    w("**Depth.** The family's base model keeps its **true depth**: VGG16, VGG19, ResNet50,")
    w("ResNet50V2, InceptionV3, InceptionResNetV2, Xception, MobileNet, MobileNetV2,")
    w("MobileNetV3Small/Large, DenseNet121, NASNetMobile, EfficientNetB0, EfficientNetV2B0 and")
    w("ConvNeXtTiny (up to 782 layers).")
    w("")
    w("The variants that differ from their base only in repeat counts (and widths) have **reduced**")
    w("**depth**: ResNet101/152, ResNet101V2/152V2, DenseNet169/201, NASNetLarge, EfficientNetB1–B7,")
    w("EfficientNetV2B1–B3/S/M/L and ConvNeXtSmall/Base/Large/XLarge.")
    w("")
    w("* They are built through the same constructors, with every stage, dense block or repeat group")
    w("  capped at 2 blocks: the first block, which changes stride/width, plus one identity-residual")
    w("  block. NASNetLarge: one normal cell per stage.")
    w("* Each row below gives the real counts.")
    w("* So every block kind and option of the real variant is still present: EfficientNetB1+'s")
    w("  expand-1 residual block, EfficientNetV2-M/L's 7th stage, NASNetLarge's skip_reduction.")
    w("* Only the repetition is shorter. Some reduced variants therefore have the same structure as")
    w("  each other (ResNet101 = ResNet152 up to names and seeds).")
    w("")
    w("Why: a `.keras` costs about 3.5 KB per layer whatever the widths (HDF5 groups and the JSON")
    w("config). The real depths of all 40 models come to about 17,000 layers, over 60 MB before any")
    w("weight.")
    w("")
    w("Files per model:")
    w("")
    w("* `<Name>.keras`")
    w("* `<Name>.h5`, the legacy `model.save('x.h5')`, kept for at least one model per family")
    w("* `<Name>.input.npy` (2,S,S,3)")
    w("* `<Name>.output.npy` (2,5) logits from `model.predict`")
    w("")
    w("Input ranges:")
    w("")
    w("* U(0,255) for the models that preprocess inside (EfficientNet, EfficientNetV2, ConvNeXt,")
    w("  MobileNetV3)")
    w("* U(−1,1) for the others (feed as is: `preprocess_input` is *not* applied to these inputs)")
    w("")
    w("Every file was loaded back in Keras and predicts the same output. `apps/manifest.json` has, per")
    w("model:")
    w("")
    w("* the set of layer kinds")
    w("* parameter and layer counts, file sizes")
    w("* `eager_vs_predict_rel`: the relative difference between Keras' graph (`predict`) and eager")
    w("  execution of the same model")
    w("* `perturb_1e6_rel`: the relative output change under a 1e-6 relative input perturbation")
    w("")
    w("The last two give a tolerance scale: two correct float32 implementations differ by about")
    w("`eager_vs_predict_rel`, and a loader should match to about 1e-4 relative (ResNet152: 1e-3).")
    w("")
    w("Keras 3.15 cannot `load_model` its own MobileNetV3Small.h5: it reads the operation nodes")
    w("`x + 3.0` as merge layers (see LAYERS.md §0.1). Its weights were checked with `load_weights`")
    w("instead.")
    w("")
    w("| model | input | params | layers | files | what differs from the full-size model |")
    w("|---|---|---|---|---|---|")
    from zoo import ZOO  # table in zoo order

    models = {n: apps["models"][n] for n in ZOO if n in apps.get("models", {})}
    for n, r in models.items():
        files = ", ".join(f"`{f}` {mb(s)}" for f, s in r["files"].items() if not f.endswith(".npy"))
        w(f"| {n} | {r['input_shape'][1]}² | {r['params']:,} | {r['layers']} | {files} | "
          f"{r['differs']} |")
    w("")
    w("Layer kinds per model (class names; `module.Class` for operation nodes and")
    w("application-private classes):")
    w("")
    for n, r in models.items():
        w(f"* **{n}**: " + ", ".join(r["layer_kinds"]))
    w("")
    w("### Preprocessing (`preprocess_input`) per family")
    w("")
    w("`preprocess_<mode>.npy` is the output of `preprocess_input` for **one image**, shape")
    w("(1,224,224,3) float32: `assets/images/dog.jpg` loaded with")
    w("`keras.utils.load_img(target_size=(224,224))` (PIL, nearest) and `img_to_array`.")
    w("`preprocess_identity.npy` is that raw array (0–255, RGB). `zoo.py --preprocess` checked each")
    w("family's own `preprocess_input` against the four arrays, bit for bit.")
    w("")
    w("| family | `preprocess_input` | what it does / built-in preprocessing layers |")
    w("|---|---|---|")
    got = apps.get("_preprocess_input", {})
    for fam, (mode, what) in PREPROC.items():
        assert got.get(fam, mode) == mode, (fam, got.get(fam), mode)
        w(f"| {fam} | {mode} → `preprocess_{mode}.npy` | {what} |")
    w("")
    w("## layers/: one or a few layers per model")
    w("")
    w("Files per case NAME:")
    w("")
    w("* `NAME.keras`, `NAME.h5`")
    w("* `NAME.in<i>.npy`: the inputs, in `model.inputs` order")
    w("* `NAME.out<i>.npy`: the outputs, in `model.outputs` order")
    w("* `NAME.node.<name>.npy`: for models of several layers, the output of each intermediate")
    w("  layer / operation node that is not itself an output")
    w("")
    w("Weights as above (kernel gain 1). `layers/manifest.json` lists the weights (paths, shapes) and")
    w("kinds of each. Where Keras itself cannot `load_model` the `.h5`, the last column says why;")
    w("these `.h5` files are still correct, and their weights were checked with `load_weights` and by")
    w("`verify.py`.")
    w("")
    w("| case | what | inputs → outputs | Keras load_model(.h5) |")
    w("|---|---|---|---|")
    for n, r in lay.get("cases", {}).items():
        io_ = " + ".join(str(tuple(s)) for s in r["inputs"]) + " → " + \
            ", ".join(str(tuple(s)) for s in r["outputs"])
        note = r.get("h5_keras_load_model_fails") or "ok"
        note = note.split(". ")[0][:90]
        w(f"| `{n}` | {r['doc']} | {io_} | {note} |")
    w("")
    w("## yolo/: Yolo-Fastest 1.1 exported keras-yolo3 style")
    w("")
    w("`scripts/keras-fixtures/yolo.py` parses `assets/darknet/yolo-fastest-1.1.cfg` and loads")
    w("`yolo-fastest-1.1.weights` the way keras-yolo3's `convert.py` does (qqwweee/keras-yolo3 @ e6598d1,")
    w("read for its conventions; the script is our own). Each `[section]` maps like this:")
    w("")
    w("* `[convolutional]` → `Conv2D(padding='same' if pad and stride 1 else 'valid', use_bias=not bn)`,")
    w("  with `ZeroPadding2D(((1,0),(1,0)))` before each stride-2 conv")
    w("  * weights OIHW→HWIO")
    w("  * `groups == channels` → `DepthwiseConv2D` (kernel (k,k,C,1)); convert.py has no `groups`")
    w("  * BN → `BatchNormalization()` with Keras' **default epsilon 1e-3**, exactly as convert.py")
    w("    (which passes none), weights [gamma, beta, mean, var]")
    w("  * `leaky` → `LeakyReLU(0.1)`")
    w("* `[route]` → `Concatenate` (or the layer itself)")
    w("* `[shortcut]` → `Add`")
    w("* `[upsample]` → `UpSampling2D(2)`")
    w("* `[maxpool]` → `MaxPooling2D(padding='same')`")
    w("* `[dropout]` → `Dropout`")
    w("* `[yolo]`: the previous layer is a model output (raw conv output, no sigmoid), in cfg order")
    w("")
    w("| file | what |")
    w("|---|---|")
    w("| `yolo-fastest-1.1.h5` | input `(None, None, 3)` as convert.py; outputs (1,H/32,W/32,255), (1,H/16,W/16,255) |")
    w("| `yolo-fastest-1.1_320.h5` | same weights, input fixed `(320, 320, 3)` |")
    w("| `dog_darknet_letterbox.npy` | (1,320,320,3): `test/fixtures/darknet/dog.stb.png` (stb pixels) /255, darknet's own bilinear `resize_image` to 320×240, pasted at (0,40) on a 0.5 canvas (formats.md §2.6), NHWC |")
    w("| `heads_darknet_letterbox.{0,1}.npy` | the two heads of `yolo-fastest-1.1*.h5` on it: (1,10,10,255), (1,20,20,255), raw |")
    w("| `heads_darknet_letterbox_eps1e-12.{0,1}.npy` | the heads of the same conversion built with BatchNormalization(epsilon=1e-12), which is darknet's network to ~1e-6: darknet-equivalent raw heads (the model itself is not kept; `yolo.py` builds it) |")
    w("| `dog_kerasyolo3_letterbox.npy` | (1,320,320,3): keras-yolo3's own preprocessing of `assets/images/dog.jpg`: PIL decode, `letterbox_image` (BICUBIC resize to int(768·s)×int(576·s) = 320×240, pasted at ((320−nw)//2, (320−nh)//2) = (0,40) on a (128,128,128) canvas), /255 |")
    w("| `heads_kerasyolo3_letterbox.{0,1}.npy` | the heads of `yolo-fastest-1.1*.h5` on it |")
    w("| `yolo_anchors.txt` | keras-yolo3 format, one line, from the cfg: `12,18,  37,49,  52,132,  115,73,  119,199,  242,238` |")
    w("| `coco_classes.txt` | 80 lines, identical to `assets/darknet/coco.names` (and to keras-yolo3's `model_data/coco_classes.txt`) |")
    w("| `report.json` | the numbers below |")
    w("")
    if yolo:
        c = yolo["darknet_check_eps1e-12"]
        k = yolo["heads_darknet_letterbox"]["sigmoid_sum_max"]
        r = yolo["darknet_reference"]
        w("Check against darknet. The reference is formats.md §2.9: pjreddie darknet, CPU, sums after")
        w("the in-place logistic on x, y, obj and classes.")
        w("")
        w(f"* Letterbox sum: ours {yolo['darknet_letterbox']['sum_nhwc']:.6f}, darknet "
          f"{r['letterbox_sum']:.6f}.")
        w(f"* eps-1e-12 model: L121 sum/max {c[0][0]:.6f} / {c[0][1]:.6f} (darknet {r['L121_sum']} / "
          f"{r['L121_max']}); L130 {c[1][0]:.6f} / {c[1][1]:.6f} (darknet {r['L130_sum']} / {r['L130_max']}).")
        w("  So the conversion is right.")
        w(f"* The convert.py-faithful models (eps 1e-3): L121 {k[0][0]:.4f} / {k[0][1]:.6f}, L130 "
          f"{k[1][0]:.4f} / {k[1][1]:.6f}.")
        d = yolo["eps1e-3_vs_darknet_check_max_abs_diff"]
        w(f"  * The raw heads differ from darknet's by up to {d[0]:.2f} / {d[1]:.2f} (absolute).")
        w("  * A few BN variances in this model are tiny (53 of 6,632 are below 1e-2; the smallest")
        w("    is 8e-4). For those channels epsilon 1e-3, against darknet's sqrt(var)+1e-6, changes")
        w("    the result a lot, so a keras-yolo3 export of Yolo-Fastest is *not* numerically")
        w("    darknet.")
        w("  * Compare a Keras loader with `heads_darknet_letterbox.*` / `heads_kerasyolo3_letterbox.*`,")
        w("    and darknet with `heads_darknet_letterbox_eps1e-12.*`.")
        w("")
        w("keras-yolo3 decoding differs from darknet in one more way. Its `yolo_eval` picks the")
        w("anchor masks by head count: `[[6,7,8],[3,4,5],[0,1,2]]` for 3 heads, and `[[3,4,5],[1,2,3]]`")
        w("for 2 heads, whatever the cfg says. Yolo-Fastest's cfg says `3,4,5` / `0,1,2`, which is what")
        w("darknet uses. Its boxes are `(sigmoid(txy)+grid)/grid_wh` and `exp(twh)·anchor/input_wh`, with")
        w("independent logistic class scores × objectness, like darknet.")
    w("")
    open(os.path.join(OUT_ROOT, "README.md"), "w").write("\n".join(L) + "\n")
    print("README.md written", len(L), "lines")


if __name__ == "__main__":
    main()
