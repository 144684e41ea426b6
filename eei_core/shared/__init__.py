"""Helpers both stages share: input checks, errors, devices, progress, colour spaces, filters, masks,
pyramids, image files and quality metrics. Imports nothing from the stages."""
