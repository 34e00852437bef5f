"""Shared helpers for the dev-only Keras fixture scripts (never run by tests or CI).

Import this module before anything else: it pins the environment (CPU only, oneDNN off, few threads)
so that the scripts are deterministic and gentle on a shared 2-core machine.
"""

import json
import os
import sys
import zipfile
import zlib

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("FIXTURE_THREADS", "1")))
tf.config.threading.set_inter_op_parallelism_threads(1)

import keras  # noqa: E402
import logging  # noqa: E402

tf.get_logger().setLevel(logging.ERROR)
logging.getLogger("absl").setLevel(logging.ERROR)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
OUT_ROOT = os.path.join(REPO, "test", "fixtures", "keras-zoo")

VERSIONS = {
    "keras": keras.__version__,
    "tensorflow": tf.__version__,
    "numpy": np.__version__,
    "python": sys.version.split()[0],
}


def seed_of(name):
    """A stable 32-bit seed derived from a fixture name."""
    return zlib.crc32(name.encode("utf-8")) & 0x7FFFFFFF


def fresh(seed):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)


# --------------------------------------------------------------------------------------------------
# Random, non-trivial weights
# --------------------------------------------------------------------------------------------------

def _fan_in(vname, shape):
    if len(shape) <= 1:
        return max(1, shape[0] if shape else 1)
    if vname == "depthwise_kernel":
        return int(np.prod(shape[:-2]))  # kh*kw (one input channel per group)
    return int(np.prod(shape[:-1]))


def randomize_weights(model, rng, kernel_gain=2.0, skip_layers=(), bn_gamma=(0.5, 1.5)):
    """Overwrite every weight with seeded random values.

    * conv/dense kernels: N(0, gain/fan_in)
    * biases: U(-0.2, 0.2)
    * BatchNormalization: gamma U(bn_gamma) (default U(0.5,1.5)), beta U(-0.3,0.3),
      moving_mean U(-0.3,0.3), moving_variance U(0.5,1.5) — far from the 1/0/0/1 defaults, so
      folding errors show.
    * LayerNormalization / LayerScale gamma U(0.5,1.5), beta U(-0.3,0.3)
    * PReLU alpha U(0.05,0.5)
    * Normalization layers (adapted mean/variance held as weights) and layers in skip_layers are
      left as they are (the caller sets them).
    Returns a list of (layer, weight, shape) for weights it did not recognise (left unchanged).
    """
    unknown = []
    for layer in model.layers:
        if layer.name in skip_layers:
            continue
        cls = layer.__class__.__name__
        if cls == "Normalization":
            continue
        for v in layer.weights:
            vname = v.name.split("/")[-1].split(":")[0]
            shape = tuple(v.shape)
            if vname in ("kernel", "depthwise_kernel", "pointwise_kernel"):
                std = np.sqrt(kernel_gain / _fan_in(vname, shape))
                val = rng.normal(0.0, std, shape)
            elif vname == "bias":
                val = rng.uniform(-0.2, 0.2, shape)
            elif vname == "gamma" and cls == "BatchNormalization":
                val = rng.uniform(bn_gamma[0], bn_gamma[1], shape)
            elif vname == "gamma":
                val = rng.uniform(0.5, 1.5, shape)
            elif vname == "beta":
                val = rng.uniform(-0.3, 0.3, shape)
            elif vname == "moving_mean":
                val = rng.uniform(-0.3, 0.3, shape)
            elif vname == "moving_variance":
                val = rng.uniform(0.5, 1.5, shape)
            elif cls == "LayerScale" and vname in ("variable", "gamma"):
                # ConvNeXt's LayerScale names its one weight "variable" (add_weight without name)
                val = rng.uniform(0.5, 1.5, shape)
            elif vname == "alpha":
                val = rng.uniform(0.05, 0.5, shape)
            else:
                unknown.append((layer.name, vname, shape))
                continue
            v.assign(val.astype(v.dtype))
    return unknown


def calibrate_batchnorm(model, x, rng):
    """Give every BatchNormalization moving statistics near those of its real input on `x` (a
    calibration batch of 8 or more inputs from the fixture's distribution: with only the 2
    fixture inputs, maps of 1x1 late in a net would have statistics of 2 values, and normalising
    their difference amplifies rounding noise layer after layer — NASNetLarge's graph and eager
    predictions then differed completely),
    perturbed: moving_mean = mean + U(-0.25,0.25)*std, moving_variance = var' * U(0.5,1.5)
    with var' = var + 0.05*E[x^2] + 1e-3 (a floor, so nearly constant or dead channels are not
    blown up).

    Without this, deep nets with random weights and random BN statistics blow up or vanish
    (ResNet152 reached 1e6); with it, every BN really normalises, so the outputs stay O(1) and
    every layer matters, while the statistics are still arbitrary (not 0/1), so folding errors
    show. One eager pass through the graph, in order, setting each BN before applying it.
    """
    import keras.ops as K

    def operation_fn(op):
        if op.__class__.__name__ != "BatchNormalization":
            return op

        def run(t, *a, **kw):
            v = np.asarray(t, np.float64)
            axis = op.axis if op.axis >= 0 else v.ndim + op.axis
            red = tuple(i for i in range(v.ndim) if i != axis)
            m = v.mean(axis=red)
            var = v.var(axis=red)
            # floor relative to the channel's second moment, so nearly constant channels are
            # not blown up
            var = var + 0.05 * (v * v).mean(axis=red) + 1e-3
            std = np.sqrt(var)
            op.moving_mean.assign((m + rng.uniform(-0.25, 0.25, m.shape) * std).astype(np.float32))
            op.moving_variance.assign((var * rng.uniform(0.5, 1.5, var.shape)).astype(np.float32))
            return op(t, training=False)

        return run

    inputs = x if isinstance(x, (list, tuple)) else [x]
    model._run_through_graph([K.convert_to_tensor(i) for i in inputs], operation_fn=operation_fn)


# --------------------------------------------------------------------------------------------------
# Saving and checking
# --------------------------------------------------------------------------------------------------

def save_npy(path, arr):
    np.save(path, np.ascontiguousarray(np.asarray(arr, dtype=np.float32)))


def predict(model, x):
    out = model.predict(x, batch_size=x[0].shape[0] if isinstance(x, (list, tuple)) else x.shape[0],
                        verbose=0)
    return out


def _as_list(y):
    return list(y) if isinstance(y, (list, tuple)) else [y]


def app_custom_objects():
    """Application-private layer classes. The .keras format finds them through the "module" field;
    the legacy .h5 config has no module, so keras.models.load_model needs them given."""
    from keras.src.applications.convnext import LayerScale
    from keras.src.applications.inception_resnet_v2 import CustomScaleLayer

    return {"LayerScale": LayerScale, "CustomScaleLayer": CustomScaleLayer}


def check_roundtrip(path, x, expected, custom_objects=None, atol=1e-5, rtol=1e-5, safe_mode=True):
    """Load `path` back in Keras and check that it predicts `expected` on `x`."""
    kw = {"compile": False, "safe_mode": safe_mode}
    if custom_objects:
        kw["custom_objects"] = custom_objects
    m = keras.models.load_model(path, **kw)
    got = _as_list(predict(m, x))
    exp = _as_list(expected)
    assert len(got) == len(exp), (path, len(got), len(exp))
    worst = 0.0
    for g, e in zip(got, exp):
        g = np.asarray(g, np.float32)
        e = np.asarray(e, np.float32)
        assert g.shape == e.shape, (path, g.shape, e.shape)
        err = np.max(np.abs(g - e)) / (np.max(np.abs(e)) + 1e-12) if e.size else 0.0
        worst = max(worst, float(err))
        if not np.allclose(g, e, atol=atol * max(1.0, float(np.max(np.abs(e)))), rtol=rtol):
            raise AssertionError(f"{path}: reload predicts differently (rel err {err:.3g})")
    return worst


def check_h5(h5_path, keras_path, x, expected, custom_objects=None, safe_mode=True):
    """check_roundtrip for a legacy .h5. Keras 3.15 itself cannot load some of the .h5 files it
    writes (e.g. models with operation nodes such as `x + 3.0`: the .h5 config names them "Add" /
    "Multiply" with no module, and the loader takes them for the merge layers). Then check the
    .h5's weights instead: load the .keras twin, load_weights(.h5) into it, predict.
    Returns (max rel err, None) or (max rel err, error message of load_model)."""
    custom_objects = dict(app_custom_objects(), **(custom_objects or {}))
    try:
        return check_roundtrip(h5_path, x, expected, custom_objects=custom_objects,
                               safe_mode=safe_mode), None
    except Exception as e:  # noqa: BLE001
        msg = f"{type(e).__name__}: {str(e).splitlines()[0][:300]}"
    m = keras.models.load_model(keras_path, compile=False, custom_objects=custom_objects,
                                safe_mode=safe_mode)
    for v in m.weights:
        v.assign(np.zeros(v.shape, v.dtype))
    m.load_weights(h5_path)
    got = _as_list(predict(m, x))
    worst = 0.0
    for g, e in zip(got, _as_list(expected)):
        e = np.asarray(e, np.float32)
        err = float(np.max(np.abs(g - e)) / (np.max(np.abs(e)) + 1e-12))
        worst = max(worst, err)
        assert err < 1e-5, (h5_path, err)
    return worst, msg


FIXED_DATE = "2026-01-01@00:00:00"


def _renumber_shared_ids(text):
    """Keras writes "shared_object_id": id(obj) — a memory address, different on every run — to
    link the uses of one shared object (e.g. a DTypePolicy). Renumber them 1, 2, ... in order of
    first appearance; only equality matters to Keras."""
    import re

    ids = {}

    def sub(m):
        return f'"shared_object_id": {ids.setdefault(m.group(1), len(ids) + 1)}'

    return re.sub(r'"shared_object_id": (\d+)', sub, text)


def normalize_keras(path):
    """Make a .keras file byte-reproducible: Keras writes the save time into metadata.json
    ("date_saved") and as the zip timestamp of model.weights.h5, and memory addresses as
    "shared_object_id" in config.json. Rewrite the zip (same entries, same order, stored) with
    date_saved = FIXED_DATE, every timestamp 1980-01-01 and shared_object_id renumbered."""
    with zipfile.ZipFile(path) as z:
        entries = [(i.filename, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in entries:
            if name == "metadata.json":
                meta = json.loads(data)
                meta["date_saved"] = FIXED_DATE
                data = json.dumps(meta).encode("utf-8")
            elif name == "config.json":
                data = _renumber_shared_ids(data.decode("utf-8")).encode("utf-8")
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            z.writestr(info, data)


def save_model(model, base, h5=True):
    """model.save(base + '.keras') (normalised, see normalize_keras) and model.save(base + '.h5')."""
    model.save(base + ".keras")
    normalize_keras(base + ".keras")
    if h5:
        model.save(base + ".h5")


def keras_config_json(path):
    """The model config stored in a .keras zip."""
    with zipfile.ZipFile(path) as z:
        return json.loads(z.read("config.json"))


def h5_config_json(path):
    import h5py

    with h5py.File(path, "r") as f:
        cfg = f.attrs["model_config"]
        if isinstance(cfg, bytes):
            cfg = cfg.decode("utf-8")
        return json.loads(cfg)


CORE_MODULES = ("keras.layers", "keras.src.layers")


def layer_kinds(config):
    """Set of layer kinds in a functional model config: class_name, or 'module.class_name' for
    anything not from keras.layers (operation nodes, application-private classes)."""
    kinds = set()
    for l in config["config"]["layers"]:
        mod = l.get("module")
        name = l["class_name"]
        if mod and not mod.startswith(CORE_MODULES):
            kinds.add(f"{mod}.{name}")
        else:
            kinds.add(name)
    return kinds


def file_size(path):
    return os.path.getsize(path)


def write_json(path, obj):
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True, default=str)
        f.write("\n")
