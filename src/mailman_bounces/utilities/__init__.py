"""Small pure helpers (no Mailman): times, text tables, plots."""
