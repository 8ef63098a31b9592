"""Expect failing: tanh, mlp_gradients
Mistake: tanh's local derivative is written 1 - t instead of 1 - t**2 (t = tanh(a)).
The formula is easy to misremember; the value is right and the gradient has the right
sign for positive inputs, but its size is wrong everywhere except where t is 0 or 1.

Everything else comes from solutions/autograd/engine.py.
"""

import math


class Value(Value):
    def tanh(self) -> Value:
        t = math.tanh(self.data)
        return Value(t, (self,), (1.0 - t,), "tanh")
