#!/usr/bin/env python3
"""Makes the torchvision fixtures of tests/nn/torchvision_test.cpp with torchvision itself.

Run with Debian 12's python3-torch 1.13 and python3-torchvision 0.14 (apt-get install python3-torchvision):
    /usr/bin/python3 tests/data/torchvision/make_fixtures.py [--shared ../shared/reference]

Every model is made as ../shared/reference/tv_forward.json describes its two: torch.manual_seed(0), the
constructor, every BatchNorm2d perturbed in module order (running_mean = randn*0.1, running_var =
1 + rand*0.5, weight = 1 + 0.1*randn, bias = 0.1*randn) so that eval mode is not an identity, then
logits of the eval-mode model on tv_input.npy (torch.manual_seed(1); torch.rand(2, 3, 64, 64)).
ResNets go through fp16 (model.half().float()), as resnet18_nc10.pth is stored. With --shared the
script also checks that it remakes the reference files exactly.
"""
import argparse
import json
import os

import numpy as np
import torch
import torchvision
from torchvision.models.densenet import DenseNet

HERE = os.path.dirname(os.path.abspath(__file__))


def perturb_batch_norms(model):
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean = torch.randn(m.num_features) * 0.1
            m.running_var = 1 + torch.rand(m.num_features) * 0.5
            m.weight.data = 1 + 0.1 * torch.randn(m.num_features)
            m.bias.data = 0.1 * torch.randn(m.num_features)


def seeded(constructor, fp16):
    torch.manual_seed(0)
    model = constructor()
    perturb_batch_norms(model)
    if fp16:
        model = model.half().float()
    return model.eval()


def tv_input():
    torch.manual_seed(1)
    return torch.rand(2, 3, 64, 64)


def logits(model, x):
    with torch.no_grad():
        return model(x).numpy()


# name -> (constructor, fp16): the seeded models whose logits the C++ test remakes from torch::manual_seed(0).
SEEDED = {
    "resnet18_nc10": (lambda: torchvision.models.resnet18(num_classes=10), True),
    "resnext50_32x4d_nc10": (lambda: torchvision.models.resnext50_32x4d(num_classes=10), True),
    "wide_resnet50_2_nc10": (lambda: torchvision.models.wide_resnet50_2(num_classes=10), True),
    "densenet_g12_nc10": (lambda: DenseNet(growth_rate=12, block_config=(6, 12, 24, 16), num_init_features=24,
                                           num_classes=10), False),
}

# A torchvision state dict small enough to commit, stored in fp16 like resnet18_nc10.pth.
TINY = ("densenet_tiny_fp16", lambda: DenseNet(growth_rate=4, block_config=(2, 3), num_init_features=8,
                                               bn_size=2, num_classes=3))

# Archs whose "name shape" state_dict lines are committed.
STATE_NAMES = ["resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet161"]
# Archs beyond ../shared/reference/model_summaries.json whose sizes are committed.
EXTRA_COUNTS = ["resnext101_32x8d", "resnext101_64x4d", "wide_resnet101_2"]


def counts(model):
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "buffers": sum(b.numel() for b in model.buffers()),
        "state_dict_tensors": len(model.state_dict()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", help="../shared/reference, to check the remade reference files against")
    parser.add_argument("--out", default=HERE)
    args = parser.parse_args()
    out = args.out
    x = tv_input()
    np.save(os.path.join(out, "tv_input.npy"), x.numpy())

    # The random numbers the C++ test needs to draw exactly as torch does to remake SEEDED.
    torch.manual_seed(0)
    canary = [torch.randn(100), torch.rand(37), torch.empty(50).uniform_(-1, 1), torch.empty(3, 3).normal_(0, 2),
              torch.empty(16, 3, 3, 3).normal_(0, 0.1)]
    np.save(os.path.join(out, "rng_canary.npy"), torch.cat([t.flatten() for t in canary]).numpy())

    for name, (constructor, fp16) in SEEDED.items():
        model = seeded(constructor, fp16)
        y = logits(model, x)
        np.save(os.path.join(out, name + "_logits.npy"), y)
        print(f"{name}: logits {tuple(y.shape)}, max |logit| {np.abs(y).max():.4f}")
        reference = os.path.join(args.shared, name + ".pth") if args.shared else None
        if reference and os.path.exists(reference):
            stored = torch.load(reference)
            state = model.state_dict()
            assert list(stored) == list(state), name
            assert all(torch.equal(stored[k].to(v.dtype), v) for k, v in state.items()), name
            assert np.array_equal(np.load(os.path.join(args.shared, name + "_logits.npy")), y), name
            print(f"  remade {reference} and its logits exactly")

    name, constructor = TINY
    model = seeded(constructor, fp16=True)
    torch.save(model.half().state_dict(), os.path.join(out, name + ".pth"))
    np.save(os.path.join(out, name + "_logits.npy"), logits(model.float(), x))

    for arch in STATE_NAMES:
        model = getattr(torchvision.models, arch)()
        with open(os.path.join(out, arch + "_state_names.txt"), "w") as f:
            for key, value in model.state_dict().items():
                f.write(f"{key} {'x'.join(map(str, value.shape))}\n")
    extra = {f"{arch} num_classes=1000": counts(getattr(torchvision.models, arch)()) for arch in EXTRA_COUNTS}
    with open(os.path.join(out, "extra_counts.json"), "w") as f:
        json.dump({"torchvision": torchvision.__version__, **extra}, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
