#!/usr/bin/python3
"""Write an ImageNet-style classification dataset from Fashion-MNIST (Debian: dataset-fashion-mnist).

Layout: OUT/train/<class_name>/*.png and OUT/val/<class_name>/*.png, one folder per class, named after the
ten Fashion-MNIST classes (lowercase, spaces and slashes replaced by '_'). Each 28x28 grey item is resized
to --size x --size (cv2.INTER_LINEAR; untouched when --size 28) and stored as a 3-channel PNG (grey copied
to B, G and R), so that training at imgsz == size needs no interpolation. Per class, --train and --val items
are drawn without replacement with numpy's default_rng(--seed); file names give the idx split and the
item's index in it (e.g. train_01234.png). Deterministic for a given --seed.
Ultralytics (torchvision ImageFolder) numbers the classes in sorted folder-name order, not in
Fashion-MNIST label order.
usage: make_fashion_cls.py OUT --train N --val M --seed K [--items train|t10k] [--size 32] [--src DIR]

(A copy of the project's ../shared/tools/make_fashion_cls.py, so that benchmarks/peers runs without it; the idx
reader is make_fashion_det.py's.)
"""
import argparse, pathlib
import numpy as np, cv2

from make_fashion_det import load  # the idx files of Fashion-MNIST

SRC = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist
LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
NAMES = [n.lower().replace(" ", "_").replace("/", "_") for n in LABELS]  # index = Fashion-MNIST label


def write(out, split, src, xs, idx, label, size):
    d = out / split / NAMES[label]
    d.mkdir(parents=True, exist_ok=True)
    for i in sorted(int(k) for k in idx):
        im = xs[i] if size == 28 else cv2.resize(xs[i], (size, size), interpolation=cv2.INTER_LINEAR)
        cv2.imwrite(str(d / f"{src}_{i:05d}.png"), cv2.cvtColor(im, cv2.COLOR_GRAY2BGR))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--train", type=int, default=20, help="train images per class")
    p.add_argument("--val", type=int, default=20, help="val images per class")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--size", type=int, default=32, help="output images are size x size")
    p.add_argument("--src", default=SRC, help="folder with the Fashion-MNIST idx .gz files")
    p.add_argument("--items", choices=("train", "t10k"), default=None,
                   help="take items for both splits from this idx split, disjoint (default: train items for train, "
                        "t10k items for val)")
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    out = pathlib.Path(a.out)
    if a.items:
        xs, ys = load(a.src, a.items)
        for c in range(len(NAMES)):
            pick = rng.choice(np.flatnonzero(ys == c), a.train + a.val, replace=False)
            write(out, "train", a.items, xs, pick[:a.train], c, a.size)
            write(out, "val", a.items, xs, pick[a.train:], c, a.size)
    else:
        for split, n, src in (("train", a.train, "train"), ("val", a.val, "t10k")):
            xs, ys = load(a.src, src)
            for c in range(len(NAMES)):
                write(out, split, src, xs, rng.choice(np.flatnonzero(ys == c), n, replace=False), c, a.size)


if __name__ == "__main__":
    main()
