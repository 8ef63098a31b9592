"""Expect failing: pow, neg_sub_div
Mistake: the power rule loses its factor: d(a ** k)/da is written a ** (k - 1).
Lowering the exponent is the part people remember; the k in front is easy to drop. Division,
built as a * b ** -1, inherits the mistake (its gradient for b gets the wrong sign).

Everything else comes from solutions/autograd/engine.py.
"""


class Value(Value):
    def __pow__(self, exponent: float) -> Value:
        k = float(exponent)
        return Value(self.data**k, (self,), (self.data ** (k - 1),), f"**{exponent:g}")
