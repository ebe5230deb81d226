"""Backtest-engine adapters, installed as ``quantgan.adapters``.

Each adapter imports its engine lazily; the core package never imports one.
"""
