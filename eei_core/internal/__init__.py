"""Internal stage: restore the hole's colour from the image's own known pixels (edge-aware propagation, the
progressive generators, colour hints), and RecolorizeAny's fusion with another inpainter's colour. Imports only
:mod:`eei_core.shared`."""
