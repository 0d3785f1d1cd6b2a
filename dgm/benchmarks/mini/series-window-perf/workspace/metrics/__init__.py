"""In-memory time series for the dashboard backend."""
