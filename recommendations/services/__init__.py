"""Serving: the forecast for the next draw, its per-process cache, and the games.

inference.py (forecast_current), forecast_cache.py, fallback.py (this process's
fallback state), served_counts.py, recommendation.py (the engine the API calls).
"""
