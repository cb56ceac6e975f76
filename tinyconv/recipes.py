"""What the command line knows about each dataset: its images, its classes, and the recipe that trains a
good model on it when no option says otherwise.

A recipe is a dataset's run settings (:class:`tinyconv.run.settings.RunSettings`): the model, its
normalization, the optimizer and schedule, the batch size, the epochs and the augmentation. ``tinyconv train --dataset NAME`` uses NAME's recipe; every option given on the command line
replaces the recipe's value.
"""

from dataclasses import dataclass, field

from .data import cifar10, fashion_mnist
from .run.settings import RunSettings


@dataclass(frozen=True)
class ImageFormat:
    """How a dataset's images look, so that a new image can be prepared as the training images were.

    ``value_range`` is the range of the raw pixel values before the mean image is subtracted (0..16 for the
    digits, which count the set pixels of 4x4 blocks). ``background`` is 'dark' where the object is light on
    a dark ground (digits, clothing), None for photos. ``fit`` says how a new image is brought to the
    dataset's size: 'content' crops to the object's bounding box first (digits), 'pad' pads to a square
    (clothing), 'crop' cuts the centre square (photos), 'stretch' resizes it whatever its shape (a folder of
    your own images, whose training images were stretched so).
    """

    channels: int
    height: int
    width: int
    value_range: tuple
    background: object  # 'dark' or None
    fit: str


@dataclass(frozen=True)
class DatasetInfo:
    image: ImageFormat
    class_names: tuple
    recipe: RunSettings
    bundled: bool = False
    defaults: dict = field(default_factory=dict)  # the split sizes when not given

    @property
    def input_dim(self):
        return (self.image.channels, self.image.height, self.image.width)


DATASETS = {
    # The cs231n assignment's network on the bundled 8x8 digits: a few seconds on two cores.
    "digits": DatasetInfo(
        ImageFormat(1, 8, 8, (0, 16), "dark", "content"),
        tuple(str(digit) for digit in range(10)),
        RunSettings(model="three-layer"),
        bundled=True,
        defaults={"num_val": 200, "num_test": 200},
    ),
    "fashion-mnist": DatasetInfo(
        ImageFormat(1, 28, 28, (0, 255), "dark", "pad"),
        fashion_mnist.CLASS_NAMES,
        # Measured on 2 cores (README): test accuracy 0.931 in 16.0 minutes.
        RunSettings(model="c32p-c64-c64p-c128-f256-d0.5", normalization="batchnorm", init="pytorch", epochs=12,
               batch_size=128, update_rule="adam", lr=2e-3, lr_decay=1.0, lr_schedule="cosine", warmup_epochs=0.5,
               weight_decay=5e-4, augment="crop2-flip", keep="last"),
        defaults={"num_train": 59000, "num_val": 1000, "num_test": 10000},
    ),
    # Untuned: the usual small-ResNet recipe (crops, flips, cosine schedule), not yet measured on CIFAR-10.
    "cifar10": DatasetInfo(
        ImageFormat(3, 32, 32, (0, 255), None, "crop"),
        cifar10.CLASS_NAMES,
        RunSettings(model="c32-r32-r64p-r128p-g", normalization="batchnorm", init="pytorch", epochs=30, batch_size=128,
               update_rule="adam", lr=2e-3, lr_decay=1.0, lr_schedule="cosine", warmup_epochs=1.0,
               weight_decay=5e-4, augment="crop4-flip", keep="last"),
        defaults={"num_train": 49000, "num_val": 1000, "num_test": 1000},
    ),
}

# A folder of your own images (``--dataset folder:PATH``): untuned, a small network of pooled conv blocks and
# global pooling that takes any image size divisible by 4, with the recipe the other datasets share.
FOLDER_RECIPE = RunSettings(model="c16p-c32p-c64-g", normalization="batchnorm", init="pytorch", epochs=20,
                            batch_size=32, update_rule="adam", lr=2e-3, lr_decay=1.0, lr_schedule="cosine",
                            warmup_epochs=1.0, weight_decay=5e-4, keep="last")
