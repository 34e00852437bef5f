"""Layer fixtures (dev-only): small models of one or a few layers each, seeded random weights and
inputs, saved as .keras and .h5, with inputs, outputs and (for models of several layers) the
output of every intermediate layer or operation node.

    /work/venv/bin/python scripts/keras-fixtures/layers.py            # all cases
    /work/venv/bin/python scripts/keras-fixtures/layers.py prelu_shared avgpool_s2_k3

Files per case NAME, in test/fixtures/keras-zoo/layers/:
  NAME.keras, NAME.h5               the model
  NAME.in0.npy [, NAME.in1.npy ...] inputs (float32, batch 2)
  NAME.out0.npy [, NAME.out1.npy]   outputs, in model.outputs order
  NAME.node.<op name>.npy           output of each intermediate layer / operation node that is not
                                    itself a model output (models with more than one node)
"""

import os
import sys

import common  # noqa: F401
from common import (OUT_ROOT, save_model, VERSIONS, check_h5, check_roundtrip, file_size, fresh,
                    keras_config_json, layer_kinds, predict, randomize_weights, save_npy, seed_of,
                    write_json)

import numpy as np
import keras
from keras import layers as L
from keras import ops
from keras.src.applications.convnext import LayerScale

OUT = os.path.join(OUT_ROOT, "layers")
CASES = {}


def case(name, doc):
    def deco(fn):
        CASES[name] = (fn, doc)
        return fn
    return deco


def U(rng, shape, lo=-1.0, hi=1.0):
    return rng.uniform(lo, hi, (2,) + tuple(shape)).astype(np.float32)


# ------------------------------------------------------------------------------ merge layers

MERGES = {"Multiply": L.Multiply, "Subtract": L.Subtract, "Maximum": L.Maximum,
          "Minimum": L.Minimum, "Average": L.Average}

for _n, _cls in MERGES.items():
    def _same(rng, cls=_cls):
        a, b = keras.Input((5, 6, 4), name="a"), keras.Input((5, 6, 4), name="b")
        return keras.Model([a, b], cls()([a, b])), [U(rng, (5, 6, 4)), U(rng, (5, 6, 4))]

    def _bcast(rng, cls=_cls):
        # squeeze-and-excite style: (N,1,1,C) with (N,H,W,C), in both argument orders
        a, b = keras.Input((1, 1, 4), name="se"), keras.Input((5, 6, 4), name="x")
        return (keras.Model([a, b], [cls(name="se_first")([a, b]), cls(name="x_first")([b, a])]),
                [U(rng, (1, 1, 4)), U(rng, (5, 6, 4))])

    def _bcast_hw(rng, cls=_cls):
        # broadcasting over channels, (N,H,W,1) with (N,H,W,C)
        a, b = keras.Input((5, 6, 1), name="mask"), keras.Input((5, 6, 4), name="x")
        return keras.Model([a, b], cls()([b, a])), [U(rng, (5, 6, 1)), U(rng, (5, 6, 4))]

    low = _n.lower()
    case(f"merge_{low}_same", f"{_n}()([a, b]), both (N,5,6,4)")(_same)
    case(f"merge_{low}_bcast", f"{_n}: out0 = {_n}([se, x]), out1 = {_n}([x, se]); "
         "se (N,1,1,4), x (N,5,6,4)")(_bcast)
    case(f"merge_{low}_bcast_c", f"{_n}()([x, mask]); x (N,5,6,4), mask (N,5,6,1)")(_bcast_hw)
    if _n != "Subtract":
        def _three(rng, cls=_cls):
            ins = [keras.Input((3, 4, 2), name=f"x{i}") for i in range(3)]
            return keras.Model(ins, cls()(ins)), [U(rng, (3, 4, 2)) for _ in range(3)]
        case(f"merge_{low}_three", f"{_n}() of three (N,3,4,2) inputs")(_three)


@case("merge_multiply_rank", "Multiply()([v, x]) and Subtract()([x, v]) with v (N,4) and x "
      "(N,5,6,4): inputs of lower rank get axes inserted after the batch axis -> (N,1,1,4)")
def _(rng):
    v, x = keras.Input((4,), name="v"), keras.Input((5, 6, 4), name="x")
    return (keras.Model([v, x], [L.Multiply(name="mul")([v, x]), L.Subtract(name="sub")([x, v])]),
            [U(rng, (4,)), U(rng, (5, 6, 4))])


@case("se_block", "squeeze-and-excite as the applications write it: GlobalAveragePooling2D("
      "keepdims=True) -> Conv2D 1x1 relu -> Conv2D 1x1 sigmoid -> Multiply([x, se])")
def _(rng):
    x = keras.Input((6, 7, 8))
    se = L.GlobalAveragePooling2D(keepdims=True, name="squeeze")(x)
    se = L.Conv2D(2, 1, activation="relu", name="reduce")(se)
    se = L.Conv2D(8, 1, activation="sigmoid", name="expand")(se)
    return keras.Model(x, L.Multiply(name="excite")([x, se])), [U(rng, (6, 7, 8))]


@case("se_block_reshape", "Keras 2-era squeeze-and-excite: GlobalAveragePooling2D -> Reshape((1,1,C))"
      " -> Dense relu -> Dense sigmoid -> multiply([se, x]) (SE first)")
def _(rng):
    x = keras.Input((6, 7, 8))
    se = L.GlobalAveragePooling2D(name="squeeze")(x)
    se = L.Reshape((1, 1, 8), name="reshape")(se)
    se = L.Dense(2, activation="relu", name="reduce")(se)
    se = L.Dense(8, activation="sigmoid", name="expand")(se)
    return keras.Model(x, L.multiply([se, x], name="excite")), [U(rng, (6, 7, 8))]


# ------------------------------------------------------------------------------ Normalization

@case("norm_channel", "Normalization(mean=[3 values], variance=[3 values]) (axis=-1)")
def _(rng):
    x = keras.Input((4, 5, 3))
    y = L.Normalization(mean=[0.485, 0.456, 0.406], variance=[0.229**2, 0.224**2, 0.225**2])(x)
    return keras.Model(x, y), [U(rng, (4, 5, 3), 0, 1)]


@case("norm_invert", "Normalization(mean=[3], variance=[3], invert=True): x*sqrt(var)+mean")
def _(rng):
    x = keras.Input((4, 5, 3))
    y = L.Normalization(mean=[0.5, -1.0, 2.0], variance=[4.0, 0.25, 1.5], invert=True)(x)
    return keras.Model(x, y), [U(rng, (4, 5, 3))]


@case("norm_scalar", "Normalization(mean=2.0, variance=9.0) (scalars, axis=-1)")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.Normalization(mean=2.0, variance=9.0)(x)), [U(rng, (4, 5, 3), 0, 5)]


@case("norm_axis_none", "Normalization(axis=None, mean=1.5, variance=0.5): one mean/var for all")
def _(rng):
    x = keras.Input((4, 5, 3))
    y = L.Normalization(axis=None, mean=1.5, variance=0.5)(x)
    return keras.Model(x, y), [U(rng, (4, 5, 3), 0, 3)]


@case("norm_axis_1", "Normalization(axis=1, mean=[4 values], variance=[4 values]): per row")
def _(rng):
    x = keras.Input((4, 5, 3))
    y = L.Normalization(axis=1, mean=[0.1, 0.2, 0.3, 0.4], variance=[1.0, 2.0, 3.0, 4.0])(x)
    return keras.Model(x, y), [U(rng, (4, 5, 3))]


@case("norm_axis_12", "Normalization(axis=(1,2), mean/variance of shape (4,5)): per pixel")
def _(rng):
    x = keras.Input((4, 5, 3))
    mean = rng.uniform(-1, 1, (4, 5)).astype(np.float32)
    var = rng.uniform(0.5, 2, (4, 5)).astype(np.float32)
    y = L.Normalization(axis=(1, 2), mean=mean, variance=var)(x)
    return keras.Model(x, y), [U(rng, (4, 5, 3))]


@case("norm_adapted", "Normalization(axis=-1) adapted on data: mean/variance/count are *weights*"
      " (as in EfficientNet's stem), not config")
def _(rng):
    x = keras.Input((4, 5, 3))
    layer = L.Normalization(axis=-1)
    layer.adapt(rng.normal([1.0, -2.0, 0.5], [2.0, 0.5, 1.0], (64, 4, 5, 3)).astype(np.float32))
    return keras.Model(x, layer(x)), [U(rng, (4, 5, 3), -3, 3)]


@case("norm_adapted_invert", "Normalization(axis=-1, invert=True) adapted on data (weights)")
def _(rng):
    x = keras.Input((4, 5, 3))
    layer = L.Normalization(axis=-1, invert=True)
    layer.adapt(rng.normal([1.0, -2.0, 0.5], [2.0, 0.5, 1.0], (64, 4, 5, 3)).astype(np.float32))
    return keras.Model(x, layer(x)), [U(rng, (4, 5, 3))]


# ------------------------------------------------------------------------------ Cropping2D

@case("crop_int", "Cropping2D(1): 1 row/col off every side")
def _(rng):
    x = keras.Input((7, 8, 3))
    return keras.Model(x, L.Cropping2D(1)(x)), [U(rng, (7, 8, 3))]


@case("crop_sym", "Cropping2D((2, 1)): symmetric, 2 rows top and bottom, 1 col left and right")
def _(rng):
    x = keras.Input((7, 8, 3))
    return keras.Model(x, L.Cropping2D((2, 1))(x)), [U(rng, (7, 8, 3))]


@case("crop_asym", "Cropping2D(((1, 2), (0, 3))): top 1, bottom 2, left 0, right 3")
def _(rng):
    x = keras.Input((7, 8, 3))
    return keras.Model(x, L.Cropping2D(((1, 2), (0, 3)))(x)), [U(rng, (7, 8, 3))]


@case("crop_nasnet", "NASNet's pattern: ZeroPadding2D(((0,1),(0,1))) -> Cropping2D(((1,0),(1,0)))"
      " (shift by one pixel) -> AveragePooling2D(1, strides=2)")
def _(rng):
    x = keras.Input((8, 8, 3))
    y = L.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(x)
    y = L.Cropping2D(((1, 0), (1, 0)), name="crop")(y)
    y = L.AveragePooling2D((1, 1), strides=(2, 2), padding="valid", name="pool")(y)
    return keras.Model(x, y), [U(rng, (8, 8, 3))]


# ------------------------------------------------------------------------------ LayerNormalization

def _ln(axis, shape=(4, 5, 6), **kw):
    def fn(rng):
        x = keras.Input(shape)
        return keras.Model(x, L.LayerNormalization(axis=axis, **kw)(x)), [U(rng, shape, -2, 3)]
    return fn


case("ln_last", "LayerNormalization(axis=-1) (epsilon 1e-3 default)")(_ln(-1))
case("ln_last_eps6", "LayerNormalization(axis=-1, epsilon=1e-6) as in ConvNeXt")(
    _ln(-1, epsilon=1e-6))
case("ln_chw", "LayerNormalization(axis=[1,2,3]): over H,W,C; gamma/beta shape (4,5,6)")(
    _ln([1, 2, 3]))
case("ln_hw", "LayerNormalization(axis=[1,2]): over H,W per channel; gamma/beta shape (4,5)")(
    _ln([1, 2]))
case("ln_no_center", "LayerNormalization(axis=-1, center=False): gamma only")(
    _ln(-1, center=False))
case("ln_no_scale", "LayerNormalization(axis=-1, scale=False): beta only")(
    _ln(-1, scale=False))
case("ln_plain", "LayerNormalization(axis=-1, center=False, scale=False, epsilon=0.1): no weights")(
    _ln(-1, center=False, scale=False, epsilon=0.1))
case("ln_2d", "LayerNormalization(axis=-1) on a (N,7) tensor, epsilon 1e-5")(
    _ln(-1, shape=(7,), epsilon=1e-5))


# ------------------------------------------------------------------------------ GELU

@case("gelu_string", "Activation('gelu') (exact erf form; the string takes no options)")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.Activation("gelu")(x)), [U(rng, (4, 5, 3), -5, 5)]


@case("gelu_function", "Activation(keras.activations.gelu): serialises as 'gelu', same as the string")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.Activation(keras.activations.gelu)(x)), [U(rng, (4, 5, 3), -5, 5)]


@case("gelu_ops", "keras.ops.gelu as operation nodes: out0 approximate=False (erf), "
      "out1 approximate=True (tanh); also Dense(activation='gelu')")
def _(rng):
    x = keras.Input((4, 5, 3))
    y0 = ops.gelu(x, approximate=False)
    y1 = ops.gelu(x, approximate=True)
    y2 = L.Dense(3, activation="gelu", name="dense_gelu")(x)
    return keras.Model(x, [y0, y1, y2]), [U(rng, (4, 5, 3), -5, 5)]


# ------------------------------------------------------------------------------ Dense on N-D

@case("dense_4d", "Dense(7, activation='relu') on (N,3,4,5): applied on the last axis")
def _(rng):
    x = keras.Input((3, 4, 5))
    return keras.Model(x, L.Dense(7, activation="relu")(x)), [U(rng, (3, 4, 5))]


@case("dense_4d_nobias", "Dense(6, use_bias=False) on (N,3,4,5)")
def _(rng):
    x = keras.Input((3, 4, 5))
    return keras.Model(x, L.Dense(6, use_bias=False)(x)), [U(rng, (3, 4, 5))]


@case("dense_3d", "Dense(4) on (N,6,5)")
def _(rng):
    x = keras.Input((6, 5))
    return keras.Model(x, L.Dense(4)(x)), [U(rng, (6, 5))]


# ------------------------------------------------------------------------------ LayerScale

@case("layerscale", "ConvNeXt's LayerScale(init_values=1e-6, projection_dim=6), gamma randomised")
def _(rng):
    x = keras.Input((4, 5, 6))
    return keras.Model(x, LayerScale(1e-6, 6, name="layer_scale")(x)), [U(rng, (4, 5, 6))]


@case("convnext_block", "one ConvNeXt block as the application writes it: Conv2D 7x7 groups=C "
      "-> LayerNormalization(eps 1e-6) -> Dense 4C -> Activation('gelu') -> Dense C -> LayerScale "
      "-> Add with the input")
def _(rng):
    from keras.src.applications import convnext
    x = keras.Input((8, 8, 6))
    y = convnext.ConvNeXtBlock(6, drop_path_rate=0.0, layer_scale_init_value=1e-6,
                               name="blk")(x)
    return keras.Model(x, y), [U(rng, (8, 8, 6))]


@case("irv2_blocks", "InceptionResNetV2's residual blocks as the application writes them (filters "
      "divided by 16 as in apps/InceptionResNetV2): block35 (scale 0.17, relu) then the last "
      "block8 (scale 1.0, no activation): conv2d_bn = Conv2D(no bias) + BatchNormalization("
      "scale=False) + relu, Concatenate, 1x1 Conv2D with bias, CustomScaleLayer([x, up])")
def _(rng):
    from keras.src.applications import inception_resnet_v2 as irv2
    from zoo import irv2_width
    x = keras.Input((5, 5, 8))
    with irv2_width(16):
        y = irv2.inception_resnet_block(x, 0.17, "block35", 1)
        y = irv2.inception_resnet_block(y, 1.0, "block8", 10, activation=None)
    return keras.Model(x, y), [U(rng, (5, 5, 8))]


@case("nested_sequential", "a keras.Sequential used as a layer inside a functional model, as "
      "ConvNeXt's stem and downsampling blocks are: Sequential([Conv2D(4, 2, strides=2), "
      "LayerNormalization(eps 1e-6)], name='stem') -> Sequential([LayerNormalization, Conv2D(6, "
      "2, strides=2)], name='down') -> Dense(3)")
def _(rng):
    x = keras.Input((8, 8, 3))
    stem = keras.Sequential([L.Conv2D(4, 2, strides=2, name="stem_conv"),
                             L.LayerNormalization(epsilon=1e-6, name="stem_ln")], name="stem")
    down = keras.Sequential([L.LayerNormalization(epsilon=1e-6, name="down_ln"),
                             L.Conv2D(6, 2, strides=2, name="down_conv")], name="down")
    y = L.Dense(3, name="head")(down(stem(x)))
    return keras.Model(x, y), [U(rng, (8, 8, 3))]


# ------------------------------------------------------------------------------ operation nodes

@case("op_hard_sigmoid_mnv3", "MobileNetV3's hard_sigmoid: ReLU(6.)(x + 3.0) * (1.0 / 6.0) "
      "(operation nodes Add and Multiply with a Python float)")
def _(rng):
    x = keras.Input((4, 5, 3))
    y = L.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    return keras.Model(x, y), [U(rng, (4, 5, 3), -5, 5)]


@case("op_hard_swish_mnv3", "MobileNetV3's SE gate and hard_swish: out0 = Multiply()([x, "
      "hard_sigmoid(x)]) (Keras 2.x form), out1 = Activation('hard_swish') (Keras 3 form)")
def _(rng):
    x = keras.Input((4, 5, 3))
    hs = L.ReLU(6.0)(x + 3.0) * (1.0 / 6.0)
    y0 = L.Multiply()([x, hs])
    y1 = L.Activation("hard_swish")(x)
    return keras.Model(x, [y0, y1]), [U(rng, (4, 5, 3), -5, 5)]


@case("op_scalar_arith", "operation nodes from Python arithmetic on Keras tensors: out0 x + 3, "
      "out1 3 + x, out2 x - 1, out3 1 - x, out4 x * 2, out5 2 * x, out6 x / 4, out7 x * y, "
      "out8 x + y, out9 x - y, out10 -x")
def _(rng):
    x, y = keras.Input((3, 4, 2), name="x"), keras.Input((3, 4, 2), name="y")
    outs = [x + 3.0, 3.0 + x, x - 1.0, 1.0 - x, x * 2.0, 2.0 * x, x / 4.0, x * y, x + y, x - y,
            -x]
    return keras.Model([x, y], outs), [U(rng, (3, 4, 2)), U(rng, (3, 4, 2))]


@case("op_nn", "keras.ops activation functions as operation nodes: out0 sigmoid, out1 relu6, "
      "out2 hard_sigmoid, out3 hard_silu, out4 silu, out5 relu, out6 tanh, out7 leaky_relu(0.2)")
def _(rng):
    x = keras.Input((4, 5, 3))
    outs = [ops.sigmoid(x), ops.relu6(x), ops.hard_sigmoid(x), ops.hard_silu(x), ops.silu(x),
            ops.relu(x), ops.tanh(x), ops.leaky_relu(x, negative_slope=0.2)]
    return keras.Model(x, outs), [U(rng, (4, 5, 3), -8, 8)]


# ------------------------------------------------------------------------------ Permute, PReLU

@case("permute_whc", "Permute((2, 1, 3)): swap H and W")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.Permute((2, 1, 3))(x)), [U(rng, (4, 5, 3))]


@case("permute_chw", "Permute((3, 1, 2)): NHWC -> NCHW")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.Permute((3, 1, 2))(x)), [U(rng, (4, 5, 3))]


@case("prelu_full", "PReLU(): alpha of shape (H,W,C) = (4,5,3), one slope per element")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.PReLU()(x)), [U(rng, (4, 5, 3))]


@case("prelu_shared", "PReLU(shared_axes=[1, 2]): alpha shape (1,1,C), one slope per channel")
def _(rng):
    x = keras.Input((4, 5, 3))
    return keras.Model(x, L.PReLU(shared_axes=[1, 2])(x)), [U(rng, (4, 5, 3))]


@case("prelu_conv", "Conv2D 3x3 -> PReLU(shared_axes=[1,2]) (a typical use)")
def _(rng):
    x = keras.Input((6, 6, 3))
    y = L.Conv2D(4, 3, padding="same", name="conv")(x)
    return keras.Model(x, L.PReLU(shared_axes=[1, 2], name="prelu")(y)), [U(rng, (6, 6, 3))]


# ------------------------------------------------------------------------------ pooling, 'same'

def _pool(cls, pool, strides, shape=(7, 9, 3), padding="same"):
    def fn(rng):
        x = keras.Input(shape)
        return (keras.Model(x, cls(pool, strides=strides, padding=padding)(x)),
                [U(rng, shape, 0, 1)])
    return fn


for _k, _s in ((3, 1), (3, 2), (2, 2), (2, 1), (5, 2), ((3, 2), (2, 1))):
    _tag = f"k{_k}_s{_s}".replace("(", "").replace(")", "").replace(", ", "x")
    case(f"avgpool_same_{_tag}", f"AveragePooling2D({_k}, strides={_s}, padding='same') on 7x9: "
         "padded cells are not counted in the average")(_pool(L.AveragePooling2D, _k, _s))
case("avgpool_same_k3_s2_even", "AveragePooling2D(3, strides=2, padding='same') on 8x8")(
    _pool(L.AveragePooling2D, 3, 2, (8, 8, 3)))
case("avgpool_valid_k3_s2", "AveragePooling2D(3, strides=2, padding='valid') on 7x9")(
    _pool(L.AveragePooling2D, 3, 2, padding="valid"))
case("maxpool_same_k3_s2", "MaxPooling2D(3, strides=2, padding='same') on 7x9")(
    _pool(L.MaxPooling2D, 3, 2))


# ------------------------------------------------------------------------------ inference no-ops

@case("noops", "Conv2D -> SpatialDropout2D(0.3) -> GaussianNoise(0.5) -> GaussianDropout(0.4) "
      "-> ActivityRegularization(l1=0.01, l2=0.02) -> Dropout(0.5) -> Conv2D: all identities at "
      "inference")
def _(rng):
    x = keras.Input((6, 6, 3))
    y = L.Conv2D(4, 3, padding="same", name="conv_a")(x)
    y = L.SpatialDropout2D(0.3, name="spatial_dropout")(y)
    y = L.GaussianNoise(0.5, name="gaussian_noise")(y)
    y = L.GaussianDropout(0.4, name="gaussian_dropout")(y)
    y = L.ActivityRegularization(l1=0.01, l2=0.02, name="activity_reg")(y)
    y = L.Dropout(0.5, name="dropout")(y)
    y = L.Conv2D(2, 1, name="conv_b")(y)
    return keras.Model(x, y), [U(rng, (6, 6, 3))]


# ------------------------------------------------------------------------------ Lambda

@case("lambda", "Conv2D -> Lambda(lambda t: t * 2.0 + 1.0): arbitrary Python, must be refused "
      "(Keras itself loads it only with safe_mode=False)")
def _(rng):
    x = keras.Input((5, 5, 3))
    y = L.Conv2D(2, 3, name="conv")(x)
    y = L.Lambda(lambda t: t * 2.0 + 1.0, name="my_lambda")(y)
    return keras.Model(x, y), [U(rng, (5, 5, 3))]


# ------------------------------------------------------------------------------ activations

ACTIVATIONS = ["relu", "relu6", "elu", "selu", "celu", "gelu", "silu", "swish", "hard_silu",
               "hard_swish", "sigmoid", "hard_sigmoid", "tanh", "softplus", "softsign", "mish",
               "exponential", "linear", "leaky_relu", "log_sigmoid", "hard_tanh", "softmax",
               "log_softmax"]


@case("activations", "Activation(name) for many names, one output each, in this order: "
      + ", ".join(ACTIVATIONS))
def _(rng):
    x = keras.Input((3, 4, 5))
    outs = [L.Activation(a, name=f"act_{a}")(x) for a in ACTIVATIONS]
    return keras.Model(x, outs), [U(rng, (3, 4, 5), -6, 6)]


# ------------------------------------------------------------------------------ options of
# supported classes that the applications use

@case("conv_groups", "Conv2D with groups: out0 Conv2D(6, 3, groups=2, padding='same'); out1 "
      "ConvNeXt's depthwise form Conv2D(4, 7, groups=4, padding='same') (kernel (7,7,1,4))")
def _(rng):
    x = keras.Input((9, 9, 4))
    y0 = L.Conv2D(6, 3, groups=2, padding="same", name="grouped")(x)
    y1 = L.Conv2D(4, 7, groups=4, padding="same", name="depthwise_as_groups")(x)
    return keras.Model(x, [y0, y1]), [U(rng, (9, 9, 4))]


@case("rescaling_vector", "Rescaling with a per-channel list scale (EfficientNet's ImageNet stem)"
      ": out0 Rescaling([1/sqrt(0.229), 1/sqrt(0.224), 1/sqrt(0.225)]); out1 Rescaling(1/127.5, "
      "offset=-1); out2 Rescaling([0.5, 2.0, -1.0], offset=[0.1, 0.2, 0.3])")
def _(rng):
    x = keras.Input((4, 5, 3))
    y0 = L.Rescaling([1.0 / 0.229 ** 0.5, 1.0 / 0.224 ** 0.5, 1.0 / 0.225 ** 0.5], name="r0")(x)
    y1 = L.Rescaling(1.0 / 127.5, offset=-1.0, name="r1")(x)
    y2 = L.Rescaling([0.5, 2.0, -1.0], offset=[0.1, 0.2, 0.3], name="r2")(x)
    return keras.Model(x, [y0, y1, y2]), [U(rng, (4, 5, 3), 0, 255)]


@case("bn_options", "BatchNormalization options: out0 scale=False (InceptionV3/IRV2: weights beta,"
      " mean, var), out1 center=False (gamma, mean, var), out2 center=False, scale=False (mean, var)"
      ", out3 epsilon=1.001e-5 (ResNet/DenseNet), all with random statistics")
def _(rng):
    x = keras.Input((4, 5, 3))
    outs = [L.BatchNormalization(scale=False, name="no_scale")(x),
            L.BatchNormalization(center=False, name="no_center")(x),
            L.BatchNormalization(center=False, scale=False, epsilon=0.01, name="neither")(x),
            L.BatchNormalization(epsilon=1.001e-5, name="eps_resnet")(x)]
    return keras.Model(x, outs), [U(rng, (4, 5, 3), -2, 2)]


@case("relu_options", "ReLU options: out0 ReLU(6.0) (MobileNetV2), out1 ReLU(max_value=6.0, "
      "negative_slope=0.1, threshold=0.5), out2 ReLU(negative_slope=0.2)")
def _(rng):
    x = keras.Input((4, 5, 3))
    outs = [L.ReLU(6.0, name="relu6")(x),
            L.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5, name="relu_all")(x),
            L.ReLU(negative_slope=0.2, name="relu_leaky")(x)]
    return keras.Model(x, outs), [U(rng, (4, 5, 3), -8, 8)]


@case("gap_keepdims", "GlobalAveragePooling2D(keepdims=True) (MobileNet/MobileNetV3) -> (N,1,1,C);"
      " out1 GlobalMaxPooling2D(keepdims=True)")
def _(rng):
    x = keras.Input((5, 6, 3))
    return (keras.Model(x, [L.GlobalAveragePooling2D(keepdims=True)(x),
                            L.GlobalMaxPooling2D(keepdims=True)(x)]), [U(rng, (5, 6, 3))])


# ------------------------------------------------------------------------------ driver

def intermediate_outputs(model, xs):
    """Output of every layer / operation node except inputs, keyed by name."""
    ops_ = [op for op in model.operations if op.__class__.__name__ != "InputLayer"]
    if len(ops_) < 2:
        return {}
    final = {id(t) for t in model.outputs}
    outs = []
    names = []
    for op in ops_:
        o = op.output
        if isinstance(o, (list, tuple)) or id(o) in final:
            continue
        outs.append(o)
        names.append(op.name)
    if not outs:
        return {}
    probe = keras.Model(model.inputs, outs)
    vals = probe.predict(xs if len(xs) > 1 else xs[0], verbose=0)
    if not isinstance(vals, (list, tuple)):
        vals = [vals]
    return dict(zip(names, vals))


def make(name, log):
    fn, doc = CASES[name]
    seed = seed_of(name)
    fresh(seed)
    rng = np.random.default_rng(seed)
    model, xs = fn(rng)
    unknown = randomize_weights(model, rng, kernel_gain=1.0)
    assert not unknown, (name, unknown)
    feed = xs if len(xs) > 1 else xs[0]
    y = predict(model, feed)
    ys = list(y) if isinstance(y, (list, tuple)) else [y]
    base = os.path.join(OUT, name)
    save_model(model, base)
    files = [name + ".keras", name + ".h5"]
    for i, x in enumerate(xs):
        save_npy(f"{base}.in{i}.npy", x)
        files.append(f"{name}.in{i}.npy")
    for i, v in enumerate(ys):
        save_npy(f"{base}.out{i}.npy", v)
        files.append(f"{name}.out{i}.npy")
    inter = intermediate_outputs(model, xs)
    for k, v in inter.items():
        save_npy(f"{base}.node.{k}.npy", v)
        files.append(f"{name}.node.{k}.npy")
    safe = name != "lambda"
    errs = {name + ".keras": check_roundtrip(base + ".keras", feed, y, safe_mode=safe)}
    h5_err, h5_note = check_h5(base + ".h5", base + ".keras", feed, y, safe_mode=safe)
    errs[name + ".h5"] = h5_err
    cfg = keras_config_json(base + ".keras")
    log[name] = dict(
        doc=doc, seed=seed,
        inputs=[list(x.shape) for x in xs], outputs=[list(np.shape(v)) for v in ys],
        layer_kinds=sorted(layer_kinds(cfg)),
        weights={v.path: list(v.shape) for v in model.weights},
        nodes=list(inter),
        files={f: file_size(os.path.join(OUT, f)) for f in files},
        reload_max_rel_err=errs, h5_keras_load_model_fails=h5_note,
    )
    print(f"{name}: {len(files)} files{'; h5 load_model fails: ' + h5_note if h5_note else ''}")


def main(argv):
    os.makedirs(OUT, exist_ok=True)
    manifest_path = os.path.join(OUT, "manifest.json")
    manifest = {"cases": {}}
    names = argv or list(CASES)
    if argv and os.path.exists(manifest_path):
        import json
        with open(manifest_path) as f:
            manifest = json.load(f)
    for n in names:
        make(n, manifest["cases"])
    manifest["_versions"] = VERSIONS
    write_json(manifest_path, manifest)


if __name__ == "__main__":
    main(sys.argv[1:])
