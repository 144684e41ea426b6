import pytest
import torch

from eei_core.internal.colorize import internal_colorize
from eei_core.internal.config import PRESETS, per_level, with_overrides
from eei_core.internal.hints import Hint
from eei_core.shared.color import luma_chroma, rgb_from_luma_chroma, to_mono
from eei_core.shared.errors import EEICancelled, EEIInputError
from tests.conftest import hole_psnr, rect_hole, skimage_photo

# Short schedules keep the behavioural tests quick; the quality test below runs the real `fast` preset.
QUICK = with_overrides("learned", iterations=(20, 20))
QUICK_PAPER = with_overrides("paper", iterations=(10, 10, 10), width=8, blocks=1)


def mean_chroma_fill(rgb: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    y, c = luma_chroma(rgb)
    known = 1 - mask
    mean = (c * known).sum(dim=(2, 3), keepdim=True) / known.sum()
    return rgb_from_luma_chroma(y, c * known + mean * mask).clamp(0, 1)


def test_presets_match_the_paper():
    paper = PRESETS["paper"]
    assert paper.levels == 3 and paper.iterations == (500, 1000, 1000)
    assert paper.learning_rates == (0.01, 0.005, 0.003) and paper.width == 32 and paper.blocks == 9
    assert per_level((500, 1000, 1000), 5) == [500, 500, 1000, 1000, 1000]
    assert per_level((500, 1000, 1000), 1) == [1000]


def test_fast_beats_mean_chroma_fill_on_a_real_photo(astronaut_small):
    img = astronaut_small
    mask = rect_hole(64, 64, 20, 12, 24, 28)
    out = internal_colorize(to_mono(img), img, mask, config="fast", seed=0)
    fast = hole_psnr(out, img, mask)
    baseline = hole_psnr(mean_chroma_fill(img, mask), img, mask)
    assert fast > baseline + 2.0, (fast, baseline)


def test_known_pixels_are_kept_exactly_and_range(coffee_small):
    img = coffee_small
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    for cfg in (QUICK, QUICK_PAPER):
        out = internal_colorize(to_mono(img), img, mask, config=cfg)
        assert out.shape == img.shape
        assert torch.equal(out * (1 - mask), img * (1 - mask))
        assert out.min() >= 0 and out.max() <= 1


def test_keep_luminance_puts_mono_back(coffee_small):
    img = coffee_small
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    mono = to_mono(img) * 0.8  # a different completed luminance than the colour image's
    out = internal_colorize(mono, img, mask, config=QUICK_PAPER, keep_luminance=True)
    inside = mask.bool().expand_as(mono)
    assert torch.allclose(to_mono(out)[inside], mono[inside], atol=2e-2)  # up to clamping


def test_raw_output_without_composite(coffee_small):
    img = coffee_small
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    raw = internal_colorize(to_mono(img), img, mask, config=QUICK_PAPER, composite=False)
    assert not torch.equal(raw * (1 - mask), img * (1 - mask))


def test_same_seed_same_result_and_other_seed_differs(coffee_small):
    img = coffee_small
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    a = internal_colorize(to_mono(img), img, mask, config=QUICK, seed=3)
    b = internal_colorize(to_mono(img), img, mask, config=QUICK, seed=3)
    c = internal_colorize(to_mono(img), img, mask, config=QUICK_PAPER, seed=3)
    d = internal_colorize(to_mono(img), img, mask, config=QUICK_PAPER, seed=4)
    assert torch.equal(a, b)
    assert not torch.equal(c, d)


def test_hint_colour_appears_in_the_hole():
    # A blue-gray scene with no red anywhere; a red hint inside the hole must colour the hole near it.
    g = torch.Generator().manual_seed(0)
    img = torch.empty(1, 3, 40, 40)
    img[:, 0] = 0.35
    img[:, 1] = 0.45
    img[:, 2] = 0.65
    img = (img + 0.02 * torch.randn(1, 3, 40, 40, generator=g)).clamp(0, 1)
    mask = rect_hole(40, 40, 10, 10, 20, 20)
    hint = Hint(0.5, 0.5, (0.9, 0.1, 0.1), 3.0)
    out = internal_colorize(to_mono(img), img, mask, [hint], config=QUICK)
    near = out[0, :, 17:23, 17:23].mean(dim=(1, 2))
    assert near[0] > near[2] + 0.2, near  # red dominates blue near the hint
    without = internal_colorize(to_mono(img), img, mask, config=QUICK)[0, :, 17:23, 17:23].mean(dim=(1, 2))
    assert without[2] > without[0]


def test_batch_rule_and_broadcast(coffee_small):
    img = torch.cat([coffee_small, coffee_small.flip(-1)])
    mask = rect_hole(48, 72, 10, 20, 20, 25)  # one mask for both items
    out = internal_colorize(to_mono(img), img, mask, config=QUICK)
    assert out.shape == (2, 3, 48, 72)
    with pytest.raises(EEIInputError, match="batch sizes do not match"):
        internal_colorize(to_mono(img), torch.cat([img, img[:1]]), mask, config=QUICK)


def test_batch_items_without_a_hole_pass_through_and_no_hole_at_all_is_an_error(coffee_small):
    img = torch.cat([coffee_small, coffee_small.flip(-1)])
    mask = torch.cat([rect_hole(48, 72, 10, 20, 20, 25), torch.zeros(1, 1, 48, 72)])  # a frame without a hole
    out = internal_colorize(to_mono(img), img, mask, config=QUICK)
    assert torch.equal(out[1], img[1])
    with pytest.raises(EEIInputError, match=r"mask has no hole in its batch item .* nothing to fill"):
        internal_colorize(to_mono(coffee_small), coffee_small, torch.zeros(1, 1, 48, 72), config="fast")


def test_values_slightly_outside_0_1_are_clamped_far_outside_an_error(coffee_small):
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    over = coffee_small * 1.1 - 0.05  # as an unclamped resize hands it on
    out = internal_colorize(to_mono(over), over, mask, config=QUICK)
    assert out.min() >= 0 and out.max() <= 1
    assert torch.equal(out * (1 - mask), over.clamp(0, 1) * (1 - mask))
    with pytest.raises(EEIInputError, match=r"color values range from .* must be float 0..1.* divide by 255"):
        internal_colorize(to_mono(coffee_small), coffee_small * 255, mask, config=QUICK)
    with pytest.raises(EEIInputError, match=r"mono values range from .* \(x \+ 1\) / 2"):
        internal_colorize(to_mono(coffee_small) * 2 - 1, coffee_small, mask, config=QUICK)


def test_all_hole_mask_is_a_clear_error(coffee_small):
    with pytest.raises(EEIInputError, match="covers the whole image: there is no known colour"):
        internal_colorize(to_mono(coffee_small), coffee_small, torch.ones(1, 1, 48, 72))


def test_size_mismatch_names_both_sizes(coffee_small):
    with pytest.raises(EEIInputError, match=r"mask size 70x48 differs from color size 72x48"):
        internal_colorize(to_mono(coffee_small), coffee_small, torch.zeros(1, 1, 48, 70))


def test_nan_input_is_a_clear_error(coffee_small):
    bad = coffee_small.clone()
    bad[0, 1, 3, 3] = float("nan")
    with pytest.raises(EEIInputError, match="color contains NaN"):
        internal_colorize(to_mono(coffee_small), bad, rect_hole(48, 72, 1, 1, 4, 4))


@pytest.mark.parametrize("h, w", [(1, 1), (1, 5), (2, 2), (3, 7), (13, 11)])
def test_tiny_images(h, w):
    img = torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(h * 100 + w))
    mask = torch.zeros(1, 1, h, w)
    mask[..., 0, 0] = 1
    if h * w == 1:
        with pytest.raises(EEIInputError, match="covers the whole image"):
            internal_colorize(to_mono(img), img, mask, config=QUICK)
        return
    for cfg in (QUICK, QUICK_PAPER):
        out = internal_colorize(to_mono(img), img, mask, config=cfg)
        assert out.shape == (1, 3, h, w) and torch.isfinite(out).all()


def test_rgba_and_gray_inputs(coffee_small):
    rgba = torch.cat([coffee_small, torch.ones(1, 1, 48, 72)], dim=1)
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    out = internal_colorize(rgba, rgba, mask, config=QUICK)  # RGBA mono is converted, alpha dropped
    assert out.shape == (1, 3, 48, 72)
    gray = to_mono(coffee_small)
    out = internal_colorize(gray, gray, mask, config=QUICK)  # a gray reference gives a gray result
    assert torch.allclose(out[:, 0], out[:, 1], atol=1e-4) and torch.allclose(out[:, 1], out[:, 2], atol=1e-4)


def test_progress_and_cancel(coffee_small):
    mask = rect_hole(48, 72, 10, 20, 20, 25)
    seen = []
    internal_colorize(to_mono(coffee_small), coffee_small, mask, config=QUICK_PAPER,
                      progress=lambda lvl, step, total, prev: seen.append((lvl, step, total, prev)))
    assert [s[1] for s in seen] == list(range(1, 31)) and {s[2] for s in seen} == {30}
    assert {s[0] for s in seen} == {0, 1, 2}
    calls = []

    def cancel():
        calls.append(1)
        return len(calls) >= 5

    with pytest.raises(EEICancelled):
        internal_colorize(to_mono(coffee_small), coffee_small, mask, config=QUICK_PAPER, cancel=cancel)
    assert len(calls) == 5


def test_cancel_may_raise_its_own_exception(coffee_small):
    class Interrupted(Exception):
        pass

    def cancel():
        raise Interrupted()

    with pytest.raises(Interrupted):
        internal_colorize(to_mono(coffee_small), coffee_small, rect_hole(48, 72, 1, 1, 9, 9), config=QUICK, cancel=cancel)


def test_preview_images_are_rgb(coffee_small):
    previews = []
    cfg = with_overrides(QUICK_PAPER, preview_every=5)
    internal_colorize(to_mono(coffee_small), coffee_small, rect_hole(48, 72, 10, 20, 20, 25), config=cfg,
                      progress=lambda lvl, step, total, prev: prev is not None and previews.append(prev))
    assert previews and all(p.shape[:2] == (1, 3) and p.min() >= 0 and p.max() <= 1 for p in previews)
    assert previews[-1].shape[-2:] == (48, 72)


def test_unknown_preset():
    with pytest.raises(EEIInputError, match="unknown preset 'quick'; choose one of"):
        internal_colorize(torch.rand(1, 1, 4, 4), torch.rand(1, 3, 4, 4), torch.zeros(1, 1, 4, 4), config="quick")


def test_fast_without_training_is_the_converged_propagation():
    # The prior must be converged on a large hole: 100 solver iterations once left it 4 dB off on a 256x384 photo.
    from eei_core.shared.propagate import propagate
    from eei_core.shared.color import fit_to_gamut, luma_chroma

    img = skimage_photo("coffee", 128, 192)
    mask = rect_hole(128, 192, 30, 45, 61, 91)
    y, c = luma_chroma(img)
    prior_only = internal_colorize(y, img, mask, config=with_overrides("fast", iterations=(0, 0)))
    converged = fit_to_gamut(y, propagate(y, c, 1 - mask, iterations=2000, tol=1e-9))
    converged = mask * converged + (1 - mask) * img
    assert abs(hole_psnr(prior_only, img, mask) - hole_psnr(converged, img, mask)) < 0.02
