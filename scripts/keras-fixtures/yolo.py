"""Keras-exported YOLO fixtures, keras-yolo3 style (dev-only).

    /work/venv/bin/python scripts/keras-fixtures/yolo.py

Builds a Keras model from assets/darknet/yolo-fastest-1.1.cfg and loads
assets/darknet/yolo-fastest-1.1.weights into it with the conventions of keras-yolo3's convert.py
(qqwweee/keras-yolo3 @ e6598d1, read for its conventions only; this is an independent script):

  * [convolutional]: Conv2D(filters, size, strides=stride, padding='same' if pad==1 and stride==1
    else 'valid', use_bias=not batch_normalize); for stride > 1 a ZeroPadding2D(((1,0),(1,0)))
    first ("Darknet uses left and top padding instead of 'same' mode"). Weights OIHW -> HWIO.
    convert.py knows no `groups`: here groups == in == out channels becomes DepthwiseConv2D (kernel
    (k,k,C,1)), other groups > 1 become Conv2D(groups=g) (none in this cfg).
    batch_normalize=1: BatchNormalization() with Keras' default epsilon (1e-3) — convert.py passes
    no epsilon — and weights [gamma, beta, mean, variance]; darknet's own CPU BN is
    (x-mean)/(sqrt(var)+1e-6), so the Keras model differs from darknet slightly (measured below).
    activation leaky -> LeakyReLU(0.1); linear -> nothing.
  * [route] -> Concatenate() (several layers) or the layer itself (one); [shortcut] ->
    Add()([from, previous]); [upsample] -> UpSampling2D(2); [maxpool] ->
    MaxPooling2D(size, stride, padding='same'); [dropout] -> Dropout(probability) (convert.py has
    none); [yolo] -> the previous layer becomes a model output (raw conv output, no sigmoid).
  * Input (None, None, 3) as convert.py, and a second model with a fixed (320, 320, 3) input.
  * Saved with model.save('x.h5') (legacy HDF5 full model).
  * The same conversion with BatchNormalization(epsilon=1e-12) is darknet's network to ~1e-6: its
    heads reproduce darknet's printed sums (formats.md §2.9). Only its heads are kept
    (heads_darknet_letterbox_eps1e-12.*.npy: darknet-equivalent raw heads), not the model.
"""

import os
import re

import common  # noqa: F401
from common import OUT_ROOT, REPO, VERSIONS, check_roundtrip, save_npy, write_json

import numpy as np
import keras
from keras import layers as L
from PIL import Image

OUT = os.path.join(OUT_ROOT, "yolo")
CFG = os.path.join(REPO, "assets", "darknet", "yolo-fastest-1.1.cfg")
WEIGHTS = os.path.join(REPO, "assets", "darknet", "yolo-fastest-1.1.weights")
DOG_STB = os.path.join(REPO, "test", "fixtures", "darknet", "dog.stb.png")
DOG_JPG = os.path.join(REPO, "assets", "images", "dog.jpg")
COCO = os.path.join(REPO, "assets", "darknet", "coco.names")

# darknet reference (shared/design/formats.md §2.9): sums over the sigmoid-ed heads, letterbox sum
DARKNET_REF = {"letterbox_sum": 154103.876753, "L121_sum": 480.995612, "L121_max": 0.987916,
               "L130_sum": 2853.331570, "L130_max": 1.331119}


def parse_cfg(path):
    sections = []
    for raw in open(path):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("["):
            sections.append((line.strip("[]").strip(), {}))
        else:
            k, v = line.split("=", 1)
            sections[-1][1][k.strip()] = v.strip()
    return sections


def build(input_shape, weights_path, bn_epsilon=1e-3):
    sections = parse_cfg(CFG)
    assert sections[0][0] in ("net", "network")
    f = open(weights_path, "rb")
    major, minor, revision = np.frombuffer(f.read(12), np.int32)
    seen_bytes = 8 if (major * 10 + minor) >= 2 and major < 1000 and minor < 1000 else 4
    f.read(seen_bytes)

    def read(n):
        a = np.frombuffer(f.read(4 * n), np.float32)
        assert a.size == n
        return a

    inp = keras.Input(shape=input_shape, name="input_1")
    prev = inp
    all_layers = []
    out_index = []
    pending = []  # (layer, weights) assigned after the model is built
    conv_i = 0
    for kind, opt in sections[1:]:
        if kind == "convolutional":
            filters = int(opt["filters"])
            size = int(opt["size"])
            stride = int(opt.get("stride", 1))
            pad = int(opt.get("pad", 0))
            groups = int(opt.get("groups", 1))
            act = opt.get("activation", "logistic")
            bn = int(opt.get("batch_normalize", 0)) == 1
            cin = prev.shape[-1]
            padding = "same" if pad == 1 and stride == 1 else "valid"
            if pad == 0:
                assert size == 1, "pad=0 with size>1 does not occur here"
            bias = read(filters)
            if bn:
                gamma, mean, var = read(filters), read(filters), read(filters)
            w = read(filters * (cin // groups) * size * size).reshape(
                filters, cin // groups, size, size)
            if stride > 1:
                assert size == 3 and pad == 1
                prev = L.ZeroPadding2D(((1, 0), (1, 0)))(prev)
            if groups == 1:
                layer = L.Conv2D(filters, (size, size), strides=(stride, stride), padding=padding,
                                 use_bias=not bn)
                kernel = np.transpose(w, (2, 3, 1, 0))  # OIHW -> HWIO
            elif groups == cin == filters:
                layer = L.DepthwiseConv2D((size, size), strides=(stride, stride), padding=padding,
                                          use_bias=not bn)
                kernel = np.transpose(w, (2, 3, 0, 1))  # (C,1,kh,kw) -> (kh,kw,C,1)
            else:
                layer = L.Conv2D(filters, (size, size), strides=(stride, stride), padding=padding,
                                 groups=groups, use_bias=not bn)
                kernel = np.transpose(w, (2, 3, 1, 0))  # (kh,kw,C/g,filters), group-major
            x = layer(prev)
            pending.append((layer, [kernel] if bn else [kernel, bias]))
            if bn:
                bnl = L.BatchNormalization(epsilon=bn_epsilon)
                x = bnl(x)
                pending.append((bnl, [gamma, bias, mean, var]))
            if act == "leaky":
                x = L.LeakyReLU(negative_slope=0.1)(x)
            elif act != "linear":
                raise ValueError(act)
            prev = x
            all_layers.append(prev)
            conv_i += 1
        elif kind == "route":
            ids = [int(i) for i in opt["layers"].split(",")]
            ls = [all_layers[i] for i in ids]
            prev = L.Concatenate()(ls) if len(ls) > 1 else ls[0]
            all_layers.append(prev)
        elif kind == "maxpool":
            size = int(opt["size"])
            stride = int(opt.get("stride", 1))
            prev = L.MaxPooling2D((size, size), strides=(stride, stride), padding="same")(prev)
            all_layers.append(prev)
        elif kind == "shortcut":
            assert opt.get("activation", "linear") == "linear"
            prev = L.Add()([all_layers[int(opt["from"])], prev])
            all_layers.append(prev)
        elif kind == "upsample":
            assert int(opt["stride"]) == 2
            prev = L.UpSampling2D(2)(prev)
            all_layers.append(prev)
        elif kind == "dropout":
            prev = L.Dropout(float(opt["probability"]))(prev)
            all_layers.append(prev)
        elif kind == "yolo":
            out_index.append(len(all_layers) - 1)
            all_layers.append(None)
            prev = None
        else:
            raise ValueError(kind)
    rest = f.read()
    assert not rest, f"{len(rest)} bytes of weights left"
    model = keras.Model(inp, [all_layers[i] for i in out_index], name="model_1")
    for layer, ws in pending:
        layer.set_weights([np.asarray(w, np.float32) for w in ws])
    return model, conv_i


# ------------------------------------------------------------------------------ preprocessing

def darknet_resize(im, w, h):
    """darknet src/image.c resize_image, float32 arithmetic; im is (H, W, C) float32."""
    ih, iw, _ = im.shape
    w_scale = np.float32(iw - 1) / np.float32(w - 1)
    h_scale = np.float32(ih - 1) / np.float32(h - 1)
    part = np.empty((ih, w, im.shape[2]), np.float32)
    for c in range(w):
        if c == w - 1 or iw == 1:
            part[:, c] = im[:, iw - 1]
        else:
            sx = np.float32(c) * w_scale
            ix = int(sx)
            dx = np.float32(sx - np.float32(ix))
            part[:, c] = (np.float32(1) - dx) * im[:, ix] + dx * im[:, ix + 1]
    out = np.empty((h, w, im.shape[2]), np.float32)
    for r in range(h):
        sy = np.float32(r) * h_scale
        iy = int(sy)
        dy = np.float32(sy - np.float32(iy))
        out[r] = (np.float32(1) - dy) * part[iy]
        if r == h - 1 or ih == 1:
            continue
        out[r] = out[r] + dy * part[iy + 1]
    return out


def darknet_letterbox(path, net_w=320, net_h=320):
    """darknet letterbox_image on stb-decoded pixels (formats.md §2.6): value/255, aspect-keeping
    bilinear resize (darknet's own), pasted centred onto a 0.5 canvas. Returns (H, W, 3) NHWC."""
    im = np.asarray(Image.open(path).convert("RGB"), np.float32) / np.float32(255.0)
    ih, iw = im.shape[:2]
    if net_w / iw < net_h / ih:
        new_w, new_h = net_w, (ih * net_w) // iw
    else:
        new_h, new_w = net_h, (iw * net_h) // ih
    resized = darknet_resize(im, new_w, new_h)
    canvas = np.full((net_h, net_w, 3), 0.5, np.float32)
    dy, dx = (net_h - new_h) // 2, (net_w - new_w) // 2
    canvas[dy:dy + new_h, dx:dx + new_w] = resized
    return canvas, (new_w, new_h, dx, dy)


def kerasyolo3_letterbox(path, size=(320, 320)):
    """keras-yolo3 yolo3/utils.py letterbox_image + yolo.py's /255, re-written: PIL decode,
    BICUBIC resize keeping aspect (int() of the scaled size), paste centred on (128,128,128)."""
    image = Image.open(path)
    iw, ih = image.size
    w, h = size
    scale = min(w / iw, h / ih)
    nw, nh = int(iw * scale), int(ih * scale)
    image = image.resize((nw, nh), Image.BICUBIC)
    new_image = Image.new("RGB", size, (128, 128, 128))
    new_image.paste(image, ((w - nw) // 2, (h - nh) // 2))
    return np.array(new_image, dtype="float32") / 255.0, (nw, nh, (w - nw) // 2, (h - nh) // 2)


def head_stats(heads, classes=80):
    """darknet's [yolo] in-place logistic on x, y, obj and classes (not w, h); sum and max."""
    res = []
    for hd in heads:
        t = np.asarray(hd[0], np.float64)  # (H, W, A*(5+classes))
        a = t.shape[-1] // (5 + classes)
        t = t.reshape(t.shape[0], t.shape[1], a, 5 + classes).copy()
        idx = [0, 1] + list(range(4, 5 + classes))
        t[..., idx] = 1.0 / (1.0 + np.exp(-t[..., idx]))
        res.append((float(t.sum()), float(t.max())))
    return res


def main():
    os.makedirs(OUT, exist_ok=True)
    files = {}
    report = {"_versions": VERSIONS}

    # Darknet-exact check: the same conversion with a negligible epsilon reproduces darknet's
    # CPU numbers (its BN adds 1e-6 to sqrt(var) instead).
    dn_in, box = darknet_letterbox(DOG_STB)
    report["darknet_letterbox"] = {"new_w,new_h,dx,dy": box, "sum_nhwc": float(dn_in.sum(dtype=np.float64))}
    check, _ = build((320, 320, 3), WEIGHTS, bn_epsilon=1e-12)
    check_heads = check.predict(dn_in[None], verbose=0)
    report["darknet_check_eps1e-12"] = head_stats(check_heads)
    for i, hd in enumerate(check_heads):
        save_npy(os.path.join(OUT, f"heads_darknet_letterbox_eps1e-12.{i}.npy"), hd)
    keras.backend.clear_session()

    dyn, n_conv = build((None, None, 3), WEIGHTS)
    fixed, _ = build((320, 320, 3), WEIGHTS)
    report["conv_layers"] = n_conv
    report["params"] = int(dyn.count_params())
    paths = {"yolo-fastest-1.1.h5": dyn, "yolo-fastest-1.1_320.h5": fixed}
    for fname, m in paths.items():
        m.save(os.path.join(OUT, fname))

    kr_in, kbox = kerasyolo3_letterbox(DOG_JPG)
    report["kerasyolo3_letterbox"] = {"nw,nh,dx,dy": kbox,
                                      "sum_nhwc": float(kr_in.sum(dtype=np.float64))}
    for tag, x in (("darknet_letterbox", dn_in), ("kerasyolo3_letterbox", kr_in)):
        xb = x[None].astype(np.float32)
        heads = dyn.predict(xb, verbose=0)
        heads_fixed = fixed.predict(xb, verbose=0)
        for a, b in zip(heads, heads_fixed):
            assert np.array_equal(a, b) or np.allclose(a, b, atol=1e-5), tag
        save_npy(os.path.join(OUT, f"dog_{tag}.npy"), xb)
        for i, hd in enumerate(heads):
            save_npy(os.path.join(OUT, f"heads_{tag}.{i}.npy"), hd)
        report[f"heads_{tag}"] = {"shapes": [list(h.shape) for h in heads],
                                  "sigmoid_sum_max": head_stats(heads)}
        for fname in paths:
            check_roundtrip(os.path.join(OUT, fname), xb, heads, atol=1e-5, rtol=1e-5)
        if tag == "darknet_letterbox":
            diff = [float(np.max(np.abs(h - c))) for h, c in zip(heads, check_heads)]
            report["eps1e-3_vs_darknet_check_max_abs_diff"] = diff

    # keras-yolo3 side files: anchors from the cfg, classes = coco.names
    sections = parse_cfg(CFG)
    yolo = [o for k, o in sections if k == "yolo"]
    anchors = [int(v) for v in re.split(r"[,\s]+", yolo[0]["anchors"].strip()) if v]
    pairs = [f"{anchors[i]},{anchors[i + 1]}" for i in range(0, len(anchors), 2)]
    with open(os.path.join(OUT, "yolo_anchors.txt"), "w") as fh:
        fh.write(",  ".join(pairs) + "\n")
    with open(COCO) as src, open(os.path.join(OUT, "coco_classes.txt"), "w") as dst:
        dst.write(src.read())
    report["masks_in_cfg"] = [o["mask"] for o in yolo]
    report["darknet_reference"] = DARKNET_REF
    for fn in sorted(os.listdir(OUT)):
        if fn != "report.json":
            files[fn] = os.path.getsize(os.path.join(OUT, fn))
    report["files"] = files
    write_json(os.path.join(OUT, "report.json"), report)
    print({k: v for k, v in report.items() if k != "files"})


if __name__ == "__main__":
    main()
