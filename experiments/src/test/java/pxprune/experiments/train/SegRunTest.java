package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import pxprune.core.io.Json;
import pxprune.core.io.SafeTensors;
import pxprune.datasets.PruningSplit;
import pxprune.px.Masks;

/**
 * Segmentation runs end to end on seg_demo in a tiny setting: every file of a run folder
 * (metrics with mIoU, confusion.csv, predictions.png, summary), a second start reporting done, and
 * a run stopped after its first epoch and started again ending with exactly the weights of an
 * uninterrupted run (two optimizers: backbone_lr set).
 */
class SegRunTest {
    /** px in 2 rounds to density 0.2 on 2 images per class, 2 epochs */
    static RunConfig tiny() {
        return Recipes.segDemo().with(Map.of("epochs", 2L, "rounds", 2L, "density", 0.2, "examples_per_class", 2L, "batch_size", 32L,
                "milestones", List.of(1L)));
    }

    /**
     * SegmentationTask with the model on CUDA (the CPU emulation of the CUDA libraries where there is no GPU): one epoch
     * over 8 of seg_demo's images in batches of 4 (the emulator's reference loops are slow) with a mask, then the
     * evaluation of 4 test images; pruned weights stay zero
     */
    @Test @pxprune.kernels.CudaTest
    void segTrainerTrainsOnCuda(@TempDir Path dir) throws Exception {
        RunConfig cfg = tiny().with(Map.of("epochs", 1L, "milestones", List.of(), "batch_size", 4L, "device", "cuda"));
        SegmentationTask d = SegmentationTask.load(cfg);
        Trainer t = new Trainer(new SegmentationTask(cfg, mixedSizes(d.train(), 8, false), mixedSizes(d.test(), 4, false), d.stats()), dir,
                null, "cuda");
        try (pxprune.nn.Module m = d.model().to(pxprune.kernels.Device.CUDA)) {
            Masks masks = pxprune.px.TinyModels.randomMasks(m, 0.5, 7);
            Trainer.Result r = t.train(m, masks);
            assertEquals(1, r.metrics().size());
            EpochMetrics e = r.metrics().get(0);
            assertTrue(Double.isFinite(e.trainLoss()) && Double.isFinite(e.testLoss()), e.toString());
            double miou = ((SegmentationTask.Evaluation) r.lastEvaluation()).meanIou();
            assertTrue(miou >= 0 && miou <= 1, "mIoU " + miou);
            for (pxprune.px.PrunableLayer l : pxprune.px.PrunableLayer.of(m)) {
                float[] w = l.weight().toFloatArray(), mk = masks.values(l.name());
                for (int i = 0; i < w.length; i++) if (mk[i] == 0) assertEquals(0f, Math.abs(w[i]), l.name() + "[" + i + "]");
            }
        }
    }

    @Test
    void aShortSegmentationRunWritesEveryFile(@TempDir Path runs) throws Exception {
        RunConfig cfg = tiny();
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        Runner.Outcome o = Runner.run(cfg, runs, new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        String log = logBytes.toString(StandardCharsets.UTF_8);
        assertFalse(o.alreadyDone());
        Path dir = runs.resolve(cfg.hash());
        for (String f : List.of(Runner.CONFIG, Runner.SPLIT, Runner.MASKS, Runner.LAYERS, Runner.ROUNDS, Runner.PRUNE, Trainer.METRICS,
                Checkpoint.FILE, Runner.WEIGHTS, Runner.CONFUSION, Runner.PREDICTIONS, Runner.SUMMARY))
            assertTrue(Files.isRegularFile(dir.resolve(f)), f + " is missing; log: " + log);
        assertEquals(cfg, RunConfig.parse(Files.readString(dir.resolve(Runner.CONFIG))));
        assertTrue(log.contains("mIoU"), log);

        // the split: every class in at least 2 images, as the dataset says
        PruningSplit.SegSelection split = PruningSplit.readSegmentation(dir.resolve(Runner.SPLIT));
        int[] perClass = new int[4];
        for (int[] cs : split.classes()) for (int c : cs) perClass[c]++;
        for (int c = 0; c < 4; c++) assertTrue(perClass[c] >= 2, "class " + c + " in " + perClass[c] + " split images");

        Masks m = Masks.load(dir.resolve(Runner.MASKS));
        assertEquals(0.2, m.density(), 1e-3);

        List<String> lines = Files.readAllLines(dir.resolve(Trainer.METRICS));
        assertEquals(2, lines.size());
        Map<String, Object> last = Json.parseObject(lines.get(1));
        assertEquals(List.of("epoch", "lr", "train_loss", "train_acc", "test_loss", "test_acc", "test_miou", "test_pixel_acc", "test_iou",
                "seconds"), List.copyOf(last.keySet()));
        double miou = ((Number) last.get("test_miou")).doubleValue(), acc = ((Number) last.get("test_acc")).doubleValue();
        assertTrue(miou > 0 && miou <= 1 && acc > 0 && acc <= 1, last.toString());
        assertEquals(acc, ((Number) last.get("test_pixel_acc")).doubleValue());
        assertEquals(0.005, ((Number) last.get("lr")).doubleValue(), 1e-12); // milestone 1, gamma 0.1
        assertEquals(4, ((List<?>) last.get("test_iou")).size());

        // the confusion matrix: 4x4 counts over every labelled test pixel, IoUs as in the metrics
        List<String> csv = Files.readAllLines(dir.resolve(Runner.CONFUSION));
        assertEquals("true\\predicted,background,square,disc,triangle,iou", csv.get(0));
        assertEquals(5, csv.size());
        long total = 0, diag = 0;
        double iouSum = 0;
        int present = 0;
        for (int r = 1; r <= 4; r++) {
            String[] f = csv.get(r).split(",", -1);
            for (int c = 1; c <= 4; c++) {
                long v = Long.parseLong(f[c]);
                total += v;
                if (c == r) diag += v;
            }
            if (!f[5].isEmpty()) { iouSum += Double.parseDouble(f[5]); present++; }
        }
        assertEquals(64L * 32 * 32, total, "every pixel of the 64 test images is labelled in seg_demo");
        assertEquals(acc, (double) diag / total, 1e-12);
        assertEquals(miou, iouSum / present, 1e-5);

        var png = ImageIO.read(dir.resolve(Runner.PREDICTIONS).toFile());
        assertTrue(png.getWidth() > 3 * 96 && png.getHeight() > 4 * 96, png.getWidth() + "x" + png.getHeight());

        Map<String, Object> s = Json.parseObject(Files.readString(dir.resolve(Runner.SUMMARY)));
        assertEquals("done", s.get("status"));
        assertEquals("segmentation", s.get("task"));
        assertEquals(miou, ((Number) s.get("test_miou")).doubleValue());
        assertEquals(acc, ((Number) s.get("test_acc")).doubleValue());
        assertNull(Runner.summaryProblem(s));
        assertEquals(List.of("background", "square", "disc", "triangle"), List.copyOf(((Map<?, ?>) s.get("test_iou")).keySet()));
        assertEquals(miou, o.testMiou());

        Runner.Outcome again = Runner.run(cfg, runs, null);
        assertTrue(again.alreadyDone());
        assertEquals(o.testMiou(), again.testMiou());
    }

    @Test
    void resumedAfterTheFirstEpochEqualsTheUninterruptedRunBitForBit(@TempDir Path tmp) throws Exception {
        RunConfig cfg = tiny().with(Map.of("method", "synflow", "backbone_lr", 0.01, "nesterov", true));
        Path runsA = tmp.resolve("a"), runsB = tmp.resolve("b");
        Runner.run(cfg, runsA, null);
        Path dirA = runsA.resolve(cfg.hash());

        // the state of a run of cfg killed right after its first checkpoint: the one-epoch run's folder, relabelled
        RunConfig one = cfg.with("epochs", 1L);
        Runner.run(one, runsB, null);
        Path src = runsB.resolve(one.hash()), dirB = Files.createDirectories(runsB.resolve(cfg.hash()));
        for (String f : List.of(Runner.SPLIT, Runner.MASKS, Runner.LAYERS, Runner.ROUNDS, Runner.ROUNDS_PNG, Runner.PRUNE, Trainer.METRICS))
            Files.copy(src.resolve(f), dirB.resolve(f));
        Files.writeString(dirB.resolve(Runner.CONFIG), cfg.prettyJson());
        SafeTensors.File ck = SafeTensors.read(src.resolve(Checkpoint.FILE));
        Map<String, String> meta = new LinkedHashMap<>(ck.metadata());
        meta.put("config_hash", cfg.hash());
        SafeTensors.write(dirB.resolve(Checkpoint.FILE), ck.entries(), meta);
        assertTrue(ck.entries().keySet().stream().anyMatch(k -> k.startsWith("momentum.backbone.")), "no backbone momentum saved");
        assertTrue(ck.entries().keySet().stream().anyMatch(k -> k.startsWith("momentum.") && !k.startsWith("momentum.backbone.")));

        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        Runner.run(cfg, runsB, new PrintStream(logBytes, true, StandardCharsets.UTF_8));
        String log = logBytes.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("masks loaded") && log.contains("resuming from the checkpoint of epoch 1"), log);

        SafeTensors.File wa = SafeTensors.read(dirA.resolve(Runner.WEIGHTS)), wb = SafeTensors.read(dirB.resolve(Runner.WEIGHTS));
        assertEquals(wa.entries().keySet(), wb.entries().keySet());
        for (String k : wa.entries().keySet()) assertArrayEquals(wa.get(k).data(), wb.get(k).data(), "weights differ bitwise at " + k);
        assertArrayEquals(Files.readAllBytes(dirA.resolve(Checkpoint.FILE)), Files.readAllBytes(dirB.resolve(Checkpoint.FILE)));
        assertArrayEquals(Files.readAllBytes(dirA.resolve(Runner.CONFUSION)), Files.readAllBytes(dirB.resolve(Runner.CONFUSION)));
        assertArrayEquals(Files.readAllBytes(dirA.resolve(Runner.PREDICTIONS)), Files.readAllBytes(dirB.resolve(Runner.PREDICTIONS)));
        Map<String, Object> sa = Json.parseObject(Files.readString(dirA.resolve(Runner.SUMMARY)));
        Map<String, Object> sb = Json.parseObject(Files.readString(dirB.resolve(Runner.SUMMARY)));
        assertEquals(sa.get("test_miou"), sb.get("test_miou"));
        assertEquals(1L, sb.get("resumed_from_epoch"));
    }

    @Test
    void theSegDemoJobRunsItsFourRowsFromTheCommandLine(@TempDir Path tmp) throws Exception {
        Path runs = tmp.resolve("runs");
        pxprune.experiments.cli.MainTest.Result r = pxprune.experiments.cli.MainTest.run("run", "seg_demo", "--set", "epochs=0", "--set",
                "examples_per_class=1", "--runs", runs.toString());
        assertEquals(0, r.code(), r.err());
        String md = Files.readString(runs.resolve("results_seg_demo.md"));
        assertEquals(md, r.out().substring(0, md.length()));
        assertTrue(md.contains("(run folders under " + runs + "/)"), md);
        assertTrue(md.contains("| method | density reached | test mIoU | pixel accuracy | pruning seconds | training seconds | predictions |"), md);
        List<String> csv = Files.readAllLines(runs.resolve("results_seg_demo.csv"));
        assertEquals("method,density,test_miou,test_pixel_acc,pruning_seconds,training_seconds,run,predictions", csv.get(0));
        assertEquals(List.of("dense", "px", "synflow", "random"), csv.subList(1, 5).stream().map(l -> l.split(",")[0]).toList());
        for (String line : csv.subList(1, 5)) {
            String[] f = line.split(",");
            assertTrue(Files.isRegularFile(Path.of(f[7])), f[7]);
            assertTrue(md.contains(f[7]), md);
            double density = Double.parseDouble(f[1]);
            assertEquals(f[0].equals("dense") ? 1.0 : MainJob.SEG_DENSITY, density, 1e-3);
        }
        assertFalse(Files.exists(runs.resolve("results.md")), "the digits job's table is not touched");
        // started again: every row is reported done, the table is the same but the wall time
        pxprune.experiments.cli.MainTest.Result again = pxprune.experiments.cli.MainTest.run("run", "seg_demo", "--set", "epochs=0", "--set",
                "examples_per_class=1", "--runs", runs.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("is done"), again.err());
    }

    @Test
    void eachBatchIsAPureFunctionOfSeedEpochAndIndex() {
        RunConfig cfg = Recipes.segDemo();
        SegmentationTask t = SegmentationTask.load(cfg);
        int[][] e0 = t.batches(0), e0again = t.batches(0), e1 = t.batches(1);
        assertEquals(32, e0.length);
        for (int b = 0; b < e0.length; b++) assertArrayEquals(e0[b], e0again[b]);
        assertFalse(java.util.Arrays.equals(e0[0], e1[0]), "epochs are shuffled differently");
        var a = t.prepare(e0[3], 0, 3);
        var b = t.prepare(e0[3], 0, 3);
        var c = t.prepare(e0[3], 0, 4);
        assertArrayEquals(a.x(), b.x());
        assertArrayEquals(a.y(), b.y());
        assertFalse(java.util.Arrays.equals(a.x(), c.x()), "another batch index draws other augmentations");
        assertEquals(32, a.h());
        assertEquals(32, a.w());
    }

    /** the first n images of base; mixed: some cut to 24 x 40, a set of images of two sizes, as VOC's */
    static pxprune.datasets.SegDataset mixedSizes(pxprune.datasets.SegDataset base, int n, boolean mixed) {
        return new pxprune.datasets.SegDataset() {
            public String name() { return "mixed"; }
            public int size() { return n; }
            public int numClasses() { return base.numClasses(); }
            public int channels() { return base.channels(); }
            public List<String> classNames() { return base.classNames(); }
            public pxprune.datasets.SegSample get(int i) {
                pxprune.datasets.SegSample s = base.get(i);
                return mixed && i % 3 == 2 ? pxprune.datasets.SegAugment.crop(pxprune.datasets.SegAugment.pad(s, 32, 40), 4, 0, 24, 40) : s;
            }
            public int[] presentClasses(int i) { return get(i).presentClasses(); }
        };
    }

    @Test
    void evaluationOfImagesOfSeveralSizesEqualsTheSumOverSingleImages() {
        RunConfig cfg = Recipes.segDemo();
        SegmentationTask d = SegmentationTask.load(cfg);
        pxprune.datasets.SegDataset mixed = mixedSizes(d.test(), 8, true);
        try (pxprune.nn.Module model = d.model()) {
            SegmentationTask.Evaluation all = SegmentationTask.evaluate(model, mixed, d.stats());
            ConfusionMatrix sum = new ConfusionMatrix(4);
            double lossSum = 0;
            long pixels = 0;
            for (int i = 0; i < 8; i++) {
                SegmentationTask.Evaluation one = SegmentationTask.evaluate(model, mixed.subset(new int[] {i}), d.stats());
                sum.addAll(one.confusion());
                lossSum += one.loss() * one.confusion().total();
                pixels += one.confusion().total();
            }
            assertEquals(6L * 32 * 32 + 2L * 24 * 40 - countIgnored(mixed), all.confusion().total());
            for (int t = 0; t < 4; t++) for (int p = 0; p < 4; p++) assertEquals(sum.count(t, p), all.confusion().count(t, p), t + "," + p);
            assertEquals(lossSum / pixels, all.loss(), 1e-5 * all.loss());
            // predict gives the same label maps as the evaluation counts
            List<int[]> pred = SegmentationTask.predict(model, mixed, d.stats(), new int[] {2});
            assertEquals(24 * 40, pred.get(0).length);
        }
    }

    private static long countIgnored(pxprune.datasets.SegDataset d) {
        long c = 0;
        for (int i = 0; i < d.size(); i++) for (int l : d.get(i).label()) if (l == pxprune.datasets.SegDataset.IGNORE) c++;
        return c;
    }

    @Test
    void aSplitFileThatDoesNotMatchTheDatasetIsRefused(@TempDir Path runs) throws Exception {
        RunConfig cfg = tiny();
        Path dir = Files.createDirectories(runs.resolve(cfg.hash()));
        Files.writeString(dir.resolve(Runner.CONFIG), cfg.prettyJson());
        Files.writeString(dir.resolve(Runner.SPLIT), "index,classes\n5,9\n"); // image 5 has no class 9
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(RuntimeException.class, () -> Runner.run(cfg, runs, null));
        assertTrue(e.getMessage().contains("does not match") || e.getMessage().contains("split"), e.getMessage());
        assertFalse(Files.exists(dir.resolve(Runner.MASKS)));
    }
}
