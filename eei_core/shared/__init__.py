"""Helpers every stage shares: input checks, errors, devices, progress, colour spaces, filters, masks, pyramids,
the edge-aware propagation (Levin et al. 2004), image files and quality metrics. Imports nothing from the stages."""
