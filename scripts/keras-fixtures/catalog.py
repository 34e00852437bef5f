"""Catalogue of every layer class / operation node in the fixtures (dev-only).

    /work/venv/bin/python scripts/keras-fixtures/catalog.py

Reads every .keras (config.json and model.weights.h5) and .h5 under test/fixtures/keras-zoo and
writes test/fixtures/keras-zoo/classes.json: for each kind (module + class_name), where it occurs,
one sample config (from a .keras and, where there is one, from an .h5), the names and shapes of
its stored weights, the distinct values seen of its interesting config fields, and every
activation string used anywhere.
"""

import io
import json
import os
import zipfile

import common
from common import OUT_ROOT, write_json

import h5py

SUPPORTED = {"InputLayer", "Conv2D", "DepthwiseConv2D", "SeparableConv2D", "Dense", "MaxPooling2D",
             "AveragePooling2D", "GlobalAveragePooling2D", "GlobalMaxPooling2D",
             "BatchNormalization", "Activation", "ReLU", "LeakyReLU", "ELU", "Softmax", "Dropout",
             "Flatten", "Reshape", "ZeroPadding2D", "UpSampling2D", "Add", "Concatenate",
             "Rescaling"}
SKIP_FIELDS = {"name", "trainable", "dtype", "kernel_initializer", "bias_initializer",
               "beta_initializer", "gamma_initializer", "moving_mean_initializer",
               "moving_variance_initializer", "alpha_initializer", "depthwise_initializer",
               "pointwise_initializer", "kernel_regularizer", "bias_regularizer",
               "activity_regularizer", "kernel_constraint", "bias_constraint",
               "beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint",
               "depthwise_regularizer", "pointwise_regularizer", "depthwise_constraint",
               "pointwise_constraint", "alpha_regularizer", "alpha_constraint", "batch_shape",
               "function", "mean", "variance", "synchronized", "lora_rank", "lora_alpha",
               "quantization_config", "seed"}


def kind_of(l):
    mod = l.get("module") or ""
    if mod.startswith(("keras.layers", "keras.src.layers")) or not mod:
        return l["class_name"]
    return f"{mod}.{l['class_name']}"


def weights_in_keras(path, cfg):
    """{layer name: [(index, shape, dtype)]}, by the .keras class-name path rule (verify.py)."""
    from verify import weights_keras

    def desc(v, prefix=""):
        if isinstance(v, dict):  # nested Sequential: {inner layer: [arrays]}
            return [d for k, vv in v.items() for d in desc(vv, f"{prefix}{k}/")]
        return [(f"{prefix}{i}", list(a.shape), str(a.dtype)) for i, a in enumerate(v)]

    return {k: desc(v) for k, v in weights_keras(path, cfg).items()}


def weights_in_h5(path):
    d = lambda x: x.decode() if isinstance(x, bytes) else x  # noqa: E731
    out = {}
    with h5py.File(path, "r") as f:
        mw = f["model_weights"]
        for name in mw.attrs["layer_names"]:
            g = mw[d(name)]
            out[d(name)] = [(d(n), list(g[d(n)].shape), str(g[d(n)].dtype))
                            for n in g.attrs["weight_names"]]
    return out


def strip(l):
    l = json.loads(json.dumps(l))
    l.pop("inbound_nodes", None)
    return l


def main():
    cat = {}
    acts = {}
    for sub in ("apps", "layers", "yolo"):
        d = os.path.join(OUT_ROOT, sub)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            path = os.path.join(d, fn)
            if fn.endswith(".keras"):
                cfg = common.keras_config_json(path)
                wts = weights_in_keras(path, cfg)
            elif fn.endswith(".h5"):
                cfg = common.h5_config_json(path)
                wts = None
            else:
                continue
            tag = f"{sub}/{fn}"
            for l in cfg["config"]["layers"]:
                k = kind_of(l) if fn.endswith(".keras") else None
                if k is None:
                    continue
                e = cat.setdefault(k, {"files": [], "count": 0, "fields": {}, "supported":
                                       k in SUPPORTED})
                e["count"] += 1
                if tag not in e["files"]:
                    e["files"].append(tag)
                if "sample_keras" not in e:
                    e["sample_keras"] = strip(l)
                    e["sample_keras_inbound"] = l.get("inbound_nodes")
                    e["sample_from"] = tag
                c = l.get("config", {})
                for fk, fv in c.items():
                    if fk in SKIP_FIELDS:
                        continue
                    vals = e["fields"].setdefault(fk, [])
                    s = json.dumps(fv, sort_keys=True)
                    if s not in vals and len(vals) < 12:
                        vals.append(s)
                for fk in ("activation",):
                    if fk in c:
                        acts.setdefault(c[fk] if isinstance(c[fk], str) else json.dumps(c[fk]),
                                        set()).add(k)
                if wts is not None and wts.get(l["name"]) and "weights_keras" not in e:
                    e["weights_keras"] = wts[l["name"]]
                    e["weights_keras_from"] = f"{tag} layer {l['name']}"
    # h5 samples (config without module; op nodes carry only {"name", ...})
    for sub in ("apps", "layers", "yolo"):
        d = os.path.join(OUT_ROOT, sub)
        if not os.path.isdir(d):
            continue
        for fn in sorted(os.listdir(d)):
            if not fn.endswith(".h5"):
                continue
            path = os.path.join(d, fn)
            kcfg = None
            twin = path[:-3] + ".keras"
            if os.path.exists(twin):
                kcfg = {l["name"]: kind_of(l) for l in common.keras_config_json(twin)["config"]["layers"]}
            hw = weights_in_h5(path)
            for l in common.h5_config_json(path)["config"]["layers"]:
                k = kcfg.get(l["name"]) if kcfg else l["class_name"]
                if k in cat and hw.get(l["name"]) and "weights_h5" not in cat[k]:
                    cat[k]["weights_h5"] = hw[l["name"]]
                    cat[k]["weights_h5_from"] = f"{sub}/{fn} layer {l['name']}"
                if k in cat and "sample_h5" not in cat[k]:
                    cat[k]["sample_h5"] = strip(l)
                    cat[k]["sample_h5_inbound"] = l.get("inbound_nodes")
                    cat[k]["sample_h5_from"] = f"{sub}/{fn}"
    out = {"kinds": cat, "activations": {a: sorted(v) for a, v in sorted(acts.items())},
           "new_kinds": sorted(k for k, v in cat.items() if not v["supported"])}
    write_json(os.path.join(OUT_ROOT, "classes.json"), out)
    for k in out["new_kinds"]:
        print(k, cat[k]["count"], cat[k]["files"][:4])
    print("activations:", out["activations"])


if __name__ == "__main__":
    main()
