from django.dispatch import Signal

# Sent after a transaction that stored new draws commits; kwargs: draw_nos (list),
# source (str). The mlops app listens to score forecasts and refresh caches.
draws_imported = Signal()
