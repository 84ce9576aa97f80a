# Recommendations are computed from the active forecast and recorded as
# mlops.Prediction rows; this app owns only the API.
