"""External stage: complete the hole in monochrome (the monochromic bottleneck), with the embedded PatchMatch, a
learned mono network, or any spandrel inpainting model on the gray image. Imports only :mod:`eei_core.shared`."""
