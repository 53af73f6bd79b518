package pxprune.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import pxprune.core.Tensor;

/** Which parameters pruning acts on: the {@code weight} of every convolution and linear layer. */
public final class Prunable {
    private Prunable() {}

    /**
     * The weight of every {@link Conv2d} and {@link Linear} module (the output layer included), by
     * qualified parameter name ({@code blocks.3.shortcut.0.weight}), in module order. The tensors
     * are the model's own (live) parameters.
     *
     * @throws IllegalArgumentException if the model has no convolution or linear layer
     */
    public static Map<String, Tensor> prunableWeights(Module model) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        model.namedModules().forEach((name, m) -> {
            Tensor w = m instanceof Conv2d c ? c.weight() : m instanceof Linear l ? l.weight() : null;
            if (w != null) out.put(name.isEmpty() ? "weight" : name + ".weight", w);
        });
        if (out.isEmpty())
            throw new IllegalArgumentException("the model (" + model.getClass().getSimpleName() + ") has no prunable weights: "
                    + "pruning acts on the weights of Conv2d and Linear modules, and it has none");
        return Collections.unmodifiableMap(out);
    }
}
