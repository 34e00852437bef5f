"""The architectures of Keras's application weight files (dev-only; the library reads the output).

Keras's weights-only application files (what keras.applications.X(weights='imagenet') downloads, e.g.
resnet50_weights_tf_dim_ordering_tf_kernels.h5) hold no model config. This builds each family with real
Keras (weights=None, default width, with and without the top) and writes its model config, compacted,
to assets/keras-apps/<family>[_notop].json: Keras 2-style inbound nodes, and only the config fields
that change inference (no initializers, regularizers, constraints, dtype or trainable). Widths other
than the default (MobileNet's alpha) and the number of classes are read from the weight file itself.

Two more families, with their tops only, go to bench/keras-apps/ for the peers benchmark's rows (no
weights-only file of theirs is recognised).

    /work/venv/bin/python scripts/keras-fixtures/app_architectures.py
"""
import json
import os

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import keras  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "assets", "keras-apps")
BENCH_OUT = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "keras-apps")
FAMILIES = {
    "vgg19": keras.applications.VGG19,
    "resnet50": keras.applications.ResNet50,
    "mobilenet": keras.applications.MobileNet,
    "mobilenet_v2": keras.applications.MobileNetV2,
}
BENCH_FAMILIES = {
    "efficientnet_b0": keras.applications.EfficientNetB0,
    "densenet121": keras.applications.DenseNet121,
}
DROP = ("initializer", "regularizer", "constraint")
DROP_KEYS = {"dtype", "trainable", "name", "momentum", "seed", "noise_shape", "sparse", "ragged", "synchronized", "lora_rank",
             "lora_alpha", "quantization_config"}


def compact_config(cfg):
    out = {}
    for k, v in cfg.items():
        if k in DROP_KEYS or any(d in k for d in DROP):
            continue
        if isinstance(v, dict) and v.get("class_name") == "function":  # activation: {module, class_name, config: 'relu'}
            v = v["config"]
        out[k] = v
    return out


def inbound(node):
    names = []

    def visit(v):
        if isinstance(v, (list, tuple)):
            for e in v:
                visit(e)
        elif isinstance(v, dict) and v.get("class_name") == "__keras_tensor__":
            names.append(v["config"]["keras_history"][0])

    visit(node["args"])
    return [[[n, 0, 0, {}] for n in names]] if names else []


def compact(model):
    cfg = model.get_config()
    layers = []
    for layer in cfg["layers"]:
        c = compact_config(layer["config"])
        if layer["class_name"] == "InputLayer":
            c = {"batch_shape": layer["config"]["batch_shape"]}
        c["name"] = layer["name"]
        if layer["class_name"] == "Normalization":
            # The compacted inbound nodes carry no shapes, so the axes count from the end (NHWC: 3 is -1).
            axes = list(c["axis"]) if isinstance(c["axis"], (list, tuple)) else [c["axis"]]
            c["axis"] = [a - 4 if a > 0 else a for a in axes]
        layers.append({"class_name": layer["class_name"], "config": c, "inbound_nodes": [n for node in layer["inbound_nodes"] for n in inbound(node)]})
    # Keras 3 writes a single input/output as a bare [name, 0, 0]; Keras 2 as a list of them.
    wrap = lambda v: v if isinstance(v[0], list) else [v]  # noqa: E731
    return {"class_name": "Functional", "config": {"name": cfg["name"], "layers": layers,
            "input_layers": wrap(cfg["input_layers"]), "output_layers": wrap(cfg["output_layers"])},
            "keras_version": keras.__version__}


def write(ctor, top, path):
    keras.backend.clear_session()  # auto-generated names (global_average_pooling2d) as in a fresh process
    model = ctor(weights=None, include_top=top)
    with open(path, "w") as f:
        json.dump(compact(model), f, separators=(",", ":"))
    print(path, os.path.getsize(path), "bytes,", len(model.layers), "layers")


def main():
    os.makedirs(OUT, exist_ok=True)
    for family, ctor in FAMILIES.items():
        for top in (True, False):
            write(ctor, top, os.path.join(OUT, f"{family}{'' if top else '_notop'}.json"))
    os.makedirs(BENCH_OUT, exist_ok=True)
    for family, ctor in BENCH_FAMILIES.items():
        write(ctor, True, os.path.join(BENCH_OUT, f"{family}.json"))


if __name__ == "__main__":
    main()
