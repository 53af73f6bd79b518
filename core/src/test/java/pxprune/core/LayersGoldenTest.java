package pxprune.core;

import static pxprune.core.Golden.assertClose;

import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import pxprune.core.io.SafeTensors;
import pxprune.kernels.DType;

/** Every op forward and backward against PyTorch's numbers in testdata/golden/layers.safetensors. */
class LayersGoldenTest {
    static final double TOL = 1e-5;
    static final SafeTensors.File G = Golden.load("layers.safetensors");
    MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    static Tensor t(String name) { return G.get(name).toTensor(); }
    static Tensor leaf(String name) { return t(name).requiresGrad(true); }

    /** y = f(inputs); backward with the golden dy; compare y and each input's gradient */
    private void check(String p, Tensor y, List<Tensor> in, List<String> gradNames) {
        assertClose(p + " y", G.get(p + ".y"), y, TOL);
        y.backward(t(p + ".dy"));
        for (int i = 0; i < in.size(); i++) assertClose(p + " " + gradNames.get(i), G.get(p + "." + gradNames.get(i)), in.get(i).grad(), TOL);
    }

    @Test void conv() {
        Tensor x = leaf("conv.x"), w = leaf("conv.w"), b = leaf("conv.b");
        check("conv", Ops.conv2d(x, w, b, 2, 1, 1), List.of(x, w, b), List.of("dx", "dw", "db"));
    }

    @Test void depthwiseConv() {
        Tensor x = leaf("dwconv.x"), w = leaf("dwconv.w");
        check("dwconv", Ops.conv2d(x, w, null, 1, 1, 4), List.of(x, w), List.of("dx", "dw"));
    }

    @Test void conv1x1() {
        Tensor x = leaf("conv1x1.x"), w = leaf("conv1x1.w");
        check("conv1x1", Ops.conv2d(x, w, null, 2, 0, 1), List.of(x, w), List.of("dx", "dw"));
    }

    @Test void linear() {
        Tensor x = leaf("linear.x"), w = leaf("linear.w"), b = leaf("linear.b");
        check("linear", Ops.linear(x, w, b), List.of(x, w, b), List.of("dx", "dw", "db"));
    }

    @Test void maxPool() {
        Tensor x = leaf("maxpool.x");
        check("maxpool", Ops.maxPool2d(x, 2, 2, 0), List.of(x), List.of("dx"));
    }

    @Test void globalAvgPool() {
        Tensor x = leaf("avgpool.x");
        check("avgpool", Ops.globalAvgPool(x).reshape(2, 3, 1, 1), List.of(x), List.of("dx"));
        Tensor x2 = leaf("avgpool.x");
        assertClose("avgPool2d(4)", G.get("avgpool.y"), Ops.avgPool2d(x2, 4, 4), TOL);
    }

    @Test void batchNormTrainAndEval() {
        Tensor x = leaf("bn.x"), g = leaf("bn.gamma"), b = leaf("bn.beta");
        Tensor rm = Tensor.zeros(DType.F32, 3), rv = Tensor.ones(DType.F32, 3);
        Tensor y = Ops.batchNormTrain(x, g, b, rm, rv, 0.1, 1e-5);
        assertClose("bn y_train", G.get("bn.y_train"), y, TOL);
        y.backward(t("bn.dy"));
        assertClose("bn dx", G.get("bn.dx"), x.grad(), TOL);
        assertClose("bn dgamma", G.get("bn.dgamma"), g.grad(), TOL);
        assertClose("bn dbeta", G.get("bn.dbeta"), b.grad(), TOL);
        assertClose("bn running_mean", G.get("bn.running_mean"), rm, TOL);
        assertClose("bn running_var", G.get("bn.running_var"), rv, TOL);
        assertClose("bn y_eval", G.get("bn.y_eval"), Ops.batchNormEval(x, g, b, rm, rv, 1e-5), TOL);
    }

    @Test void crossEntropy() {
        Tensor logits = leaf("ce.logits");
        Tensor labels = t("ce.labels");
        Tensor loss = Ops.crossEntropy(logits, labels);
        assertClose("ce loss", G.get("ce.loss").toDoubles(), new double[] {loss.item()}, TOL);
        loss.backward();
        assertClose("ce dlogits", G.get("ce.dlogits"), logits.grad(), TOL);
    }
}
