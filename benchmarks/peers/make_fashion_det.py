#!/usr/bin/python3
"""Compose a YOLO-format detection dataset from Fashion-MNIST items (Debian: dataset-fashion-mnist).

Each image is a canvas with a textured background and 1..max_obj clothing items, scaled and tinted;
labels are YOLO txt (class cx cy w h, normalized). Deterministic for a given --seed.
usage: make_fashion_det.py OUT --train N --val M --imgsz S --seed K [--src DIR] [--items t10k]

(A copy of the project's ../shared/tools/make_fashion_det.py, so that benchmarks/peers runs without it.)
"""
import argparse, gzip, os, pathlib
import numpy as np, cv2

SRC = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist
NAMES = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"]


def load(src, split):
    with gzip.open(f"{src}/{split}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(f"{src}/{split}-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, y


def background(rng, w, h):
    base = rng.integers(0, 256, 3).astype(np.float32)
    g = cv2.resize(rng.integers(0, 256, (8, 8, 3)).astype(np.uint8), (w, h), interpolation=cv2.INTER_CUBIC)
    noise = rng.normal(0, 12, (h, w, 3))
    return np.clip(0.5 * base + 0.5 * g + noise, 0, 255).astype(np.uint8)


def scene(rng, xs, ys, w, h, max_obj):
    img = background(rng, w, h)
    s = min(w, h)
    labels, boxes = [], []
    for _ in range(rng.integers(1, max_obj + 1)):
        i = rng.integers(len(xs))
        item = xs[i]
        size = int(rng.integers(max(12, s // 16), s // 3))
        patch = cv2.resize(item, (size, size), interpolation=cv2.INTER_LINEAR)
        ys_, xs_ = np.nonzero(patch > 20)
        if len(xs_) == 0:
            continue
        x0, y0 = rng.integers(0, w - size), rng.integers(0, h - size)
        bx = (x0 + xs_.min(), y0 + ys_.min(), x0 + xs_.max() + 1, y0 + ys_.max() + 1)
        if any(iou(bx, b) > 0.3 for b in boxes):
            continue
        color = rng.integers(40, 256, 3).astype(np.float32)
        alpha = (patch.astype(np.float32) / 255.0)[..., None]
        roi = img[y0:y0 + size, x0:x0 + size].astype(np.float32)
        img[y0:y0 + size, x0:x0 + size] = (roi * (1 - alpha) + alpha * color * (0.6 + 0.4 * alpha)).clip(0, 255).astype(np.uint8)
        boxes.append(bx)
        labels.append((int(ys[i]), (bx[0] + bx[2]) / 2 / w, (bx[1] + bx[3]) / 2 / h, (bx[2] - bx[0]) / w, (bx[3] - bx[1]) / h))
    return img, labels


def iou(a, b):
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0])); iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-9)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out"); p.add_argument("--train", type=int, default=256); p.add_argument("--val", type=int, default=64)
    p.add_argument("--imgsz", type=int, default=320); p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sizes", default=None, help="comma list of WxH canvases cycled per image (default imgsz x imgsz)")
    p.add_argument("--max-obj", type=int, default=6)
    p.add_argument("--src", default=SRC, help="folder with the Fashion-MNIST idx .gz files")
    p.add_argument("--items", choices=("train", "t10k"), default=None,
                   help="take items for both splits from this idx split (default: train items for train, t10k for val)")
    a = p.parse_args()
    rng = np.random.default_rng(a.seed)
    out = pathlib.Path(a.out)
    for split, n, src in (("train", a.train, a.items or "train"), ("val", a.val, a.items or "t10k")):
        xs, ys = load(a.src, src)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        sizes = [tuple(map(int, t.split("x"))) for t in a.sizes.split(",")] if a.sizes else [(a.imgsz, a.imgsz)]
        for k in range(n):
            w, h = sizes[k % len(sizes)]
            img, labels = scene(rng, xs, ys, w, h, a.max_obj)
            cv2.imwrite(str(out / "images" / split / f"{k:06d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
            with open(out / "labels" / split / f"{k:06d}.txt", "w") as f:
                f.writelines(f"{c} {x:.6f} {y:.6f} {w:.6f} {h:.6f}\n" for c, x, y, w, h in labels)
    with open(out / "data.yaml", "w") as f:
        f.write(f"# Fashion-MNIST items composed into detection scenes (seed {a.seed})\n")
        f.write("train: images/train\nval: images/val\nnames:\n")
        f.writelines(f"  {i}: {n}\n" for i, n in enumerate(NAMES))


if __name__ == "__main__":
    main()
