"""Why a model ranks sentences as it does: explanation pages and the randomisation sanity check."""
