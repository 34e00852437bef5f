"""Float64 references for the ill-conditioned application fixtures (dev-only; tests never run Python).

Loads apps/<Name>.keras in Keras, rebuilds the same model with every layer's dtype policy set to float64,
copies the weights, and predicts the stored input in float64. Writes test/fixtures/keras-zoo-f64/<Name>.output64.npy
(float64) and prints how far Keras's own float32 output (apps/<Name>.output.npy) is from it, which is
the noise floor any float32 implementation shares.

    /work/venv/bin/python scripts/keras-fixtures/float64_reference.py InceptionV3 ResNet50
"""
import json
import os
import sys

os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np  # noqa: E402
import keras  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
APPS = os.path.join(ROOT, "test", "fixtures", "keras-zoo", "apps")
OUT = os.path.join(ROOT, "test", "fixtures", "keras-zoo-f64")


def as_float64(config):
    text = json.dumps(config).replace('"name": "float32"', '"name": "float64"').replace('"dtype": "float32"', '"dtype": "float64"')
    return json.loads(text)


def main(names):
    os.makedirs(OUT, exist_ok=True)
    for name in names:
        model = keras.models.load_model(os.path.join(APPS, f"{name}.keras"))
        twin = keras.Model.from_config(as_float64(model.get_config()))
        twin.set_weights([w.astype(np.float64) for w in model.get_weights()])
        x = np.load(os.path.join(APPS, f"{name}.input.npy")).astype(np.float64)
        y64 = np.asarray(twin.predict(x, verbose=0), dtype=np.float64)
        y32 = np.load(os.path.join(APPS, f"{name}.output.npy")).astype(np.float64)
        np.save(os.path.join(OUT, f"{name}.output64.npy"), y64)
        rel = np.abs(y32 - y64).max() / np.abs(y64).max()
        print(f"{name}: Keras float32 vs float64 max rel {rel:.2e}")


if __name__ == "__main__":
    main(sys.argv[1:])
