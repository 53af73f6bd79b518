package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.experiments.cli.MainTest;

/** The imagenet_resnet50 recipe end to end on a small folder in the official layout (flat val/ with its ground truth). */
class ImageNetRunTest {

    static final String[] WNIDS = {"n01440764", "n01443537", "n01484850"};
    static final int PER_CLASS = 4;

    /** dataRoot/imagenet/train/<wnid>/<wnid>_<i>.JPEG of varied sizes, val/ILSVRC2012_val_0000000<k>.JPEG and LOC_val_solution.csv */
    static void write(Path dataRoot) throws IOException {
        Path dir = dataRoot.resolve("imagenet");
        StringBuilder csv = new StringBuilder("ImageId,PredictionString\n");
        int v = 0;
        for (int c = 0; c < WNIDS.length; c++) {
            for (int i = 0; i < PER_CLASS; i++) jpeg(dir.resolve("train/" + WNIDS[c] + "/" + WNIDS[c] + "_" + i + ".JPEG"), c, 40 + 8 * i, 36);
            for (int i = 0; i < 2; i++) {
                String id = String.format("ILSVRC2012_val_%08d", ++v);
                jpeg(dir.resolve("val/" + id + ".JPEG"), c, 36, 44 + 4 * i);
                csv.append(id).append(',').append(WNIDS[c]).append(" 1 2 20 30\n");
            }
        }
        Files.writeString(dir.resolve("LOC_val_solution.csv"), csv.toString(), StandardCharsets.UTF_8);
    }

    /** class c is a horizontal, vertical or diagonal stripe pattern */
    static void jpeg(Path file, int c, int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int t = c == 0 ? x : c == 1 ? y : x + y;
                img.setRGB(x, y, (t / 4) % 2 == 0 ? 0xE0E0E0 : 0x202020);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "jpeg", file.toFile());
    }

    @Test
    void theRecipeTrainsFromTheStreamedFolder(@TempDir Path tmp) throws IOException {
        write(tmp);
        Path runs = tmp.resolve("runs");
        MainTest.Result r = MainTest.run("run", "imagenet_resnet50", "--set", "data_root=" + tmp, "--set", "crop=32", "--set", "batch_size=4",
                "--set", "epochs=1", "--set", "rounds=1", "--set", "examples_per_class=1", "--runs", runs.toString());
        assertEquals(0, r.code(), r.err());
        Path dir;
        try (var s = Files.list(runs)) {
            dir = s.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        Map<String, Object> summary = Json.parseObject(Files.readString(dir.resolve(Runner.SUMMARY)));
        assertEquals("done", summary.get("status"));
        assertEquals("resnet50", summary.get("model"));
        double acc = ((Number) summary.get("test_acc")).doubleValue();
        assertTrue(acc >= 0 && acc <= 1, "test_acc " + acc);
        assertEquals(0.018, ((Number) summary.get("density")).doubleValue(), 0.002);
        List<String> split = Files.readAllLines(dir.resolve(Runner.SPLIT));
        assertEquals(1 + WNIDS.length, split.size(), "one pruning example per class: " + split);
        assertEquals(1, Files.readAllLines(dir.resolve(Trainer.METRICS)).size());
        Map<String, Object> config = Json.parseObject(Files.readString(dir.resolve(Runner.CONFIG)));
        assertEquals(32L, ((Number) config.get("crop")).longValue());
    }

    @Test
    void badFilesAreUsageErrorsNamingTheFile(@TempDir Path tmp) throws IOException {
        write(tmp);
        Path runs = tmp.resolve("runs");
        Path csv = tmp.resolve("imagenet/LOC_val_solution.csv");
        Files.move(csv, tmp.resolve("elsewhere.csv"));
        String[] args = {"run", "imagenet_resnet50", "--set", "data_root=" + tmp, "--set", "crop=32", "--set", "batch_size=4",
                "--set", "epochs=1", "--set", "rounds=1", "--set", "examples_per_class=1", "--runs", runs.toString()};
        MainTest.Result r = MainTest.run(args);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("LOC_val_solution.csv"), r.err());
        Files.move(tmp.resolve("elsewhere.csv"), csv);
        Path bad = tmp.resolve("imagenet/train/" + WNIDS[1] + "/" + WNIDS[1] + "_2.JPEG");
        Files.writeString(bad, "not a JPEG");
        r = MainTest.run(args);
        assertEquals(2, r.code(), r.err());
        assertTrue(r.err().contains("Cannot decode image " + bad), r.err());
    }

    @Test
    void theStreamedSetsHaveTheCropSizeAndTheFolderLabels(@TempDir Path tmp) throws IOException {
        write(tmp);
        RunConfig cfg = Recipes.get("imagenet_resnet50").with(Map.of("data_root", tmp.toString(), "crop", 32L));
        var sets = ClassificationTask.sets(cfg);
        assertEquals(WNIDS.length * PER_CLASS, sets[0].size());
        assertEquals(WNIDS.length * 2, sets[1].size());
        assertEquals(32, sets[0].height());
        assertEquals(2, sets[1].label(4));
        var b = sets[1].batch(new int[] {0, 5});
        assertEquals(2 * 3 * 32 * 32, b.x().length);
        // normalised with ImageNet's statistics: a light stripe is well above 0 in every channel
        float max = Float.NEGATIVE_INFINITY;
        for (float x : b.x()) max = Math.max(max, x);
        assertTrue(max > 1.5f && max < 2.7f, "max " + max);
    }
}
