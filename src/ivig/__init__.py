"""IVIG infusion planner: computes and checks a prescribed plan; never invents a dose or a rate."""

__version__ = "0.1.0"
