import numpy as np
import pytest
import torch
from PIL import Image

from eei_core.shared.errors import EEIInputError
from eei_core.shared.io import load_gray, load_image, load_mask, save_image


def test_round_trip_png(tmp_path):
    img = torch.rand(1, 3, 7, 5)
    path = save_image(img, tmp_path / "sub" / "a.png")
    back = load_image(path)
    assert back.shape == (1, 3, 7, 5) and (back - img).abs().max() <= 0.5 / 255 + 1e-6


def test_rgba_and_gray_images(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[..., 3] = 10
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    assert load_image(tmp_path / "rgba.png")[0, :, 0, 0].tolist() == [1.0, 0.0, 0.0]
    Image.fromarray(np.full((4, 6), 128, np.uint8), "L").save(tmp_path / "g.png")
    img = load_image(tmp_path / "g.png")
    assert img.shape == (1, 3, 4, 6) and torch.allclose(img[:, 0], img[:, 2])
    assert load_gray(tmp_path / "g.png").shape == (1, 1, 4, 6)


def test_mask_polarity_and_formats(tmp_path):
    arr = np.zeros((4, 4), np.uint8)
    arr[1:3, 1:3] = 255
    Image.fromarray(arr, "L").save(tmp_path / "m.png")
    assert load_mask(tmp_path / "m.png").sum() == 4
    assert load_mask(tmp_path / "m.png", invert=True).sum() == 12
    Image.fromarray(np.stack([arr] * 3, -1), "RGB").save(tmp_path / "m_rgb.png")
    assert load_mask(tmp_path / "m_rgb.png").sum() == 4
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[1:3, 1:3, 3] = 0  # transparent = hole, as ComfyUI's mask editor saves it
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m_rgba.png")
    assert load_mask(tmp_path / "m_rgba.png")[0, 0, 1:3, 1:3].sum() == 4 and load_mask(tmp_path / "m_rgba.png").sum() == 4


def test_clear_errors(tmp_path):
    with pytest.raises(EEIInputError, match="image file not found"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(EEIInputError, match="cannot read image"):
        load_image(tmp_path / "bad.png")
    with pytest.raises(EEIInputError, match="unknown image extension"):
        save_image(torch.rand(1, 3, 2, 2), tmp_path / "x.foo")
