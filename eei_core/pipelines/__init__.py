"""What the nodes and the command line call: the stages put together. :mod:`~eei_core.pipelines.recolorize`
(RecolorizeAny) colours a hole with the internal stage and puts the result back into the photo with
:mod:`eei_core.compose`; :mod:`~eei_core.pipelines.merge_edit` (MergeEdit) registers an editor's output with the
original, finds what the edit changed and merges only that back. Imports the stages; no stage imports this package."""
