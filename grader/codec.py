"""A pickle-free wire format for values crossing between the grader and the submission worker.

A message is a JSON header describing a tree of plain values plus raw byte buffers for tensors and
arrays. Decoding builds only exact, known types, so nothing the worker sends can run code here.
Values the worker could not encode arrive as `Opaque`, naming the type the learner returned.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

from grader.sandbox.output import clean_line

MAGIC = b"MLC1"
MAX_DEPTH = 32
MAX_HEADER = 16 * 2**20
MAX_TOTAL = 2 * 2**30

# dtype names shared by both sides; the decoder accepts these and nothing else.
TORCH_DTYPES = (
    "float64",
    "float32",
    "float16",
    "bfloat16",
    "int64",
    "int32",
    "int16",
    "int8",
    "uint8",
    "bool",
)
NUMPY_DTYPES = ("float64", "float32", "float16", "int64", "int32", "int16", "int8", "uint8", "bool")


class CodecError(ValueError):
    """Bytes that are not a well-formed message."""


@dataclass(frozen=True)
class Opaque:
    """A value the submission returned that cannot cross the boundary (an unsupported type)."""

    type_name: str
    reason: str = "unsupported type"

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


def type_name(value: Any) -> str:
    """The learner-facing name of a decoded value's type."""
    if isinstance(value, Opaque):
        return value.type_name
    return type(value).__name__


# ---------------------------------------------------------------------------------------- encode


def encode(value: Any) -> bytes:
    """Encode a value. Unsupported values become Opaque markers instead of raising."""
    buffers: list[bytes] = []
    root = _encode(value, buffers, 0)
    header = json.dumps({"root": root, "sizes": [len(b) for b in buffers]}).encode()
    return MAGIC + struct.pack(">I", len(header)) + header + b"".join(buffers)


def _opaque(value: Any, reason: str = "unsupported type") -> dict[str, Any]:
    try:
        name = type(value).__name__
        name = name if isinstance(name, str) else "object"
    except BaseException:  # a hostile metaclass must not break encoding
        name = "object"
    return {"t": "opaque", "type": name[:100], "reason": reason}


def _encode(value: Any, buffers: list[bytes], depth: int) -> Any:
    if depth > MAX_DEPTH:
        return _opaque(value, "nested too deeply")
    kind = type(value)
    if value is None:
        return {"t": "none"}
    if kind is bool:
        return {"t": "bool", "v": value}
    if kind is int:
        if value.bit_length() > 14_000:  # str() refuses ints past 4300 digits
            return _opaque(value, "integer too large")
        return {"t": "int", "v": str(value)}
    if kind is float:
        return {"t": "float", "v": repr(value)}
    if kind is str:
        return {"t": "str", "v": value}
    if kind in (list, tuple):
        items = [_encode(item, buffers, depth + 1) for item in value]
        return {"t": "list" if kind is list else "tuple", "v": items}
    if kind is dict:
        pairs = []
        for key, item in value.items():
            if type(key) not in (str, int):
                return _opaque(value, "dict keys must be str or int")
            pairs.append([_encode(key, buffers, depth + 1), _encode(item, buffers, depth + 1)])
        return {"t": "dict", "v": pairs}
    module = getattr(kind, "__module__", "") or ""
    if module.startswith("torch"):
        return _encode_tensor(value, buffers)
    if module.startswith("numpy"):
        return _encode_numpy(value, buffers)
    return _opaque(value)


def _encode_tensor(value: Any, buffers: list[bytes]) -> Any:
    import torch

    if type(value) not in (torch.Tensor, torch.nn.Parameter):
        return _opaque(value)
    if value.layout != torch.strided or value.is_quantized or value.device.type == "meta":
        return _opaque(value, "only dense tensors are supported")
    dtype = str(value.dtype).removeprefix("torch.")
    if dtype not in TORCH_DTYPES:
        return _opaque(value, f"dtype {dtype} is not supported")
    data = value.detach().to("cpu").contiguous()
    raw = data.reshape(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b""
    buffers.append(raw)
    return {
        "t": "tensor",
        "dtype": dtype,
        "shape": list(data.shape),
        "device": str(value.device),
        "buf": len(buffers) - 1,
    }


def _encode_numpy(value: Any, buffers: list[bytes]) -> Any:
    import numpy as np

    if isinstance(value, np.bool_):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, np.integer):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, np.floating):
        return {"t": "float", "v": repr(float(value))}
    if type(value) is not np.ndarray:
        return _opaque(value)
    dtype = value.dtype.name
    if dtype not in NUMPY_DTYPES:
        return _opaque(value, f"dtype {dtype} is not supported")
    # Native byte order: the decoder reads buffers in this machine's order.
    native = np.ascontiguousarray(value, dtype=value.dtype.newbyteorder("="))
    buffers.append(native.tobytes())
    return {"t": "ndarray", "dtype": dtype, "shape": list(value.shape), "buf": len(buffers) - 1}


# ---------------------------------------------------------------------------------------- decode


def decode(data: bytes | bytearray | memoryview) -> Any:
    """Decode a message. Tensors are rebuilt on the device they came from, which must exist here.

    Each tensor or array costs one copy of its bytes: it is built from a view of `data` (no copy
    of its own when `data` is a writable bytearray) and then cloned, so that nothing decoded keeps
    the message alive and the caller may drop it at once.
    """
    view = memoryview(data).cast("B")
    if len(view) < 8 or view[:4] != MAGIC:
        raise CodecError("not a message (bad magic)")
    (header_len,) = struct.unpack(">I", view[4:8])
    if header_len > MAX_HEADER or 8 + header_len > len(view):
        raise CodecError("header length out of range")
    try:
        header = json.loads(bytes(view[8 : 8 + header_len]))
    except (ValueError, RecursionError) as exc:
        raise CodecError(f"header is not JSON: {exc}") from None
    if not isinstance(header, dict) or not isinstance(header.get("sizes"), list):
        raise CodecError("header has no buffer table")
    sizes = header["sizes"]
    if not all(type(s) is int and s >= 0 for s in sizes) or sum(sizes) > MAX_TOTAL:
        raise CodecError("bad buffer table")
    body = view[8 + header_len :]
    if sum(sizes) != len(body):
        raise CodecError("buffer sizes do not match the message length")
    buffers, offset = [], 0
    for size in sizes:
        buffers.append(body[offset : offset + size])
        offset += size
    return _Decoder(buffers).node(header.get("root"), 0)


class _Decoder:
    def __init__(self, buffers: list[memoryview]) -> None:
        self.buffers = buffers

    def node(self, node: Any, depth: int) -> Any:
        if depth > MAX_DEPTH + 1:
            raise CodecError("nested too deeply")
        if not isinstance(node, dict) or not isinstance(node.get("t"), str):
            raise CodecError("malformed node")
        tag, value = node["t"], node.get("v")
        if tag == "none":
            return None
        if tag == "bool" and type(value) is bool:
            return value
        if tag == "int" and type(value) is str and len(value) < 5000:
            try:
                return int(value)
            except ValueError:
                raise CodecError("bad int") from None
        if tag == "float" and type(value) is str and len(value) < 64:
            try:
                return float(value)
            except ValueError:
                raise CodecError("bad float") from None
        if tag == "str" and type(value) is str:
            return value
        if tag in ("list", "tuple") and type(value) is list:
            items = [self.node(item, depth + 1) for item in value]
            return items if tag == "list" else tuple(items)
        if tag == "dict" and type(value) is list:
            out: dict[Any, Any] = {}
            for pair in value:
                if type(pair) is not list or len(pair) != 2:
                    raise CodecError("malformed dict entry")
                key = self.node(pair[0], depth + 1)
                if type(key) not in (str, int):
                    raise CodecError("dict key must be str or int")
                out[key] = self.node(pair[1], depth + 1)
            return out
        if tag in ("tensor", "ndarray"):
            try:
                return self.tensor(node) if tag == "tensor" else self.ndarray(node)
            except CodecError:
                raise
            except (RuntimeError, TypeError, ValueError, OverflowError, MemoryError) as exc:
                raise CodecError(f"cannot rebuild the {tag}: {str(exc)[:200]}") from None
        if tag == "opaque":
            name, reason = node.get("type"), node.get("reason", "unsupported type")
            if type(name) is not str or type(reason) is not str:
                raise CodecError("malformed opaque value")
            # A type's name is the learner's choice: one clean line, so that it cannot carry a
            # forged message line or a terminal escape into a check's message.
            return Opaque(clean_line(name, 100) or "object", clean_line(reason, 200))
        raise CodecError(f"unknown node type {tag[:20]!r}")

    def buffer(self, node: dict[str, Any], dtype_names: tuple[str, ...], itemsize: Any) -> Any:
        dtype, shape, index = node.get("dtype"), node.get("shape"), node.get("buf")
        if dtype not in dtype_names:
            raise CodecError(f"dtype {str(dtype)[:20]!r} is not allowed")
        if type(shape) is not list or not all(type(n) is int and n >= 0 for n in shape):
            raise CodecError("bad shape")
        if len(shape) > 16 or any(n > 2**31 for n in shape):
            raise CodecError("bad shape")
        if type(index) is not int or not 0 <= index < len(self.buffers):
            raise CodecError("bad buffer reference")
        count = math.prod(shape)
        raw = self.buffers[index]
        if count * itemsize(dtype) != len(raw):
            raise CodecError("buffer size does not match shape and dtype")
        return dtype, shape, raw

    def tensor(self, node: dict[str, Any]) -> Any:
        import torch

        def itemsize(name: str) -> int:
            return torch.empty((), dtype=getattr(torch, name)).element_size()

        dtype, shape, raw = self.buffer(node, TORCH_DTYPES, itemsize)
        torch_dtype = getattr(torch, dtype)
        if len(raw):
            # A view of the message (a read-only one is copied first), then one copy: the clone.
            source = raw if not raw.readonly else bytearray(raw)
            flat = torch.frombuffer(source, dtype=torch.uint8).view(torch_dtype)
            tensor = flat.reshape(shape).clone()
            del flat, source
        else:
            tensor = torch.empty(shape, dtype=torch_dtype)
        return tensor.to(_device(node.get("device")))

    def ndarray(self, node: dict[str, Any]) -> Any:
        import numpy as np

        dtype, shape, raw = self.buffer(node, NUMPY_DTYPES, lambda n: np.dtype(n).itemsize)
        return np.frombuffer(raw, dtype=np.dtype(dtype)).reshape(shape).copy()


def _device(name: Any) -> Any:
    import torch

    if type(name) is not str or len(name) > 32:
        raise CodecError("bad device")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise CodecError(f"bad device {name[:32]!r}") from None
    if device.type == "cpu":
        return device
    if device.type == "cuda" and torch.cuda.is_available():
        if device.index is None or device.index < torch.cuda.device_count():
            return device
    raise CodecError(f"tensor on device {name!r}, which this grader does not have")
