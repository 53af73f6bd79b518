package pxprune.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class DeviceIdTest {
    @Test void parsesTheThreeFormsIntoKindAndNumber() {
        assertEquals(new DeviceId(Device.CPU, 0), DeviceId.parse("cpu"));
        assertEquals(DeviceId.CPU, DeviceId.parse("cpu"));
        assertEquals(new DeviceId(Device.CUDA, 3), DeviceId.parse("cuda:3"));
        assertEquals(DeviceId.cuda(0), DeviceId.parse("cuda:0"));
        assertEquals(DeviceId.cuda(DeviceId.MAX_INDEX), DeviceId.parse("cuda:" + DeviceId.MAX_INDEX));
        assertEquals(DeviceId.cuda(7), DeviceId.parse("cuda:007"));
        assertEquals(DeviceId.defaultOf(Device.CUDA), DeviceId.parse("cuda"));
        assertEquals(DeviceId.CPU, DeviceId.defaultOf(Device.CPU));
    }

    @Test void theCanonicalFormNamesKindAndNumber() {
        for (String s : new String[] {"cpu", "cuda:0", "cuda:12", "cuda:1023"}) assertEquals(s, DeviceId.parse(s).toString());
        assertEquals("cuda:7", DeviceId.parse("cuda:007").toString());
        assertEquals("cuda:" + DeviceId.defaultOf(Device.CUDA).index(), DeviceId.parse("cuda").toString());
        assertEquals(DeviceId.parse("cuda:5"), DeviceId.parse(DeviceId.parse("cuda:5").toString()));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gpu", "CUDA", "Cpu", "cuda:", "cuda:x", "cuda:-1", "cuda:1.5", " cpu", "cpu ", "cuda:99999", "cuda:1024",
            "cuda 0", "", "cpu:0", "cuda:+1", "cuda:0x1"})
    void refusesOtherFormsNamingTheValueAndTheForms(String s) {
        assertFalse(DeviceId.isValid(s));
        for (var call : new org.junit.jupiter.api.function.Executable[] {() -> DeviceId.parse(s), () -> DeviceId.checked(s)}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
            assertEquals("'" + s + "' is not a device; give " + DeviceId.FORMS, e.getMessage());
        }
    }

    @Test void nullIsNoDevice() {
        assertFalse(DeviceId.isValid(null));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceId.parse(null));
        assertTrue(e.getMessage().startsWith("null is not a device; give cpu, cuda or cuda:N"), e.getMessage());
    }

    @Test void checkedGivesTheStringAsWritten() {
        for (String s : new String[] {"cpu", "cuda", "cuda:0", "cuda:007"}) {
            assertTrue(DeviceId.isValid(s));
            assertEquals(s, DeviceId.checked(s));
        }
    }

    @Test void refusesNumbersThatAreNoDevice() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new DeviceId(Device.CPU, 1));
        assertTrue(e.getMessage().contains("device number 1 is not valid for CPU"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> DeviceId.cuda(-1));
        assertThrows(IllegalArgumentException.class, () -> DeviceId.cuda(DeviceId.MAX_INDEX + 1));
        assertThrows(IllegalArgumentException.class, () -> new DeviceId(null, 0));
    }

    /** where no number is given: the property, read by parse (the environment variable is what the JVM was started with) */
    @Test void cudaWithoutANumberReadsTheDefaultDeviceSettingWhenParsed() {
        String before = System.getProperty(DeviceId.CUDA_DEFAULT_PROPERTY);
        try {
            System.setProperty(DeviceId.CUDA_DEFAULT_PROPERTY, " 3 ");
            assertEquals(DeviceId.cuda(3), DeviceId.parse("cuda"));
            assertEquals(DeviceId.cuda(2), DeviceId.parse("cuda:2")); // a number given wins
            System.setProperty(DeviceId.CUDA_DEFAULT_PROPERTY, "");
            assertEquals(DeviceId.cuda(0), DeviceId.parse("cuda"));
            for (String bad : new String[] {"one", "-1", "1024", "1.0"}) {
                System.setProperty(DeviceId.CUDA_DEFAULT_PROPERTY, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DeviceId.parse("cuda"));
                assertEquals("pxprune.cuda.device / PXPRUNE_CUDA_DEVICE must be a device number, got '" + bad + "'", e.getMessage());
                assertEquals(DeviceId.cuda(1), DeviceId.parse("cuda:1")); // read only for cuda without a number
                assertTrue(DeviceId.isValid("cuda")); // the form is right; what it means is read by parse
            }
        } finally {
            if (before == null) System.clearProperty(DeviceId.CUDA_DEFAULT_PROPERTY);
            else System.setProperty(DeviceId.CUDA_DEFAULT_PROPERTY, before);
        }
    }
}
