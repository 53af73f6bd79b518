package pxprune.px;

import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.Module;

/**
 * A pruning criterion: one score per prunable weight, higher meaning more important (the pruner
 * keeps the highest). Contract:
 * <ul>
 *   <li>the result maps every prunable weight's qualified name ({@link PrunableLayer#name()}, in
 *       registration order) to a tensor of the weight's shape, F32 or F64, on the CPU whatever the
 *       model's device (the selection, {@link TopK}, runs on the host; PX on CUDA downloads its
 *       float64 scores once per call);</li>
 *   <li>scores are computed at theta * mask, so a pruned weight never scores above zero;</li>
 *   <li>the model is left exactly as it was found: parameters, buffers (batch-norm running
 *       statistics and num_batches_tracked), gradients and training flags;</li>
 *   <li>the returned tensors belong to the caller's current {@link pxprune.core.MemoryScope}
 *       (or to the caller, outside any scope).</li>
 * </ul>
 */
public interface Scorer {
    Map<String, Tensor> score(Module model, Masks masks, ScoringData data);

    /** the registry name */
    String name();
}
