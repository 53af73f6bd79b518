package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RunKeysTest {

    @Test
    void theFlatOrderIsTheRecordsAndStays() {
        // toMap's order labels report variants and lists the keys in error messages
        assertEquals(List.of("dataset", "model", "method", "density", "rounds", "examples_per_class", "seed", "epochs", "batch_size",
                "lr", "momentum", "nesterov", "weight_decay", "milestones", "gamma", "data_root", "augment", "crop", "scale_min",
                "scale_max", "flip", "backbone_lr", "pretrained", "pretrained_backbone", "device"), RunConfig.keyNames());
        assertEquals(RunConfig.keyNames(), List.copyOf(Recipes.digits().toMap().keySet()));
    }

    @Test
    void theHelpListsEveryKeyOnceUnderItsSection() {
        String help = RunConfig.keysHelp();
        List<String> sections = new ArrayList<>(), keys = new ArrayList<>();
        for (String line : help.lines().skip(1).toList()) {
            if (line.startsWith("    ")) keys.add(line.strip().split(" ")[0]);
            else sections.add(line.strip().split(":")[0]);
        }
        assertEquals(List.of("data", "model", "prune", "train", "device"), sections);
        assertEquals(RunConfig.keyNames().stream().sorted().toList(), keys.stream().sorted().toList());
        assertTrue(help.contains("    density              "), help);
        assertTrue(help.lines().anyMatch(l -> l.strip().startsWith("device ") && l.endsWith("default \"cpu\"")), help);
        assertTrue(help.lines().anyMatch(l -> l.strip().startsWith("rounds ") && l.endsWith("an integer in [1, " + RunConfig.MAX_ROUNDS + "]")),
                help);
    }

    @Test
    void theShorterConstructorsFillTheOptionalKeysWithTheirDefaults() {
        RunConfig c = Recipes.digits();
        List<String> optional = new ArrayList<>();
        c.toMap().forEach((k, v) -> { if (RunKeys.atDefault(k, v)) optional.add(k); });
        assertEquals(List.of("crop", "scale_min", "scale_max", "flip", "backbone_lr", "pretrained", "pretrained_backbone", "device"),
                optional);
        for (String k : optional) assertTrue(!c.canonicalJson().contains("\"" + k + "\""), k);
    }
}
