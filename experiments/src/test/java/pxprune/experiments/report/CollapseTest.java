package pxprune.experiments.report;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import pxprune.nn.Conv2d;
import pxprune.nn.ModelRegistry;
import pxprune.nn.Module;
import pxprune.px.Masks;

/**
 * Layer collapse on the digits ResNet-20 (1x8x8 inputs: stage 1 at 8x8, stage 2 at 4x4, stage 3 at
 * 2x2; blocks.0-2, 3-5, 6-8; blocks.3 and blocks.6 downsample through shortcut.0).
 */
class CollapseTest {
    static Module model;
    static final int[] SAMPLE = {1, 1, 8, 8};

    @BeforeAll static void create() { model = ModelRegistry.create("resnet20", 1, 10, 8, 0); }

    @AfterAll static void close() { model.close(); }

    static void empty(Map<String, float[]> v, String... layers) {
        for (String l : layers) Arrays.fill(v.get(l), 0f);
    }

    @Test void theResidualBranchesAreTheBlocksOwnConvolutions() {
        Map<String, List<Conv2d>> b = Collapse.residualBranches(model);
        assertEquals(List.of("blocks.0", "blocks.1", "blocks.2", "blocks.3", "blocks.4", "blocks.5", "blocks.6", "blocks.7", "blocks.8"),
                List.copyOf(b.keySet()));
        Map<String, pxprune.nn.Module> modules = model.namedModules();
        assertEquals(List.of(modules.get("blocks.6.conv1"), modules.get("blocks.6.conv2")), b.get("blocks.6"), "not shortcut.0");
    }

    @Test void allKeptCollapsesNothing() {
        Collapse c = Collapse.of(model, Masks.ones(model), SAMPLE);
        assertEquals(new Collapse(22, List.of(), 9, List.of(), 10, 10), c);
    }

    @Test void emptiedStageThreeBranchesLeaveTheOutputsReachableThroughTheShortcuts() {
        Map<String, float[]> v = Fixtures.ones();
        empty(v, "blocks.6.conv1.weight", "blocks.6.conv2.weight", "blocks.7.conv1.weight", "blocks.7.conv2.weight",
                "blocks.8.conv1.weight", "blocks.8.conv2.weight");
        Collapse c = Collapse.of(model, Masks.of(v, Fixtures.shapes()), SAMPLE);
        assertEquals(List.of("blocks.6.conv1.weight", "blocks.6.conv2.weight", "blocks.7.conv1.weight", "blocks.7.conv2.weight",
                "blocks.8.conv1.weight", "blocks.8.conv2.weight"), c.emptyLayers());
        assertEquals(List.of("blocks.6", "blocks.7", "blocks.8"), c.emptyBranches());
        assertEquals(10, c.reachable(), "blocks.6.shortcut.0 and the identities of blocks.7 and 8 carry every path");
        assertEquals(10, c.outputs());

        empty(v, "blocks.6.shortcut.0.weight"); // now stage 3 passes nothing at all
        Collapse cut = Collapse.of(model, Masks.of(v, Fixtures.shapes()), SAMPLE);
        assertEquals(0, cut.reachable());
        assertEquals(7, cut.emptyLayers().size());
    }

    @Test void oneEmptyConvolutionEmptiesItsBranch() {
        Map<String, float[]> v = Fixtures.ones();
        empty(v, "blocks.4.conv2.weight");
        Collapse c = Collapse.of(model, Masks.of(v, Fixtures.shapes()), SAMPLE);
        assertEquals(List.of("blocks.4"), c.emptyBranches());
        assertEquals(10, c.reachable());
    }

    @Test void aBranchWithoutAnEmptyLayerCanStillCarryNothing() {
        // blocks.1 (16 -> 16 channels, 3x3): conv1 keeps only output channel 0, conv2 reads only input channel 1
        Map<String, float[]> v = Fixtures.ones();
        float[] c1 = v.get("blocks.1.conv1.weight"), c2 = v.get("blocks.1.conv2.weight");
        for (int i = 0; i < c1.length; i++) c1[i] = i / (16 * 9) == 0 ? 1 : 0;
        for (int i = 0; i < c2.length; i++) c2[i] = (i / 9) % 16 == 1 ? 1 : 0;
        Collapse c = Collapse.of(model, Masks.of(v, Fixtures.shapes()), SAMPLE);
        assertEquals(List.of(), c.emptyLayers());
        assertEquals(List.of("blocks.1"), c.emptyBranches());
        // conv2 reading channel 0 instead links them: not emptied
        for (int i = 0; i < c2.length; i++) c2[i] = (i / 9) % 16 == 0 ? 1 : 0;
        assertEquals(List.of(), Collapse.of(model, Masks.of(v, Fixtures.shapes()), SAMPLE).emptyBranches());
    }

    @Test void pathsThatDoNotFitTheFeatureMapDoNotCount() {
        // blocks.7 works on 2x2 maps; both its convolutions keep only the kernel tap (2, 2), which reads the pixel one down and
        // one right: two such steps need a map of at least 3x3, so no path crosses the branch although every channel pair is linked
        Map<String, float[]> v = Fixtures.ones();
        for (String l : new String[] {"blocks.7.conv1.weight", "blocks.7.conv2.weight"}) {
            float[] m = v.get(l);
            for (int i = 0; i < m.length; i++) m[i] = i % 9 == 8 ? 1 : 0;
        }
        assertEquals(List.of("blocks.7"), Collapse.of(model, Masks.of(v, Fixtures.shapes()), SAMPLE).emptyBranches());
        // the same in stage 1 (8x8 maps) fits: not emptied
        Map<String, float[]> w = Fixtures.ones();
        for (String l : new String[] {"blocks.1.conv1.weight", "blocks.1.conv2.weight"}) {
            float[] m = w.get(l);
            for (int i = 0; i < m.length; i++) m[i] = i % 9 == 8 ? 1 : 0;
        }
        assertEquals(List.of(), Collapse.of(model, Masks.of(w, Fixtures.shapes()), SAMPLE).emptyBranches());
    }
}
