"""Expect failing: shared_nodes, mlp_gradients
Mistake: backward sets a child's gradient for this call with = instead of adding to it.
With one use per node that is the same thing, so single operations look right; but a node
used twice (x * x, or a weight used for every data point) keeps only the contribution of
the last node that sends one, instead of the sum of all of them.

Everything else comes from solutions/autograd/engine.py.
"""


class Value(Value):
    def backward(self) -> None:
        upstream: dict[Value, float] = {self: 1.0}
        for node in reversed(topological_order(self)):
            g = upstream.pop(node, 0.0)
            node.grad += g
            for child, local in zip(node.children, node.local_grads, strict=True):
                upstream[child] = g * local
