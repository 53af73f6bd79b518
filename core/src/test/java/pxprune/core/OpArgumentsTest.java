package pxprune.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import pxprune.kernels.DType;

/**
 * Arguments PyTorch rejects must be rejected by the ops in Java, before any kernel runs, with an
 * IllegalArgumentException whose message names the op and the argument. Several rows used to
 * reach the kernels: max pooling with padding above kernel/2 killed the JVM (a window wholly in
 * the padding gave argmax -1 and the backward wrote gx[-1]); a kernel larger than the input at
 * stride >= 2 got output size 1 from a truncating division and read past the input. Valid edge
 * cases next to them (padding exactly kernel/2, output size exactly 1) must keep working.
 */
class OpArgumentsTest {
    MemoryScope scope;

    @BeforeEach void open() { scope = MemoryScope.open(); }
    @AfterEach void close() { scope.close(); }

    static Tensor f32(int... shape) { return Tensor.zeros(DType.F32, shape); }
    static Tensor f64(int... shape) { return Tensor.zeros(DType.F64, shape); }
    static Tensor i32(int... shape) { return Tensor.zeros(DType.I32, shape); }
    static Tensor labels(int... v) { return Tensor.ofInts(v, v.length); }

    /** 1, 2, ..., n as an F64 tensor of the given shape */
    static Tensor range(int... shape) {
        double[] v = new double[(int) Tensor.numel(shape)];
        for (int i = 0; i < v.length; i++) v[i] = i + 1;
        return Tensor.of(v, shape);
    }

    static Arguments row(String name, String expected, Executable call) { return Arguments.of(name, expected, call); }

    static Stream<Arguments> invalid() {
        return Stream.of(
                // ---------------------------------------------------------------- max pooling
                row("maxPool2d padding above kernel/2 (killed the JVM)", "maxPool2d: padding 2 is more than half the kernel size 3; use padding <= 1",
                        () -> Ops.maxPool2d(f32(1, 1, 2, 2), 3, 1, 2)),
                row("maxPool2d padding 3 for kernel 2 on 2x2", "maxPool2d: padding 3 is more than half the kernel size 2",
                        () -> Ops.maxPool2d(f32(1, 1, 2, 2), 2, 2, 3)),
                row("maxPool2d negative padding", "maxPool2d: padding -1 must be >= 0", () -> Ops.maxPool2d(f32(1, 1, 4, 4), 2, 2, -1)),
                row("maxPool2d stride 0", "maxPool2d: stride 0 must be >= 1", () -> Ops.maxPool2d(f32(1, 1, 4, 4), 2, 0, 0)),
                row("maxPool2d kernel 0", "maxPool2d: kernel size 0 must be >= 1", () -> Ops.maxPool2d(f32(1, 1, 4, 4), 0, 1, 0)),
                row("maxPool2d kernel 5 > input 3 at stride 2", "maxPool2d: calculated output size 0x0 is too small for input 3x3",
                        () -> Ops.maxPool2d(f32(1, 1, 3, 3), 5, 2, 0)),
                row("maxPool2d kernel 4 > input 3 at stride 3", "maxPool2d: calculated output size 0x0 is too small",
                        () -> Ops.maxPool2d(f32(2, 3, 3, 3), 4, 3, 0)),
                row("maxPool2d kernel taller than a wide input", "maxPool2d: calculated output size 0x4 is too small for input 2x6",
                        () -> Ops.maxPool2d(f32(1, 1, 2, 6), 3, 1, 0)),
                row("maxPool2d 2-D input", "maxPool2d: input must be 3-D or 4-D [N, C, H, W] or [C, H, W], got 2-D [4, 4]",
                        () -> Ops.maxPool2d(f32(4, 4), 2, 2, 0)),
                row("maxPool2d 5-D input", "maxPool2d: input must be 3-D or 4-D", () -> Ops.maxPool2d(f32(1, 1, 1, 4, 4), 2, 2, 0)),
                row("maxPool2d I32 input", "maxPool2d: input is an I32 tensor", () -> Ops.maxPool2d(i32(1, 1, 4, 4), 2, 2, 0)),
                row("maxPool2d empty input", "maxPool2d: input [1, 0, 4, 4] is empty", () -> Ops.maxPool2d(f32(1, 0, 4, 4), 2, 2, 0)),
                // ---------------------------------------------------------------- average pooling
                row("avgPool2d kernel 5 > input 3 at stride 2", "avgPool2d: calculated output size 0x0 is too small for input 3x3 (kernel 5, stride 2",
                        () -> Ops.avgPool2d(f32(1, 1, 3, 3), 5, 2)),
                row("avgPool2d kernel 4 > input 3 at stride 3", "avgPool2d: calculated output size 0x0",
                        () -> Ops.avgPool2d(f32(1, 2, 3, 3), 4, 3)),
                row("avgPool2d 3-D input, kernel > input at stride 2", "avgPool2d: calculated output size 0x0",
                        () -> Ops.avgPool2d(f32(2, 3, 3), 5, 2)),
                row("avgPool2d stride 0", "avgPool2d: stride 0 must be >= 1", () -> Ops.avgPool2d(f32(1, 1, 4, 4), 2, 0)),
                row("avgPool2d kernel -1", "avgPool2d: kernel size -1 must be >= 1", () -> Ops.avgPool2d(f32(1, 1, 4, 4), -1, 1)),
                row("avgPool2d 2-D input", "avgPool2d: input must be 3-D or 4-D", () -> Ops.avgPool2d(f32(4, 4), 2, 2)),
                // ---------------------------------------------------------------- convolution
                row("conv2d kernel 5 > input 3 at stride 2", "conv2d: calculated output size 0x0 is too small for input 3x3",
                        () -> Ops.conv2d(f32(1, 1, 3, 3), f32(1, 1, 5, 5), null, 2, 0, 1)),
                row("conv2d kernel 4 > input 3 at stride 3", "conv2d: calculated output size 0x0",
                        () -> Ops.conv2d(f32(1, 2, 3, 3), f32(4, 2, 4, 4), null, 3, 0, 1)),
                row("conv2d stride 0", "conv2d: stride 0 must be >= 1", () -> Ops.conv2d(f32(1, 1, 4, 4), f32(1, 1, 3, 3), null, 0, 1, 1)),
                row("conv2d negative padding", "conv2d: padding -1 must be >= 0",
                        () -> Ops.conv2d(f32(1, 1, 4, 4), f32(1, 1, 3, 3), null, 1, -1, 1)),
                row("conv2d groups 0", "conv2d: groups 0 must be >= 1", () -> Ops.conv2d(f32(1, 2, 4, 4), f32(2, 1, 3, 3), null, 1, 1, 0)),
                row("conv2d groups not dividing out_channels", "conv2d: groups=3 must be >= 1 and divide in_channels=3 and out_channels=4",
                        () -> Ops.conv2d(f32(1, 3, 4, 4), f32(4, 1, 3, 3), null, 1, 1, 3)),
                row("conv2d weight channels != input channels / groups", "conv2d: input has 3 channels",
                        () -> Ops.conv2d(f32(1, 3, 4, 4), f32(4, 2, 3, 3), null, 1, 1, 1)),
                row("conv2d 3-D input", "conv2d: input must be 4-D [N, C, H, W], got 3-D [3, 4, 4]",
                        () -> Ops.conv2d(f32(3, 4, 4), f32(4, 3, 3, 3), null, 1, 1, 1)),
                row("conv2d 3-D weight", "conv2d: weight must be 4-D", () -> Ops.conv2d(f32(1, 3, 4, 4), f32(4, 3, 3), null, 1, 1, 1)),
                row("conv2d bias of the wrong length", "conv2d: bias must have shape [4] (one per output channel), got [3]",
                        () -> Ops.conv2d(f32(1, 3, 4, 4), f32(4, 3, 3, 3), f32(3), 1, 1, 1)),
                row("conv2d 2-D bias", "conv2d: bias must have shape [4]", () -> Ops.conv2d(f32(1, 3, 4, 4), f32(4, 3, 3, 3), f32(1, 4), 1, 1, 1)),
                row("conv2d bias of another dtype", "conv2d: bias is F64 on CPU but the input is F32",
                        () -> Ops.conv2d(f32(1, 3, 4, 4), f32(4, 3, 3, 3), f64(4), 1, 1, 1)),
                row("conv2d weight of another dtype", "conv2d: dtypes differ (F32 vs F64)",
                        () -> Ops.conv2d(f32(1, 3, 4, 4), f64(4, 3, 3, 3), null, 1, 1, 1)),
                row("conv2d I32 tensors", "conv2d: input is an I32 tensor", () -> Ops.conv2d(i32(1, 3, 4, 4), i32(4, 3, 3, 3), null, 1, 1, 1)),
                row("conv2d empty batch", "conv2d: batch size 0 must be >= 1", () -> Ops.conv2d(f32(0, 3, 4, 4), f32(4, 3, 3, 3), null, 1, 1, 1)),
                // ---------------------------------------------------------------- batch norm
                row("batchNormTrain gamma of the wrong length", "batchNormTrain: weight (gamma) must have shape [3] (one per channel), got [4]",
                        () -> Ops.batchNormTrain(f32(2, 3, 2, 2), f32(4), f32(3), null, null, 0.1, 1e-5)),
                row("batchNormTrain beta of the wrong length", "batchNormTrain: bias (beta) must have shape [3]",
                        () -> Ops.batchNormTrain(f32(2, 3, 2, 2), f32(3), f32(2), null, null, 0.1, 1e-5)),
                row("batchNormTrain running_mean of the wrong length", "batchNormTrain: running_mean must have shape [3]",
                        () -> Ops.batchNormTrain(f32(2, 3, 2, 2), f32(3), f32(3), f32(1), f32(3), 0.1, 1e-5)),
                row("batchNormTrain running_var of the wrong length", "batchNormTrain: running_var must have shape [3]",
                        () -> Ops.batchNormTrain(f32(2, 3, 2, 2), f32(3), f32(3), f32(3), f32(6), 0.1, 1e-5)),
                row("batchNormTrain gamma of another dtype", "batchNormTrain: weight (gamma) is F64",
                        () -> Ops.batchNormTrain(f32(2, 3, 2, 2), f64(3), null, null, null, 0.1, 1e-5)),
                row("batchNormTrain 1-D input", "batchNormTrain: input must be [N, C, ...] (2-D or more), got [6]",
                        () -> Ops.batchNormTrain(f32(6), null, null, null, null, 0.1, 1e-5)),
                row("batchNormTrain one value per channel", "more than one value per channel",
                        () -> Ops.batchNormTrain(f32(1, 3, 1, 1), null, null, null, null, 0.1, 1e-5)),
                row("batchNormEval without running_mean", "batchNormEval: running_mean and running_var are required",
                        () -> Ops.batchNormEval(f32(2, 3, 2, 2), null, null, null, f32(3), 1e-5)),
                row("batchNormEval running_var of the wrong length", "batchNormEval: running_var must have shape [3]",
                        () -> Ops.batchNormEval(f32(2, 3, 2, 2), null, null, f32(3), f32(4), 1e-5)),
                row("batchNormEval beta of the wrong length", "batchNormEval: bias (beta) must have shape [3]",
                        () -> Ops.batchNormEval(f32(2, 3, 2, 2), f32(3), f32(5), f32(3), f32(3), 1e-5)),
                row("channelAffine scale of the wrong length", "channelAffine: input has 3 channels but scale/shift have 2/-",
                        () -> Ops.channelAffine(f32(2, 3, 2, 2), f32(2), null)),
                row("channelAffine scale of another dtype", "channelAffine: dtypes differ",
                        () -> Ops.channelAffine(f32(2, 3, 2, 2), f64(3), null)),
                // ---------------------------------------------------------------- classification loss
                row("crossEntropy label == classes", "crossEntropy: label 3 (row 1) is outside the 3 classes; use 0..2",
                        () -> Ops.crossEntropy(f32(2, 3), labels(0, 3))),
                row("crossEntropy negative label", "crossEntropy: label -1 (row 0)", () -> Ops.crossEntropy(f32(2, 3), labels(-1, 0))),
                row("crossEntropy empty batch", "crossEntropy: logits [0, 3] hold an empty batch", () -> Ops.crossEntropy(f32(0, 3), labels())),
                row("crossEntropy F32 labels", "crossEntropy: labels must be an I32 vector of 2 entries", () -> Ops.crossEntropy(f32(2, 3), f32(2))),
                row("crossEntropy one label too few", "crossEntropy: labels must be an I32 vector of 2 entries (one per row of [2, 3]), got I32[1]",
                        () -> Ops.crossEntropy(f32(2, 3), labels(0))),
                row("crossEntropy 1-D logits", "crossEntropy: input must be 2-D [rows, classes]", () -> Ops.crossEntropy(f32(3), labels(0))),
                row("pick label out of range", "pick: label 7 (row 0) is outside the 3 classes", () -> Ops.pick(f32(1, 3), labels(7))),
                row("logSoftmax 3-D input", "logSoftmax: input must be 2-D [rows, classes]", () -> Ops.logSoftmax(f32(2, 3, 4))),
                row("logSoftmax without classes", "logSoftmax: input [2, 0] has no classes", () -> Ops.logSoftmax(f32(2, 0))),
                // ---------------------------------------------------------------- matrix products
                row("matmul inner dimensions", "matmul: inner dimensions differ: [2, 3] @ [4, 5]", () -> Ops.matmul(f32(2, 3), f32(4, 5), false, false)),
                row("matmul transposed inner dimensions", "matmul: inner dimensions differ: [2, 3]^T @ [2, 3]^T", () -> Ops.matmul(f32(2, 3), f32(2, 3), true, true)),
                row("matmul 1-D", "matmul takes 2-D tensors", () -> Ops.matmul(f32(3), f32(3, 2), false, false)),
                row("matmul dtypes", "matmul: dtypes differ (F32 vs F64)", () -> Ops.matmul(f32(2, 3), f64(3, 2), false, false)),
                row("linear input width", "linear: input [2, 3] does not fit weight [4, 5]; it must be [batch, 5]",
                        () -> Ops.linear(f32(2, 3), f32(4, 5), null)),
                row("linear bias of the wrong length", "linear: bias must have shape [4] (one per output feature), got [5]",
                        () -> Ops.linear(f32(2, 5), f32(4, 5), f32(5))),
                row("linear 1-D weight", "linear: weight must be 2-D [out, in]", () -> Ops.linear(f32(2, 5), f32(5), null)),
                // ---------------------------------------------------------------- shapes
                row("reshape to another element count", "view: [2, 3] (6 elements) cannot be viewed as [4, 2] (8 elements)",
                        () -> Ops.reshape(f32(2, 3), 4, 2)),
                row("reshape with two -1", "view: only one dimension may be -1", () -> Ops.reshape(f32(2, 3), -1, -1)),
                row("reshape with a negative size", "view: size -2 in [-2, -3] is negative", () -> Ops.reshape(f32(2, 3), -2, -3)),
                row("reshape -1 beside a 0", "view: cannot infer the -1 in [0, -1]", () -> Ops.reshape(f32(0, 3), 0, -1)),
                row("reshape -1 not dividing", "view: [2, 3] (6 elements) cannot be viewed as [-1, 4]: 6 is not a multiple of 4",
                        () -> Ops.reshape(f32(2, 3), -1, 4)),
                row("reshape to an overflowing element count", "(overflowing elements)",
                        () -> Ops.reshape(f32(2, 3), 1 << 20, 1 << 20, 1 << 20, 1 << 20)),
                row("reshape an empty tensor to an overflowing shape", "view: [0, 3] (0 elements) cannot be viewed as [1048576, 1048576, 1048576, 1048576, 1] (overflowing elements)",
                        () -> Ops.reshape(f32(0, 3), 1 << 20, 1 << 20, 1 << 20, 1 << 20, 1)),
                row("flatten start dim out of range", "flatten: dim 2 is out of range for a 2-D tensor; use -2..1", () -> Ops.flatten(f32(2, 3), 2)),
                row("sum dim out of range", "sum: dim -3 is out of range for a 2-D tensor; use -2..1", () -> Ops.sum(f32(2, 3), false, -3)),
                row("sum the same dim twice", "sum: dim -1 appears more than once in [1, -1]", () -> Ops.sum(f32(2, 3), false, 1, -1)),
                row("mean dim out of range", "mean: dim 2 is out of range", () -> Ops.mean(f32(2, 3), true, 2)),
                row("size of a missing dim", "size: dim 4 is out of range for a 2-D tensor", () -> f32(2, 3).size(4)),
                row("negative size", "shape [2, -1] has a negative size -1", () -> Tensor.zeros(DType.F32, 2, -1)),
                row("more elements than an int", "shape [65536, 65536] has 4294967296 elements", () -> Tensor.zeros(DType.F32, 65536, 65536)),
                // ---------------------------------------------------------------- elementwise and in place
                row("add shapes that do not broadcast", "add: shapes [2, 3] and [4] do not broadcast", () -> Ops.add(f32(2, 3), f32(4))),
                row("add dtypes", "add: dtypes differ (F32 vs F64)", () -> Ops.add(f32(2), f64(2))),
                row("mul of I32 tensors", "mul: input is an I32 tensor", () -> Ops.mul(i32(2), i32(2))),
                row("exp of an I32 tensor", "exp: input is an I32 tensor", () -> Ops.exp(i32(2))),
                row("addInPlace src larger than dst", "addInPlace: src [2, 3] does not broadcast to dst [3]", () -> Ops.addInPlace(f32(3), f32(2, 3))),
                row("mulInPlace src larger than dst (was unchecked)", "mulInPlace: src [4, 3] does not broadcast to dst [1, 3]",
                        () -> Ops.mulInPlace(f32(1, 3), f32(4, 3))),
                row("copyInto another element count", "copyInto: src [2, 3] has 6 elements but dst [5] has 5", () -> Ops.copyInto(f32(2, 3), f32(5))),
                row("to I32", "to: cannot convert F32 to I32", () -> Ops.to(f32(2), DType.I32)),
                row("expand to a smaller shape", "expand: shapes [3] and [2] do not broadcast", () -> Ops.expand(f32(3), new int[] {2})),
                // ---------------------------------------------------------------- autograd
                row("backward seed of another shape", "backward(seed): seed has shape [4] but the output has shape [1, 1, 2, 2]",
                        () -> Ops.relu(f32(1, 1, 2, 2).requiresGrad(true)).backward(f32(4))),
                row("backward seed of another dtype", "backward(seed): seed is F64 on CPU but the output is F32",
                        () -> Ops.relu(f32(2).requiresGrad(true)).backward(f64(2))),
                row("backward without seed of a non-scalar", "backward() without a seed needs a scalar",
                        () -> Ops.relu(f32(2).requiresGrad(true)).backward()),
                // ---------------------------------------------------------------- segmentation ops
                row("dilation 0", "conv2d: dilation 0 must be >= 1", () -> Ops.conv2d(f32(1, 1, 5, 5), f32(1, 1, 3, 3), null, 1, 1, 0, 1)),
                row("dilated kernel larger than the input", "calculated output size -3x-3 is too small for input 3x3",
                        () -> Ops.conv2d(f32(1, 1, 3, 3), f32(1, 1, 3, 3), null, 1, 0, 3, 1)),
                row("upsample to 0 rows", "upsampleBilinear: output height 0 must be >= 1", () -> Ops.upsampleBilinear(f32(1, 1, 2, 2), 0, 3, false)),
                row("upsample a 3-D tensor", "upsampleBilinear: input must be 4-D [N, C, H, W], got 3-D", () -> Ops.upsampleBilinear(f32(1, 2, 2), 4, 4, false)),
                row("adaptive pool to 0 columns", "adaptiveAvgPool2d: output width 0 must be >= 1", () -> Ops.adaptiveAvgPool2d(f32(1, 1, 2, 2), 1, 0)),
                row("spatialMap with a matrix of the wrong width", "spatialMap: matrices [3, 4] and [2, 2] do not fit input [1, 1, 2, 2]",
                        () -> Ops.spatialMap(f32(1, 1, 2, 2), f32(3, 4), f32(2, 2))),
                row("spatialMap with matrices of another dtype", "spatialMap", () -> Ops.spatialMap(f32(1, 1, 2, 2), f64(3, 2), f64(2, 2))),
                row("cat of nothing", "cat: no tensors given", () -> Ops.cat(0)),
                row("cat of mismatched shapes", "cat: tensor 1 [2, 3] does not match tensor 0 [2, 2] outside dim 0",
                        () -> Ops.cat(0, f32(2, 2), f32(2, 3))),
                row("cat along a dim that does not exist", "cat: dim 2", () -> Ops.cat(2, f32(2, 2), f32(2, 2))),
                row("narrow past the end", "narrow: start 1 and length 2 do not fit dim 0 of size 2", () -> Ops.narrow(f32(2, 3), 0, 1, 2)),
                row("crossEntropy2d labels of another size", "crossEntropy2d: labels must be I32 [1, 2, 2]",
                        () -> Ops.crossEntropy2d(f32(1, 3, 2, 2), i32(1, 2, 3), 255)),
                row("crossEntropy2d label out of range", "crossEntropy2d: label 3 (pixel 1 of image 0) is outside the 3 classes",
                        () -> Ops.crossEntropy2d(f32(1, 3, 1, 2), Tensor.ofInts(new int[] {0, 3}, 1, 1, 2), 255)),
                row("dropout p = 1", "dropout: probability 1.0 must be in [0, 1)", () -> Ops.dropout(f32(2), 1, 0)),
                row("poolGather with indices of another shape", "poolGather: indices I32[1, 1, 1, 1] must be I32 of the pooled shape [1, 1, 2, 2]",
                        () -> Ops.poolGather(f32(1, 1, 4, 4), i32(1, 1, 1, 1), new int[] {1, 1, 2, 2})));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejectsInJava(String name, String expected, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(expected), () -> "message \"" + e.getMessage() + "\" should contain \"" + expected + "\"");
    }

    // -------------------------------------------------------------------- valid edge cases

    @Test void maxPoolWithPaddingExactlyHalfTheKernel() {
        // 3x3 of 1..9, kernel 3, stride 2, padding 1: windows centred on (0,0), (0,2), (2,0), (2,2)
        Tensor x = range(1, 1, 3, 3).requiresGrad(true);
        Tensor y = Ops.maxPool2d(x, 3, 2, 1);
        assertArrayEquals(new int[] {1, 1, 2, 2}, y.shape());
        assertArrayEquals(new double[] {5, 6, 8, 9}, y.toDoubleArray());
        Ops.sum(y).backward();
        assertArrayEquals(new double[] {0, 0, 0, 0, 1, 1, 0, 1, 1}, x.grad().toDoubleArray());
    }

    @Test void maxPoolWhoseEveryWindowTouchesOnePixel() {
        // 1x1 input, kernel 2, padding 1 = kernel/2: 2x2 windows, each overlapping the one pixel
        Tensor x = Tensor.of(new double[] {-3}, 1, 1, 1, 1).requiresGrad(true);
        Tensor y = Ops.maxPool2d(x, 2, 1, 1);
        assertArrayEquals(new double[] {-3, -3, -3, -3}, y.toDoubleArray());
        Ops.sum(y).backward();
        assertArrayEquals(new double[] {4}, x.grad().toDoubleArray());
    }

    @Test void maxPoolOfAThreeDimensionalInputIsOneImage() {
        Tensor x = range(2, 4, 4).requiresGrad(true);
        Tensor y = Ops.maxPool2d(x, 2, 2, 0);
        assertArrayEquals(new int[] {2, 2, 2}, y.shape());
        assertArrayEquals(new double[] {6, 8, 14, 16, 22, 24, 30, 32}, y.toDoubleArray());
        Ops.sum(y).backward();
        assertArrayEquals(new int[] {2, 4, 4}, x.grad().shape());
        assertTrue(Ops.sum(x.grad()).item() == 8);
    }

    @Test void avgPoolWithOutputSizeExactlyOne() {
        // kernel 3 at stride 2: on 3x3 floor(0/2)+1 = 1, on 4x4 floor(1/2)+1 = 1 (the top-left 3x3 window)
        assertArrayEquals(new double[] {5}, Ops.avgPool2d(range(1, 1, 3, 3), 3, 2).toDoubleArray());
        Tensor x = range(1, 1, 4, 4).requiresGrad(true);
        Tensor y = Ops.avgPool2d(x, 3, 2);
        assertArrayEquals(new double[] {(1 + 2 + 3 + 5 + 6 + 7 + 9 + 10 + 11) / 9.0}, y.toDoubleArray());
        Ops.sum(y).backward();
        double n = 1 / 9.0;
        assertArrayEquals(new double[] {n, n, n, 0, n, n, n, 0, n, n, n, 0, 0, 0, 0, 0}, x.grad().toDoubleArray(), 1e-15);
    }

    @Test void convWithOutputSizeExactlyOne() {
        // kernel 3 on 3x3 at stride 2 (floor(0/2)+1 = 1) and kernel 4 on 4x4 at stride 3: the sum of the input plus the bias
        Tensor w3 = Ops.affine(f64(1, 1, 3, 3), 0, 1), b = Tensor.of(new double[] {0.5}, 1);
        assertArrayEquals(new double[] {45.5}, Ops.conv2d(range(1, 1, 3, 3), w3, b, 2, 0, 1).toDoubleArray());
        Tensor w4 = Ops.affine(f64(1, 1, 4, 4), 0, 1);
        Tensor y = Ops.conv2d(range(1, 1, 4, 4), w4, null, 3, 0, 1);
        assertArrayEquals(new int[] {1, 1, 1, 1}, y.shape());
        assertArrayEquals(new double[] {136}, y.toDoubleArray());
    }

    @Test void elementCountsThatOverflowALongSaySoUnlessASizeIsZero() {
        assertTrue(Tensor.numel(new int[] {1 << 30, 1 << 30, 1 << 30}) == Long.MAX_VALUE);
        assertTrue(Tensor.numel(new int[] {1 << 30, 1 << 30, 1 << 30, 0}) == 0);
        assertArrayEquals(new int[] {0, 1 << 30}, Ops.reshape(f32(0, 3), 0, 1 << 30).shape());
    }

    @Test void backwardWithASeedOfTheOutputsShape() {
        Tensor x = range(1, 1, 2, 2).requiresGrad(true);
        Ops.relu(x).backward(Tensor.of(new double[] {1, 2, 3, 4}, 1, 1, 2, 2));
        assertArrayEquals(new double[] {1, 2, 3, 4}, x.grad().toDoubleArray());
    }
}
