"""Explaining a model's decisions (as Captum does for PyTorch): attributions of the target class's output to each
input element (saliency, gradient x input, SmoothGrad, integrated gradients, occlusion), class-activation maps of a
conv layer (Grad-CAM, Grad-CAM++), per-token scores and attention weights of text models, and their plots."""

from shendu.explain.attention import attention_weights
from shendu.explain.grad_cam import grad_cam
from shendu.explain.grad_cam_plus_plus import grad_cam_plus_plus
from shendu.explain.gradient_x_input import gradient_x_input
from shendu.explain.integrated_gradients import integrated_gradients
from shendu.explain.occlusion import occlusion
from shendu.explain.plot import plot_attributions, plot_token_attributions
from shendu.explain.saliency import saliency
from shendu.explain.smooth_grad import smooth_grad
from shendu.explain.tokens import token_attributions

__all__ = [
    "attention_weights",
    "grad_cam",
    "grad_cam_plus_plus",
    "gradient_x_input",
    "integrated_gradients",
    "occlusion",
    "plot_attributions",
    "plot_token_attributions",
    "saliency",
    "smooth_grad",
    "token_attributions",
]
