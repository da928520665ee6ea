"""model: LeNet-5 classic (1998) and modern, parameter counts and forward shapes."""

from __future__ import annotations

import pytest
import torch

from cheque_reader.model import (
    C3_TABLE,
    CLASSES,
    LeNet5,
    LeNet5Classic,
    architecture_of,
    build_model,
    count_parameters,
    map_loss,
    rbf_codes,
    squash,
)
from conftest import load_script


def test_classic_parameter_count_is_the_papers():
    # C1 156 + S2 12 + C3 1516 + S4 32 + C5 48120 + F6 10164 = 60,000 (LeCun et al. 1998)
    m = LeNet5Classic()
    assert count_parameters(m) == 60_000
    assert count_parameters(m.c1) == 156 and count_parameters(m.s2) == 12
    assert count_parameters(m.c3) == 1516 and count_parameters(m.s4) == 32
    assert count_parameters(m.c5) == 48_120 and count_parameters(m.f6) == 10_164


def test_classic_connection_table_has_60_links_and_masks_gradients():
    assert sum(len(t) for t in C3_TABLE) == 60
    assert C3_TABLE[15] == (0, 1, 2, 3, 4, 5)
    m = LeNet5Classic()
    x = torch.randn(2, 1, 32, 32)
    m(x)[:, :10].sum().backward()
    g = m.c3.weight.grad.abs().sum(dim=(2, 3))
    for o, ins in enumerate(C3_TABLE):
        for i in range(6):
            assert (g[o, i] > 0) == (i in ins), (o, i)


def test_classic_shapes_init_and_rbf():
    m = LeNet5Classic()
    assert m.c1(torch.zeros(1, 1, 32, 32)).shape == (1, 6, 28, 28)
    assert float(m.c1.weight.detach().abs().max()) <= 2.4 / 25
    assert float(m.c5.weight.detach().abs().max()) <= 2.4 / 400
    codes = rbf_codes()
    assert codes.shape == (10, 84) and set(codes.unique().tolist()) == {-1.0, 1.0}
    assert len({tuple(r.tolist()) for r in codes}) == 10
    out = m(torch.randn(3, 1, 32, 32))
    assert out.shape == (3, 11)
    assert torch.all(out[:, :10] <= 0)            # -penalty
    assert torch.all(out[:, 10] == -m.j)          # the constant rubbish term
    assert float(squash(torch.tensor(1.0))) == pytest.approx(1.7159 * torch.tanh(torch.tensor(2 / 3)).item())


def test_map_loss_is_the_papers_formula():
    y = torch.tensor([[0.5, 3.0, 2.0], [1.0, 0.2, 4.0]])  # penalties of 3 classes
    j = 1.0
    logits = torch.cat([-y, torch.full((2, 1), -j)], dim=1)
    labels = torch.tensor([0, 1])
    expect = torch.stack([y[p, labels[p]] + torch.log(torch.exp(torch.tensor(-j)) + torch.exp(-y[p]).sum()) for p in range(2)]).mean()
    assert float(map_loss(logits, labels)) == pytest.approx(float(expect), rel=1e-6)


def test_modern_default_shape_budget_and_fusion():
    m = LeNet5()
    assert count_parameters(m) <= 100_000
    assert m(torch.zeros(4, 1, 32, 32)).shape == (4, len(CLASSES)) == (4, 11)
    m.eval()
    x = torch.randn(5, 1, 32, 32)
    with torch.no_grad():
        for bn in (m.features[1], m.features[5], m.features[9]):
            bn.running_mean.uniform_(-1, 1)
            bn.running_var.uniform_(0.5, 2)
        torch.testing.assert_close(m.fused()(x), m(x), atol=1e-5, rtol=1e-5)


def test_build_model_roundtrip():
    m = LeNet5(c1=8, c3=16, c5=100, f6=64)
    arch = architecture_of(m)
    m2 = build_model(arch)
    m2.load_state_dict(m.state_dict())
    assert arch["parameters"] == count_parameters(m2)
    with pytest.raises(ValueError):
        build_model({"name": "AlexNet"})


def test_training_distortions_are_seeded_and_keep_the_background():
    T = load_script("train_lenet")
    x = torch.full((6, 1, 32, 32), -0.1)
    x[:, :, 10:22, 14:18] = 1.175  # a "1"
    a = T.batch_augment(x, torch.Generator().manual_seed(5), strength=1.0, elastic_p=1.0)
    b = T.batch_augment(x, torch.Generator().manual_seed(5), strength=1.0, elastic_p=1.0)
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, x)                      # it distorts
    assert torch.allclose(a[:, :, :3], torch.full_like(a[:, :, :3], -0.1), atol=1e-5)  # far paper stays paper
    assert float(a.max()) <= 1.175 + 1e-5 and float(a.min()) >= -0.1 - 1e-5
    ink = (a > 0.5).flatten(1).sum(1).float()
    assert bool(((ink > 20) & (ink < 120)).all())        # the stroke survives, roughly its size (48 px)
    same = T.batch_augment(x, torch.Generator().manual_seed(5), strength=0.0, elastic_p=0.0)
    torch.testing.assert_close(same, x)


def test_distillation_loss_mixes_labels_and_teachers():
    T = load_script("train_lenet")
    torch.manual_seed(0)
    student, teacher = LeNet5().eval(), LeNet5().eval()
    x, y = torch.randn(8, 1, 32, 32), torch.randint(0, 10, (8,))
    logits = student(x)
    ce = torch.nn.functional.cross_entropy(logits, y)
    torch.testing.assert_close(T.distillation_loss(logits, y, [teacher], x, 0.0, 3.0), ce)
    # a student that is its own teacher has nothing to learn from it
    assert float(T.distillation_loss(logits, y, [student], x, 1.0, 3.0).detach()) == pytest.approx(0.0, abs=1e-6)
    assert float(T.distillation_loss(logits, y, [teacher], x, 1.0, 3.0).detach()) > 1e-4
    # the gradient of the distillation term pulls the student towards the teacher
    s = logits.detach().clone().requires_grad_(True)
    T.distillation_loss(s, y, [teacher], x, 1.0, 1.0).backward()
    gap = torch.softmax(s.detach(), 1) - torch.softmax(teacher(x).detach(), 1)
    torch.testing.assert_close(s.grad, gap / len(x), atol=1e-6, rtol=1e-4)
