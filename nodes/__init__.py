"""ComfyUI node layer of EEI: converts ComfyUI types, calls :mod:`eei_core`, reports progress. No maths here.

Modules that import ComfyUI (everything but :mod:`.adapter`) are only imported inside a running ComfyUI.
"""
