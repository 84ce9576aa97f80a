from django.dispatch import Signal

# Sent after the transaction that activated a version commits.
# kwargs: version (ModelVersion), previous (ModelVersion | None), actor (Actor).
model_activated = Signal()
