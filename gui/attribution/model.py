"""What the attribution tab shows, as a widget-free model: the image, the class, the method and results.

:class:`AttributionModel` holds the picture being explained (a validation image, a dropped or drawn
one), the class whose evidence is sought (predicted, true or any), the settings of saliency
(SmoothGrad ``n`` and ``sigma``), occlusion (patch and stride) and top patches (layer, filter, how
many validation images), and the latest results. :meth:`saliency_job`, :meth:`occlusion_job` and
:meth:`top_patches_job` return plain callables ``job(on_progress, should_stop)`` over a model copy,
for a background thread. Events (plain callbacks, no Qt): ``image``, ``result``, ``top``.
"""

from __future__ import annotations

import numpy as np

from engine import attribution as attr
from engine.layers import Conv2D
from gui.i18n import tr
from gui.theater.events import Events

CLASS_PREDICTED = "predicted"
CLASS_TRUE = "true"


def heat_map(result) -> np.ndarray | None:
    """``(H, W)`` in [0, 1] for the overlay: a saliency map scaled by its maximum, or the occlusion's
    probability drops (increases of the probability count as 0) scaled by the largest drop; NaN where
    occlusion has not been computed yet."""
    if result is None:
        return None
    if isinstance(result, attr.Saliency):
        m = np.asarray(result.map, np.float64)
        top = float(m.max()) if m.size else 0.0
        return m / top if top > 0 else np.zeros_like(m)
    drops = np.clip(np.asarray(result.pixel_map, np.float64), 0.0, None)
    finite = drops[np.isfinite(drops)]
    top = float(finite.max()) if finite.size else 0.0
    return drops / top if top > 0 else np.where(np.isfinite(drops), 0.0, np.nan)


class AttributionModel:
    """The picture, the class and the methods of the attribution tab.

    Attributes
    ----------
    x : ``(C, H, W)`` float32 in [0, 1] or None; ``label`` its true class (None for a dropped image)
    description : where the picture comes from (for the title)
    class_choice : ``"predicted"``, ``"true"`` or a class index
    smooth, n, sigma : SmoothGrad on/off, noisy copies, noise as a fraction of the pixel range
    patch, stride : occlusion square and step in pixels
    layer_index, filter_index, n_images : top patches over the first ``n_images`` validation images
    result : the latest :class:`~engine.attribution.Saliency` or :class:`~engine.attribution.Occlusion`
    top : the latest :class:`~engine.attribution.TopPatches`
    """

    def __init__(self):
        self.events = Events("image", "result", "top")
        self.x: np.ndarray | None = None
        self.label: int | None = None
        self.description = ""
        self.class_choice: str | int = CLASS_PREDICTED
        self.smooth = False
        self.n = 25
        self.sigma = 0.15
        self.patch = 4
        self.stride = 2
        self.layer_index: int | None = None
        self.filter_index = 0
        self.n_images = 500
        self.result = None
        self.top = None

    def set_image(self, x, label: int | None, description: str) -> None:
        """A new picture: the previous result belongs to the old one and is dropped."""
        self.x = None if x is None else np.ascontiguousarray(x, np.float32)
        self.label = None if label is None else int(label)
        self.description = description
        self.result = None
        self.events.image()
        self.events.result()

    def set_result(self, result) -> None:
        self.result = result
        self.events.result()

    def set_top(self, top) -> None:
        self.top = top
        self.events.top()

    # -- the class ----------------------------------------------------------------------------------
    def class_index(self) -> int | None:
        """The class to explain; None means "the predicted one" (the engine takes the argmax)."""
        if self.class_choice == CLASS_TRUE:
            return self.label
        if self.class_choice == CLASS_PREDICTED:
            return None
        return int(self.class_choice)

    def check(self, model) -> str:
        """Why nothing can be computed (translated), or ``""``."""
        if model is None:
            return tr("There is no model yet: open a dataset first.")
        if self.x is None:
            return tr("Choose a validation image, or drop or draw one, to see which pixels mattered.")
        if tuple(self.x.shape) != tuple(model.input_shape):
            return tr("The model expects {} images but this image is {}: pick a dataset sample.").format(
                "x".join(map(str, model.input_shape)), "x".join(map(str, self.x.shape)))
        return ""

    # -- jobs for a background thread --------------------------------------------------------------
    def saliency_job(self, model):
        """``job(on_progress, should_stop) -> Saliency`` on ``model`` (a copy the job may overwrite)."""
        x, k, smooth, n, sigma = self.x.copy(), self.class_index(), self.smooth, int(self.n), float(self.sigma)

        def job(on_progress, should_stop):
            if not smooth:
                result = attr.saliency(model, x, k)
                on_progress(1, 1)
                return result
            return attr.smoothgrad(model, x, k, n=n, sigma=sigma, on_progress=on_progress, should_stop=should_stop)
        return job

    def occlusion_job(self, model, batch_size: int = 32):
        """``job(on_progress, should_stop) -> Occlusion``; small batches keep the progress and Cancel lively."""
        x, k, patch, stride = self.x.copy(), self.class_index(), int(self.patch), int(self.stride)

        def job(on_progress, should_stop):
            return attr.occlusion(model, x, k, patch=patch, stride=stride, batch_size=batch_size,
                                  on_progress=on_progress, should_stop=should_stop)
        return job

    def top_patches_job(self, model, images):
        """``job(on_progress, should_stop) -> TopPatches`` over ``images`` (uint8 ``(N, C, H, W)``)."""
        li, f, images = self.layer_index, int(self.filter_index), images[:max(int(self.n_images), 1)]

        def job(on_progress, should_stop):
            return attr.top_patches(model, li, f, images, k=9, batch_size=32, on_progress=on_progress,
                                    should_stop=should_stop)
        return job


def conv_layers(model) -> list[tuple[int, str]]:
    """``(index, name)`` of every Conv2D of ``model`` (the layers with filters to look at)."""
    if model is None:
        return []
    return [(i, layer.name) for i, layer in enumerate(model.layers) if isinstance(layer, Conv2D)]
