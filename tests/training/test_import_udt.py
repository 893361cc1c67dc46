"""A researcher converts the UDT-cINN paper's HSI checkpoint and gets the paper network's outputs.

The reference is built here the way the paper's code builds it (IMSY-DKFZ/UDT-cINN,
``GanCondinitionalDomainAdaptationINNHSI.build_model`` with ``gan_cinn_hsi_conf.yaml``): a FrEIA
0.2 ``SequenceINN(100)`` of 30 conditional then 10 unconditional ``AllInOneBlock`` s with
``permute_soft=False``, ``learned_householder_permutation=0``, ``reverse_permutation=True``,
clamp 1.0, global affine init 0.7, subnets Linear(·, 512) → ReLU → Linear(512, ·) with Kaiming
init; the condition is the domain one-hot (with its label noise) followed by the L1-normalised
noisy organ one-hot; spectra are L2-normalised and standardised with one scalar per domain, and a
transfer undoes the target domain's standardisation only.
"""

from __future__ import annotations

import math

import FrEIA.framework as Ff
import FrEIA.modules as Fm
import numpy as np
import pytest
import torch
from torch import nn

from napari_cinn.core import load_model
from napari_cinn_training.cli import main

STATS = {"mean_a": 0.0998, "std_a": 0.0051, "mean_b": 0.0993, "std_b": 0.0088}
CONFIG = f"""experiment_name: gan_cinn_hsi
n_blocks: 40
n_conditional_blocks: 30
clamping: 1.0
actnorm: .7
n_reflections: 0
n_hidden: 512
normalization: standardize
condition: segmentation
label_noise: True
label_noise_level: 0.5
data:
  choose_spectra: unique
  dimensions: 100
  n_classes: 10
  mean_a: {STATS["mean_a"]}
  std_a: {STATS["std_a"]}
  mean_b: {STATS["mean_b"]}
  std_b: {STATS["std_b"]}
"""


SUBNET_OUTPUT_SCALE = 0.1


def paper_subnet(ch_in: int, ch_out: int) -> nn.Module:
    net = nn.Sequential(nn.Linear(ch_in, 512), nn.ReLU(), nn.Linear(512, ch_out))
    for m in net:
        if isinstance(m, nn.Linear):
            nn.init.kaiming_uniform_(m.weight.data)
            m.bias.data.zero_()
    return net


def paper_network() -> Ff.SequenceINN:
    model = Ff.SequenceINN(100)
    for i in range(40):
        cond = {"cond": 0, "cond_shape": (12,)} if i < 30 else {}
        model.append(
            Fm.AllInOneBlock,
            subnet_constructor=paper_subnet,
            affine_clamping=1.0,
            global_affine_init=0.7,
            permute_soft=False,
            learned_householder_permutation=0,
            reverse_permutation=True,
            **cond,
        )
    with torch.no_grad():
        # as in a trained flow (unit-scale data to unit-scale latents), the actnorms sit near 1
        # and the couplings are moderate: at initialisation each block scales by 0.7 (0.7^40 ≈
        # 1e-6 over the flow), and the inverse of such a map is too ill-conditioned in float32 to
        # compare anything. FrEIA 0.2's SOFTPLUS activation is 0.1 * softplus(a, beta=0.5).
        unit = 2.0 * math.log(math.exp(5.0) - 1.0)
        for block in model.module_list:
            block.global_scale.fill_(unit).add_(0.3 * torch.randn_like(block.global_scale))
            block.global_offset.normal_(0, 0.2)
            block.subnet[2].weight.mul_(SUBNET_OUTPUT_SCALE)
    return model.eval()


def paper_conditions(n: int, domain: int, organs: torch.Tensor, gen) -> torch.Tensor:
    """The code's get_conditions/get_label_conditions with label noise (drawn once, here)."""
    dom = torch.zeros(n, 2)
    noise = torch.rand(n, generator=gen) * 0.1
    dom[:, domain], dom[:, 1 - domain] = 1 - noise, noise
    seg = torch.stack(
        [(organs == k) + torch.rand(n, generator=gen) * 0.5 for k in range(10)], dim=1
    ).float()
    seg /= torch.linalg.norm(seg, dim=1, keepdim=True, ord=1)
    return torch.cat([dom, seg], 1)


def spectra(n: int, gen) -> torch.Tensor:
    """Raw spectra whose L2-normalised values spread like the statistics above (≈ ±1 std)."""
    shape = 1 + 0.3 * torch.sin(torch.linspace(0, 3, 100))
    return (
        (1 + 0.05 * torch.randn(n, 100, generator=gen))
        * shape
        * (1 + torch.rand(n, 1, generator=gen))
    )


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    torch.manual_seed(7)
    np.random.seed(7)  # noqa: NPY002 - FrEIA 0.2 draws its permutations here
    ref = paper_network()
    root = tmp_path_factory.mktemp("udt")
    state = {f"model.{k}": v for k, v in ref.state_dict().items()}
    state["discriminator_a.model.0.weight"] = torch.zeros(256, 100)  # dropped by the converter
    ckpt = root / "model_checkpoint.ckpt"
    torch.save({"epoch": 299, "pytorch-lightning_version": "1.9.0", "state_dict": state}, ckpt)
    cfg = root / "config.yaml"
    cfg.write_text(CONFIG, encoding="utf-8")
    out = root / "udt_hsi.safetensors"
    assert main(["import-udt", str(ckpt), "--config", str(cfg), "--out", str(out)]) == 0
    return ref, ckpt, cfg, out


def test_converted_model_reproduces_the_paper_network(converted):
    ref, _, _, out = converted
    model = load_model(out)
    assert model.hyper["reverse_permutation"] is True
    assert model.hyper["class_names"][:3] == ["bladder", "colon", "fat"]
    assert sum(p.numel() for p in model.flow.parameters() if p.requires_grad) > 3_000_000
    gen = torch.Generator().manual_seed(3)
    n = 400
    x = spectra(n, gen)
    organs = torch.randint(0, 10, (n,), generator=gen)
    c_a, c_b = paper_conditions(n, 0, organs, gen), paper_conditions(n, 1, organs, gen)
    with torch.no_grad():
        s = (x / torch.linalg.norm(x, ord=2, dim=1, keepdim=True) - STATS["mean_a"]) / STATS[
            "std_a"
        ]
        z_ref, jac_ref = ref(s, c=[c_a])
        x_ab_ref = ref(z_ref, c=[c_b], rev=True)[0] * STATS["std_b"] + STATS["mean_b"]
        z, log_det = model.encode(x, c_a[:, :2], classes=c_a[:, 2:])
        x_ab = model.decode(z, c_b[:, :2], classes=c_b[:, 2:])
    dz = float((z - z_ref).abs().max())
    dx = float((x_ab - x_ab_ref).abs().max())
    print(f"max |Δz| = {dz:.2e}, max |Δ log det| = {float((log_det - jac_ref).abs().max()):.2e}")
    print(f"max |Δ transfer| = {dx:.2e} (transfers span {float(x_ab_ref.abs().max()):.3f})")
    assert dz <= 1e-5
    assert dx <= 1e-5
    assert float((log_det - jac_ref).abs().max()) <= 1e-3  # a sum of 100·40 terms
    assert float(x_ab_ref.std()) > 1e-3  # the reference does something


def test_clean_one_hot_transfer_matches_the_paper_without_noise(converted):
    ref, _, _, out = converted
    model = load_model(out)
    x = spectra(50, torch.Generator().manual_seed(1))
    organs = torch.full((50,), 4)
    with torch.no_grad():
        seg = nn.functional.one_hot(organs, 10).float()
        c_a = torch.cat([torch.tensor([[1.0, 0.0]]).expand(50, 2), seg], 1)
        c_b = torch.cat([torch.tensor([[0.0, 1.0]]).expand(50, 2), seg], 1)
        s = (x / x.norm(dim=1, keepdim=True) - STATS["mean_a"]) / STATS["std_a"]
        want = ref(ref(s, c=[c_a])[0], c=[c_b], rev=True)[0] * STATS["std_b"] + STATS["mean_b"]
        got = model.transfer(x, "sim", "real", classes=organs)
    assert float((got - want).abs().max()) <= 1e-5


def test_statistics_from_the_command_line_and_clear_refusals(converted, tmp_path, capsys):
    _, ckpt, _, _ = converted
    out = tmp_path / "m.safetensors"
    assert main(["import-udt", str(ckpt), "--out", str(out)]) == 2
    assert "no mean for the sim domain" in capsys.readouterr().err
    args = ["--mean-sim", "0.1", "--std-sim", "0.01", "--mean-real", "0.1", "--std-real", "0.02"]
    assert main(["import-udt", str(ckpt), *args, "--out", str(out)]) == 0
    assert float(load_model(out).norm_std[1, 0]) == pytest.approx(0.02)
    assert main(["import-udt", str(ckpt), *args, "--out", str(out)]) == 2  # exists: no --force
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_blocks: 20\n", encoding="utf-8")
    assert main(["import-udt", str(ckpt), "--config", str(bad), *args, "--out", str(out)]) == 2
    assert "n_blocks is 20 but the weights have 40" in capsys.readouterr().err
    stats = tmp_path / "data_stats.json"
    stats.write_text(
        '{"train_synthetic_unique": {"mean": 0.1, "std": 0.004}, "train": {"mean": 0.1, '
        '"std": 0.009}}',
        encoding="utf-8",
    )
    assert (
        main(["import-udt", str(ckpt), "--data-stats", str(stats), "--out", str(out), "--force"])
        == 0
    )
    assert float(load_model(out).norm_std[0, 0]) == pytest.approx(0.004)
    assert main(["export", str(ckpt), "--out", str(tmp_path / "e.safetensors")]) == 2
    assert "convert it with `cinn-train import-udt`" in capsys.readouterr().err
    ours = tmp_path / "ours.ckpt"
    torch.save({"state_dict": {"flow.x": torch.zeros(1)}}, ours)
    assert main(["import-udt", str(ours), *args, "--out", str(out)]) == 2
    assert "not a UDT-cINN checkpoint" in capsys.readouterr().err
