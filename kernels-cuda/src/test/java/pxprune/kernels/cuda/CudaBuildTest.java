package pxprune.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import pxprune.kernels.Backend;
import pxprune.kernels.Backends;
import pxprune.kernels.Device;
import pxprune.kernels.DeviceUnavailableException;

/** Checks that hold with or without a GPU: the PTX build, and a clear failure where CUDA cannot be used. */
class CudaBuildTest {
    static Properties ptxBuild() throws IOException {
        Properties p = new Properties();
        try (InputStream in = CudaBuildTest.class.getResourceAsStream(Cuda.PTX_DIR + "ptx-build.properties")) {
            assertNotNull(in, "pxprune-native must record its PTX build in " + Cuda.PTX_DIR + "ptx-build.properties");
            p.load(in);
        }
        return p;
    }

    /** every kernel the Java side launches, by name */
    static List<String> kernelNames() {
        List<String> names = new ArrayList<>();
        for (String k : CudaBackend.TYPED_KERNELS) { names.add(k + "_f32"); names.add(k + "_f64"); }
        names.addAll(CudaBackend.OTHER_KERNELS);
        return names;
    }

    @Test void ptxWasBuiltForEveryKernelWhereNvccExists() throws IOException {
        Properties p = ptxBuild();
        if (!"built".equals(p.getProperty("status")))
            abort("CUDA kernels were not compiled when pxprune-native was built: " + p.getProperty("reason"));
        String[] modules = p.getProperty("modules").split(",");
        for (String arch : new String[] {"sm_80", "sm_90"}) {
            StringBuilder all = new StringBuilder();
            for (String m : modules) {
                String text = Cuda.ptxText(arch, m);
                assertNotNull(text, "missing PTX " + arch + "/" + m);
                assertTrue(text.contains(".target " + arch), m + " is not PTX for " + arch);
                all.append(text);
            }
            for (String k : kernelNames())
                assertTrue(all.indexOf(".entry " + k + "(") >= 0, "kernel " + k + " is not in the " + arch + " PTX");
        }
    }

    /**
     * The kernel-name lists of {@link CudaBackend} are exactly the kernels of pxcuda.cu: a kernel added
     * to the source without its name (or a name left behind by a removed kernel) fails here
     */
    @Test void theBackendsKernelListIsPxcudasKernels() throws IOException {
        if (!"built".equals(ptxBuild().getProperty("status")))
            abort("CUDA kernels were not compiled when pxprune-native was built: " + ptxBuild().getProperty("reason"));
        Set<String> inPtx = new TreeSet<>(), listed = new TreeSet<>(CudaBackend.OTHER_KERNELS);
        Matcher m = Pattern.compile("\\.entry (\\w+)\\(").matcher(Cuda.ptxText("sm_80", "pxcuda"));
        while (m.find()) inPtx.add(m.group(1));
        for (String k : CudaBackend.TYPED_KERNELS) { listed.add(k + "_f32"); listed.add(k + "_f64"); }
        assertEquals(inPtx, listed, "CudaBackend.TYPED_KERNELS and OTHER_KERNELS must name every kernel of pxcuda.cu");
    }

    @Test void nativeCodeWasBuiltForSm90WithEveryKernel() throws IOException {
        Properties p = ptxBuild();
        if (!"built".equals(p.getProperty("status")))
            abort("CUDA kernels were not compiled when pxprune-native was built: " + p.getProperty("reason"));
        assertEquals("sm_90", p.getProperty("cubin"), "ptx-build.properties' cubin");
        StringBuilder all = new StringBuilder();
        for (String m : p.getProperty("modules").split(",")) {
            byte[] bin = Cuda.cubin("sm_90", m);
            assertNotNull(bin, "missing native code sm_90/" + m + ".cubin");
            assertTrue(bin.length > 4 && bin[0] == 0x7f && bin[1] == 'E' && bin[2] == 'L' && bin[3] == 'F', m + ".cubin is not ELF");
            all.append(new String(bin, java.nio.charset.StandardCharsets.ISO_8859_1));
        }
        for (String k : kernelNames())
            assertTrue(all.indexOf("\0" + k + "\0") >= 0, "kernel " + k + " is not in the sm_90 native code");
    }

    @Test void cudaIsUsableOrSaysWhyNot() {
        String why = Backends.unavailableReason(Device.CUDA);
        if (why == null) {
            Backend b = Backends.of(Device.CUDA);
            assertTrue(b instanceof CudaBackend);
            System.out.println("CUDA backend: " + ((CudaBackend) b).describe());
            return;
        }
        System.out.println("CUDA unavailable, as expected on this machine: " + why);
        assertTrue(why.startsWith("no CUDA device/driver found: "), why);
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> Backends.of(Device.CUDA));
        assertTrue(e.getMessage().equals(why), e.getMessage());
    }

    /** PTX from a newer nvcc than the driver is loaded again declaring the ISA the driver knows */
    @Test void ptxIsaFallback() throws IOException {
        assertEquals("8.5", Cuda.ptxIsa(12060));
        assertEquals("8.0", Cuda.ptxIsa(12000));
        assertEquals("8.8", Cuda.ptxIsa(12090));
        assertEquals("7.8", Cuda.ptxIsa(11080));
        assertEquals("9.0", Cuda.ptxIsa(13000));
        assertEquals("9.1", Cuda.ptxIsa(13010));
        assertEquals("9.1", Cuda.ptxIsa(13020));
        assertNull(Cuda.ptxIsa(10020));
        if (!"built".equals(ptxBuild().getProperty("status"))) return;
        String ptx = Cuda.ptxText("sm_80", "pxcuda");
        String patched = Cuda.withPtxIsa(ptx, "8.0");
        String[] a = ptx.split("\n", -1), b = patched.split("\n", -1);
        assertEquals(a.length, b.length);
        int changed = 0;
        for (int i = 0; i < a.length; i++)
            if (!a[i].equals(b[i])) {
                changed++;
                assertTrue(a[i].startsWith(".version ") && b[i].equals(".version 8.0"), a[i] + " -> " + b[i]);
            }
        assertTrue(changed <= 1 && patched.contains("\n.version 8.0\n"), "exactly the .version line is set");
    }

    /** a missing CUDA library is named, with where to put it */
    @Test void libraryMessagesNameTheCuda13Libraries() {
        String rt = Cuda.libraryMessage(new UnsatisfiedLinkError("libcudart.so.13: cannot open shared object file"));
        assertTrue(rt.startsWith("the CUDA 13 runtime library libcudart.so.13 was not found (libcudart.so.13: cannot open"), rt);
        String blas = Cuda.libraryMessage(new UnsatisfiedLinkError("libcublasLt.so.13: cannot open shared object file"));
        assertTrue(blas.startsWith("cuBLAS 13 (libcublas.so.13, libcublasLt.so.13) was not found"), blas);
        String other = Cuda.libraryMessage(new UnsatisfiedLinkError("no jnicudart in java.library.path"));
        assertTrue(other.contains("libcudart.so.13") && other.contains("cuBLAS 13") && other.contains("cuDNN 9"), other);
        String dnn = Cuda.cudnnLibraryMessage(new UnsatisfiedLinkError("libcudnn_cnn.so.9: cannot open shared object file"));
        for (String m : new String[] {rt, blas, other, dnn}) {
            assertTrue(m.contains("PXPRUNE_CUDA_LIBS or -Dpxprune.cuda.libs") && m.contains("site-packages/nvidia/"), m);
            assertFalse(m.contains(".so.12") || m.contains("CUDA 12"), m);
        }
        assertTrue(dnn.contains("site-packages/nvidia/cudnn/lib"), dnn);
    }
}
