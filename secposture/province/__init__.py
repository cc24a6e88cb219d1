"""The provincial collector: receives signed bundles, stores them, aggregates the province."""
