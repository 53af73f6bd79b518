package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.CudaTest;
import pxprune.kernels.Device;

/**
 * ResNet-20 with PyTorch's weights moved to CUDA ({@link Module#to}) against the same model on the CPU,
 * on the first two images of the golden batch: eval logits (also against PyTorch's), train-mode logits
 * and loss (batch norm with batch statistics, cuDNN's where it loads), every parameter gradient and
 * the running statistics. On the emulator this checks the kernels' logic and the Java side, not a GPU.
 */
@CudaTest
class GoldenResNet20CudaTest {
    static final int IMAGES = 2;
    final SafeTensors.File g = TestSupport.resnet20Golden();

    private Module goldenModel() {
        Module m = ModelRegistry.create("resnet20", 3, 10, 32, 7);
        StateDicts.load(m, g, "weight.");
        return m;
    }

    /*
     * Tolerances, from the float32 error of cuDNN's deterministic non-Winograd/FFT algorithms (the tests' policy):
     * each output of a layer is a sum of K <= 576 (64 channels x 3x3) products, whose rounding in another order
     * differs by about sqrt(K) * 2^-24 ~ 1.4e-6 relative (random-walk rounding; the CPU side has the same); over
     * 19 layers in sequence these add up in quadrature to about sqrt(19) * 2 * 1.4e-6 ~ 1.2e-5 in the logits'
     * relative L2, hence LOGITS = 3e-5. The gradients also pass through the ReLUs backwards: a ReLU input within
     * ~1e-5 of zero can land on the other side, and one flipped gate moves every gradient upstream of it by about
     * 1e-3 in relative L2 (GoldenTies), hence GRADS = 3e-3; a wrong kernel is off by O(1).
     */
    static final double LOGITS = 3e-5, GRADS = 3e-3;

    @Test void evalAndTrainMatchTheCpu() {
        try (Module cpu = goldenModel(); Module gpu = goldenModel().to(Device.CUDA); MemoryScope s = MemoryScope.open()) {
            assertEquals(Device.CUDA, gpu.device());
            Tensor x = Ops.narrow(g.get("x").toTensor(), 0, 0, IMAGES), y = Tensor.ofInts(java.util.Arrays.copyOf(g.get("y").toTensor().toIntArray(), IMAGES), IMAGES);
            Tensor xg = x.to(Device.CUDA), yg = y.to(Device.CUDA);

            cpu.eval();
            gpu.eval();
            double[] eval = gpu.forward(xg).toDoubleArray();
            assertTrue(TestSupport.relL2(cpu.forward(x).toDoubleArray(), eval) < LOGITS, "eval logits, cuda vs cpu");
            double[] golden = java.util.Arrays.copyOf(g.get("logits_eval").toDoubles(), eval.length);
            assertTrue(TestSupport.relL2(golden, eval) < 1e-4, "eval logits, cuda vs PyTorch");

            cpu.train(true);
            gpu.train(true);
            Tensor lc = cpu.forward(x), lg = gpu.forward(xg);
            assertTrue(TestSupport.relL2(lc.toDoubleArray(), lg.toDoubleArray()) < LOGITS, "train logits, cuda vs cpu");
            Tensor losc = Ops.crossEntropy(lc, y), losg = Ops.crossEntropy(lg, yg);
            assertEquals(losc.item(), losg.item(), LOGITS * Math.abs(losc.item()), "train loss");
            losc.backward();
            losg.backward();
            Map<String, Tensor> pg = gpu.namedParameters();
            cpu.namedParameters().forEach((k, p) -> {
                assertEquals(Device.CUDA, pg.get(k).grad().device(), k + ".grad on cuda");
                double e = TestSupport.relL2(p.grad().toDoubleArray(), pg.get(k).grad().toDoubleArray());
                assertTrue(e < GRADS, k + ".grad: relative L2 " + e);
            });
            Map<String, Tensor> bg = gpu.namedBuffers();
            cpu.namedBuffers().forEach((k, b) -> assertTrue(
                    TestSupport.relL2(b.toDoubleArray(), bg.get(k).toDoubleArray()) < LOGITS, k + " after the train step"));
        }
    }
}
