package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class RunConfigTest {

    private static String error(String json) {
        return assertThrows(ConfigException.class, () -> RunConfig.parse(json)).getMessage();
    }

    @Test
    void recipesHaveThePapersHyperparameters() {
        RunConfig c10 = Recipes.get("cifar10_resnet20");
        assertEquals(List.of("cifar10", "resnet20", 0.1, 0.9, 1e-4, 128, 160, List.of(80, 120), false),
                List.of(c10.dataset(), c10.model(), c10.lr(), c10.momentum(), c10.weightDecay(), c10.batchSize(), c10.epochs(),
                        c10.milestones(), c10.nesterov()));
        RunConfig c100 = Recipes.get("cifar100_vgg16_bn");
        assertEquals(List.of("vgg16_bn", 5e-4, true, List.of(60, 120), 160, 0.1, 128),
                List.of(c100.model(), c100.weightDecay(), c100.nesterov(), c100.milestones(), c100.epochs(), c100.lr(), c100.batchSize()));
        RunConfig tiny = Recipes.get("tinyimagenet_resnet18");
        assertEquals(List.of("tiny-imagenet", 0.2, 256, 200, List.of(100, 150)),
                List.of(tiny.dataset(), tiny.lr(), tiny.batchSize(), tiny.epochs(), tiny.milestones()));
        RunConfig in = Recipes.get("imagenet_resnet50");
        assertEquals(List.of("resnet50", 90, List.of(30, 60, 80), 0.1, 256),
                List.of(in.model(), in.epochs(), in.milestones(), in.lr(), in.batchSize()));
        RunConfig fr = Recipes.get("fashion_mnist_resnet20"), fv = Recipes.get("fashion_mnist_vgg16_bn");
        assertEquals(List.of("fashion_mnist", "resnet20", true), List.of(fr.dataset(), fr.model(), fr.augment()));
        assertEquals(List.of("fashion_mnist", "vgg16_bn", true), List.of(fv.dataset(), fv.model(), fv.augment()));
        assertEquals(List.of(160, List.of(80, 120), 1e-4), List.of(fr.epochs(), fr.milestones(), fr.weightDecay()));
        assertEquals(List.of(true, List.of(60, 120), 5e-4), List.of(fv.nesterov(), fv.milestones(), fv.weightDecay()));
        RunConfig d = Recipes.digits();
        assertEquals(List.of("digits", "resnet20", false), List.of(d.dataset(), d.model(), d.augment()));
    }

    @Test
    void stepScheduleIsMultiStepLr() {
        RunConfig c = Recipes.get("cifar10_resnet20");
        assertEquals(0.1, c.lrAt(0));
        assertEquals(0.1, c.lrAt(79));
        assertEquals(0.1 * 0.1, c.lrAt(80), 0);
        assertEquals(0.1 * 0.1 * 0.1, c.lrAt(120), 0);
    }

    @Test
    void unknownKeyIsNamed() {
        String m = error("{\"epochz\": 3}");
        assertTrue(m.contains("'epochz'") && m.contains("valid keys") && m.contains("epochs"), m);
    }

    @Test
    void wrongTypesNameKeyAndExpectedType() {
        String m = error("{\"epochs\": \"ten\"}");
        assertTrue(m.contains("'epochs'") && m.contains("an integer") && m.contains("\"ten\""), m);
        m = error("{\"epochs\": 10.5}");
        assertTrue(m.contains("'epochs'") && m.contains("an integer"), m);
        m = error("{\"lr\": true}");
        assertTrue(m.contains("'lr'") && m.contains("a number"), m);
        m = error("{\"nesterov\": 1}");
        assertTrue(m.contains("'nesterov'") && m.contains("a boolean"), m);
        m = error("{\"milestones\": [1, \"x\"]}");
        assertTrue(m.contains("'milestones'") && m.contains("a list of integers"), m);
        m = error("{\"model\": 20}");
        assertTrue(m.contains("'model'") && m.contains("a string"), m);
        m = error("{\"recipe\": 3}");
        assertTrue(m.contains("'recipe'"), m);
    }

    @Test
    void valuesOutOfRangeAreErrors() {
        assertTrue(error("{\"density\": 1.5}").contains("'density'"));
        assertTrue(error("{\"density\": 0}").contains("(0, 1]"));
        assertTrue(error("{\"model\": \"resnet21\"}").contains("resnet20"));
        assertTrue(error("{\"method\": \"foo\"}").contains("synflow"));
        assertTrue(error("{\"dataset\": \"emnist\"}").contains("digits"));
        assertTrue(error("{\"milestones\": [5, 3]}").contains("increasing"));
        assertTrue(error("{\"method\": \"dense\"}").contains("density"));
        assertTrue(error("{\"momentum\": 0, \"nesterov\": true}").contains("nesterov"));
        assertTrue(error("{\"recipe\": \"cifar9\"}").contains("cifar10_resnet20"));
        assertTrue(error("[1, 2]").contains("JSON object"));
        assertTrue(error("{\"epochs\": ").contains("not valid JSON"));
    }

    @Test
    void setOverridesUseTheKeysTypes() {
        RunConfig c = Recipes.digits().withSet("epochs=3").withSet("lr=0.05").withSet("nesterov=true")
                .withSet("milestones=2,3").withSet("method=synflow").withSet("weight_decay=1e-3");
        assertEquals(3, c.epochs());
        assertEquals(0.05, c.lr());
        assertTrue(c.nesterov());
        assertEquals(List.of(2, 3), c.milestones());
        assertEquals("synflow", c.method());
        assertEquals(List.of(4, 9), Recipes.digits().withSet("milestones=[4, 9]").milestones());
        assertEquals(List.of(), Recipes.digits().withSet("milestones=").milestones());
        String m = assertThrows(ConfigException.class, () -> Recipes.digits().withSet("epochs=abc")).getMessage();
        assertTrue(m.contains("'epochs'") && m.contains("an integer"), m);
        m = assertThrows(ConfigException.class, () -> Recipes.digits().withSet("nesterov=yes")).getMessage();
        assertTrue(m.contains("'nesterov'") && m.contains("boolean"), m);
        m = assertThrows(ConfigException.class, () -> Recipes.digits().withSet("foo=1")).getMessage();
        assertTrue(m.contains("'foo'"), m);
        m = assertThrows(ConfigException.class, () -> Recipes.digits().withSet("epochs")).getMessage();
        assertTrue(m.contains("key=value"), m);
    }

    @Test
    void jsonRoundTripAndHash() {
        RunConfig c = RunConfig.parse("{\"recipe\": \"cifar10_resnet20\", \"density\": 0.05, \"epochs\": 2}");
        assertEquals("cifar10", c.dataset());
        assertEquals(0.05, c.density());
        assertEquals(2, c.epochs());
        RunConfig back = RunConfig.parse(c.prettyJson());
        assertEquals(c, back);
        assertEquals(c.hash(), back.hash());
        assertTrue(c.hash().matches("[0-9a-f]{12}"), c.hash());
        assertNotEquals(c.hash(), c.withSet("seed=2").hash());
        // keys in any order, ints where numbers are expected: the same canonical form
        RunConfig d = RunConfig.parse("{\"epochs\": 2, \"density\": 0.05, \"recipe\": \"cifar10_resnet20\", \"gamma\": 0.1}");
        assertEquals(c.canonicalJson(), d.canonicalJson());
        assertEquals(RunConfig.parse("{\"density\": 1, \"method\": \"dense\"}").density(), 1.0);
        assertFalse(c.canonicalJson().contains(" "));
    }
}
