package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static pxprune.core.Golden.assertClose;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.DType;

/**
 * The segmentation ops against PyTorch's numbers in testdata/golden/seg_ops.safetensors
 * (testdata/tools/seg_ops.py): dilated convolution, bilinear upsampling (align_corners both ways,
 * up, down and from 1x1), adaptive average pooling, concatenation and per-pixel cross-entropy with
 * an ignore index; forward and the inputs' gradients.
 */
class SegOpsGoldenTest {
    static final double TOL = 1e-5;
    static final SafeTensors.File G = Golden.load("seg_ops.safetensors");
    MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    static Tensor t(String name) { return G.get(name).toTensor(); }
    static Tensor leaf(String name) { return t(name).requiresGrad(true); }

    private void check(String p, Tensor y, List<Tensor> in, List<String> gradNames) {
        assertClose(p + " y", G.get(p + ".y"), y.dim() == 0 ? y.reshape(1) : y, TOL);
        y.backward(y.dim() == 0 ? null : t(p + ".dy"));
        for (int i = 0; i < in.size(); i++)
            assertClose(p + " " + gradNames.get(i), G.get(p + "." + gradNames.get(i)), in.get(i).grad(), TOL);
    }

    @Test void dilatedConv() {
        Tensor x = leaf("dilconv.x"), w = leaf("dilconv.w"), b = leaf("dilconv.b");
        check("dilconv", Ops.conv2d(x, w, b, 1, 2, 2, 1), List.of(x, w, b), List.of("dx", "dw", "db"));
        Tensor x2 = leaf("dilconv_s2.x"), w2 = leaf("dilconv_s2.w");
        check("dilconv_s2", Ops.conv2d(x2, w2, null, 2, 3, 3, 1), List.of(x2, w2), List.of("dx", "dw"));
    }

    @Test void bilinear() {
        for (boolean ac : new boolean[] {false, true}) {
            String tag = ac ? "ac" : "noac";
            for (String c : new String[] {"up_", "down_", "one_"}) {
                String p = c + tag;
                Tensor x = leaf(p + ".x");
                int[] ys = G.get(p + ".y").intShape();
                check(p, Ops.upsampleBilinear(x, ys[2], ys[3], ac), List.of(x), List.of("dx"));
            }
        }
    }

    @Test void adaptiveAvgPool() {
        for (String p : new String[] {"adapt_down", "adapt_up", "adapt_one"}) {
            Tensor x = leaf(p + ".x");
            int[] ys = G.get(p + ".y").intShape();
            check(p, Ops.adaptiveAvgPool2d(x, ys[2], ys[3]), List.of(x), List.of("dx"));
        }
    }

    @Test void cat() {
        Tensor a = leaf("cat.a"), b = leaf("cat.b"), c = leaf("cat.c");
        check("cat", Ops.cat(1, a, b, c), List.of(a, b, c), List.of("da", "db", "dc"));
    }

    @Test void crossEntropy2d() {
        Tensor logits = leaf("ce2d.logits");
        check("ce2d", Ops.crossEntropy2d(logits, t("ce2d.labels"), 255), List.of(logits), List.of("dlogits"));
    }

    @Test void crossEntropy2dWithEveryPixelIgnoredIsZero() {
        Tensor logits = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 1, 2).requiresGrad(true);
        Tensor loss = Ops.crossEntropy2d(logits, Tensor.ofInts(new int[] {255, 255}, 1, 1, 2), 255);
        assertEquals(0, loss.item());
        loss.backward();
        for (double g : logits.grad().toDoubleArray()) assertEquals(0, g);
    }

    @Test void crossEntropy2dRefusesLabelsOutsideTheClasses() {
        Tensor logits = Tensor.of(new float[] {1, 2, 3, 4}, 1, 2, 1, 2);
        var e = assertThrows(IllegalArgumentException.class,
                () -> Ops.crossEntropy2d(logits, Tensor.ofInts(new int[] {0, 7}, 1, 1, 2), 255));
        assertTrue(e.getMessage().contains("label 7") && e.getMessage().contains("ignore index 255"), e.getMessage());
    }

    @Test void bilinearMatrixRowsSumToOne() {
        for (int in : new int[] {1, 2, 5, 33})
            for (int out : new int[] {1, 3, 8, 65})
                for (boolean ac : new boolean[] {false, true}) {
                    double[] m = Ops.bilinearMatrix(in, out, ac);
                    for (int i = 0; i < out; i++) {
                        double s = 0;
                        for (int j = 0; j < in; j++) {
                            assertTrue(m[i * in + j] >= 0);
                            s += m[i * in + j];
                        }
                        assertEquals(1, s, 1e-12, in + "->" + out + " row " + i);
                    }
                }
    }

    @Test void narrowIsCatsInverse() {
        Tensor a = Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), b = Tensor.of(new double[] {7, 8}, 2, 1);
        Tensor c = Ops.cat(-1, a, b);
        assertEquals(List.of(1.0, 2.0, 3.0, 7.0, 4.0, 5.0, 6.0, 8.0), box(c.toDoubleArray()));
        assertEquals(List.of(3.0, 7.0, 6.0, 8.0), box(Ops.narrow(c, 1, 2, 2).toDoubleArray()));
        assertEquals(DType.F64, c.dtype());
    }

    private static List<Double> box(double[] v) { return java.util.Arrays.stream(v).boxed().toList(); }
}
