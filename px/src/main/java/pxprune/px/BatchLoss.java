package pxprune.px;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import pxprune.core.Autograd;
import pxprune.core.GradMode;
import pxprune.core.MemoryScope;
import pxprune.core.Ops;
import pxprune.core.Tensor;
import pxprune.kernels.DType;
import pxprune.nn.Module;

/**
 * What SNIP and GraSP differentiate: the mean cross-entropy of the whole pruning batch (logits
 * divided by a temperature; for per-pixel labels, {@link ScoringData#dense}, the mean over every
 * pixel not labelled {@link ScoringData#IGNORE} of the [n, classes, H, W] output) at W = theta*m, with the masked weights as autograd leaves, batch norm
 * with batch statistics (running statistics untouched) and everything else in eval mode. Call
 * inside an open MemoryScope and with the model in eval mode.
 */
public record BatchLoss(List<PrunableLayer> layers, List<Tensor> leaves, Tensor loss) {
    public static BatchLoss of(Module model, Masks masks, ScoringData data, DType dtype, double temperature) {
        List<PrunableLayer> layers = PrunableLayer.of(model);
        DType dt = dtype != null ? dtype : layers.get(0).weight().dtype();
        try (GradMode g = GradMode.set(true)) {
            var w = Substituted.maskedWeights(layers, masks, dt, v -> v);
            List<Tensor> leaves = new ArrayList<>();
            for (PrunableLayer l : layers) leaves.add(w.get(l.module()).requiresGrad(true));
            Substituted net = new Substituted(w, Substituted.biases(layers, dt, v -> v), Substituted.batchStatsNorm(model, dt),
                    Ops::relu);
            Tensor out = model.forward(data.x().to(model.device()).to(dt), data.trace().watch("forward", net));
            Tensor loss;
            if (data.isDense()) {
                int[] s = data.x().shape();
                if (out.dim() != 4 || out.size(0) != s[0] || out.size(1) != data.numClasses() || out.size(2) != s[2] || out.size(3) != s[3])
                    throw new IllegalArgumentException("per-pixel pruning labels need a segmentation output [" + s[0] + ", "
                            + data.numClasses() + ", " + s[2] + ", " + s[3] + "], the model gives " + java.util.Arrays.toString(out.shape())
                            + "; use a segmentation model or classification data");
                Tensor logits = temperature != 1 ? Ops.affine(out, 1 / temperature, 0) : out;
                loss = Ops.crossEntropy2d(logits, Tensor.ofInts(data.pixelLabels(), out.device(), s[0], s[2], s[3]), ScoringData.IGNORE);
            } else {
                Tensor logits = out.reshape(data.size(), -1);
                if (temperature != 1) logits = Ops.affine(logits, 1 / temperature, 0);
                loss = Ops.crossEntropy(logits, Tensor.ofInts(data.labels(), out.device(), data.size()));
            }
            return new BatchLoss(layers, leaves, loss);
        }
    }

    /** gradients of the loss w.r.t. the leaves */
    public Tensor[] gradients(boolean createGraph) {
        try (GradMode g = GradMode.set(true)) { return Autograd.grad(loss, leaves, createGraph); }
    }

    /** this loss's forward pass, built with {@link #of}, reported to the data's trace */
    public static BatchLoss traced(String scorer, Module model, Masks masks, ScoringData data, DType dtype, double temperature) {
        long t0 = System.nanoTime();
        BatchLoss b = of(model, masks, data, dtype, temperature);
        data.trace().pass(scorer, "forward", Trace.tensors("x", data.x(), "loss", b.loss()), System.nanoTime() - t0);
        return b;
    }

    /** {@link #gradients}, reported to the trace as the pass "backward" (dL/dW per layer) */
    public Tensor[] gradients(boolean createGraph, String scorer, Trace trace) {
        long t0 = System.nanoTime();
        Tensor[] g = gradients(createGraph);
        trace.pass(scorer, "backward", Trace.group(Trace.tensors("loss", loss), "dL/dW", layers, List.of(g)), System.nanoTime() - t0);
        return g;
    }

    /** {@link #normalised}, reported to the trace as the pass "score" */
    public Map<String, Tensor> normalised(Tensor[] sc, java.util.function.DoubleUnaryOperator norm, String scorer, Trace trace) {
        long t0 = System.nanoTime();
        Map<String, Tensor> out = normalised(sc, norm);
        trace.pass(scorer, "score", Trace.group(new LinkedHashMap<>(), "score", layers, List.copyOf(out.values())), System.nanoTime() - t0);
        return out;
    }

    /**
     * Per layer, float64 score tensors sc[i] / norm(total), total being the sum of every score;
     * kept out of the current scope.
     */
    public Map<String, Tensor> normalised(Tensor[] sc, java.util.function.DoubleUnaryOperator norm) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        try (GradMode g = GradMode.noGrad()) {
            Tensor[] s64 = new Tensor[sc.length];
            double total = 0;
            for (int i = 0; i < sc.length; i++) {
                s64[i] = sc[i].to(DType.F64);
                total += Ops.sum(s64[i]).item();
            }
            double d = norm.applyAsDouble(total);
            for (int i = 0; i < sc.length; i++) out.put(layers.get(i).name(), MemoryScope.keep(Ops.affine(s64[i], 1 / d, 0)));
        }
        return out;
    }
}
