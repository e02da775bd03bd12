"""File integrity monitoring: signed baselines of a tree, checks against them, package-aware verdicts."""
