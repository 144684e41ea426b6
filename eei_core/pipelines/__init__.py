"""What the nodes and the command line call: the stages put together. :mod:`~eei_core.pipelines.recolorize`
(RecolorizeAny) colours a hole with the internal stage and puts the result back into the photo with
:mod:`eei_core.compose`. Imports the stages; no stage imports this package."""
