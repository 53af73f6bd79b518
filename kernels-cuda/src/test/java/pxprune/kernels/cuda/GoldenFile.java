package pxprune.kernels.cuda;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A minimal safetensors reader for testdata/golden (F32, F64 and I64 entries); this module sits below core. */
final class GoldenFile {
    record Entry(String dtype, int[] shape, ByteBuffer data) {
        int numel() { int n = 1; for (int s : shape) n *= s; return n; }

        double[] doubles() {
            double[] d = new double[numel()];
            ByteBuffer b = data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < d.length; i++)
                d[i] = switch (dtype) {
                    case "F32" -> b.getFloat(4 * i);
                    case "F64" -> b.getDouble(8 * i);
                    case "I64" -> b.getLong(8 * i);
                    default -> throw new IllegalStateException("dtype " + dtype);
                };
            return d;
        }
    }

    private static final Pattern ENTRY = Pattern.compile(
            "\"([^\"]+)\"\\s*:\\s*\\{\\s*\"dtype\"\\s*:\\s*\"(\\w+)\"\\s*,\\s*\"shape\"\\s*:\\s*\\[([0-9,\\s]*)]\\s*,"
                    + "\\s*\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]\\s*}");

    final Map<String, Entry> entries = new HashMap<>();

    GoldenFile(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        int n = (int) bb.getLong(0);
        String header = new String(all, 8, n, StandardCharsets.UTF_8);
        Matcher m = ENTRY.matcher(header);
        while (m.find()) {
            String[] dims = m.group(3).trim().isEmpty() ? new String[0] : m.group(3).split(",");
            int[] shape = new int[dims.length];
            for (int i = 0; i < dims.length; i++) shape[i] = Integer.parseInt(dims[i].trim());
            int from = 8 + n + Integer.parseInt(m.group(4)), to = 8 + n + Integer.parseInt(m.group(5));
            entries.put(m.group(1), new Entry(m.group(2), shape, ByteBuffer.wrap(all, from, to - from).slice()));
        }
    }

    Entry get(String name) {
        Entry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException("no " + name + " in the golden file");
        return e;
    }
}
