"""Expect failing: backward_twice
Mistake: backward passes each node's .grad on to its children, as micrograd does, instead
of the gradient this call computed. On a fresh graph the two are the same, so one backward()
is right; on a second call .grad still holds the first call's gradients, and they are sent
down again, so the nodes below the output get more than twice their gradient.

Everything else comes from solutions/autograd/engine.py.
"""


class Value(Value):
    def backward(self) -> None:
        self.grad += 1.0
        for node in reversed(topological_order(self)):
            for child, local in zip(node.children, node.local_grads, strict=True):
                child.grad += node.grad * local
