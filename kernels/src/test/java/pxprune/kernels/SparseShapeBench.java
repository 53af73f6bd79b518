package pxprune.kernels;

import java.util.Random;
import org.bytedeco.javacpp.Pointer;

/**
 * The crossover table of bench/README.md: for each convolution shape and density, the time of each
 * sparse product (forward, input gradient, weight gradient; pxsparse.h) over the dense product
 * the backend dispatches for the same shape ({@link CpuBackend#convPath}), both on the same random
 * mask, interleaved call by call and the fastest of R calls each, with the instruction set this
 * CPU runs. A ratio below 1 means sparse is faster. Not a test: run it with the kernels' test class
 * path, {@code java -cp ... pxprune.kernels.SparseShapeBench [avx2] [rounds] shape...}, a shape being
 * {@code batch-in-out-size-stride-kernel} (padding kernel/2), e.g. {@code 100-16-32-32-1-3};
 * {@code avx2} runs the sparse kernels' AVX2 copy on an AVX-512 CPU (the dense side as dispatched).
 */
public final class SparseShapeBench {
    private SparseShapeBench() {}

    static final double[] DENSITIES = {0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01};

    public static void main(String[] args) {
        CpuBackend b = CpuBackend.INSTANCE;
        int rounds = 7, first = 0;
        CpuBackend.ConvPath isa = b.convPaths().get(b.convPaths().size() - 1);
        if (args.length > first && args[first].equals("avx2")) { isa = CpuBackend.ConvPath.AVX2; first++; }
        if (args.length > first && args[first].matches("\\d+")) { rounds = Integer.parseInt(args[first]); first++; }
        System.out.println("sparse kernels: " + isa + "; dense: " + b.describeConv());
        StringBuilder head = new StringBuilder("| shape (batch-in-out-size-stride-kernel) | product |");
        for (double d : DENSITIES) head.append(" ").append(d).append(" |");
        System.out.println(head);
        System.out.println("|---|---|" + "---:|".repeat(DENSITIES.length));
        Random rnd = new Random(1);
        for (int a = first; a < args.length; a++) {
            String[] p = args[a].split("-");
            int n = Integer.parseInt(p[0]), c = Integer.parseInt(p[1]), k = Integer.parseInt(p[2]), hw = Integer.parseInt(p[3]);
            int s = Integer.parseInt(p[4]), kk = Integer.parseInt(p[5]);
            ConvGeometry g = new ConvGeometry(n, c, hw, hw, k, kk, kk, s, s, kk / 2, kk / 2, 1, 1, 1);
            long xe = (long) n * c * hw * hw, we = (long) k * c * kk * kk, ye = (long) n * k * g.oh() * g.ow();
            Pointer x = b.allocate(xe * 4), w = b.allocate(we * 4), gy = b.allocate(ye * 4), y = b.allocate(ye * 4);
            Pointer gx = b.allocate(xe * 4), gw = b.allocate(we * 4);
            b.unary(DType.F32, pxprune.jni.PxNative.U_AFFINE, x, xe, 0, 0.5, x);
            b.unary(DType.F32, pxprune.jni.PxNative.U_AFFINE, gy, ye, 0, 1, gy);
            double[][] ratio = new double[3][DENSITIES.length];
            for (int di = 0; di < DENSITIES.length; di++) {
                float[] mask = new float[(int) we], wv = new float[(int) we];
                for (int i = 0; i < we; i++) { mask[i] = rnd.nextDouble() < DENSITIES[di] ? 1 : 0; wv[i] = mask[i] * 0.01f; }
                b.upload(wv, w);
                try (KeptWeights kept = KeptWeights.of(b, k, c * kk * kk, mask)) {
                    for (CpuBackend.ConvOp op : CpuBackend.ConvOp.values()) {
                        long dense = Long.MAX_VALUE, sparse = Long.MAX_VALUE;
                        for (int r = 0; r < rounds + 1; r++)
                            for (int i = 0; i < 2; i++) {
                                long t0 = System.nanoTime();
                                switch (op) {
                                    case FORWARD -> { if (i == 0) b.conv2dForward(DType.F32, g, x, w, null, y); else b.sparseConv2dForward(DType.F32, g, kept, x, w, null, y, isa); }
                                    case BACKWARD_DATA -> { if (i == 0) b.conv2dBackwardData(DType.F32, g, gy, w, gx); else b.sparseConv2dBackwardData(DType.F32, g, kept, gy, w, gx, isa); }
                                    case BACKWARD_WEIGHT -> { if (i == 0) b.conv2dBackwardWeight(DType.F32, g, x, gy, gw); else b.sparseConv2dBackwardWeight(DType.F32, g, kept, x, gy, gw, isa); }
                                }
                                long t = System.nanoTime() - t0;
                                if (r > 0) { if (i == 0) dense = Math.min(dense, t); else sparse = Math.min(sparse, t); }
                            }
                        ratio[op.ordinal()][di] = (double) sparse / dense;
                    }
                }
            }
            String[] names = {"forward", "input gradient", "weight gradient"};
            for (int o = 0; o < 3; o++) {
                StringBuilder row = new StringBuilder("| " + args[a] + " | " + names[o] + " |");
                for (double rr : ratio[o]) row.append(String.format(" %.2f |", rr));
                System.out.println(row);
            }
            for (Pointer q : new Pointer[] {x, w, gy, y, gx, gw}) b.free(q);
        }
    }
}
