"""Expect failing: add_mul, pow, tanh, relu, shared_nodes, random_expressions, mlp_gradients
Mistake: backward walks the topological order as it comes, leaves first, not reversed.
Each leaf is visited before anything has sent it a gradient, so it keeps 0; the output,
visited last, gets its 1 when there is nobody left to pass it to. No gradient gets past the
output, whatever the operations store.

Everything else comes from solutions/autograd/engine.py.
"""


class Value(Value):
    def backward(self) -> None:
        upstream: dict[Value, float] = {self: 1.0}
        for node in topological_order(self):
            g = upstream.pop(node, 0.0)
            node.grad += g
            for child, local in zip(node.children, node.local_grads, strict=True):
                upstream[child] = upstream.get(child, 0.0) + g * local
