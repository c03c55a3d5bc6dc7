"""Reference outputs of Ultralytics' classification transforms, as torchvision 0.14 applies them to PIL
images (Pillow 9.4): `python3 make_fixtures.py` (Debian 12's python3-torchvision) rewrites the PNGs here.

input.png (41x27) and portrait.png (27x41) are deterministic RGB images; every other file is one
transform of one of them, named <transform>.png, for classify_augment_test.cpp.
"""
import math

import numpy as np
from PIL import Image
import torchvision.transforms as T
import torchvision.transforms.functional as F
from torchvision.transforms.autoaugment import _apply_op

rng = np.random.default_rng(0)
y, x = np.mgrid[0:27, 0:41]
base = np.stack([x * 6, y * 9, (x + y) * 3], axis=-1).astype(np.float64)
image = np.clip(base + rng.normal(0, 25, base.shape), 0, 255).astype(np.uint8)
landscape = Image.fromarray(image, "RGB")
portrait = Image.fromarray(np.ascontiguousarray(image.transpose(1, 0, 2)), "RGB")
landscape.save("input.png")
portrait.save("portrait.png")


def eval_transform(img, size):  # Ultralytics' classify_transforms without ToTensor/Normalize
    return T.CenterCrop(size)(T.Resize(size, interpolation=T.InterpolationMode.BILINEAR)(img))


outputs = {
    "eval_16": eval_transform(landscape, 16),
    "eval_20_portrait": eval_transform(portrait, 20),
    "eval_64": eval_transform(landscape, 64),
    "resize_13x9": landscape.resize((13, 9), Image.BILINEAR),
    "resize_90x50": landscape.resize((90, 50), Image.BILINEAR),
    "brightness_1.3": F.adjust_brightness(landscape, 1.3),
    "brightness_0.4": F.adjust_brightness(landscape, 0.4),
    "contrast_0.6": F.adjust_contrast(landscape, 0.6),
    "contrast_1.7": F.adjust_contrast(landscape, 1.7),
    "saturation_1.5": F.adjust_saturation(landscape, 1.5),
    "sharpness_1.8": F.adjust_sharpness(landscape, 1.8),
    "hue_0.2": F.adjust_hue(landscape, 0.2),
    "hue_-0.3": F.adjust_hue(landscape, -0.3),
    "posterize_5": F.posterize(landscape, 5),
    "solarize_178.5": F.solarize(landscape, 178.5),
    "autocontrast": F.autocontrast(landscape),
    "equalize": F.equalize(landscape),
    "invert": F.invert(landscape),
}
bilinear = T.InterpolationMode.BILINEAR
for name, op, magnitude in [("rotate_9", "Rotate", 9.0), ("shearx_0.09", "ShearX", 0.09),
                            ("sheary_-0.2", "ShearY", -0.2), ("translatex_5", "TranslateX", 5.0),
                            ("translatey_-7", "TranslateY", -7.0)]:
    outputs[name] = _apply_op(landscape, op, magnitude, interpolation=bilinear, fill=None)
for name, img in outputs.items():
    img.save(f"{name}.png")
print(f"wrote {len(outputs) + 2} files")
