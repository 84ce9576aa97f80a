"""Signal handlers: how the mlops app hears about events in other apps."""
