package pxprune.kernels;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.Pointer;

/**
 * The per-shape table of bench/README.md: each convolution product (forward, input gradient,
 * weight gradient) of each shape on each path (im2col + sgemm, sgemm per image for 1x1 kernels, the direct kernels;
 * and the path {@link CpuBackend#convPath} dispatches), interleaved call by call so that load from other jobs
 * on a shared machine hits all paths alike, reporting the fastest of R calls in GFLOP/s. Not a
 * test: run it with the kernels' test class path,
 * {@code java -cp ... pxprune.kernels.ConvShapeBench [rounds] shape...}, a shape being
 * {@code batch-in-out-size-stride-kernel} (padding kernel/2), e.g. {@code 100-16-32-32-2-3}.
 */
public final class ConvShapeBench {
    private ConvShapeBench() {}

    public static void main(String[] args) {
        CpuBackend b = CpuBackend.INSTANCE;
        int rounds = 15, first = 0;
        if (args.length > 0 && args[0].matches("\\d+")) { rounds = Integer.parseInt(args[0]); first = 1; }
        List<CpuBackend.ConvPath> paths = new ArrayList<>(b.convPaths());
        if (paths.size() > 3) paths.remove(CpuBackend.ConvPath.AVX2); // the widest direct kernels only
        System.out.println("| shape (batch-in-out-size-stride-kernel) | forward " + paths + " (auto) | input gradient | weight gradient |");
        System.out.println("|---|---:|---:|---:|");
        for (int a = first; a < args.length; a++) {
            String[] p = args[a].split("-");
            int n = Integer.parseInt(p[0]), c = Integer.parseInt(p[1]), k = Integer.parseInt(p[2]), hw = Integer.parseInt(p[3]);
            int s = Integer.parseInt(p[4]), kk = Integer.parseInt(p[5]);
            ConvGeometry g = new ConvGeometry(n, c, hw, hw, k, kk, kk, s, s, kk / 2, kk / 2, 1, 1, 1);
            long xe = (long) n * c * hw * hw, we = (long) k * c * kk * kk, ye = (long) n * k * g.oh() * g.ow();
            double flops = 2.0 * n * k * c * kk * kk * g.oh() * g.ow();
            Pointer x = b.allocate(xe * 4), w = b.allocate(we * 4), gy = b.allocate(ye * 4), y = b.allocate(ye * 4);
            Pointer gx = b.allocate(xe * 4), gw = b.allocate(we * 4);
            b.unary(DType.F32, pxprune.jni.PxNative.U_AFFINE, x, xe, 0, 0.5, x);
            b.unary(DType.F32, pxprune.jni.PxNative.U_AFFINE, w, we, 0, 0.01, w);
            b.unary(DType.F32, pxprune.jni.PxNative.U_AFFINE, gy, ye, 0, 1, gy);
            StringBuilder row = new StringBuilder("| " + args[a]);
            for (CpuBackend.ConvOp op : CpuBackend.ConvOp.values()) {
                double[] best = new double[paths.size()];
                java.util.Arrays.fill(best, Double.MAX_VALUE);
                for (int r = 0; r < rounds + 1; r++)
                    for (int i = 0; i < paths.size(); i++) {
                        CpuBackend.ConvPath path = paths.get(i);
                        long t0 = System.nanoTime();
                        switch (op) {
                            case FORWARD -> b.conv2dForward(DType.F32, g, x, w, null, y, path);
                            case BACKWARD_DATA -> b.conv2dBackwardData(DType.F32, g, gy, w, gx, path);
                            case BACKWARD_WEIGHT -> b.conv2dBackwardWeight(DType.F32, g, x, gy, gw, path);
                        }
                        long t = System.nanoTime() - t0;
                        if (r > 0) best[i] = Math.min(best[i], t);
                    }
                row.append(" | ");
                for (int i = 0; i < paths.size(); i++) row.append(i > 0 ? " / " : "").append(Math.round(flops / best[i]));
                row.append(" (").append(b.convPath(DType.F32, g, op)).append(")");
            }
            System.out.println(row.append(" |"));
            for (Pointer q : new Pointer[] {x, w, gy, y, gx, gw}) b.free(q);
        }
    }
}
