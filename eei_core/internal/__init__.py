"""Internal stage: restore the hole's colour from the image's own known pixels (the progressive generators over the
edge-aware propagation, colour hints, the working frame), and the fusion of that colour with another inpainter's.
Imports only :mod:`eei_core.shared`."""
