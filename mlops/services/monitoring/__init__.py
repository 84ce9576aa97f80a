"""How the model is doing: recorded forecasts, their scores, health, the backtest."""
