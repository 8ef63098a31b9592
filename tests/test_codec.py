"""Tests for the pickle-free wire codec: round trips, Opaque fallbacks and a hardened decoder."""

from __future__ import annotations

import ast
import json
import math
import pickle
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import grader.codec as codec
from grader.codec import MAGIC, MAX_DEPTH, CodecError, Opaque, decode, encode, type_name


def roundtrip(value: Any) -> Any:
    return decode(encode(value))


def same(a: Any, b: Any) -> bool:
    """Equal values of exactly the same types (floats compared by repr: nan, -0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return repr(a) == repr(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return a == b


def message(root: Any, sizes: list[Any] | None = None, body: bytes = b"") -> bytes:
    """A hand-built message with the given root node, buffer table and body."""
    header = json.dumps({"root": root, "sizes": [] if sizes is None else sizes}).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + body


def tensor_node(**overrides: Any) -> dict[str, Any]:
    node = {"t": "tensor", "dtype": "float32", "shape": [2], "device": "cpu", "buf": 0}
    node.update(overrides)
    return node


def assert_codec_error(data: bytes) -> None:
    try:
        decode(data)
    except CodecError:
        return
    except Exception as exc:  # noqa: BLE001 - the point is to name any other type
        pytest.fail(f"decode raised {type(exc).__name__} ({exc}), not CodecError")
    pytest.fail("decode accepted a malformed message")


# ----------------------------------------------------------------------------- plain values


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -7,
        2**64 + 1,
        -(2**200),
        10**4000,
        0.1,
        -0.0,
        math.inf,
        -math.inf,
        1e-320,
        "",
        "héllo 日本 🙂\x00\n",
        "\ud800",
        [],
        (),
        {},
        [1, "a", None],
        (1, (2, (3,))),
        {"a": 1, "b": [2, 3]},
        {1: "one", -2: "minus two", "s": 3},
        {"outer": {"inner": [(1, 2.5), {"deep": [None, True]}]}},
        [[]] * 3,
    ],
    ids=repr,
)
def test_plain_values_round_trip(value: Any) -> None:
    assert same(roundtrip(value), value)


def test_nan_round_trips() -> None:
    result = roundtrip(float("nan"))
    assert type(result) is float and math.isnan(result)


def test_negative_zero_keeps_its_sign() -> None:
    assert math.copysign(1.0, roundtrip(-0.0)) == -1.0


def test_bool_is_not_confused_with_int() -> None:
    assert roundtrip([True, 1, False, 0]) == [True, 1, False, 0]
    assert [type(v) for v in roundtrip([True, 1])] == [bool, int]


def test_tuple_and_list_stay_distinct() -> None:
    result = roundtrip({"t": (1, 2), "l": [1, 2]})
    assert type(result["t"]) is tuple and type(result["l"]) is list


def test_nesting_past_the_limit_becomes_opaque_not_an_error() -> None:
    value: Any = "leaf"
    for _ in range(MAX_DEPTH + 10):
        value = [value]
    result = roundtrip(value)
    depth = 0
    while isinstance(result, list):
        result = result[0]
        depth += 1
    assert isinstance(result, Opaque) and "deep" in result.reason
    assert depth == MAX_DEPTH + 1


def test_self_referencing_list_is_opaque_not_a_crash() -> None:
    loop: list[Any] = []
    loop.append(loop)
    result = roundtrip(loop)
    for _ in range(MAX_DEPTH + 1):
        assert type(result) is list and len(result) == 1
        result = result[0]
    assert isinstance(result, Opaque) and result.type_name == "list"


def test_huge_int_becomes_opaque_instead_of_raising() -> None:
    assert isinstance(roundtrip(10**5000), Opaque)


# ----------------------------------------------------------------------------- tensors


@pytest.mark.parametrize("dtype", codec.TORCH_DTYPES)
def test_tensor_of_each_allowed_dtype(dtype: str) -> None:
    torch_dtype = getattr(torch, dtype)
    tensor = (torch.arange(12) % 3).reshape(3, 4).to(torch_dtype)
    if torch_dtype.is_floating_point:
        tensor = tensor / 4 - 0.25
    result = roundtrip(tensor)
    assert type(result) is torch.Tensor
    assert result.dtype == torch_dtype and result.shape == (3, 4)
    assert torch.equal(result, tensor)


def test_extreme_float_values_in_tensors() -> None:
    tensor = torch.tensor([math.nan, math.inf, -math.inf, -0.0, 1e-45, 3.4e38])
    result = roundtrip(tensor)
    assert torch.equal(result.isnan(), tensor.isnan())
    assert torch.equal(result.nan_to_num(), tensor.nan_to_num())
    assert torch.signbit(result[3])


def test_zero_dim_tensor() -> None:
    result = roundtrip(torch.tensor(2.5, dtype=torch.float64))
    assert result.shape == () and result.dtype == torch.float64 and result.item() == 2.5


def test_empty_tensor_keeps_its_shape() -> None:
    result = roundtrip(torch.empty(0, 3, dtype=torch.int32))
    assert result.shape == (0, 3) and result.dtype == torch.int32


def test_non_contiguous_tensors() -> None:
    base = torch.arange(24.0).reshape(2, 3, 4)
    for view in (base.transpose(0, 2), base[:, 1:, ::2], torch.arange(5.0).expand(3, 5)):
        assert not view.is_contiguous()
        result = roundtrip(view)
        assert result.shape == view.shape and torch.equal(result, view)


def test_tensor_with_grad_arrives_detached() -> None:
    tensor = torch.ones(3, requires_grad=True) * 2
    result = roundtrip(tensor)
    assert not result.requires_grad and torch.equal(result, torch.full((3,), 2.0))


def test_parameter_arrives_as_plain_tensor() -> None:
    parameter = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    result = roundtrip(parameter)
    assert type(result) is torch.Tensor
    assert torch.equal(result, torch.tensor([1.0, -2.0]))


def test_tensor_inside_containers() -> None:
    value = {"w": torch.ones(2), "stats": [np.arange(3), (torch.zeros(1, dtype=torch.int8),)]}
    result = roundtrip(value)
    assert torch.equal(result["w"], torch.ones(2))
    assert np.array_equal(result["stats"][0], np.arange(3))
    assert result["stats"][1][0].dtype == torch.int8


# ----------------------------------------------------------------------------- numpy


@pytest.mark.parametrize("dtype", codec.NUMPY_DTYPES)
def test_numpy_array_of_each_allowed_dtype(dtype: str) -> None:
    array = (np.arange(6) % 3).reshape(2, 3).astype(dtype)
    result = roundtrip(array)
    assert type(result) is np.ndarray and result.dtype == array.dtype
    assert np.array_equal(result, array)
    assert result.flags.writeable


def test_numpy_non_contiguous_zero_dim_and_empty() -> None:
    transposed = np.arange(12.0).reshape(3, 4).T
    assert np.array_equal(roundtrip(transposed), transposed)
    assert roundtrip(np.array(3.0)).shape == ()
    assert roundtrip(np.zeros((0, 3), dtype=np.int16)).shape == (0, 3)


def test_big_endian_numpy_array_keeps_its_values() -> None:
    array = np.arange(3, dtype=">f4")
    assert np.array_equal(roundtrip(array), np.arange(3, dtype=np.float32))


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        (np.float32(1.5), 1.5),
        (np.float64(-0.25), -0.25),
        (np.float16(2.0), 2.0),
        (np.int64(-3), -3),
        (np.uint8(255), 255),
        (np.bool_(True), True),
    ],
    ids=repr,
)
def test_numpy_scalars_become_python_values(scalar: Any, expected: Any) -> None:
    result = roundtrip(scalar)
    assert same(result, expected)


# ----------------------------------------------------------------------------- Opaque


class AlwaysEqual:
    def __eq__(self, other: object) -> bool:
        return True

    __hash__ = object.__hash__


class MyTensor(torch.Tensor):
    pass


class MyArray(np.ndarray):
    pass


class MyFloat(float):
    pass


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (AlwaysEqual, "AlwaysEqual"),
        (lambda: torch.ones(2).as_subclass(MyTensor), "MyTensor"),
        (lambda: np.zeros(2).view(MyArray), "MyArray"),
        (lambda: np.array([1, "x"], dtype=object), "ndarray"),
        (lambda: MyFloat(1.5), "MyFloat"),
        (lambda: {(1, 2): "tuple key"}, "dict"),
        (lambda: {True: "bool key"}, "dict"),
        (lambda: torch.ones(2).to_sparse(), "Tensor"),
        (lambda: torch.ones(2, dtype=torch.complex64), "Tensor"),
        (lambda: np.ones(2, dtype=np.complex128), "ndarray"),
        (lambda: torch.ones(2, device="meta"), "Tensor"),
        (lambda: np.matrix([[1.0]]), "matrix"),
        (lambda: {1, 2}, "set"),
        (lambda: b"bytes", "bytes"),
        (lambda: print, "builtin_function_or_method"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # np.matrix
def test_unsupported_values_arrive_as_opaque(make: Any, name: str) -> None:
    result = roundtrip(make())
    assert type(result) is Opaque
    assert result.type_name == name
    assert type_name(result) == name
    assert repr(result) == f"<{name}>"


def test_opaque_is_not_equal_to_anything_else() -> None:
    # An object with __eq__ always True must not make a comparison pass after the round trip.
    result = roundtrip(AlwaysEqual())
    assert result != 1 and result != "x" and result != torch.ones(1)


def test_opaque_inside_a_container_leaves_the_rest_intact() -> None:
    result = roundtrip([1, AlwaysEqual(), {"k": MyFloat(2.0)}])
    assert result[0] == 1
    assert isinstance(result[1], Opaque) and isinstance(result[2]["k"], Opaque)


def test_reduce_is_never_called(monkeypatch: pytest.MonkeyPatch) -> None:
    ran: list[str] = []

    class Exploit:
        def __reduce__(self) -> Any:
            ran.append("__reduce__")
            return (ran.append, ("payload",))

        def __reduce_ex__(self, protocol: Any) -> Any:
            ran.append("__reduce_ex__")
            return (ran.append, ("payload",))

    result = roundtrip({"x": Exploit()})
    assert ran == []
    assert type(result["x"]) is Opaque and result["x"].type_name == "Exploit"


def test_no_pickle_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("pickle was used")

    for name in ("loads", "load", "dumps", "dump", "Unpickler", "Pickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    value = {"t": torch.arange(4.0), "a": np.ones(2), "x": [1, (2.5, "s")], "o": AlwaysEqual()}
    result = roundtrip(value)
    assert torch.equal(result["t"], torch.arange(4.0))
    assert np.array_equal(result["a"], np.ones(2))
    assert result["x"] == [1, (2.5, "s")] and isinstance(result["o"], Opaque)


def test_codec_source_imports_no_serializer_that_runs_code() -> None:
    tree = ast.parse(Path(codec.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "copyreg"}
    assert "torch.load" not in Path(codec.__file__).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- decoder hardening


def test_bad_magic() -> None:
    good = encode([1, 2])
    assert_codec_error(b"PKL1" + good[4:])
    assert_codec_error(b"")
    assert_codec_error(b"MLC")
    assert_codec_error(pickle.dumps([1, 2]))


def test_truncated_message() -> None:
    good = encode({"t": torch.arange(10.0), "s": "text"})
    for cut in (5, 8, 12, len(good) // 2, len(good) - 1):
        assert_codec_error(good[:cut])


def test_trailing_bytes_are_rejected() -> None:
    assert_codec_error(encode([1]) + b"\x00")


def test_header_length_out_of_range() -> None:
    header = b'{"root": {"t": "none"}, "sizes": []}'
    assert_codec_error(MAGIC + struct.pack(">I", len(header) + 1) + header)
    assert_codec_error(MAGIC + struct.pack(">I", 2**32 - 1) + header)
    assert_codec_error(MAGIC + struct.pack(">I", codec.MAX_HEADER + 1) + header)


@pytest.mark.parametrize(
    "header", [b"not json", b"\xff\xfe\x00", b"[1, 2]", b'"text"', b'{"root": {"t": "none"}}']
)
def test_header_not_json_or_without_buffer_table(header: bytes) -> None:
    assert_codec_error(MAGIC + struct.pack(">I", len(header)) + header)


def test_header_nested_past_the_json_recursion_limit() -> None:
    header = b"[" * 200_000 + b"]" * 200_000
    assert_codec_error(MAGIC + struct.pack(">I", len(header)) + header)


@pytest.mark.parametrize(
    ("sizes", "body"),
    [
        ([5], b"\x00" * 4),
        ([4], b"\x00" * 5),
        ([], b"\x00"),
        ([-1], b""),
        ([1.0], b"\x00"),
        ([True], b"\x00"),
        (["1"], b"\x00"),
        ([2**40], b""),
    ],
)
def test_buffer_table_must_match_the_body(sizes: list[Any], body: bytes) -> None:
    assert_codec_error(message({"t": "none"}, sizes, body))


@pytest.mark.parametrize(
    "node",
    [
        tensor_node(shape=[3]),
        tensor_node(shape=[1]),
        tensor_node(shape=[2, 2]),
        tensor_node(dtype="float64"),
        tensor_node(dtype="int8"),
        {"t": "ndarray", "dtype": "float32", "shape": [3], "buf": 0},
    ],
)
def test_shape_times_itemsize_must_match_the_buffer(node: dict[str, Any]) -> None:
    assert_codec_error(message(node, [8], b"\x00" * 8))


@pytest.mark.parametrize(
    "node",
    [
        tensor_node(shape=[-2]),
        tensor_node(shape=[2.0]),
        tensor_node(shape=[True, 2]),
        tensor_node(shape="2"),
        tensor_node(shape=[1] * 17 + [2]),
        tensor_node(buf=1),
        tensor_node(buf=-1),
        tensor_node(buf="0"),
        tensor_node(buf=None),
    ],
)
def test_bad_shape_or_buffer_reference(node: dict[str, Any]) -> None:
    assert_codec_error(message(node, [8], b"\x00" * 8))


@pytest.mark.parametrize("kind", ["tensor", "ndarray"])
@pytest.mark.parametrize("shape", [[0, 2**63], [0, 2**40, 2**40]])
def test_empty_shape_with_huge_dims(kind: str, shape: list[int]) -> None:
    node = {"t": kind, "dtype": "float32", "shape": shape, "device": "cpu", "buf": 0}
    assert_codec_error(message(node, [0]))


@pytest.mark.parametrize(
    "dtype", ["complex64", "float128", "object", "torch.float32", "<f4", "qint8", None, 4, ["x"]]
)
@pytest.mark.parametrize("kind", ["tensor", "ndarray"])
def test_disallowed_dtype_names(kind: str, dtype: Any) -> None:
    node = {"t": kind, "dtype": dtype, "shape": [1], "device": "cpu", "buf": 0}
    assert_codec_error(message(node, [8], b"\x00" * 8))


@pytest.mark.parametrize(
    "root",
    [
        {"t": "pickle", "v": "gASVAAAA"},
        {"t": "eval", "v": "1+1"},
        {"t": "object", "v": {}},
        {"v": 1},
        {"t": 5},
        None,
        [1, 2],
        "none",
        {"t": "int", "v": 5},
        {"t": "int", "v": "12a"},
        {"t": "int", "v": "9" * 5000},
        {"t": "int", "v": "9" * 4400},
        {"t": "float", "v": "abc"},
        {"t": "float", "v": 1.5},
        {"t": "float", "v": "1" * 100},
        {"t": "bool", "v": 1},
        {"t": "str", "v": None},
        {"t": "list", "v": {"a": 1}},
        {"t": "tuple", "v": "ab"},
        {"t": "list", "v": [{"t": "mystery"}]},
        {"t": "opaque", "type": 5},
        {"t": "opaque", "type": "X", "reason": ["r"]},
    ],
)
def test_unknown_or_malformed_nodes(root: Any) -> None:
    assert_codec_error(message(root))


def test_too_deep_nesting() -> None:
    root: Any = {"t": "none"}
    for _ in range(MAX_DEPTH + 5):
        root = {"t": "list", "v": [root]}
    assert_codec_error(message(root))


@pytest.mark.parametrize(
    "key",
    [
        {"t": "float", "v": "1.5"},
        {"t": "bool", "v": True},
        {"t": "none"},
        {"t": "tuple", "v": []},
        {"t": "list", "v": []},
        {"t": "opaque", "type": "X"},
    ],
)
def test_dict_keys_must_be_str_or_int(key: dict[str, Any]) -> None:
    assert_codec_error(message({"t": "dict", "v": [[key, {"t": "none"}]]}))


@pytest.mark.parametrize("pair", [[], [{"t": "none"}], "ab", {"k": "v"}])
def test_malformed_dict_entries(pair: Any) -> None:
    assert_codec_error(message({"t": "dict", "v": [pair]}))


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_tensor_without_cuda_is_a_codec_error() -> None:
    with pytest.raises(CodecError, match="cuda:0"):
        decode(message(tensor_node(device="cuda:0"), [8], b"\x00" * 8))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_tensor_round_trips_on_its_device() -> None:
    tensor = torch.arange(4.0, device="cuda:0")
    result = roundtrip(tensor)
    assert result.device == tensor.device and torch.equal(result, tensor)
    assert_codec_error(encode(tensor).replace(b'"cuda:0"', b'"cuda:9"'))


@pytest.mark.parametrize(
    "device",
    [
        "garbage",
        "",
        "cuda:-1",
        "cpu:abc",
        "cuda:0:0",
        ":0",
        "cuda: 0",
        "\x00",
        "cuda:1e5",
        "cuda:99999999999999999999",
        "x" * 100,
        "mps",
        "meta",
        "xla",
        None,
        0,
        ["cpu"],
    ],
)
def test_garbage_devices_are_codec_errors(device: Any) -> None:
    assert_codec_error(message(tensor_node(device=device), [8], b"\x00" * 8))


def test_cpu_device_spellings_are_accepted() -> None:
    for device in ("cpu", "cpu:0"):
        result = decode(message(tensor_node(device=device), [8], b"\x00" * 8))
        assert result.device.type == "cpu" and torch.equal(result, torch.zeros(2))


def test_byte_mutations_only_ever_raise_codec_error() -> None:
    good = encode({"w": torch.arange(3.0), "a": np.arange(2), "n": [1, -2.5, "s", None, True]})
    for position in range(len(good)):
        for byte in (0x00, 0x22, 0x30, 0x5B, 0x7D, 0xFF):
            mutated = good[:position] + bytes([byte]) + good[position + 1 :]
            try:
                decode(mutated)
            except CodecError:
                pass
            except Exception as exc:  # noqa: BLE001
                pytest.fail(f"byte {byte:#x} at {position}: {type(exc).__name__}: {exc}")


def test_decoded_tensor_does_not_share_the_message_memory() -> None:
    data = bytearray(encode(torch.zeros(4)))
    result = decode(bytes(data))
    result += 1
    assert torch.equal(decode(bytes(data)), torch.zeros(4))


# ----------------------------------------------------------------------------- property test

plain = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(plain)
def test_plain_values_round_trip_property(value: Any) -> None:
    assert same(roundtrip(value), value)
