"""Analysis: pure functions from DataFrame to DataFrame (indicators, gaps, distances,
trajectories, comparisons, scenario), and the per-département bundle they prepare.
"""
