#!/usr/bin/env python3
"""Builds the engine's test vectors: small ONNX models, inputs, and onnxruntime's outputs.

Run by hand (python3 with onnx, onnxruntime, scikit-learn, skl2onnx):
    python3 tools/onnx-vectors/generate.py
Writes Tests/PlinthEngineTests/Vectors/: <case>.onnx, <case>.bin (little-endian tensor blobs,
concatenated) and manifest.json describing every case's inputs and expected outputs.
Seeded, so re-running gives the same files.
"""
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "Tests", "PlinthEngineTests", "Vectors")
RNG = np.random.default_rng(1234)
CASES = []

DTYPES = {np.float32: "FP32", np.float64: "FP64", np.int64: "INT64", np.int32: "INT32", np.bool_: "BOOL"}


def dtype_name(arr):
    for t, n in DTYPES.items():
        if arr.dtype == t:
            return n
    if arr.dtype.kind in ("U", "O", "S"):
        return "BYTES"
    raise ValueError(arr.dtype)


def encode(name, arr, blob, labels=None):
    arr = np.asarray(arr)
    entry = {"name": name, "datatype": dtype_name(arr), "shape": list(arr.shape)}
    if entry["datatype"] == "BYTES":
        entry["strings"] = [str(x) for x in arr.reshape(-1)]
    else:
        data = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        entry["offset"] = len(blob)
        entry["bytes"] = len(data)
        blob.extend(data)
    if labels is not None:
        entry["labels"] = [str(x) for x in labels]
    return entry


def zipmap_to_matrix(value, labels=None):
    """onnxruntime returns ZipMap outputs as a list of dicts; Plinth returns [N, C] in the ZipMap's label order."""
    labels = labels if labels is not None else list(value[0].keys())
    mat = np.array([[row[k] for k in labels] for row in value], dtype=np.float32)
    return mat, labels


def add_case(name, model, inputs, note="", stable_name=None):
    if isinstance(model, onnx.ModelProto):
        pass  # onnxruntime validates; the checker rejects rank-unknown outputs
        data = model.SerializeToString()
    else:
        data = model
    sess = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    outs = sess.run(None, inputs)
    proto = onnx.load_from_string(data)
    zipmap_labels = {}
    for node in proto.graph.node:
        if node.op_type == "ZipMap":
            for a in node.attribute:
                if a.name == "classlabels_int64s":
                    zipmap_labels[node.output[0]] = list(a.ints)
                elif a.name == "classlabels_strings":
                    zipmap_labels[node.output[0]] = [x.decode() for x in a.strings]
    blob = bytearray()
    case = {"name": name, "model": (stable_name or name + ".onnx"), "blob": name + ".bin", "note": note,
            "inputs": [encode(k, v, blob) for k, v in inputs.items()], "outputs": []}
    for meta, value in zip(sess.get_outputs(), outs):
        if isinstance(value, list):
            mat, labels = zipmap_to_matrix(value, zipmap_labels.get(meta.name))
            case["outputs"].append(encode(meta.name, mat, blob, labels=labels))
        else:
            case["outputs"].append(encode(meta.name, value, blob))
    with open(os.path.join(OUT, case["model"]), "wb") as f:
        f.write(data)
    with open(os.path.join(OUT, case["blob"]), "wb") as f:
        f.write(bytes(blob))
    CASES.append(case)


def f32(*shape, scale=1.0):
    return np.asarray(RNG.standard_normal(shape) * scale, dtype=np.float32)


def graph_model(nodes, inputs, outputs, inits=(), opset=17, ml=None, ir=8):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    imports = [helper.make_opsetid("", opset)]
    if ml is not None:
        imports.append(helper.make_opsetid("ai.onnx.ml", ml))
    m = helper.make_model(g, opset_imports=imports, producer_name="plinth-vectors")
    m.ir_version = ir
    return m


def vi(name, elem, shape):
    return helper.make_tensor_value_info(name, elem, shape)


F = TensorProto.FLOAT
I64 = TensorProto.INT64
B = TensorProto.BOOL


def unary(op, opset=17, x=None, **attrs):
    x = f32(2, 3, 4) if x is None else x
    m = graph_model([helper.make_node(op, ["x"], ["y"], **attrs)], [vi("x", F, list(x.shape))], [vi("y", F, None)], opset=opset)
    return m, {"x": x}


def binary(op, sa, sb, opset=17, a=None, b=None):
    a = np.asarray(f32(*sa) if a is None else a, np.float32)
    b = np.asarray(f32(*sb) if b is None else b, np.float32)
    m = graph_model([helper.make_node(op, ["a", "b"], ["y"])], [vi("a", F, sa), vi("b", F, sb)], [vi("y", F, None)], opset=opset)
    return m, {"a": a, "b": b}


def const(name, arr):
    return numpy_helper.from_array(np.asarray(arr), name)


def onnx_op_cases():
    for op in ["Relu", "Sigmoid", "Tanh", "Erf", "Identity"]:
        add_case("op_" + op.lower(), *unary(op))
    add_case("op_sqrt", *unary("Sqrt", x=np.abs(f32(2, 3, 4)) + 0.1))
    add_case("op_leakyrelu", *unary("LeakyRelu", alpha=0.2))
    add_case("op_gelu", *unary("Gelu", opset=20))
    add_case("op_gelu_tanh", *unary("Gelu", opset=20, approximate="tanh"))
    add_case("op_dropout", *unary("Dropout", opset=12))
    add_case("op_softmax_axis1_opset11", *unary("Softmax", opset=11, axis=1))
    add_case("op_softmax_default_opset13", *unary("Softmax", opset=13))
    add_case("op_softmax_axis1_opset13", *unary("Softmax", opset=13, axis=1))
    add_case("op_logsoftmax_opset11", *unary("LogSoftmax", opset=11))
    add_case("op_logsoftmax_opset13", *unary("LogSoftmax", opset=13, axis=0))
    add_case("op_flatten_axis2", *unary("Flatten", axis=2))
    add_case("op_flatten_default", *unary("Flatten"))
    add_case("op_transpose_perm", *unary("Transpose", perm=[2, 0, 1]))
    add_case("op_transpose_default", *unary("Transpose"))
    add_case("op_clip_attr_opset6", *unary("Clip", opset=6, min=-0.5, max=0.7))
    add_case("op_globalaveragepool", *unary("GlobalAveragePool", x=f32(2, 3, 5, 4)))
    add_case("op_shape", graph_model([helper.make_node("Shape", ["x"], ["y"])], [vi("x", F, [2, 3, 4])], [vi("y", I64, None)]), {"x": f32(2, 3, 4)})
    add_case("op_reducemean_attr", *unary("ReduceMean", opset=13, axes=[1], keepdims=0))
    add_case("op_reducemean_all", *unary("ReduceMean", opset=13))
    add_case("op_squeeze_attr_opset11", *unary("Squeeze", opset=11, x=f32(2, 1, 4), axes=[1]))
    add_case("op_unsqueeze_attr_opset11", *unary("Unsqueeze", opset=11, axes=[0, 3]))

    for op in ["Add", "Sub", "Mul", "Div"]:
        add_case("op_%s_broadcast" % op.lower(), *binary(op, [2, 3, 4], [3, 1]))
    add_case("op_add_same", *binary("Add", [3, 4], [3, 4]))
    add_case("op_add_scalar_left", *binary("Add", [], [2, 3]))
    add_case("op_pow", *binary("Pow", [2, 3], [3], a=np.abs(f32(2, 3)) + 0.5))
    add_case("op_matmul_2d", *binary("MatMul", [3, 5], [5, 4]))
    add_case("op_matmul_batched", *binary("MatMul", [2, 3, 5], [5, 4]))
    add_case("op_matmul_batched_both", *binary("MatMul", [2, 3, 5], [2, 5, 4]))
    add_case("op_matmul_vec", *binary("MatMul", [5], [5, 4]))

    # MatMul / Gemm with constant weights (pre-packed path).
    w = f32(6, 5)
    add_case("op_matmul_const", graph_model([helper.make_node("MatMul", ["x", "w"], ["y"])], [vi("x", F, ["N", 6])], [vi("y", F, None)], [const("w", w)]), {"x": f32(3, 6)})
    for ta, tb, alpha, beta, cshape in [(0, 0, 1.0, 1.0, [4]), (0, 1, 0.5, 2.0, [1, 4]), (1, 0, 1.0, 1.0, [3, 4]), (1, 1, 1.5, 0.5, []), (0, 0, 1.0, 0.0, None)]:
        a = f32(*([5, 3] if ta else [3, 5]))
        b = f32(*([4, 5] if tb else [5, 4]))
        ins = [vi("a", F, list(a.shape)), vi("b", F, list(b.shape))]
        feeds = {"a": a, "b": b}
        node_in = ["a", "b"]
        if cshape is not None:
            ins.append(vi("c", F, cshape))
            feeds["c"] = f32(*cshape)
            node_in.append("c")
        node = helper.make_node("Gemm", node_in, ["y"], alpha=alpha, beta=beta, transA=ta, transB=tb)
        add_case("op_gemm_ta%d_tb%d_%s" % (ta, tb, "noc" if cshape is None else "c%d" % len(cshape)), graph_model([node], ins, [vi("y", F, None)]), feeds)
    wt = f32(4, 5)
    bias = f32(4)
    add_case("op_gemm_const_transb", graph_model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)], [vi("x", F, ["N", 5])], [vi("y", F, None)], [const("w", wt), const("b", bias)]), {"x": f32(7, 5)})

    add_case("op_clip_inputs_opset13", graph_model([helper.make_node("Clip", ["x", "lo", "hi"], ["y"])], [vi("x", F, [3, 4])], [vi("y", F, None)], [const("lo", np.float32(-0.3)), const("hi", np.float32(0.4))], opset=13), {"x": f32(3, 4)})
    add_case("op_clip_min_only_opset13", graph_model([helper.make_node("Clip", ["x", "lo"], ["y"])], [vi("x", F, [3, 4])], [vi("y", F, None)], [const("lo", np.float32(0.1))], opset=13), {"x": f32(3, 4)})
    add_case("op_squeeze_input_opset13", graph_model([helper.make_node("Squeeze", ["x", "ax"], ["y"])], [vi("x", F, [2, 1, 4, 1])], [vi("y", F, None)], [const("ax", np.array([-1, 1], np.int64))], opset=13), {"x": f32(2, 1, 4, 1)})
    add_case("op_unsqueeze_input_opset13", graph_model([helper.make_node("Unsqueeze", ["x", "ax"], ["y"])], [vi("x", F, [2, 4])], [vi("y", F, None)], [const("ax", np.array([1, -1], np.int64))], opset=13), {"x": f32(2, 4)})
    add_case("op_reshape_zero_minus1", graph_model([helper.make_node("Reshape", ["x", "s"], ["y"])], [vi("x", F, [2, 3, 4])], [vi("y", F, None)], [const("s", np.array([0, -1, 2], np.int64))]), {"x": f32(2, 3, 4)})
    add_case("op_concat_axis1", graph_model([helper.make_node("Concat", ["a", "b", "c"], ["y"], axis=1)], [vi("a", F, [2, 1, 3]), vi("b", F, [2, 2, 3]), vi("c", F, [2, 3, 3])], [vi("y", F, None)]), {"a": f32(2, 1, 3), "b": f32(2, 2, 3), "c": f32(2, 3, 3)})
    add_case("op_concat_neg_axis", graph_model([helper.make_node("Concat", ["a", "b"], ["y"], axis=-1)], [vi("a", F, [2, 3]), vi("b", F, [2, 2])], [vi("y", F, None)]), {"a": f32(2, 3), "b": f32(2, 2)})
    add_case("op_gather_axis0", graph_model([helper.make_node("Gather", ["x", "i"], ["y"], axis=0)], [vi("x", F, [5, 3]), vi("i", I64, [2, 2])], [vi("y", F, None)]), {"x": f32(5, 3), "i": np.array([[0, 4], [-1, 2]], np.int64)})
    add_case("op_gather_axis1_const", graph_model([helper.make_node("Gather", ["x", "i"], ["y"], axis=1)], [vi("x", F, [2, 5, 3])], [vi("y", F, None)], [const("i", np.array([3, 0, 3], np.int64))]), {"x": f32(2, 5, 3)})
    sl = [helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"])]
    add_case("op_slice_steps", graph_model(sl, [vi("x", F, [4, 6, 5])], [vi("y", F, None)], [const("st", np.array([1, -1], np.int64)), const("en", np.array([100, -7], np.int64)), const("ax", np.array([1, 2], np.int64)), const("sp", np.array([2, -2], np.int64))]), {"x": f32(4, 6, 5)})
    add_case("op_slice_basic", graph_model([helper.make_node("Slice", ["x", "st", "en"], ["y"])], [vi("x", F, [4, 6])], [vi("y", F, None)], [const("st", np.array([1, 2], np.int64)), const("en", np.array([3, -1], np.int64))]), {"x": f32(4, 6)})
    add_case("op_reducemean_input_opset18", graph_model([helper.make_node("ReduceMean", ["x", "ax"], ["y"], keepdims=1)], [vi("x", F, [2, 3, 4])], [vi("y", F, None)], [const("ax", np.array([-1, 0], np.int64))], opset=18), {"x": f32(2, 3, 4)})
    add_case("op_layernorm", graph_model([helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"], axis=-1, epsilon=1e-5)], [vi("x", F, [2, 3, 8])], [vi("y", F, None)], [const("s", f32(8)), const("b", f32(8))]), {"x": f32(2, 3, 8)})
    add_case("op_layernorm_axis1_noscale_bias", graph_model([helper.make_node("LayerNormalization", ["x", "s"], ["y"], axis=1)], [vi("x", F, [2, 3, 4])], [vi("y", F, None)], [const("s", f32(3, 4))]), {"x": f32(2, 3, 4)})
    eq = [helper.make_node("Equal", ["a", "b"], ["m"]), helper.make_node("Where", ["m", "x", "z"], ["y"])]
    a = np.array([[1, 2, 3], [4, 5, 6]], np.int64)
    add_case("op_equal_where", graph_model(eq, [vi("a", I64, [2, 3]), vi("b", I64, [3]), vi("x", F, [2, 3]), vi("z", F, [1])], [vi("y", F, None), vi("m", B, None)]),
             {"a": a, "b": np.array([1, 0, 6], np.int64), "x": f32(2, 3), "z": f32(1)})
    add_case("op_equal_float", graph_model([helper.make_node("Equal", ["a", "b"], ["y"])], [vi("a", F, [4]), vi("b", F, [4])], [vi("y", B, None)]), {"a": np.array([1, 2, 3, 4], np.float32), "b": np.array([1, 0, 3, 5], np.float32)})
    add_case("op_constant_add", graph_model([helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(f32(3), "c")), helper.make_node("Add", ["x", "c"], ["y"])], [vi("x", F, [2, 3])], [vi("y", F, None)]), {"x": f32(2, 3)})
    add_case("op_constant_value_floats", graph_model([helper.make_node("Constant", [], ["c"], value_floats=[1.0, -2.0, 3.5]), helper.make_node("Mul", ["x", "c"], ["y"])], [vi("x", F, [2, 3])], [vi("y", F, None)]), {"x": f32(2, 3)})
    for to, name in [(TensorProto.INT64, "int64"), (TensorProto.DOUBLE, "double"), (TensorProto.INT32, "int32"), (TensorProto.BOOL, "bool")]:
        add_case("op_cast_float_to_" + name, graph_model([helper.make_node("Cast", ["x"], ["y"], to=to)], [vi("x", F, [2, 5])], [vi("y", to, None)]), {"x": (f32(2, 5) * 3).round(1)})
    add_case("op_cast_int64_to_float", graph_model([helper.make_node("Cast", ["x"], ["y"], to=F)], [vi("x", I64, [4])], [vi("y", F, None)]), {"x": np.array([-3, 0, 7, 1 << 40], np.int64)})
    add_case("op_argmax_keepdims", graph_model([helper.make_node("ArgMax", ["x"], ["y"], axis=1)], [vi("x", F, [3, 5])], [vi("y", I64, None)]), {"x": f32(3, 5)})
    add_case("op_argmax_nokeep_last", graph_model([helper.make_node("ArgMax", ["x"], ["y"], axis=-1, keepdims=0, select_last_index=1)], [vi("x", F, [2, 4])], [vi("y", I64, None)]), {"x": np.array([[1, 3, 3, 0], [2, 2, 2, 2]], np.float32)})
    add_case("op_batchnorm", graph_model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], epsilon=1e-3)], [vi("x", F, [2, 3, 4, 4])], [vi("y", F, None)],
                                          [const("s", f32(3)), const("b", f32(3)), const("m", f32(3)), const("v", np.abs(f32(3)) + 0.5)]), {"x": f32(2, 3, 4, 4)})
    # Shape -> Gather -> Unsqueeze -> Concat -> Reshape: the dynamic-flatten idiom exporters emit.
    nodes = [helper.make_node("Shape", ["x"], ["s"]), helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]), helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
             helper.make_node("Reshape", ["x", "shape"], ["y"])]
    add_case("op_dynamic_flatten_idiom", graph_model(nodes, [vi("x", F, ["N", 2, 3])], [vi("y", F, None)],
                                                      [const("zero", np.array(0, np.int64)), const("ax0", np.array([0], np.int64)), const("minus1", np.array([-1], np.int64))], opset=13), {"x": f32(4, 2, 3)})


def conv_pool_cases():
    x = f32(2, 4, 7, 6)
    for name, attrs, wshape in [
        ("op_conv_basic", {}, [5, 4, 3, 3]),
        ("op_conv_pads_strides", {"pads": [1, 0, 2, 1], "strides": [2, 1]}, [5, 4, 3, 2]),
        ("op_conv_dilation", {"dilations": [2, 2], "pads": [1, 1, 1, 1]}, [3, 4, 3, 3]),
        ("op_conv_groups", {"group": 2, "pads": [1, 1, 1, 1]}, [6, 2, 3, 3]),
        ("op_conv_depthwise", {"group": 4, "strides": [2, 2], "auto_pad": "SAME_UPPER"}, [4, 1, 3, 3]),
        ("op_conv_same_lower", {"auto_pad": "SAME_LOWER", "strides": [2, 2]}, [2, 4, 2, 2]),
        ("op_conv_valid_1x1", {"auto_pad": "VALID"}, [3, 4, 1, 1]),
    ]:
        w = f32(*wshape)
        b = f32(wshape[0])
        node = helper.make_node("Conv", ["x", "w", "b"], ["y"], **attrs)
        add_case(name, graph_model([node], [vi("x", F, list(x.shape))], [vi("y", F, None)], [const("w", w), const("b", b)]), {"x": x})
    add_case("op_conv_nobias_input_weights", graph_model([helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], [vi("x", F, [1, 2, 5, 5]), vi("w", F, [3, 2, 3, 3])], [vi("y", F, None)]), {"x": f32(1, 2, 5, 5), "w": f32(3, 2, 3, 3)})
    for name, op, attrs in [
        ("op_maxpool_basic", "MaxPool", {"kernel_shape": [2, 2], "strides": [2, 2]}),
        ("op_maxpool_pads", "MaxPool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "strides": [2, 2]}),
        ("op_maxpool_same_upper", "MaxPool", {"kernel_shape": [3, 2], "auto_pad": "SAME_UPPER", "strides": [2, 2]}),
        ("op_maxpool_dilation_ceil", "MaxPool", {"kernel_shape": [2, 2], "dilations": [2, 2], "ceil_mode": 1}),
        ("op_averagepool_exclude_pad", "AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}),
        ("op_averagepool_include_pad", "AveragePool", {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1], "count_include_pad": 1, "strides": [2, 2]}),
        ("op_averagepool_ceil", "AveragePool", {"kernel_shape": [2, 2], "strides": [2, 2], "ceil_mode": 1}),
    ]:
        add_case(name, graph_model([helper.make_node(op, ["x"], ["y"], **attrs)], [vi("x", F, list(x.shape))], [vi("y", F, None)]), {"x": x})


def random_tree(tree_id, n_features, depth, modes, rng, leaf_targets):
    """A full binary tree with a random mode per branch; returns attribute lists."""
    nodes = []
    leaves = []

    def build(d):
        nid = len(nodes)
        nodes.append(None)
        if d == depth:
            nodes[nid] = (nid, 0, 0.0, "LEAF", 0, 0, 0)
            leaves.append(nid)
            return nid
        mode = modes[rng.integers(len(modes))]
        feat = int(rng.integers(n_features))
        thr = float(np.round(rng.standard_normal(), 1)) if mode in ("BRANCH_EQ", "BRANCH_NEQ") else float(rng.standard_normal())
        t = build(d + 1)
        f = build(d + 1)
        nodes[nid] = (nid, feat, thr, mode, t, f, int(rng.integers(2)))
        return nid

    build(0)
    attrs = {k: [] for k in ["nodes_treeids", "nodes_nodeids", "nodes_featureids", "nodes_values", "nodes_modes",
                             "nodes_truenodeids", "nodes_falsenodeids", "nodes_missing_value_tracks_true"]}
    for (nid, feat, thr, mode, t, f, miss) in nodes:
        attrs["nodes_treeids"].append(tree_id)
        attrs["nodes_nodeids"].append(nid)
        attrs["nodes_featureids"].append(feat)
        attrs["nodes_values"].append(thr)
        attrs["nodes_modes"].append(mode)
        attrs["nodes_truenodeids"].append(t)
        attrs["nodes_falsenodeids"].append(f)
        attrs["nodes_missing_value_tracks_true"].append(miss)
    targets = []
    for leaf in leaves:
        for tid in leaf_targets(rng):
            targets.append((tree_id, leaf, tid, float(np.round(rng.standard_normal(), 3))))
    return attrs, targets


ALL_MODES = ["BRANCH_LEQ", "BRANCH_LT", "BRANCH_GTE", "BRANCH_GT", "BRANCH_EQ", "BRANCH_NEQ"]


def forest(n_trees, n_features, depth, n_out, rng, multi=True):
    attrs = None
    targets = []
    for t in range(n_trees):
        a, tg = random_tree(t, n_features, depth, ALL_MODES, rng,
                            (lambda r: sorted(set(int(x) for x in r.integers(n_out, size=2)))) if multi else (lambda r: [0]))
        if attrs is None:
            attrs = a
        else:
            for k in attrs:
                attrs[k] += a[k]
        targets += tg
    return attrs, targets


def tree_input(n, n_features):
    x = np.round(RNG.standard_normal((n, n_features)), 1).astype(np.float32)
    x[RNG.random((n, n_features)) < 0.1] = np.nan
    return x


def ml_op_cases():
    rng = np.random.default_rng(7)
    nf = 4
    x = tree_input(12, nf)
    for agg in ["SUM", "AVERAGE", "MIN", "MAX"]:
        attrs, targets = forest(3, nf, 3, 2, rng)
        node = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", n_targets=2, aggregate_function=agg,
                                base_values=[0.5, -0.25], target_treeids=[t[0] for t in targets], target_nodeids=[t[1] for t in targets],
                                target_ids=[t[2] for t in targets], target_weights=[t[3] for t in targets], **attrs)
        add_case("ml_tree_regressor_" + agg.lower(), graph_model([node], [vi("x", F, [None, nf])], [vi("y", F, None)], ml=3, opset=17), {"x": x})
    attrs, targets = forest(2, nf, 3, 1, rng, multi=False)
    node = helper.make_node("TreeEnsembleRegressor", ["x"], ["y"], domain="ai.onnx.ml", n_targets=1, post_transform="PROBIT",
                            target_treeids=[t[0] for t in targets], target_nodeids=[t[1] for t in targets],
                            target_ids=[t[2] for t in targets], target_weights=[t[3] / 4 for t in targets], **attrs)
    add_case("ml_tree_regressor_probit", graph_model([node], [vi("x", F, [None, nf])], [vi("y", F, None)], ml=3, opset=17), {"x": x})
    for post in ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO"]:
        for labels in ["int", "string"]:
            attrs, targets = forest(3, nf, 3, 3, rng)
            kw = {"classlabels_int64s": [10, 20, 30]} if labels == "int" else {"classlabels_strings": ["cat", "dog", "eel"]}
            node = helper.make_node("TreeEnsembleClassifier", ["x"], ["label", "scores"], domain="ai.onnx.ml", post_transform=post,
                                    base_values=[0.1, 0.0, -0.1], class_treeids=[t[0] for t in targets], class_nodeids=[t[1] for t in targets],
                                    class_ids=[t[2] for t in targets], class_weights=[t[3] for t in targets], **kw, **attrs)
            add_case("ml_tree_classifier_%s_%s" % (post.lower(), labels),
                     graph_model([node], [vi("x", F, [None, nf])], [vi("label", I64 if labels == "int" else TensorProto.STRING, None), vi("scores", F, None)], ml=1, opset=17), {"x": x})
    # Binary classifier with one column of weights: onnxruntime expands it to two scores.
    for post in ["NONE", "LOGISTIC"]:
        attrs, targets = forest(2, nf, 2, 1, rng, multi=False)
        node = helper.make_node("TreeEnsembleClassifier", ["x"], ["label", "scores"], domain="ai.onnx.ml", post_transform=post,
                                class_treeids=[t[0] for t in targets], class_nodeids=[t[1] for t in targets],
                                class_ids=[t[2] for t in targets], class_weights=[t[3] for t in targets], classlabels_int64s=[0, 1], **attrs)
        add_case("ml_tree_classifier_binary_%s" % post.lower(), graph_model([node], [vi("x", F, [None, nf])], [vi("label", I64, None), vi("scores", F, None)], ml=1, opset=17), {"x": x})

    xs = f32(5, 3)
    add_case("ml_scaler", graph_model([helper.make_node("Scaler", ["x"], ["y"], domain="ai.onnx.ml", offset=[0.5, -1.0, 2.0], scale=[2.0, 0.5, -1.0])], [vi("x", F, [None, 3])], [vi("y", F, None)], ml=1), {"x": xs})
    for norm in ["MAX", "L1", "L2"]:
        add_case("ml_normalizer_" + norm.lower(), graph_model([helper.make_node("Normalizer", ["x"], ["y"], domain="ai.onnx.ml", norm=norm)], [vi("x", F, [None, 3])], [vi("y", F, None)], ml=1), {"x": xs})
    add_case("ml_linear_regressor", graph_model([helper.make_node("LinearRegressor", ["x"], ["y"], domain="ai.onnx.ml", coefficients=list(f32(6).astype(float)), intercepts=[0.5, -0.5], targets=2)], [vi("x", F, [None, 3])], [vi("y", F, None)], ml=1), {"x": xs})
    for post in ["NONE", "SOFTMAX", "LOGISTIC", "SOFTMAX_ZERO"]:
        node = helper.make_node("LinearClassifier", ["x"], ["label", "scores"], domain="ai.onnx.ml", coefficients=list(f32(9).astype(float)), intercepts=[0.1, 0.2, -0.3], classlabels_strings=["a", "b", "c"], post_transform=post)
        add_case("ml_linear_classifier_%s" % post.lower(), graph_model([node], [vi("x", F, [None, 3])], [vi("label", TensorProto.STRING, None), vi("scores", F, None)], ml=1), {"x": xs})
    for post in ["NONE", "LOGISTIC"]:
        node = helper.make_node("LinearClassifier", ["x"], ["label", "scores"], domain="ai.onnx.ml", coefficients=list(f32(3).astype(float)), intercepts=[0.1], classlabels_ints=[0, 1], post_transform=post)
        add_case("ml_linear_classifier_binary_%s" % post.lower(), graph_model([node], [vi("x", F, [None, 3])], [vi("label", I64, None), vi("scores", F, None)], ml=1), {"x": xs})
    zm = helper.make_node("ZipMap", ["x"], ["y"], domain="ai.onnx.ml", classlabels_strings=["p", "q", "r"])
    out = helper.make_value_info("y", helper.make_sequence_type_proto(helper.make_map_type_proto(TensorProto.STRING, helper.make_tensor_type_proto(F, []))))
    add_case("ml_zipmap_strings", graph_model([zm], [vi("x", F, [None, 3])], [out], ml=1), {"x": f32(4, 3)})
    zm = helper.make_node("ZipMap", ["x"], ["y"], domain="ai.onnx.ml", classlabels_int64s=[3, 1, 2])
    out = helper.make_value_info("y", helper.make_sequence_type_proto(helper.make_map_type_proto(TensorProto.INT64, helper.make_tensor_type_proto(F, []))))
    add_case("ml_zipmap_ints", graph_model([zm], [vi("x", F, [None, 3])], [out], ml=1), {"x": f32(4, 3)})


def sklearn_cases():
    from skl2onnx import to_onnx
    from sklearn.datasets import load_breast_cancer, load_iris
    from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, RandomForestClassifier, RandomForestRegressor
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer, StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    X, y = load_breast_cancer(return_X_y=True)
    X = X.astype(np.float32)
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(X, y)
    onx = to_onnx(pipe, X[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    add_case("logreg_30", onx.SerializeToString(), {"X": X[:16]}, note="StandardScaler+LogisticRegression, breast cancer", stable_name="logreg_30.onnx")

    Xi, yi = load_iris(return_X_y=True)
    Xi = Xi.astype(np.float32)
    names = np.array(["setosa", "versicolor", "virginica"])[yi]
    cases = [
        ("skl_logreg_iris_multiclass", make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)), Xi, yi),
        ("skl_random_forest_int_labels", RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0), Xi, yi),
        ("skl_random_forest_string_labels", RandomForestClassifier(n_estimators=5, max_depth=4, random_state=1), Xi, names),
        ("skl_decision_tree_classifier", DecisionTreeClassifier(max_depth=5, random_state=0), Xi, names),
        ("skl_random_forest_binary", RandomForestClassifier(n_estimators=4, max_depth=3, random_state=0), X, y),
        ("skl_gradient_boosting_binary", GradientBoostingClassifier(n_estimators=8, max_depth=3, random_state=0), X, y),
        ("skl_gradient_boosting_multiclass", GradientBoostingClassifier(n_estimators=5, max_depth=2, random_state=0), Xi, yi),
    ]
    Xr = Xi[:, :3]
    yr = Xi[:, 3]
    cases += [
        ("skl_gradient_boosting_regressor", GradientBoostingRegressor(n_estimators=10, max_depth=3, random_state=0), Xr, yr),
        ("skl_random_forest_regressor", RandomForestRegressor(n_estimators=4, max_depth=4, random_state=0), Xr, yr),
        ("skl_decision_tree_regressor", DecisionTreeRegressor(max_depth=5, random_state=0), Xr, yr),
        ("skl_linear_regression", LinearRegression(), Xr, yr),
        ("skl_normalizer_linear_regression", make_pipeline(Normalizer(), StandardScaler(), LinearRegression()), Xr, yr),
    ]
    for name, est, Xt, yt in cases:
        est.fit(Xt, yt)
        onx = to_onnx(est, Xt[:1], target_opset={"": 17, "ai.onnx.ml": 3})
        idx = RNG.choice(len(Xt), 12, replace=False)
        add_case(name, onx.SerializeToString(), {"X": Xt[idx]})


def mlp_model():
    w1 = f32(256, 784, scale=0.05)  # Gemm transB=1, as torch exports Linear
    b1 = f32(256, scale=0.1)
    w2 = f32(256, 128, scale=0.08)  # MatMul + Add, as other exporters do
    b2 = f32(128, scale=0.1)
    w3 = f32(10, 128, scale=0.1)
    b3 = f32(10, scale=0.1)
    nodes = [helper.make_node("Gemm", ["input", "w1", "b1"], ["h1"], transB=1), helper.make_node("Relu", ["h1"], ["r1"]),
             helper.make_node("MatMul", ["r1", "w2"], ["m2"]), helper.make_node("Add", ["m2", "b2"], ["h2"]), helper.make_node("Relu", ["h2"], ["r2"]),
             helper.make_node("Gemm", ["r2", "w3", "b3"], ["logits"], transB=1), helper.make_node("Softmax", ["logits"], ["output"], axis=1)]
    return graph_model(nodes, [vi("input", F, ["batch", 784])], [vi("output", F, ["batch", 10])],
                       [const("w1", w1), const("b1", b1), const("w2", w2), const("b2", b2), const("w3", w3), const("b3", b3)], opset=13)


def network_cases():
    m = mlp_model()
    add_case("mlp_784_256_128_10", m, {"input": np.abs(f32(4, 784))}, note="784-256-128-10 MLP, softmax output", stable_name="mlp_784_256_128_10.onnx")
    ins = [const("c1w", f32(6, 1, 5, 5, scale=0.2)), const("c1b", f32(6, scale=0.1)), const("c2w", f32(16, 6, 5, 5, scale=0.08)), const("c2b", f32(16, scale=0.1)),
           const("f1w", f32(120, 400, scale=0.05)), const("f1b", f32(120, scale=0.1)), const("f2w", f32(84, 120, scale=0.09)), const("f2b", f32(84, scale=0.1)),
           const("f3w", f32(10, 84, scale=0.1)), const("f3b", f32(10, scale=0.1))]
    nodes = [helper.make_node("Conv", ["image", "c1w", "c1b"], ["c1"], pads=[2, 2, 2, 2], kernel_shape=[5, 5]), helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("Conv", ["p1", "c2w", "c2b"], ["c2"], kernel_shape=[5, 5]), helper.make_node("Relu", ["c2"], ["r2"]),
             helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]), helper.make_node("Flatten", ["p2"], ["flat"]),
             helper.make_node("Gemm", ["flat", "f1w", "f1b"], ["g1"], transB=1), helper.make_node("Relu", ["g1"], ["h1"]),
             helper.make_node("Gemm", ["h1", "f2w", "f2b"], ["g2"], transB=1), helper.make_node("Relu", ["g2"], ["h2"]),
             helper.make_node("Gemm", ["h2", "f3w", "f3b"], ["logits"], transB=1)]
    add_case("lenet_cnn", graph_model(nodes, [vi("image", F, ["N", 1, 28, 28])], [vi("logits", F, None)], ins, opset=13), {"image": f32(2, 1, 28, 28)})

    # A small opset-20 graph the way torch's dynamo exporter writes one: ReduceMean with axes input, Gelu, LayerNorm.
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Gelu", ["h"], ["g"]),
             helper.make_node("LayerNormalization", ["g", "s", "b"], ["n"]), helper.make_node("ReduceMean", ["n", "ax"], ["y"], keepdims=0)]
    m = graph_model(nodes, [vi("x", F, ["N", 5, 8])], [vi("y", F, None)], [const("w", f32(8, 16)), const("s", f32(16)), const("b", f32(16)), const("ax", np.array([1], np.int64))], opset=20, ir=10)
    add_case("torchlike_opset20", m, {"x": f32(2, 5, 8)})

    # External data: weights in a file next to the model.
    m = graph_model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1)], [vi("x", F, ["N", 16])], [vi("y", F, None)], [const("w", f32(8, 16)), const("b", f32(8))])
    onnx.external_data_helper.convert_model_to_external_data(m, all_tensors_to_one_file=True, location="external_data.onnx.data", size_threshold=0)
    path = os.path.join(OUT, "external_data.onnx")
    onnx.save_model(m, path)  # writes external_data.onnx.data next to it
    blob = bytearray()
    x = f32(3, 16)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    y = sess.run(None, {"x": x})[0]
    with open(os.path.join(OUT, "external_data.bin"), "wb") as f:
        case = {"name": "external_data", "model": "external_data.onnx", "blob": "external_data.bin", "note": "weights as external data",
                "inputs": [encode("x", x, blob)], "outputs": [encode("y", y, blob)]}
        f.write(bytes(blob))
    CASES.append(case)


def extra_cases():
    """Added later; own RNG so earlier cases (and the stable models) keep their bytes."""
    rng = np.random.default_rng(99)
    nf = 4
    x = np.round(rng.standard_normal((12, nf)), 1).astype(np.float32)
    x[rng.random((12, nf)) < 0.1] = np.nan
    # Two classes with weights on both: onnxruntime's "binary as multiclass" path.
    for post, base in [("NONE", []), ("SOFTMAX", [0.2, -0.1]), ("LOGISTIC", [0.3])]:
        attrs, targets = forest(3, nf, 3, 2, rng)
        node = helper.make_node("TreeEnsembleClassifier", ["x"], ["label", "scores"], domain="ai.onnx.ml", post_transform=post,
                                class_treeids=[t[0] for t in targets], class_nodeids=[t[1] for t in targets], base_values=base or [0.0],
                                class_ids=[t[2] for t in targets], class_weights=[t[3] for t in targets], classlabels_strings=["no", "yes"], **attrs)
        if not base:
            node.attribute.remove([a for a in node.attribute if a.name == "base_values"][0])
        add_case("ml_tree_classifier_two_columns_%s" % post.lower(), graph_model([node], [vi("x", F, [None, nf])], [vi("label", TensorProto.STRING, None), vi("scores", F, None)], ml=1, opset=17), {"x": x})
    # A deeper MLP-like chain with LeakyRelu, Tanh, Sigmoid and LogSoftmax on batched input.
    w1, w2 = const("w1", (rng.standard_normal((6, 8)) * 0.5).astype(np.float32)), const("w2", (rng.standard_normal((8, 3)) * 0.5).astype(np.float32))
    nodes = [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("LeakyRelu", ["h"], ["a"], alpha=0.1), helper.make_node("Tanh", ["a"], ["t"]),
             helper.make_node("MatMul", ["t", "w2"], ["o"]), helper.make_node("Sigmoid", ["o"], ["s"]), helper.make_node("LogSoftmax", ["s"], ["y"], axis=-1)]
    add_case("chain_activations", graph_model(nodes, [vi("x", F, ["N", 4, 6])], [vi("y", F, None)], [w1, w2], opset=13), {"x": (rng.standard_normal((2, 4, 6))).astype(np.float32)})


def more_op_cases():
    """Unary math and the other reductions; own RNG, appended last."""
    rng = np.random.default_rng(2024)
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    pos = (np.abs(x) + 0.1).astype(np.float32)
    for op in ["Neg", "Abs", "Exp", "Floor", "Ceil"]:
        add_case("op_" + op.lower(), *unary(op, x=x))
    for op in ["Log", "Reciprocal"]:
        add_case("op_" + op.lower(), *unary(op, x=pos))
    add_case("op_reducesum_attr_opset11", *unary("ReduceSum", opset=11, x=x, axes=[0, 2], keepdims=1))
    add_case("op_reducesum_input_opset13", graph_model([helper.make_node("ReduceSum", ["x", "ax"], ["y"], keepdims=0)], [vi("x", F, [2, 3, 4])], [vi("y", F, None)],
                                                        [const("ax", np.array([1], np.int64))], opset=13), {"x": x})
    add_case("op_reducemax_attr_opset13", *unary("ReduceMax", opset=13, x=x, axes=[-1], keepdims=0))
    add_case("op_reducemin_input_opset18", graph_model([helper.make_node("ReduceMin", ["x", "ax"], ["y"])], [vi("x", F, [2, 3, 4])], [vi("y", F, None)],
                                                        [const("ax", np.array([0, 1], np.int64))], opset=18), {"x": x})
    add_case("op_reducemax_all_opset18", graph_model([helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0)], [vi("x", F, [2, 3, 4])], [vi("y", F, None)], opset=18), {"x": x})


def preprocessing_cases():
    """skl2onnx's tabular preprocessing ops; own RNG, appended last."""
    from skl2onnx import to_onnx
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    rng = np.random.default_rng(77)
    X = np.c_[rng.standard_normal((80, 2)), rng.integers(0, 3, (80, 1))].astype(np.float32)
    y = (X[:, 0] + X[:, 2] > 1).astype(int)
    ct = ColumnTransformer([("num", make_pipeline(SimpleImputer(), StandardScaler()), [0, 1]), ("cat", OneHotEncoder(handle_unknown="ignore"), [2])])
    pipe = Pipeline([("ct", ct), ("lr", LogisticRegression())]).fit(X, y)
    onx = to_onnx(pipe, X[:1], target_opset={"": 17, "ai.onnx.ml": 3})
    Xt = X[:10].copy()
    Xt[1, 0] = np.nan
    Xt[2, 2] = 7  # an unseen category
    add_case("skl_column_transformer_imputer_onehot", onx.SerializeToString(), {"X": Xt})

    xs = np.array([["b", "a"], ["c", "zz"], ["a", "a"]], dtype=object)
    node = helper.make_node("OneHotEncoder", ["x"], ["y"], domain="ai.onnx.ml", cats_strings=["a", "b", "c"], zeros=1)
    add_case("ml_onehot_strings", graph_model([node], [vi("x", TensorProto.STRING, [3, 2])], [vi("y", F, None)], ml=1), {"x": xs})
    node = helper.make_node("OneHotEncoder", ["x"], ["y"], domain="ai.onnx.ml", cats_int64s=[5, 1, 3])
    add_case("ml_onehot_int64", graph_model([node], [vi("x", I64, [4])], [vi("y", F, None)], ml=1), {"x": np.array([1, 3, 9, 5], np.int64)})
    nodes = [helper.make_node("ArrayFeatureExtractor", ["x", "i"], ["y"], domain="ai.onnx.ml")]
    add_case("ml_array_feature_extractor", graph_model(nodes, [vi("x", F, [3, 4])], [vi("y", F, None)], [const("i", np.array([3, 0, 3], np.int64))], ml=1), {"x": rng.standard_normal((3, 4)).astype(np.float32)})
    add_case("ml_array_feature_extractor_strings", graph_model(nodes, [vi("x", TensorProto.STRING, [2, 3])], [vi("y", TensorProto.STRING, None)], [const("i", np.array([1], np.int64))], ml=1),
             {"x": np.array([["p", "q", "r"], ["s", "t", "u"]], dtype=object)})
    xi = rng.standard_normal((5, 3)).astype(np.float32)
    xi[rng.random((5, 3)) < 0.3] = np.nan
    node = helper.make_node("Imputer", ["x"], ["y"], domain="ai.onnx.ml", imputed_value_floats=[1.5, -2.0, 0.25], replaced_value_float=float("nan"))
    add_case("ml_imputer_nan", graph_model([node], [vi("x", F, [None, 3])], [vi("y", F, None)], ml=1), {"x": xi})
    node = helper.make_node("Imputer", ["x"], ["y"], domain="ai.onnx.ml", imputed_value_int64s=[42], replaced_value_int64=-1)
    add_case("ml_imputer_int64", graph_model([node], [vi("x", I64, [None, 2])], [vi("y", I64, None)], ml=1), {"x": np.array([[-1, 3], [4, -1]], np.int64)})


def main():
    os.makedirs(OUT, exist_ok=True)
    onnx_op_cases()
    conv_pool_cases()
    ml_op_cases()
    sklearn_cases()
    network_cases()
    extra_cases()
    more_op_cases()
    preprocessing_cases()
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump({"generator": "tools/onnx-vectors/generate.py", "onnxruntime": ort.__version__, "cases": CASES}, f, indent=1)
    print("%d cases written to %s" % (len(CASES), OUT))


if __name__ == "__main__":
    sys.exit(main())
