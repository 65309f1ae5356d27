"""``sarcoma-kg bench``: speed measured in one run, as ratios, on the curated graph and on
graphs grown to a requested size."""
