"""Independent check of LAYERS.md (dev-only): a small numpy interpreter that runs the layer
fixtures from their stored config and weights alone — no Keras — with the semantics written in
test/fixtures/keras-zoo/LAYERS.md, and compares with the outputs Keras saved.

    /work/venv/bin/python scripts/keras-fixtures/verify.py           # layers/, tolerance 2e-5
    /work/venv/bin/python scripts/keras-fixtures/verify.py --apps    # apps/ and yolo/, 1e-3

Reads NAME.keras (config.json + model.weights.h5, weights found by the class-name paths the
.keras format uses) and NAME.h5 (model_config + model_weights, weights by layer name and
weight_names), runs both, and checks every output and every saved intermediate node.
"""

import io
import json
import math
import os
import re
import sys
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LAYERS = os.path.join(HERE, "..", "..", "test", "fixtures", "keras-zoo", "layers")

_erf = np.frompyfunc(math.erf, 1, 1)


def erf(x):
    return _erf(x).astype(np.float64)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0.0, x)


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def hard_sigmoid(x):
    return np.clip(x + 3.0, 0.0, 6.0) / 6.0


SELU_A, SELU_S = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946

ACT = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "selu": lambda x: SELU_S * np.where(x > 0, x, SELU_A * np.expm1(np.minimum(x, 0))),
    "celu": lambda x: np.maximum(x, 0) + np.minimum(0, np.expm1(np.minimum(x, 0))),
    "gelu": lambda x: 0.5 * x * (1.0 + erf(x / math.sqrt(2.0))),
    "gelu_tanh": lambda x: 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi)
                                                    * (x + 0.044715 * x ** 3))),
    "silu": lambda x: x * sigmoid(x),
    "swish": lambda x: x * sigmoid(x),
    "hard_silu": lambda x: x * hard_sigmoid(x),
    "hard_swish": lambda x: x * hard_sigmoid(x),
    "sigmoid": sigmoid,
    "hard_sigmoid": hard_sigmoid,
    "tanh": np.tanh,
    "softplus": softplus,
    "softsign": lambda x: x / (1.0 + np.abs(x)),
    "mish": lambda x: x * np.tanh(softplus(x)),
    "exponential": np.exp,
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),
    "log_sigmoid": lambda x: -softplus(-x),
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "softmax": softmax,
    "log_softmax": lambda x: x - x.max(-1, keepdims=True)
    - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)),
}


def same_pads(n, k, s):
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def pool(x, k, s, padding, mode):
    n, h, w, c = x.shape
    (kh, kw), (sh, sw) = k, s
    if padding == "same":
        oh, pt, _ = same_pads(h, kh, sh)
        ow, pl, _ = same_pads(w, kw, sw)
    else:
        oh, ow, pt, pl = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0
    y = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * sh - pt, j * sw - pl
            win = x[:, max(r0, 0):min(r0 + kh, h), max(c0, 0):min(c0 + kw, w)]
            # only the cells inside the input: padding is excluded from the average
            y[:, i, j] = win.mean(axis=(1, 2)) if mode == "avg" else win.max(axis=(1, 2))
    return y


def conv2d(x, kernel, bias, strides, padding, groups=1, depthwise=False):
    n, h, w, c = x.shape
    kh, kw = kernel.shape[:2]
    sh, sw = strides
    if padding == "same":
        oh, pt, pb = same_pads(h, kh, sh)
        ow, pl, pr = same_pads(w, kw, sw)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    else:
        oh, ow = (h - kh) // sh + 1, (w - kw) // sw + 1
    if depthwise:  # kernel (kh, kw, C, M): output channel c*M+m
        m = kernel.shape[3]
        y = np.zeros((n, oh, ow, c * m))
        for i in range(kh):
            for j in range(kw):
                patch = x[:, i:i + sh * oh:sh, j:j + sw * ow:sw, :]
                y += (patch[..., :, None] * kernel[i, j][None, None, None]).reshape(n, oh, ow, -1)
    else:  # kernel (kh, kw, C/groups, F), groups contiguous in C and F
        f = kernel.shape[3]
        cg, fg = c // groups, f // groups
        y = np.zeros((n, oh, ow, f))
        for g in range(groups):
            for i in range(kh):
                for j in range(kw):
                    patch = x[:, i:i + sh * oh:sh, j:j + sw * ow:sw, g * cg:(g + 1) * cg]
                    y[..., g * fg:(g + 1) * fg] += patch @ kernel[i, j][:, g * fg:(g + 1) * fg]
    if bias is not None:
        y = y + bias
    return y


def pair(v):
    return tuple(v) if isinstance(v, (list, tuple)) else (v, v)


def run_layer(cls, cfg, w, args, kwargs):
    """w: this layer's weights in stored order. args: inputs (arrays or constants)."""
    x = args[0]
    if cls in ("InputLayer", "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout",
               "ActivityRegularization"):
        return x
    if cls == "Conv2D":
        y = conv2d(x, w[0], w[1] if cfg["use_bias"] else None, cfg["strides"], cfg["padding"],
                   cfg.get("groups", 1))
        return ACT[cfg["activation"]](y)
    if cls in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        assert tuple(cfg.get("dilation_rate", (1, 1))) == (1, 1), "dilation not implemented"
    if cls == "SeparableConv2D":
        y = conv2d(x, w[0], None, cfg["strides"], cfg["padding"], depthwise=True)
        y = conv2d(y, w[1], w[2] if cfg["use_bias"] else None, (1, 1), "valid")
        return ACT[cfg["activation"]](y)
    if cls == "Concatenate":
        return np.concatenate(x, axis=cfg["axis"])
    if cls == "Flatten":
        return x.reshape(x.shape[0], -1)
    if cls == "Softmax":
        return softmax(x, axis=cfg.get("axis", -1))
    if cls == "UpSampling2D":
        sh, sw = pair(cfg["size"])
        assert cfg.get("interpolation", "nearest") == "nearest"
        return x.repeat(sh, axis=1).repeat(sw, axis=2)
    if cls == "LeakyReLU":
        return np.where(x >= 0, x, cfg["negative_slope"] * x)
    if cls == "DepthwiseConv2D":
        y = conv2d(x, w[0], w[1] if cfg["use_bias"] else None, cfg["strides"], cfg["padding"],
                   depthwise=True)
        return ACT[cfg["activation"]](y)
    if cls == "Dense":
        y = np.tensordot(x, w[0], axes=([-1], [0]))
        if cfg["use_bias"]:
            y = y + w[1]
        return ACT[cfg["activation"]](y)
    if cls == "Activation":
        return ACT[cfg["activation"]](x)
    if cls == "ReLU":
        mv, ns, th = cfg["max_value"], cfg["negative_slope"], cfg["threshold"]
        y = np.where(x >= th, x, ns * (x - th))
        return np.minimum(y, mv) if mv is not None else y
    if cls == "BatchNormalization":
        i = 0
        gamma = beta = None
        if cfg["scale"]:
            gamma = w[i]
            i += 1
        if cfg["center"]:
            beta = w[i]
            i += 1
        mean, var = w[i], w[i + 1]
        y = (x - mean) / np.sqrt(var + cfg["epsilon"])
        if gamma is not None:
            y = y * gamma
        if beta is not None:
            y = y + beta
        return y
    if cls == "Rescaling":
        return x * np.asarray(cfg["scale"]) + np.asarray(cfg["offset"])
    if cls == "GlobalMaxPooling2D":
        return x.max(axis=(1, 2), keepdims=cfg["keepdims"])
    if cls == "GlobalAveragePooling2D":
        return x.mean(axis=(1, 2), keepdims=cfg["keepdims"])
    if cls == "Reshape":
        return x.reshape((x.shape[0],) + tuple(cfg["target_shape"]))
    if cls == "ZeroPadding2D":
        (t, b), (l, r) = cfg["padding"]
        return np.pad(x, ((0, 0), (t, b), (l, r), (0, 0)))
    if cls == "Cropping2D":
        (t, b), (l, r) = cfg["cropping"]
        return x[:, t:x.shape[1] - b, l:x.shape[2] - r, :]
    if cls in ("AveragePooling2D", "MaxPooling2D"):
        return pool(x, pair(cfg["pool_size"]), pair(cfg["strides"]), cfg["padding"],
                    "avg" if cls.startswith("Average") else "max")
    if cls in ("Add", "Multiply", "Subtract", "Maximum", "Minimum", "Average"):
        xs = x  # merge layers take one list argument
        nd = max(t.ndim for t in xs)
        # lower-rank inputs get new axes right after the batch axis until the ranks agree
        xs = [t.reshape((t.shape[0],) + (1,) * (nd - t.ndim) + t.shape[1:]) for t in xs]
        if cls == "Subtract":
            return xs[0] - xs[1]
        if cls == "Average":
            return sum(xs[1:], xs[0]) / len(xs)
        op = {"Add": np.add, "Multiply": np.multiply, "Maximum": np.maximum,
              "Minimum": np.minimum}[cls]
        y = xs[0]
        for t in xs[1:]:
            y = op(y, t)
        return y
    if cls == "Normalization":
        nd = x.ndim
        keep = sorted(a % nd for a in cfg["axis"])
        bshape = [x.shape[d] if d in keep else 1 for d in range(nd)]
        if cfg["mean"] is not None:
            mean, var = np.asarray(cfg["mean"], np.float64), np.asarray(cfg["variance"], np.float64)
            if mean.ndim == 0:
                mean, var = np.broadcast_to(mean, bshape), np.broadcast_to(var, bshape)
            else:  # align the given dims with the kept axes from the right
                exp = [1] * nd
                for i in range(1, mean.ndim + 1):
                    exp[keep[-i]] = mean.shape[-i]
                mean = np.broadcast_to(mean.reshape(exp), bshape)
                var = np.broadcast_to(var.reshape(exp), bshape)
        else:  # adapted: weights mean, variance (count unused)
            mean, var = w[0].reshape(bshape), w[1].reshape(bshape)
        sd = np.maximum(np.sqrt(var), 1e-7)
        return mean + x * sd if cfg["invert"] else (x - mean) / sd
    if cls == "LayerNormalization":
        nd = x.ndim
        axes = sorted(a % nd for a in (cfg["axis"] if isinstance(cfg["axis"], list)
                                       else [cfg["axis"]]))
        mean = x.mean(axis=tuple(axes), keepdims=True)
        var = x.var(axis=tuple(axes), keepdims=True)
        y = (x - mean) / np.sqrt(var + cfg["epsilon"])
        bshape = [x.shape[d] if d in axes else 1 for d in range(nd)]
        i = 0
        if cfg["scale"]:
            y = y * w[i].reshape(bshape)
            i += 1
        if cfg["center"]:
            y = y + w[i].reshape(bshape)
        return y
    if cls == "Sequential":
        # a nested model: its layers in order, each with its own weights
        for l in cfg["layers"]:
            if l["class_name"] == "InputLayer":
                continue
            x = run_layer(l["class_name"], l["config"], w.get(l["config"]["name"], []), [x], {})
        return x
    if cls == "LayerScale":
        return x * w[0]
    if cls == "CustomScaleLayer":
        return x[0] + x[1] * cfg["scale"]
    if cls == "Permute":
        return np.transpose(x, (0,) + tuple(cfg["dims"]))
    if cls == "PReLU":
        return np.maximum(x, 0) + w[0] * np.minimum(x, 0)
    # ---- operation nodes (keras.src.ops.*): positional args, constants allowed anywhere
    if cls in ("op.Add", "op.Multiply", "op.Subtract", "op.TrueDivide"):
        a, b = args[0], args[1]
        return {"op.Add": np.add, "op.Multiply": np.multiply, "op.Subtract": np.subtract,
                "op.TrueDivide": np.true_divide}[cls](a, b)
    if cls == "op.Negative":
        return -x
    if cls == "op.Gelu":
        return ACT["gelu_tanh" if cfg.get("approximate", True) else "gelu"](x)
    if cls == "op.LeakyRelu":
        return np.where(x >= 0, x, cfg["negative_slope"] * x)
    simple = {"op.Sigmoid": "sigmoid", "op.Relu6": "relu6", "op.HardSigmoid": "hard_sigmoid",
              "op.HardSilu": "hard_silu", "op.Silu": "silu", "op.Relu": "relu", "op.Tanh": "tanh"}
    if cls in simple:
        return ACT[simple[cls]](x)
    raise NotImplementedError(cls)


def op_kind(layer, h5):
    mod = layer.get("module")
    cls = layer["class_name"]
    if h5:
        # the .h5 config has no module: an operation node is told apart by a config holding no
        # "dtype"/"trainable" (a layer always has them)
        if "dtype" not in layer["config"] and cls != "InputLayer":
            return "op." + cls
        return cls
    if mod and mod.startswith("keras.src.ops"):
        return "op." + cls
    return cls


def snake(name):
    # keras.src.utils.naming.to_snake_case
    s = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    s = re.sub(r"([a-z])([A-Z])", r"\1_\2", s).lower()
    return s if s[0] != "_" else "private" + s


def weights_keras(path, cfg):
    """.keras: weights live at layers/<snake_case(class)>[_<n>]/vars/<i>, where n counts earlier
    layers of the same class in config order (operation nodes are not layers and take no name).
    A nested Sequential model's layers are below it: layers/sequential[_n]/layers/<key>/vars/<i>,
    keys counted afresh inside it. Returns {layer name: [arrays]} ({inner name: [arrays]} for a
    nested Sequential)."""
    with zipfile.ZipFile(path) as z:
        f = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")

    def container(layer_cfgs, prefix):
        used = {}
        out = {}
        for l in layer_cfgs:
            if (l.get("module") or "").startswith("keras.src.ops"):
                continue
            base = snake(l["class_name"])
            if base in used:
                used[base] += 1
                key = f"{base}_{used[base]}"
            else:
                used[base] = 0
                key = base
            if l["class_name"] == "Sequential":
                out[l["config"]["name"]] = container(l["config"]["layers"], f"{prefix}/{key}/layers")
                continue
            g = f.get(f"{prefix}/{key}/vars")
            out[l["config"]["name"]] = ([np.asarray(g[str(i)]) for i in range(len(g))]
                                        if g is not None else [])
        return out

    return container(cfg["config"]["layers"], "layers")


def weights_h5(path):
    """legacy .h5: model_weights/<layer name>, datasets listed (in order) by its weight_names. For
    a nested Sequential the names are "<model>/<inner layer>/<var>": grouped by inner layer."""
    f = h5py.File(path, "r")
    mw = f["model_weights"]
    cfg = json.loads(f.attrs["model_config"])
    nested = {l["config"]["name"] for l in cfg["config"]["layers"] if l["class_name"] == "Sequential"}
    out = {}
    for name in mw.attrs["layer_names"]:
        name = name.decode() if isinstance(name, bytes) else name
        g = mw[name]
        names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
        if name in nested:
            inner = {}
            for n in names:
                inner.setdefault(n.split("/")[-2], []).append(np.asarray(g[n]))
            out[name] = inner
        else:
            out[name] = [np.asarray(g[n]) for n in names]
    return out


def run_model(cfg, weights, inputs, h5):
    c = cfg["config"]
    vals = {}

    def refs(r):  # one [name, node, tensor] triple, or a list of them
        return [r] if r and isinstance(r[0], str) else r

    for (name, _, _), x in zip(refs(c["input_layers"]), inputs):
        vals[name] = x.astype(np.float64)

    def resolve(a):
        if isinstance(a, dict) and a.get("class_name") == "__keras_tensor__":
            return vals[a["config"]["keras_history"][0]]
        if isinstance(a, list):
            return [resolve(t) for t in a]
        return a

    for l in c["layers"]:
        if l["class_name"] == "InputLayer":
            continue
        kind = op_kind(l, h5)
        if kind == "Lambda":
            raise NotImplementedError("Lambda")
        node = l["inbound_nodes"][0]
        args = [resolve(a) for a in node["args"]]
        vals[l["name"]] = run_layer(kind, l["config"], weights.get(l["name"], []), args,
                                    node.get("kwargs", {}))
    return [vals[n] for n, _, _ in refs(c["output_layers"])], vals


def check(name, fmt, path, ins, outs, nodes=()):
    if fmt == "keras":
        with zipfile.ZipFile(path) as z:
            cfg = json.loads(z.read("config.json"))
        w = weights_keras(path, cfg)
    else:
        with h5py.File(path, "r") as f:
            cfg = json.loads(f.attrs["model_config"])
        w = weights_h5(path)
    try:
        got, vals = run_model(cfg, w, ins, fmt == "h5")
    except NotImplementedError as e:
        print(f"{name}.{fmt}: refused ({e})")
        return None
    worst = 0.0
    for g, e in zip(got, outs):
        worst = max(worst, float(np.max(np.abs(g - e)) / max(1.0, np.max(np.abs(e)))))
    for k, e in nodes:
        worst = max(worst, float(np.max(np.abs(vals[k] - e)) / max(1.0, np.max(np.abs(e)))))
    return worst


def main_apps(tol):
    """apps/ and yolo/: whole networks, from the stored files alone."""
    bad = checked = 0
    root = os.path.join(LAYERS, "..")
    jobs = []
    apps = os.path.join(root, "apps")
    for fn in sorted(os.listdir(apps)):
        if fn.endswith((".keras", ".h5")):
            n, fmt = fn.rsplit(".", 1)
            jobs.append((n, fmt, os.path.join(apps, fn), [np.load(os.path.join(apps, n + ".input.npy"))],
                         [np.load(os.path.join(apps, n + ".output.npy"))]))
    yd = os.path.join(root, "yolo")
    for fn in sorted(os.listdir(yd)):
        if fn.endswith(".h5"):
            for tag in ("darknet_letterbox", "kerasyolo3_letterbox"):
                heads = "heads_" + tag + ("_eps1e-12" if "eps1e-12" in fn else "")
                if not os.path.exists(os.path.join(yd, heads + ".0.npy")):
                    continue
                jobs.append((fn[:-3] + ":" + tag, "h5", os.path.join(yd, fn),
                             [np.load(os.path.join(yd, f"dog_{tag}.npy"))],
                             [np.load(os.path.join(yd, f"{heads}.{i}.npy")) for i in (0, 1)]))
    only = [a for a in sys.argv[1:] if not a.startswith("-")]
    for n, fmt, path, ins, outs in jobs:
        if only and not any(o in n for o in only):
            continue
        worst = check(n, fmt, path, ins, outs)
        if worst is None:
            continue
        checked += 1
        ok = worst < tol
        bad += not ok
        print(f"{n}.{fmt}: {'ok' if ok else 'MISMATCH'} (max err {worst:.2e})", flush=True)
    print(f"{checked - bad} passed, {bad} failed")
    return bad


def main():
    if "--apps" in sys.argv:
        return main_apps(float(os.environ.get("VERIFY_TOL", "1e-3")))
    names = sorted({f[:-6] for f in os.listdir(LAYERS) if f.endswith(".keras")})
    bad = 0
    checked = 0
    for name in names:
        base = os.path.join(LAYERS, name)
        ins = []
        while os.path.exists(f"{base}.in{len(ins)}.npy"):
            ins.append(np.load(f"{base}.in{len(ins)}.npy"))
        outs = []
        while os.path.exists(f"{base}.out{len(outs)}.npy"):
            outs.append(np.load(f"{base}.out{len(outs)}.npy"))
        for fmt in ("keras", "h5"):
            nodes = [(fn[len(name) + 6:-4], np.load(os.path.join(LAYERS, fn)))
                     for fn in os.listdir(LAYERS) if fn.startswith(name + ".node.")]
            worst = check(name, fmt, f"{base}.{fmt}", ins, outs, nodes)
            if worst is None:
                continue
            checked += 1
            ok = worst < 2e-5
            bad += not ok
            print(f"{name}.{fmt}: {'ok' if ok else 'MISMATCH'} (max err {worst:.2e})")
    print(f"{checked - bad} passed, {bad} failed")
    return bad


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
