"""Putting a result back into the photo: the colour drift a decoder put on every pixel (learned where the result
shows the photo, carried into the edited region), the seam along the region's edge, and the verdict of which parts
of the region are new content whose colours are intended; for an editor's output, its registration with the original
and the region the edit changed. RecolorizeAny and MergeEdit both use this stage. Imports only
:mod:`eei_core.shared`."""
