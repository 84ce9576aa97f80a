"""Pure numpy/scikit-learn side of the recommender: no Django imports here.

features: draw history -> 145 features per draw to forecast (no look-ahead).
pipeline: the multi-label random forest, its validation, its bytes.
metrics: forecast scores and their closed-form random baselines.
"""
