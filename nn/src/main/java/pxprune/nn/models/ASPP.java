package pxprune.nn.models;

import java.util.Arrays;
import pxprune.core.Tensor;
import pxprune.nn.AdaptiveAvgPool2d;
import pxprune.nn.BatchNorm;
import pxprune.nn.Conv2d;
import pxprune.nn.Dropout;
import pxprune.nn.Init;
import pxprune.nn.Interpreter;
import pxprune.nn.Module;
import pxprune.nn.ReLU;
import pxprune.nn.Resample;
import pxprune.nn.Sequential;

/**
 * Atrous spatial pyramid pooling, torchvision's {@code ASPP} ({@code models/segmentation/deeplabv3.py};
 * the same module in VainF's DeepLabV3Plus-Pytorch) with its parameter names:
 * <ul>
 * <li>{@code convs.0}: 1x1 conv in -> out (no bias), BN, ReLU ({@code convs.0.0.weight}, {@code convs.0.1.*});
 * <li>{@code convs.1 .. convs.R}: ASPPConv per rate: 3x3 conv with dilation = padding = rate (no bias), BN, ReLU;
 * <li>{@code convs.R+1}: ASPPPooling: adaptive average pooling to 1x1 ({@code .0}, no parameters), 1x1 conv
 *     ({@code .1.weight}), BN ({@code .2.*}), ReLU, then bilinear upsampling (align_corners=False) back to the input's size;
 * <li>{@code project}: the (R+2)*out concatenated channels -> 1x1 conv to out (no bias) {@code project.0}, BN
 *     {@code project.1}, ReLU, Dropout ({@code project.3}; torchvision 0.5, VainF 0.1).
 * </ul>
 * Pooling and upsampling go through the interpreter ({@link Resample}).
 */
public final class ASPP extends Module {
    public final int in, out;
    private final int[] rates;
    private final Sequential convs, project;

    /** torchvision's ASPPPooling: pool to 1x1, conv, BN, ReLU, upsample back */
    public static final class Pooling extends Module {
        private final Sequential body;

        Pooling(int in, int out, Init init) {
            // registered under 0..3 directly (ASPPPooling is an nn.Sequential): convs.4.1.weight, convs.4.2.*
            body = new Sequential(new AdaptiveAvgPool2d(1, 1), new Conv2d(in, out, 1, 1, 0, false, init), new BatchNorm(out), new ReLU());
            for (int i = 0; i < body.size(); i++) registerModule(String.valueOf(i), body.get(i));
        }

        @Override public Tensor forward(Tensor x, Interpreter it) {
            Tensor y = body.forward(x, it);
            return Resample.bilinear(x.size(2), x.size(3), false).apply(y, it);
        }
    }

    public ASPP(int in, int[] rates, int out, double dropout, Init init) {
        if (in < 1 || out < 1 || rates.length == 0)
            throw new IllegalArgumentException("ASPP needs in, out >= 1 and at least one rate, got in " + in + ", out " + out
                    + ", rates " + Arrays.toString(rates));
        for (int r : rates) if (r < 1) throw new IllegalArgumentException("ASPP rates must be >= 1, got " + Arrays.toString(rates));
        this.in = in; this.out = out; this.rates = rates.clone();
        convs = registerModule("convs", new Sequential());
        convs.add(new Sequential(new Conv2d(in, out, 1, 1, 0, false, init), new BatchNorm(out), new ReLU()));
        for (int r : rates)
            convs.add(new Sequential(new Conv2d(in, out, 3, 1, r, r, 1, false, init), new BatchNorm(out), new ReLU()));
        convs.add(new Pooling(in, out, init));
        project = registerModule("project", new Sequential(new Conv2d(convs.size() * out, out, 1, 1, 0, false, init),
                new BatchNorm(out), new ReLU(), new Dropout(dropout)));
    }

    public int[] rates() { return rates.clone(); }

    @Override public Tensor forward(Tensor x, Interpreter it) {
        Tensor[] branches = new Tensor[convs.size()];
        for (int i = 0; i < branches.length; i++) branches[i] = convs.get(i).forward(x, it);
        return project.forward(it.cat(1, branches), it);
    }
}
