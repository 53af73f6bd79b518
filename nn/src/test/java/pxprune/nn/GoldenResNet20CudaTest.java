package pxprune.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.CudaTest;
import pxprune.kernels.DType;
import pxprune.kernels.Device;

/**
 * ResNet-20 with PyTorch's weights moved to CUDA ({@link Module#to}) against the same model on the CPU,
 * on the first two images of the golden batch: in float32 the eval logits (also against PyTorch's),
 * train-mode logits and loss (batch norm with batch statistics, cuDNN's where it loads) and the running
 * statistics after the step; every parameter gradient in float64 and, loosely, in float32. On the
 * emulator this checks the kernels' logic and the Java side, not a GPU.
 */
@CudaTest
class GoldenResNet20CudaTest {
    static final int IMAGES = 2;
    final SafeTensors.File g = TestSupport.resnet20Golden();

    /*
     * Tolerances, from the float32 error of cuDNN's deterministic non-Winograd/FFT algorithms (the tests' policy):
     * each output of a layer is a sum of K <= 576 (64 channels x 3x3) products, whose rounding in another order
     * differs by about sqrt(K) * 2^-24 ~ 1.4e-6 relative (random-walk rounding; the CPU side has the same); over
     * 19 layers in sequence these add up in quadrature to about sqrt(19) * 2 * 1.4e-6 ~ 1.2e-5 in the logits'
     * relative L2, hence LOGITS = 3e-5. The gradients also pass back through the ReLUs: an input within ~1e-5 of
     * zero can land on the other side, and with two images one flipped gate moves the gradients upstream of it
     * by percents (the emulator's PXEMU_PERTURB mode, rounding like a real library, measured 3.5e-2 on the stem's),
     * so float32 gradients are held only to GRADS_F32 = 0.2 (a wrong kernel is off by O(1)) and checked closely in
     * float64: there the rounding is 2^-53 ~ 1.1e-16, no gate is near enough to zero to flip, and the same
     * 1e-5-level amplification leaves about 1e-11, hence GRADS_F64 = 1e-9.
     */
    static final double LOGITS = 3e-5, GRADS_F32 = 0.2, GRADS_F64 = 1e-9;

    private Module goldenModel() {
        Module m = ModelRegistry.create("resnet20", 3, 10, 32, 7);
        StateDicts.load(m, g, "weight.");
        return m;
    }

    private Tensor images() { return Ops.narrow(g.get("x").toTensor(), 0, 0, IMAGES); }

    private Tensor labels() { return Tensor.ofInts(java.util.Arrays.copyOf(g.get("y").toTensor().toIntArray(), IMAGES), IMAGES); }

    @Test void evalAndTrainMatchTheCpu() {
        try (Module cpu = goldenModel(); Module gpu = goldenModel().to(Device.CUDA); MemoryScope s = MemoryScope.open()) {
            assertEquals(Device.CUDA, gpu.device());
            Tensor x = images(), y = labels();
            Tensor xg = x.to(Device.CUDA), yg = y.to(Device.CUDA);

            cpu.eval();
            gpu.eval();
            double[] eval = gpu.forward(xg).toDoubleArray();
            assertTrue(TestSupport.relL2(cpu.forward(x).toDoubleArray(), eval) < LOGITS, "eval logits, cuda vs cpu");
            double[] golden = java.util.Arrays.copyOf(g.get("logits_eval").toDoubles(), eval.length);
            assertTrue(TestSupport.relL2(golden, eval) < 1e-4, "eval logits, cuda vs PyTorch");

            trainStep(cpu, gpu, x, y, xg, yg, LOGITS, GRADS_F32);
        }
    }

    @Test void float64GradientsMatchTheCpu() {
        try (Module cpu = goldenModel(); Module gpu = goldenModel(); MemoryScope s = MemoryScope.open()) {
            try (GradMode ng = GradMode.noGrad()) { // leaves, not the outputs of a conversion
                FormulaWeights.toF64(cpu);
                FormulaWeights.toF64(gpu);
            }
            gpu.to(Device.CUDA);
            Tensor x = images().to(DType.F64), y = labels();
            trainStep(cpu, gpu, x, y, x.to(Device.CUDA), y.to(Device.CUDA), GRADS_F64, GRADS_F64);
        }
    }

    /** one train-mode forward and backward on both: logits, loss and running statistics to tol, every gradient to gradTol */
    private static void trainStep(Module cpu, Module gpu, Tensor x, Tensor y, Tensor xg, Tensor yg, double tol, double gradTol) {
        cpu.train(true);
        gpu.train(true);
        Tensor lc = cpu.forward(x), lg = gpu.forward(xg);
        assertTrue(TestSupport.relL2(lc.toDoubleArray(), lg.toDoubleArray()) < tol, "train logits, cuda vs cpu");
        Tensor losc = Ops.crossEntropy(lc, y), losg = Ops.crossEntropy(lg, yg);
        assertEquals(losc.item(), losg.item(), tol * Math.abs(losc.item()), "train loss");
        losc.backward();
        losg.backward();
        Map<String, Tensor> pg = gpu.namedParameters();
        cpu.namedParameters().forEach((k, p) -> {
            assertTrue(p.grad() != null && pg.get(k).grad() != null, k + ": no gradient (cpu " + p.grad() + ", cuda " + pg.get(k).grad() + ")");
            assertEquals(Device.CUDA, pg.get(k).grad().device(), k + ".grad on cuda");
            double e = TestSupport.relL2(p.grad().toDoubleArray(), pg.get(k).grad().toDoubleArray());
            assertTrue(e < gradTol, k + ".grad: relative L2 " + e + " (" + p.dtype() + ")");
        });
        Map<String, Tensor> bg = gpu.namedBuffers();
        cpu.namedBuffers().forEach((k, b) -> assertTrue(
                TestSupport.relL2(b.toDoubleArray(), bg.get(k).toDoubleArray()) < tol, k + " after the train step"));
    }
}
