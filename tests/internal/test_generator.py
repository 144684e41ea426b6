import torch

from eei_core.internal.generator import ColorGenerator


def test_paper_architecture():
    g = ColorGenerator(4, 3)  # paper defaults: 32 channels, 9 residual blocks
    convs = [m for m in g.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 1 + 9 * 2 + 1
    assert all(c.kernel_size == (3, 3) for c in convs)
    assert convs[0].in_channels == 4 and convs[0].out_channels == 32 and convs[-1].out_channels == 3
    assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in g.modules()) == 1 + 9 * 2


def test_shapes_including_one_pixel_images():
    g = ColorGenerator(1, 2, width=8, blocks=2)
    for h, w in [(1, 1), (1, 7), (5, 3), (17, 31)]:
        assert g(torch.rand(2, 1, h, w)).shape == (2, 2, h, w)


def test_gradients_reach_every_parameter():
    g = ColorGenerator(4, 2, width=8, blocks=2)
    g(torch.rand(2, 4, 12, 10)).square().mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in g.parameters())
