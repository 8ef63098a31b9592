"""Expect failing: add_mul, pow, tanh, relu, random_expressions, mlp_gradients, learns_moons
Mistake: backward never starts the output at gradient 1.
Every gradient is the output's own gradient times local derivatives, so with the output at
0 every grad in the graph stays 0, and training never moves.

Everything else comes from solutions/autograd/engine.py.
"""


class Value(Value):
    def backward(self) -> None:
        upstream: dict[Value, float] = {}
        for node in reversed(topological_order(self)):
            g = upstream.pop(node, 0.0)
            node.grad += g
            for child, local in zip(node.children, node.local_grads, strict=True):
                upstream[child] = upstream.get(child, 0.0) + g * local
