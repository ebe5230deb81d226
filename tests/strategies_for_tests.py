"""backtrader strategies for the adapter tests.

They live in an importable module, not in the test files: loky workers rebuild
classes defined in ``__main__`` (or pickled by value) without their backtrader params.
"""

from __future__ import annotations

import backtrader as bt


class RsiStrategy(bt.Strategy):
    """Buys when RSI is low: RSI's default ``safediv=False`` divides by zero on flat prices."""

    params = (("period", 14), ("stake", 1))

    def __init__(self):
        self.rsi = bt.ind.RSI(self.data.close, period=self.p.period)

    def next(self):
        if not self.position and self.rsi[0] < 30:
            self.buy(size=self.p.stake)
        elif self.position and self.rsi[0] > 70:
            self.close()


class FailAbove(bt.Strategy):
    """Raises when the close goes above ``limit``: one bad path among good ones."""

    params = (("limit", 1e9),)

    def next(self):
        if self.data.close[0] > self.p.limit:
            raise RuntimeError(f"close {self.data.close[0]:.2f} above the limit")


class AllIn(bt.Strategy):
    """Buys with all the cash at the close: with commission the fill cannot be paid (Margin)."""

    def next(self):
        if not self.position:
            self.buy(size=self.broker.getcash() / self.data.close[0])


class BuyAndHold(bt.Strategy):
    """Buys with the sizer on the first bar, then holds."""

    def next(self):
        if not self.position:
            self.buy()


class PairReader(bt.Strategy):
    """Reads two feeds by name; long ``a`` when it closes above ``b``."""

    def next(self):
        a, b = self.getdatabyname("a"), self.getdatabyname("b")
        if not self.getposition(a) and a.close[0] > b.close[0]:
            self.buy(data=a, size=1)
        elif self.getposition(a) and a.close[0] < b.close[0]:
            self.close(data=a)
