package pxprune.px;

import java.util.ArrayList;
import java.util.List;
import pxprune.nn.Module;

/**
 * Puts a model in eval mode and, on close, gives every module back its own training flag
 * (restored in pre-order, parents before children, so mixed flags survive).
 */
public final class EvalMode implements AutoCloseable {
    private final List<Module> modules;
    private final boolean[] flags;

    public EvalMode(Module model) {
        modules = new ArrayList<>(model.namedModules().values());
        flags = new boolean[modules.size()];
        for (int i = 0; i < flags.length; i++) flags[i] = modules.get(i).isTraining();
        model.eval();
    }

    @Override public void close() {
        for (int i = 0; i < flags.length; i++) modules.get(i).train(flags[i]);
    }
}
