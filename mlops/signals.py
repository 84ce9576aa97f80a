from django.dispatch import Signal

# Sent after the transaction that activated a version commits.
# kwargs: version (ModelVersion), previous (ModelVersion | None), actor (Actor).
model_activated = Signal()

# Sent when the official forecast of the next draw is due: after an activation
# commits and after new draws are scored. Serving (the recommendations app)
# computes the forecast, which records it. mlops tells serving through this
# signal because it never imports serving. kwargs: none.
forecast_due = Signal()
