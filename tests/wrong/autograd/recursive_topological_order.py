"""Expect failing: deep_chain
Mistake: topological_order is a recursive depth-first search, as in most textbooks.
It gives the right order, so every small graph works; but each level of the graph is one
more nested Python call, and a chain of thousands of operations passes Python's recursion
limit (about 1000) and raises RecursionError.

Everything else comes from solutions/autograd/engine.py.
"""


def topological_order(root: Value) -> list[Value]:
    order: list[Value] = []
    seen: set[Value] = set()

    def visit(node: Value) -> None:
        if node in seen:
            return
        seen.add(node)
        for child in node.children:
            visit(child)
        order.append(node)

    visit(root)
    return order
