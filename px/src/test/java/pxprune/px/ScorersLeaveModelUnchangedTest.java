package pxprune.px;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.methods.ScorerRegistry;

/** A scorer leaves the model exactly as it found it: parameters, buffers, gradients, training flags. */
class ScorersLeaveModelUnchangedTest {
    static List<String> methods() { return ScorerRegistry.names(); }

    record Snapshot(Map<String, Tensor> identity, Map<String, double[]> values, Map<String, double[]> grads,
                    Map<String, Boolean> requiresGrad, Map<String, Boolean> training) {
        static Snapshot of(Module m) {
            Map<String, double[]> v = new LinkedHashMap<>(), g = new LinkedHashMap<>();
            Map<String, Boolean> rg = new LinkedHashMap<>(), tr = new LinkedHashMap<>();
            m.stateDict().forEach((k, t) -> v.put(k, t.toDoubleArray()));
            m.namedParameters().forEach((k, t) -> {
                g.put(k, t.grad() == null ? null : t.grad().toDoubleArray());
                rg.put(k, t.requiresGrad());
            });
            m.namedModules().forEach((k, mod) -> tr.put(k, mod.isTraining()));
            return new Snapshot(new LinkedHashMap<>(m.stateDict()), v, g, rg, tr);
        }

        void assertSameAs(Snapshot o, String who) {
            assertEquals(identity.keySet(), o.identity.keySet(), who);
            identity.forEach((k, t) -> assertSame(t, o.identity.get(k), who + ": tensor object of " + k));
            values.forEach((k, a) -> assertArrayEquals(a, o.values.get(k), who + ": values of " + k));
            grads.forEach((k, a) -> {
                if (a == null) assertEquals(null, o.grads.get(k), who + ": grad of " + k + " appeared");
                else assertArrayEquals(a, o.grads.get(k), who + ": grad of " + k);
            });
            assertEquals(requiresGrad, o.requiresGrad, who + ": requiresGrad flags");
            assertEquals(training, o.training, who + ": training flags");
        }
    }

    /** a training step's worth of state: running statistics moved, num_batches_tracked > 0, gradients present */
    static void dirty(Module model, Tensor x, int classes) {
        model.train(true);
        try (MemoryScope s = MemoryScope.open()) {
            Tensor loss = Ops.crossEntropy(model.forward(x), Tensor.ofInts(new int[x.size(0)], x.size(0)));
            loss.backward();
        }
    }

    static List<Module> models(List<Tensor> inputs) {
        List<Module> out = new ArrayList<>();
        out.add(new TinyModels.Cnn(1, true, true));
        inputs.add(TinyModels.randomInputs(1, 6, 1, 4, 4));
        out.add(new TinyModels.Mlp(2, true, 5, 7, 3));
        inputs.add(TinyModels.randomInputs(2, 6, 5));
        out.add(ModelRegistry.create("resnet20", 1, 10, 8, 1));
        inputs.add(TinyModels.randomInputs(3, 6, 1, 8, 8));
        return out;
    }

    @ParameterizedTest
    @MethodSource("methods")
    void leavesTheModelUnchanged(String method) {
        List<Tensor> inputs = new ArrayList<>();
        List<Module> models = MemoryScope.unscoped(() -> models(inputs));
        try {
            for (int i = 0; i < models.size(); i++) {
                Module model = models.get(i);
                Tensor x = inputs.get(i);
                int classes = model.forward(x).size(1);
                dirty(model, x, classes);
                // mixed flags: the model in training mode, its first child in eval mode
                model.children().values().iterator().next().eval();
                Masks masks = TinyModels.randomMasks(model, 0.7, i);
                Snapshot before = Snapshot.of(model);
                assertNotNull(before.grads.values().iterator().next(), "the test model should carry gradients");
                try (MemoryScope s = MemoryScope.open()) {
                    int[] labels = new int[x.size(0)];
                    for (int j = 0; j < labels.length; j++) labels[j] = j % classes;
                    Map<String, Tensor> sc = ScorerRegistry.create(method).score(model, masks, new ScoringData(x, labels, classes, 5));
                    assertEquals(masks.names(), List.copyOf(sc.keySet()));
                    for (String n : masks.names()) assertArrayEquals(masks.shape(n), sc.get(n).shape(), n);
                    for (String n : masks.names()) {
                        float[] m = masks.values(n);
                        double[] v = sc.get(n).toDoubleArray();
                        for (int j = 0; j < v.length; j++) {
                            assertTrue(Double.isFinite(v[j]), method + " " + n + " non-finite");
                            if (m[j] == 0) assertEquals(0.0, v[j], 0.0, method + ": pruned weight " + n + "[" + j + "] scored " + v[j]);
                        }
                    }
                }
                Snapshot.of(model).assertSameAs(before, method + " on " + model.getClass().getSimpleName());
            }
        } finally {
            models.forEach(Module::close);
            inputs.forEach(Tensor::close);
        }
    }
}
