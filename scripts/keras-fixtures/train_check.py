"""Loads the heads and whole models webgpu-cnn saved (test/fixtures/transfer/saved/, written by
`webgpu-cnn train-head ... --out head.keras --full-out full.keras`, and .h5) with real Keras's
keras.models.load_model, and records what Keras predicts with them: on the validation codes for the
heads, on the committed validation images for the whole models. test/train-save.test.ts checks that
webgpu-cnn's loader predicts the same from the same files (to 1e-5). Also checks here that the .keras
and .h5 files predict alike and that the whole model agrees with head(codes) computed by Keras.

Run from the repository root: /work/venv/bin/python scripts/keras-fixtures/train_check.py
"""
import glob
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np
from PIL import Image
import keras

OUT = "test/fixtures/transfer"


def main():
    codes = np.load(f"{OUT}/codes_val.npy")
    files = sorted(glob.glob(f"{OUT}/images/val/*/*.png"))
    images = keras.applications.vgg16.preprocess_input(np.stack([np.asarray(Image.open(f).convert("RGB"), np.float32) for f in files]))
    report = {"keras_version": keras.__version__, "images": [os.path.relpath(f, OUT) for f in files], "files": {}}
    preds = {}
    for name in ["head.keras", "head.h5", "full.keras", "full.h5"]:
        model = keras.models.load_model(f"{OUT}/saved/{name}", compile=False)
        x = codes if name.startswith("head") else images
        y = model.predict(x, verbose=0).astype(np.float32)
        preds[name] = y
        np.save(f"{OUT}/saved/keras_{name.replace('.', '_')}.npy", y)
        report["files"][name] = {"layers": [l.name for l in model.layers], "params": int(model.count_params()), "output": list(y.shape)}
    assert np.abs(preds["head.keras"] - preds["head.h5"]).max() < 1e-6
    assert np.abs(preds["full.keras"] - preds["full.h5"]).max() < 1e-6
    # The whole model on an image is the head on that image's code (the first committed images of each class).
    per_class = len(files) // 4
    head = keras.models.load_model(f"{OUT}/saved/head.keras", compile=False)
    picks = np.concatenate([np.arange(c * 100, c * 100 + per_class) for c in range(4)])
    diff = float(np.abs(head.predict(codes[picks], verbose=0) - preds["full.keras"]).max())
    report["full_vs_head_on_codes_max_abs"] = diff
    assert diff < 1e-4, diff
    with open(f"{OUT}/saved/keras_check.json", "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report, indent=1), file=sys.stderr)


if __name__ == "__main__":
    main()
