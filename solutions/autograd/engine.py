"""Autograd from scratch: numbers that remember how they were made, and the backward pass.

Every `loss.backward()` you call in PyTorch walks a graph like the one you build here. A
`Value` holds one number (`data`) and, once `backward()` has run, the derivative of the output
with respect to it (`grad`). Each operation on Values returns a new Value that records its
operands (`children`) and the local derivative of its result with respect to each of them
(`local_grads`). The arithmetic builds the graph as a side effect; `backward()` walks it from
the output back to the inputs and applies the chain rule once per edge.

Your task, in order:

- the operations of `Value`: `__add__`, `__mul__`, `__pow__`, `exp`, `log`, `tanh` and `relu`
  each compute their result and their local derivatives; `__neg__`, `__sub__` and
  `__truediv__` can be built from those, with no new derivative to work out;
- `topological_order`: every node of a graph once, each after the nodes it was made from,
  found without recursion (a graph thousands of nodes deep must work);
- `Value.backward`: start the output at gradient 1 and send gradients back through the graph,
  adding them up.

Only the standard library: no torch (a check reads this file to make sure), no numpy.
Everything after the line "Provided" near the bottom is complete: Value objects cannot travel
to the grader, so those functions build graphs from plain lists, run your engine and return
plain floats. They also hold a small neural network that trains with your engine. Leave them
as they are. Read lesson.md for the ideas, then run `mllab check autograd`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

Number = int | float


def as_value(x: Value | Number) -> Value:
    """`x` itself if it is a Value, else a new Value holding the number (a leaf: no children).

    Provided, complete: it lets numbers mix with Values, as in `v + 1` or `2 * v`.
    """
    return x if isinstance(x, Value) else Value(x)


class Value:
    """One scalar in a computation graph.

    Attributes:
        data: float, the number this node holds; operations never change it.
        grad: float, starts at 0.0; each backward() call on an output adds d(output)/d(self).
        children: tuple of the Values this one was computed from (empty for a leaf).
        local_grads: tuple of floats, one per child: the partial derivative of this node's data
            with respect to that child's data, at the values of the forward pass.
        op: a short name of the operation that made this node ("+", "*", "tanh", ...), shown
            by repr and nowhere else.

    A Value keeps Python's default equality and hash (by identity), so Values work as keys of
    a dict or members of a set even when two of them hold the same number.
    """

    def __init__(
        self,
        data: Number,
        children: Sequence[Value] = (),
        local_grads: Sequence[Number] = (),
        op: str = "",
    ) -> None:
        """Provided, complete. `local_grads` holds one number per child, in the same order."""
        self.data = float(data)
        self.grad = 0.0
        self.children = tuple(children)
        self.local_grads = tuple(local_grads)
        self.op = op

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g}, op={self.op!r})"

    # ------------------------------------------------------------------------ the operations

    def __add__(self, other: Value | Number) -> Value:
        """self + other, where other is a Value or a plain number.

        Maths:  out = a + b,   d out / d a = 1,   d out / d b = 1.

        A number is first made a Value with `as_value`: a leaf whose gradient nobody reads.
        Returns a new Value whose children are (self, other) in that order.
        """
        # TODO: make other a Value, then return a new node holding the sum, with both operands
        #       as its children and the local derivatives of a sum from the docstring.
        # BEGIN SOLUTION
        other = as_value(other)
        return Value(self.data + other.data, (self, other), (1.0, 1.0), "+")
        # END SOLUTION

    def __mul__(self, other: Value | Number) -> Value:
        """self * other, where other is a Value or a plain number.

        Maths:  out = a * b,   d out / d a = b,   d out / d b = a.

        Returns a new Value whose children are (self, other) in that order.
        """
        # TODO: as for the sum, with the local derivatives of a product: each operand's
        #       derivative is the value of the other operand.
        # BEGIN SOLUTION
        other = as_value(other)
        return Value(self.data * other.data, (self, other), (other.data, self.data), "*")
        # END SOLUTION

    def __pow__(self, exponent: Number) -> Value:
        """self ** exponent, for a plain number exponent k (int or float), never a Value.

        Maths:  out = a ** k,   d out / d a = k * a ** (k - 1).

        The exponent is a constant, so the node has one child, self. Python's own rules apply
        to the forward value: a negative base needs a whole-number k, and a zero base needs
        k >= 1 for the derivative to exist. Returns a new Value.
        """
        if isinstance(exponent, Value):
            raise TypeError("this engine supports only a plain number as the exponent")
        # TODO: return a new node with self as its only child and the power rule from the
        #       docstring as its local derivative (the exponent comes down as a factor).
        # BEGIN SOLUTION
        k = float(exponent)
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),), f"**{exponent:g}")
        # END SOLUTION

    def __neg__(self) -> Value:
        """-self.  Maths:  out = -a,   d out / d a = -1.  Returns a new Value."""
        # TODO: express negation with an operation you already have; its gradient then comes
        #       for free.
        # BEGIN SOLUTION
        return self * -1.0
        # END SOLUTION

    def __sub__(self, other: Value | Number) -> Value:
        """self - other.  Maths:  out = a - b,   d out / d a = 1,   d out / d b = -1."""
        # TODO: build the difference from a sum and a negation.
        # BEGIN SOLUTION
        return self + (-as_value(other))
        # END SOLUTION

    def __truediv__(self, other: Value | Number) -> Value:
        """self / other.  Maths:  out = a / b,   d out / d a = 1 / b,   d out / d b = -a / b**2.

        The checks keep b away from 0. Returns a new Value.
        """
        # TODO: build the quotient from a product and a power (dividing by b is multiplying by
        #       b to the power minus one).
        # BEGIN SOLUTION
        return self * as_value(other) ** -1
        # END SOLUTION

    def exp(self) -> Value:
        """e ** self.  Maths:  out = exp(a),   d out / d a = exp(a), the output itself.

        Returns a new Value with one child, self.
        """
        # TODO: compute the exponential with the math module; the local derivative is the
        #       result you just computed.
        # BEGIN SOLUTION
        out = math.exp(self.data)
        return Value(out, (self,), (out,), "exp")
        # END SOLUTION

    def log(self) -> Value:
        """The natural logarithm of self, for self.data > 0.

        Maths:  out = log(a),   d out / d a = 1 / a   (one over the input a, not the output).

        A zero or negative input raises ValueError, as math.log does. Returns a new Value.
        """
        # TODO: the natural logarithm from the math module, with one over the input as the
        #       local derivative.
        # BEGIN SOLUTION
        return Value(math.log(self.data), (self,), (1.0 / self.data,), "log")
        # END SOLUTION

    def tanh(self) -> Value:
        """The hyperbolic tangent of self.

        Maths:  t = tanh(a) = (e^a - e^-a) / (e^a + e^-a),   d t / d a = 1 - t ** 2.

        Returns a new Value with one child, self.
        """
        # TODO: compute t with the math module, and write the local derivative in terms of t,
        #       the output, as in the docstring.
        # BEGIN SOLUTION
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t * t,), "tanh")
        # END SOLUTION

    def relu(self) -> Value:
        """max(self, 0).

        Maths:  out = a if a > 0 else 0,   d out / d a = 1 if a > 0 else 0.

        At exactly a == 0 the derivative is 0, as in torch. Returns a new Value.
        """
        # TODO: the result keeps positive inputs and turns the rest to zero; the local
        #       derivative is one only for strictly positive inputs, zero otherwise.
        # BEGIN SOLUTION
        positive = self.data > 0
        return Value(self.data if positive else 0.0, (self,), (1.0 if positive else 0.0,), "relu")
        # END SOLUTION

    # ---------------------------------- provided: a number on the left, as in 2 * v or 1 - v

    def __radd__(self, other: Number) -> Value:
        return self + other

    def __rmul__(self, other: Number) -> Value:
        return self * other

    def __rsub__(self, other: Number) -> Value:
        return as_value(other) - self

    def __rtruediv__(self, other: Number) -> Value:
        return as_value(other) / self

    # --------------------------------------------------------------------- the backward pass

    def backward(self) -> None:
        """Add d(self)/d(node) to node.grad for every node self depends on, self included.

        Chain rule: self's own derivative is 1; for any other node n,

            d self / d n  =  sum over the nodes p made from n of  (d self / d p) * (d p / d n)

        where d p / d n is the local gradient p stored for n. If n appears twice among p's
        children (as in x * x), each appearance contributes. Visiting the nodes in reverse
        topological order (self first, leaves last) makes d self / d p complete before it is
        passed on to p's children.

        Accumulates, as torch does: the derivatives are added to .grad, never assigned, so a
        second call on the same graph adds the same amounts again (every grad doubles). The
        sums for this call must therefore be kept apart from .grad, which may hold earlier
        calls' gradients. Setting grads back to 0 between training steps is the caller's job.
        Changes no node's data. Works on graphs of any depth (no recursion).
        """
        # TODO: apply the chain rule of the docstring, visiting the nodes from self back to
        #       the leaves so that each node's derivative is complete before you pass it on.
        #       Keep this call's sums apart from .grad (in a dictionary of your own), and add
        #       each node's to its grad once it is complete.
        # BEGIN SOLUTION
        upstream: dict[Value, float] = {self: 1.0}
        for node in reversed(topological_order(self)):
            g = upstream.pop(node, 0.0)
            node.grad += g
            for child, local in zip(node.children, node.local_grads, strict=True):
                upstream[child] = upstream.get(child, 0.0) + g * local
        # END SOLUTION


def topological_order(root: Value) -> list[Value]:
    """Every node `root` depends on, `root` included, each exactly once, children first.

    Order: each node comes after all the nodes it was made from (its children, their children,
    and so on), so `root` comes last and leaves come early. Nodes `root` does not depend on are
    not in the list. Nodes are told apart by identity, not by data: two different nodes may
    hold the same number, and one node may be the child of many.

    No recursion: Python stops at about 1000 nested calls, and a chain of 5000 operations must
    work. Returns a new list of Values.
    """
    # TODO: a depth-first search with a stack of your own instead of recursive calls. A node
    #       joins the result only once all of its children have joined; remember which nodes
    #       you have already handled, so that shared nodes are not listed twice.
    # BEGIN SOLUTION
    order: list[Value] = []
    seen: set[Value] = set()
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
        elif node not in seen:
            seen.add(node)
            stack.append((node, True))
            stack.extend((child, False) for child in node.children if child not in seen)
    return order
    # END SOLUTION


# =============================================================================================
# Provided: the grader's way in (plain data in, plain floats out) and a small network trained
# with your engine. Complete; leave as it is.
# =============================================================================================

Instruction = Sequence[Any]  # [op, operand, ...]
Log = Callable[[str, float, int], None]

OPERATIONS: dict[str, Callable[..., Any]] = {
    "add": lambda a, b: a + b,
    "sub": lambda a, b: a - b,
    "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b,
    "pow": lambda a, k: a**k,
    "neg": lambda a: -a,
    "exp": lambda a: a.exp(),
    "log": lambda a: a.log(),
    "tanh": lambda a: a.tanh(),
    "relu": lambda a: a.relu(),
}


def build(program: Sequence[Instruction], inputs: Sequence[Number]) -> list[Value]:
    """The nodes of a program: one leaf per input, then one node per instruction.

    An instruction is [op, operand, ...] with op a key of OPERATIONS. An operand that is an
    int is the index of an earlier node (inputs first: 0 .. len(inputs) - 1); a float is a
    plain number, so ["add", 2.5, 0] is 2.5 + node 0. The exponent of "pow" is always a plain
    number, int or float: ["pow", 0, 3] is node 0 cubed.
    """
    nodes = [Value(x) for x in inputs]
    for op, *operands in program:
        if op == "pow":
            args = [nodes[operands[0]], operands[1]]
        else:
            args = [nodes[a] if type(a) is int else a for a in operands]
        nodes.append(OPERATIONS[op](*args))
    return nodes


def evaluate(
    program: Sequence[Instruction], inputs: Sequence[Number], passes: int = 1
) -> tuple[list[float], list[float]]:
    """Build a program (see `build`), call backward() `passes` times on its last node.

    Returns (values, grads): the data and the grad of every node of the program, in order.
    """
    nodes = build(program, inputs)
    for _ in range(passes):
        nodes[-1].backward()
    return [node.data for node in nodes], [node.grad for node in nodes]


def order(program: Sequence[Instruction], inputs: Sequence[Number]) -> list[int]:
    """topological_order of a program's last node, as node numbers.

    A program node is given by its index; any other node (a constant made from a number, or a
    step inside an operation built from others) by a negative number, the same for the same
    node.
    """
    nodes = build(program, inputs)
    index = {node: i for i, node in enumerate(nodes)}
    others: dict[Value, int] = {}
    numbers = []
    for node in topological_order(nodes[-1]):
        if not isinstance(node, Value):
            raise TypeError(f"topological_order returned a {type(node).__name__}, not a Value")
        if node not in index:
            others.setdefault(node, -1 - len(others))
        numbers.append(index.get(node, others.get(node, 0)))
    return numbers


# ------------------------------------------------------- a small network trained with Value

Weights = dict[str, Any]  # {"W1": H lists of D floats, "b1": H floats, "w2": H floats, "b2": float}


def _as_values(weights: Weights) -> dict[str, Any]:
    return {
        "W1": [[Value(w) for w in row] for row in weights["W1"]],
        "b1": [Value(b) for b in weights["b1"]],
        "w2": [Value(w) for w in weights["w2"]],
        "b2": Value(weights["b2"]),
    }


def _parameters(params: dict[str, Any]) -> list[Value]:
    return [w for row in params["W1"] for w in row] + params["b1"] + params["w2"] + [params["b2"]]


def _as_floats(params: dict[str, Any], field: str) -> Weights:
    def get(v: Value) -> float:
        return float(getattr(v, field))

    return {
        "W1": [[get(w) for w in row] for row in params["W1"]],
        "b1": [get(b) for b in params["b1"]],
        "w2": [get(w) for w in params["w2"]],
        "b2": get(params["b2"]),
    }


def mlp_score(params: dict[str, Any], x: Sequence[Number]) -> Value:
    """score(x) = sum_j w2[j] * tanh(sum_i W1[j][i] * x[i] + b1[j]) + b2: above 0 means +1."""
    hidden = [
        sum((w * xi for w, xi in zip(row, x, strict=True)), b).tanh()
        for row, b in zip(params["W1"], params["b1"], strict=True)
    ]
    return sum((w * h for w, h in zip(params["w2"], hidden, strict=True)), params["b2"])


def mlp_loss(params: dict[str, Any], X: Sequence[Sequence[Number]], y: Sequence[Number]) -> Value:
    """The logistic loss: the mean over the points of log(1 + exp(-y_n * score(x_n))).

    Labels y_n are -1 or +1.
    """
    losses = [(1 + (-yn * mlp_score(params, xn)).exp()).log() for xn, yn in zip(X, y, strict=True)]
    return sum(losses[1:], losses[0]) * (1.0 / len(losses))


def mlp_loss_and_grads(
    weights: Weights, X: Sequence[Sequence[Number]], y: Sequence[Number]
) -> tuple[float, Weights]:
    """The loss of the network on (X, y) and its gradient for every weight, as plain floats."""
    params = _as_values(weights)
    loss = mlp_loss(params, X, y)
    loss.backward()
    return loss.data, _as_floats(params, "grad")


def train_mlp(
    X: Sequence[Sequence[Number]],
    y: Sequence[Number],
    start: Weights,
    steps: int,
    lr: float,
    log: Log | None = None,
) -> Weights:
    """Full-batch gradient descent with momentum 0.9 on the logistic loss, from `start`.

    Each step sets every grad to 0, computes the loss, calls backward(), then for each weight:
    velocity = 0.9 * velocity + grad and weight -= lr * velocity. Logs the loss at every step
    and the training accuracy every 10 steps. Returns the trained weights as plain floats.
    """
    params = _as_values(start)
    parameters = _parameters(params)
    velocity = [0.0] * len(parameters)
    for step in range(1, steps + 1):
        for p in parameters:
            p.grad = 0.0
        loss = mlp_loss(params, X, y)
        loss.backward()
        for i, p in enumerate(parameters):
            velocity[i] = 0.9 * velocity[i] + p.grad
            p.data -= lr * velocity[i]
        if log is not None:
            log("loss", loss.data, step)
            if step % 10 == 0 or step == steps:
                scores = [mlp_score(params, xn).data for xn in X]
                right = sum((s > 0) == (yn > 0) for s, yn in zip(scores, y, strict=True))
                log("training accuracy", right / len(y), step)
    return _as_floats(params, "data")
