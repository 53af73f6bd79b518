package pxprune.experiments.explain;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Tensor;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.experiments.explain.Explain;
import pxprune.experiments.explain.Recorder;
import pxprune.experiments.explain.TinyNet;
import pxprune.px.Masks;
import pxprune.px.ScoringData;
import pxprune.px.TinyModels;
import pxprune.px.methods.ScorerRegistry;
import pxprune.px.methods.px.PathEnumeration;
import pxprune.px.methods.px.PxScorerTest;

/** explain's tiny network against the test suite's own path enumeration, and tracing that changes nothing. */
class ExplainTest {
    static PrintStream nowhere() { return new PrintStream(OutputStream.nullOutputStream(), false, StandardCharsets.UTF_8); }

    @Test void tinyNetworkEqualsPathEnumeration() {
        Explain.Result r = Explain.tiny(nowhere());
        try (MemoryScope s = MemoryScope.open(); TinyNet net = new TinyNet()) {
            Masks masks = net.masks();
            PathEnumeration g = new PathEnumeration();
            for (int l = 0; l < 3; l++) g.linear("fc" + l + ".weight", net.fc[l], masks, l < 2);
            double[][] x = PxScorerTest.rows(TinyNet.inputs());
            double[] minAbsZ = {Double.MAX_VALUE};
            Map<String, double[]> expected = g.pxScores(x, minAbsZ);
            assertTrue(minAbsZ[0] >= 0.25, "a pre-activation of the tiny example is near 0: " + minAbsZ[0]);
            assertEquals(List.copyOf(expected.keySet()), List.copyOf(r.scores().keySet()));
            double maxRef = 0, maxErr = 0;
            for (var e : expected.entrySet()) {
                double[] a = r.scores().get(e.getKey()), b = e.getValue();
                for (int i = 0; i < b.length; i++) {
                    maxRef = Math.max(maxRef, Math.abs(b[i]));
                    maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
                }
            }
            assertTrue(maxErr / maxRef <= 1e-12, "explain's scores vs path enumeration: " + maxErr / maxRef);
            assertEquals(1.0, r.r() / g.lastR, 1e-12, "R");
            // explain's own enumeration and conservation checks agree, and the gates it shows are the enumeration's
            assertTrue(r.pathError() <= 1e-12, "explain's path check: " + r.pathError());
            assertTrue(r.conservationError() <= 1e-12, "conservation: " + r.conservationError());
            assertEquals(3, r.cuts());
            List<Recorder.Values> gates = r.record().pass("gates").group("gate");
            for (int n = 0; n < 2; n++) {
                double[][] ge = g.gates(x[n], new double[] {1});
                for (int l = 0; l < 2; l++) {
                    double[] row = new double[4];
                    System.arraycopy(gates.get(l).v(), n * 4, row, 0, 4);
                    assertArrayEquals(ge[l], row, "gates of sample " + n + ", ReLU " + l);
                }
            }
            // the example is meant to show data-dependent w: the pruned output weight makes the two outputs differ
            double[] w = r.record().pass("w").get("w").v();
            assertTrue(w[0] != w[1], "w is uniform in the worked example");
        }
    }

    /** a trace that records every pass changes no score, for every scorer; the pass names are the documented ones */
    @Test void tracingChangesNothingAndNamesThePasses() {
        Map<String, List<String>> passes = Map.of("px", List.of("gates", "A", "w", "P forward", "P backward", "score"),
                "px_datafree", List.of("A", "w", "P forward", "P backward", "score"),
                "synflow", List.of("forward", "backward", "score"), "synflow_l2", List.of("forward", "backward", "score"),
                "snip", List.of("forward", "backward", "score"), "grasp", List.of("forward", "backward", "Hg backward", "score"),
                "magnitude", List.of("score"), "random", List.of("score"));
        try (MemoryScope s = MemoryScope.open(); Module model = ModelRegistry.create("resnet20", 1, 10, 8, 2)) {
            Tensor x = TinyModels.randomInputs(5, 10, 1, 8, 8);
            ScoringData data = new ScoringData(x, new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10, 3);
            Masks masks = TinyModels.randomMasks(model, 0.7, 1);
            for (String name : ScorerRegistry.names()) {
                Map<String, Tensor> plain = ScorerRegistry.create(name).score(model, masks, data);
                Recorder rec = new Recorder(model);
                Map<String, Tensor> traced = ScorerRegistry.create(name).score(model, masks, data.withTrace(rec));
                for (String layer : plain.keySet())
                    assertArrayEquals(plain.get(layer).toDoubleArray(), traced.get(layer).toDoubleArray(), name + " " + layer);
                List<String> seen = new ArrayList<>();
                for (Recorder.Pass p : rec.passes()) seen.add(p.name());
                assertEquals(passes.get(name), seen, name);
                for (Recorder.Pass p : rec.passes()) assertEquals(name, p.scorer());
            }
        }
    }
}
