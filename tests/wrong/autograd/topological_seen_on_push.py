"""Expect failing: topological_order, random_expressions
Mistake: topological_order marks a node as handled when it is pushed, not when it is done.
A node whose children were all pushed by someone else then joins the list at once, before
those children: in x * tanh(x), tanh(x) comes before x. Many graphs still come out in a valid
order, but where one does not, backward passes a gradient on before all of it has arrived.

Everything else comes from solutions/autograd/engine.py.
"""


def topological_order(root: Value) -> list[Value]:
    order: list[Value] = []
    seen: set[Value] = {root}
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            order.append(node)
            continue
        stack.append((node, True))
        for child in node.children:
            if child not in seen:
                seen.add(child)
                stack.append((child, False))
    return order
