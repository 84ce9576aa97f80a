"""How a model is made and becomes active: training, the retrain door, the gate."""
