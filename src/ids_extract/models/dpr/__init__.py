"""The DPR dual encoder: the pair format (save/load) and its trainer."""
