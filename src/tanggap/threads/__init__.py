"""The two-way thread between a flagger organisation and the platform on each report."""
