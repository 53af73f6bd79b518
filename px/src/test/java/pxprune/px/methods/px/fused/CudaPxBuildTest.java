package pxprune.px.methods.px.fused;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** px's own PTX build (px/src/main/cuda, by native's build-ptx.sh), with or without a GPU: every kernel CudaPxKernels launches is in it. */
class CudaPxBuildTest {
    private static byte[] resource(String name) throws IOException {
        try (InputStream in = CudaPxKernels.class.getResourceAsStream(CudaPxKernels.PTX_DIR + name)) {
            return in == null ? null : in.readAllBytes();
        }
    }

    private static Properties built() throws IOException {
        byte[] b = resource("ptx-build.properties");
        assertNotNull(b, "px must record its PTX build in " + CudaPxKernels.PTX_DIR + "ptx-build.properties");
        Properties p = new Properties();
        p.load(new java.io.ByteArrayInputStream(b));
        if (!"built".equals(p.getProperty("status")))
            abort("PX's CUDA kernels were not compiled when px was built: " + p.getProperty("reason"));
        return p;
    }

    @Test void ptxAndSm90NativeCodeHoldEveryKernel() throws IOException {
        Properties p = built();
        assertEquals("sm_90", p.getProperty("cubin"), "ptx-build.properties' cubin");
        String[] modules = p.getProperty("modules").split(",");
        for (String arch : new String[] {"sm_80", "sm_90"}) {
            StringBuilder all = new StringBuilder();
            for (String m : modules) {
                byte[] text = resource(arch + "/" + m + ".ptx");
                assertNotNull(text, "missing PTX " + arch + "/" + m);
                String s = new String(text, StandardCharsets.US_ASCII);
                assertTrue(s.contains(".target " + arch), m + " is not PTX for " + arch);
                all.append(s);
            }
            for (String k : CudaPxKernels.KERNELS)
                assertTrue(all.indexOf(".entry " + k + "(") >= 0, "kernel " + k + " is not in the " + arch + " PTX");
        }
        StringBuilder bins = new StringBuilder();
        for (String m : modules) {
            byte[] bin = resource("sm_90/" + m + ".cubin");
            assertNotNull(bin, "missing native code sm_90/" + m + ".cubin");
            assertTrue(bin.length > 4 && bin[0] == 0x7f && bin[1] == 'E' && bin[2] == 'L' && bin[3] == 'F', m + ".cubin is not ELF");
            bins.append(new String(bin, StandardCharsets.ISO_8859_1));
        }
        for (String k : CudaPxKernels.KERNELS)
            assertTrue(bins.indexOf("\0" + k + "\0") >= 0, "kernel " + k + " is not in the sm_90 native code");
    }
}
