"""The public transparency report: what the platform did over a period, read from the database
in aggregate queries (EU DSA templates, Reg. 2021/784 Art. 7, the legal clocks)."""
