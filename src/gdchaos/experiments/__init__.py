"""Experiments: the demo and (later) one declaration per figure of the paper."""
