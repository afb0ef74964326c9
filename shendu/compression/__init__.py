"""Model compression: magnitude and structured pruning, int8 quantization (post-training, calibrated, and
quantization-aware training), and knowledge distillation. TensorFlow Model Optimization's and Keras's names."""

from shendu.compression.distiller import Distiller
from shendu.compression.prune import count_nonzero_params, get_sparsity, prune_low_magnitude, strip_pruning
from shendu.compression.pruning_callbacks import PruningSummaries, UpdatePruningStep
from shendu.compression.pruning_schedule import ConstantSparsity, PolynomialDecay, PruningSchedule
from shendu.compression.pruning_wrapper import PruneLowMagnitude
from shendu.compression.qat import (
    QuantizeWrapper,
    quantize_annotate_layer,
    quantize_apply,
    quantize_model,
    strip_quantization,
)
from shendu.compression.quantization import calibrate, quantize
from shendu.compression.quantized_layers import QuantizedConv1D, QuantizedConv2D, QuantizedDense, QuantizedEmbedding
from shendu.compression.structured import prune_structured

__all__ = [
    "ConstantSparsity", "Distiller", "PolynomialDecay", "PruneLowMagnitude", "PruningSchedule", "PruningSummaries",
    "QuantizeWrapper", "QuantizedConv1D", "QuantizedConv2D", "QuantizedDense", "QuantizedEmbedding",
    "UpdatePruningStep", "calibrate", "count_nonzero_params", "get_sparsity", "prune_low_magnitude",
    "prune_structured", "quantize", "quantize_annotate_layer", "quantize_apply", "quantize_model", "strip_pruning",
    "strip_quantization",
]
