"""Transfer-learning fixtures (dev only; tests never run Python): test/fixtures/transfer/.

A generated image set (4 classes of shapes on noisy backgrounds, 64x64), a VGG16-style base (Keras's
VGG16 layer names and structure at 1/8 width; the real ImageNet weights are not shipped here, so it
is pretrained by Keras on 4 other generated shapes), the codes real Keras computes for every image (block5_pool, global average
pooled), and the head trained on them by real Keras with the recipe of `webgpu-cnn train-head`'s
defaults, over several seeds: its per-epoch curves and its validation accuracy.

Run from the repository root: /work/venv/bin/python scripts/keras-fixtures/train_head.py
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
import numpy as np
from PIL import Image, ImageDraw
import keras
import tensorflow as tf

OUT = "test/fixtures/transfer"
CLASSES = ["circle", "cross", "square", "triangle"]
SIZE = 64
TRAIN_PER_CLASS, VAL_PER_CLASS = 60, 100
# Committed as files (for the codes and teach-mode tests); codes are committed for all of them.
COMMITTED_PER_CLASS = 3
SEEDS = list(range(1, 11))
RECIPE = dict(hidden=256, dropout=0.5, epochs=50, batch=32, optimizer="adam", lr=1e-3, patience=10)


def draw(cls, rng):
    # A random colour pair with some contrast, a random size and place, then Gaussian noise.
    bg = rng.integers(0, 256, 3)
    fg = (bg + rng.integers(80, 176, 3)) % 256
    img = Image.new("RGB", (SIZE, SIZE), tuple(int(v) for v in bg))
    d = ImageDraw.Draw(img)
    fg = tuple(int(v) for v in fg)
    r = rng.integers(10, 24)
    cx, cy = rng.integers(r, SIZE - r, 2)
    if cls == "ring":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=fg, width=max(2, r // 4))
    elif cls == "diamond":
        d.polygon([(cx, cy - r), (cx + r, cy), (cx, cy + r), (cx - r, cy)], fill=fg)
    elif cls == "bars":
        for k in range(-1, 2):
            d.rectangle([cx - r, cy + k * r // 2 - 2, cx + r, cy + k * r // 2 + 2], fill=fg)
    elif cls == "x":
        d.line([(cx - r, cy - r), (cx + r, cy + r)], fill=fg, width=max(3, r // 3))
        d.line([(cx - r, cy + r), (cx + r, cy - r)], fill=fg, width=max(3, r // 3))
    elif cls == "circle":
        d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fg)
    elif cls == "square":
        d.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fg)
    elif cls == "triangle":
        d.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fg)
    else:
        w = max(3, r // 3)
        d.rectangle([cx - r, cy - w, cx + r, cy + w], fill=fg)
        d.rectangle([cx - w, cy - r, cx + w, cy + r], fill=fg)
    noise = rng.normal(0, 24, (SIZE, SIZE, 3))
    return np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8)


def image_set(per_class, seed, classes=CLASSES):
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for c, name in enumerate(classes):
        for _ in range(per_class):
            images.append(draw(name, rng))
            labels.append(c)
    return np.stack(images), np.array(labels, np.int64)


# The base is pretrained on other shapes than the ones the head learns: transfer, as from ImageNet.
PRETRAIN_CLASSES = ["ring", "diamond", "bars", "x"]
PRETRAIN = dict(per_class=400, epochs=15, batch=32, lr=1e-3)


def base_model():
    keras.utils.set_random_seed(0)
    init = keras.initializers.HeUniform(seed=0)
    x = inp = keras.Input((SIZE, SIZE, 3), name="input_1")
    for b, (filters, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)]):
        for i in range(convs):
            x = keras.layers.Conv2D(filters // 8, 3, padding="same", activation="relu", kernel_initializer=init,
                                    name=f"block{b + 1}_conv{i + 1}")(x)
        x = keras.layers.MaxPooling2D(2, 2, name=f"block{b + 1}_pool")(x)
    base = keras.Model(inp, x, name="vgg16")
    px, py = image_set(PRETRAIN["per_class"], 300, PRETRAIN_CLASSES)
    top = keras.Sequential([base, keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(len(PRETRAIN_CLASSES), activation="softmax")])
    top.compile(optimizer=keras.optimizers.Adam(PRETRAIN["lr"]), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = top.fit(keras.applications.vgg16.preprocess_input(px.astype(np.float32)), py, epochs=PRETRAIN["epochs"],
                batch_size=PRETRAIN["batch"], shuffle=True, verbose=0)
    print(f"pretraining on {PRETRAIN_CLASSES}: accuracy {h.history['accuracy'][-1]:.3f}", file=sys.stderr)
    return base


def codes_of(base, images):
    x = keras.applications.vgg16.preprocess_input(images.astype(np.float32))
    return base.predict(x, batch_size=32, verbose=0).mean(axis=(1, 2)).astype(np.float32)


def train(codes, labels, val_codes, val_labels, seed):
    keras.utils.set_random_seed(seed)
    head = keras.Sequential([
        keras.Input((codes.shape[1],)),
        keras.layers.Dense(RECIPE["hidden"], activation="relu"),
        keras.layers.Dropout(RECIPE["dropout"]),
        keras.layers.Dense(len(CLASSES), activation="softmax"),
    ])
    head.compile(optimizer=keras.optimizers.Adam(RECIPE["lr"]), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=RECIPE["patience"], restore_best_weights=True)
    h = head.fit(codes, labels, validation_data=(val_codes, val_labels), epochs=RECIPE["epochs"],
                 batch_size=RECIPE["batch"], callbacks=[stop], verbose=0)
    loss, acc = head.evaluate(val_codes, val_labels, verbose=0)
    return head, {k: [float(v) for v in vals] for k, vals in h.history.items()}, float(acc), float(loss)


def main():
    tf.config.threading.set_intra_op_parallelism_threads(2)
    train_x, train_y = image_set(TRAIN_PER_CLASS, 100)
    val_x, val_y = image_set(VAL_PER_CLASS, 200)
    for split, xs, ys, per in (("train", train_x, train_y, TRAIN_PER_CLASS), ("val", val_x, val_y, VAL_PER_CLASS)):
        for c, name in enumerate(CLASSES):
            os.makedirs(f"{OUT}/images/{split}/{name}", exist_ok=True)
            for i in range(COMMITTED_PER_CLASS):
                Image.fromarray(xs[c * per + i]).save(f"{OUT}/images/{split}/{name}/{i:03d}.png", optimize=True)
    base = base_model()
    base.save(f"{OUT}/base.h5")
    train_codes, val_codes = codes_of(base, train_x), codes_of(base, val_x)
    np.save(f"{OUT}/codes_train.npy", train_codes)
    np.save(f"{OUT}/labels_train.npy", train_y)
    np.save(f"{OUT}/codes_val.npy", val_codes)
    np.save(f"{OUT}/labels_val.npy", val_y)
    # The committed images' codes on their own, for the codes test (the first COMMITTED_PER_CLASS of each class).
    pick = lambda per: np.concatenate([np.arange(c * per, c * per + COMMITTED_PER_CLASS) for c in range(len(CLASSES))])
    np.save(f"{OUT}/codes_committed_train.npy", train_codes[pick(TRAIN_PER_CLASS)])
    runs = []
    for seed in SEEDS:
        head, history, acc, loss = train(train_codes, train_y, val_codes, val_y, seed)
        runs.append({"seed": seed, "val_accuracy": acc, "val_loss": loss, "epochs_run": len(history["loss"]), "history": history})
        print(f"seed {seed}: val accuracy {acc:.4f} loss {loss:.4f} after {len(history['loss'])} epochs", file=sys.stderr)
    accs = [r["val_accuracy"] for r in runs]
    report = {
        "keras_version": keras.__version__, "tensorflow_version": tf.__version__, "classes": CLASSES,
        "recipe": RECIPE, "train_rows": int(len(train_y)), "val_rows": int(len(val_y)), "code_length": int(train_codes.shape[1]),
        "code_layer": "block5_pool", "pooling": "avg", "preprocess": "caffe", "pretrain_classes": PRETRAIN_CLASSES, "pretrain": PRETRAIN,
        "val_accuracy_mean": float(np.mean(accs)), "val_accuracy_min": float(np.min(accs)), "val_accuracy_max": float(np.max(accs)),
        "runs": runs,
    }
    with open(f"{OUT}/keras_training.json", "w") as f:
        json.dump(report, f, indent=1)
    with open(f"{OUT}/classes.json", "w") as f:
        json.dump(CLASSES, f)
    print(f"Keras: val accuracy mean {np.mean(accs):.4f} (min {np.min(accs):.4f}, max {np.max(accs):.4f})", file=sys.stderr)


if __name__ == "__main__":
    main()
