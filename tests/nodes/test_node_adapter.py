"""Unit tests of nodes/adapter.py: ComfyUI layouts <-> eei_core layouts, size and batch checks (no server)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest
import torch


def test_image_round_trip_keeps_pixels(adapter):
    image = torch.rand(2, 5, 7, 3)
    t = adapter.image_to_torch(image)
    assert t.shape == (2, 3, 5, 7)
    assert torch.equal(t[1, 2, 4, 6], image[1, 4, 6, 2])
    back = adapter.to_comfy(t)
    assert back.shape == (2, 5, 7, 3) and back.dtype == torch.float32
    assert torch.equal(back, image)


def test_alpha_is_dropped_and_gray_repeated(adapter):
    rgba = torch.rand(1, 4, 6, 4)
    assert torch.equal(adapter.image_to_torch(rgba), rgba[..., :3].movedim(-1, 1))
    gray = torch.rand(1, 4, 6, 1)
    t = adapter.image_to_torch(gray)
    assert t.shape == (1, 3, 4, 6)
    assert torch.equal(t[:, 0], t[:, 2]) and torch.equal(t[:, 0], gray[..., 0])


def test_unbatched_image_gets_a_batch_dimension(adapter):
    assert adapter.image_to_torch(torch.rand(4, 6, 3)).shape == (1, 3, 4, 6)


def test_mono_result_becomes_gray_rgb(adapter):
    mono = torch.rand(3, 1, 4, 6)
    out = adapter.to_comfy(mono)
    assert out.shape == (3, 4, 6, 3)
    for c in range(3):
        assert torch.equal(out[..., c], mono[:, 0])


@pytest.mark.parametrize("shape", [(4, 6), (1, 4, 6), (2, 4, 6), (2, 1, 4, 6)])
def test_mask_layouts(adapter, shape):
    mask = torch.rand(*shape)
    t = adapter.mask_to_torch(mask)
    assert t.shape == ((shape[0] if len(shape) > 2 else 1), 1, 4, 6)
    assert torch.equal(t.flatten(), mask.flatten())


def test_bad_layouts_name_the_input(adapter, input_error):
    with pytest.raises(input_error, match=r"image must be an IMAGE .* got shape 1x4x6x2"):
        adapter.image_to_torch(torch.rand(1, 4, 6, 2))
    with pytest.raises(input_error, match=r"mask must be a MASK .* got shape 1x3x4x6"):
        adapter.mask_to_torch(torch.rand(1, 3, 4, 6))
    with pytest.raises(input_error, match="original must be an IMAGE tensor, got ndarray"):
        adapter.image_to_torch(np.zeros((1, 4, 6, 3)), "original")


def test_to_torch_converts_in_order_and_keeps_missing_optionals(adapter):
    image, original, mask = adapter.to_torch(
        {"image": torch.rand(2, 4, 6, 3), "original": None}, {"mask": torch.ones(1, 4, 6)}
    )
    assert image.shape == (2, 3, 4, 6) and original is None and mask.shape == (1, 1, 4, 6)


def test_size_mismatch_names_both_inputs_and_sizes(adapter, input_error):
    with pytest.raises(input_error, match=r"mask size 8x5 differs from image size 6x4"):
        adapter.to_torch({"image": torch.rand(1, 4, 6, 3)}, {"mask": torch.ones(1, 5, 8)})
    with pytest.raises(input_error, match=r"original size 7x4 differs from mono size 6x4"):
        adapter.to_torch({"mono": torch.rand(1, 4, 6, 3), "original": torch.rand(1, 4, 7, 3)})


def test_loadimage_placeholder_mask_gets_its_own_explanation(adapter, input_error):
    # LoadImage returns an empty 64x64 mask for images without alpha; a size error alone would puzzle users
    with pytest.raises(input_error, match=r"mask is empty and 64x64: LoadImage .* no alpha channel.* 80x60"):
        adapter.to_torch({"image": torch.rand(1, 60, 80, 3)}, {"mask": torch.zeros(1, 64, 64)})
    with pytest.raises(input_error, match=r"mask size 64x64 differs from image size 80x60"):
        adapter.to_torch({"image": torch.rand(1, 60, 80, 3)}, {"mask": torch.ones(1, 64, 64)})
    image, mask = adapter.to_torch({"image": torch.rand(1, 64, 64, 3)}, {"mask": torch.zeros(1, 64, 64)})
    assert mask.shape == (1, 1, 64, 64)


def test_batch_rule(adapter, input_error):
    # a batch of one is reused, equal batches pair
    adapter.to_torch({"image": torch.rand(3, 4, 6, 3)}, {"mask": torch.ones(1, 4, 6)})
    adapter.to_torch({"image": torch.rand(3, 4, 6, 3)}, {"mask": torch.ones(3, 4, 6)})
    with pytest.raises(input_error, match=r"batch sizes do not match \(image=3, mask=2\)"):
        adapter.to_torch({"image": torch.rand(3, 4, 6, 3)}, {"mask": torch.ones(2, 4, 6)})


def test_to_comfy_moves_to_the_output_device(adapter):
    assert adapter.to_comfy(torch.rand(1, 3, 2, 2, dtype=torch.float64), "cpu").dtype == torch.float32


def test_preview_to_pil(adapter):
    preview = torch.zeros(1, 3, 4, 6)
    preview[0, 0] = 1.0  # red
    preview[0, 2, 0, 0] = 1.5  # out of range values are clipped
    pil = adapter.preview_to_pil(preview)
    assert pil.size == (6, 4) and pil.mode == "RGB"
    array = np.asarray(pil)
    assert array[1, 1].tolist() == [255, 0, 0]
    assert array[0, 0].tolist() == [255, 0, 255]
    gray = adapter.preview_to_pil(torch.full((1, 1, 2, 2), 0.5))
    assert np.asarray(gray)[0, 0].tolist() == [128, 128, 128]


def test_docstring_examples(adapter):
    module = importlib.import_module(adapter.__name__)
    failures, tried = doctest.testmod(module, extraglobs={"torch": torch})[:2]
    assert tried > 0 and failures == 0
