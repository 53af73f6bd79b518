package pxprune.px;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import pxprune.core.Tensor;
import pxprune.nn.Conv2d;
import pxprune.nn.Linear;
import pxprune.nn.Module;
import pxprune.nn.Prunable;

/**
 * A prunable weight ({@link Prunable#prunableWeights}: the {@code weight} of every Conv2d and
 * Linear module, chosen by type, never by name) with the module that owns it, so that auxiliary
 * networks can substitute it. {@code name} is the qualified parameter name; {@code bias} may be null.
 */
public record PrunableLayer(String name, Module module, Tensor weight, Tensor bias) {

    /** the prunable layers of a model, in registration (state-dict) order */
    public static List<PrunableLayer> of(Module model) {
        Map<String, Module> modules = model.namedModules();
        List<PrunableLayer> out = new ArrayList<>();
        Prunable.prunableWeights(model).forEach((name, w) -> {
            Module m = modules.get(name.equals("weight") ? "" : name.substring(0, name.length() - ".weight".length()));
            Tensor bias = m instanceof Conv2d c ? c.bias() : m instanceof Linear l ? l.bias() : null;
            if (m == null || (!(m instanceof Conv2d) && !(m instanceof Linear)))
                throw new IllegalStateException("internal: prunable weight " + name + " does not belong to a Conv2d or Linear module");
            out.add(new PrunableLayer(name, m, w, bias));
        });
        return out;
    }

    public int[] shape() { return weight.shape(); }

    public long numel() { return weight.numel(); }
}
