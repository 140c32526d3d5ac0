"""Multilingual NLU (MASSIVE-style intent classification and slot filling): metrics,
a classical baseline, a joint transformer model and an experiment runner."""
