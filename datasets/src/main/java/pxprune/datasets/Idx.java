package pxprune.datasets;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * A strict reader of IDX files, the format of MNIST and its relatives: a 4-byte magic number
 * (two zero bytes, the element type, the rank), then {@code rank} big-endian 32-bit dimensions, then
 * the elements in row-major order. Only unsigned bytes (type 0x08) are read. A file may be gzip
 * compressed (recognised by its first two bytes, not by its name).
 *
 * <p>Reading is in two steps so that callers can check what a header declares (counts, sizes)
 * before anything is allocated for the data: {@link #header} checks the magic number, the
 * dimensions (each positive, their product within one Java array) and the file's size (a raw file
 * must hold exactly the header and the declared elements, a gzip file must be large enough to hold
 * them at deflate's best compression); {@link #data} then reads the elements, a gzip file's in
 * pieces so that memory follows the bytes actually present, and refuses data that ends early or
 * goes on past the declared elements.
 */
public final class Idx {

    /** the element type code of unsigned bytes, the only one read */
    public static final int UNSIGNED_BYTE = 0x08;
    /** deflate's largest compression ratio (258-byte matches coded in under 2 bits) rounded up */
    static final long MAX_DEFLATE_RATIO = 1032;
    private static final int GZIP_MAGIC = 0x1f8b;
    private static final int CHUNK = 1 << 16;
    /** the most elements one Java byte array holds */
    static final long MAX_ARRAY = Integer.MAX_VALUE - 8;

    private Idx() {
    }

    /**
     * The checked header of one IDX file of unsigned bytes.
     *
     * @param dims     the dimensions, each positive
     * @param elements their product (at most 2^31 - 9)
     * @param gzip     whether the file is gzip compressed
     */
    public record Header(Path file, int[] dims, long elements, boolean gzip) {
        public Header {
            dims = dims.clone();
        }

        @Override
        public int[] dims() {
            return dims.clone();
        }

        /** the dimensions as in the messages, e.g. 60000x28x28 */
        public String shape() {
            return Idx.shape(dims);
        }

        long headerBytes() {
            return 4L + 4L * dims.length;
        }
    }

    /**
     * Reads and checks the header of an IDX file of unsigned bytes with exactly {@code rank}
     * dimensions, allocating nothing for the data: magic number, element type and rank, each
     * dimension positive, their product within one Java array, and the file's size: a raw file
     * must hold exactly the header and the declared elements, a gzip file must be large enough to
     * hold them at deflate's best compression ({@link #data} checks the exact length).
     *
     * @param fix the sentence that ends every error message: how to get a good file
     * @throws DatasetException naming the file, the problem and {@code fix}
     */
    public static Header header(Path file, int rank, String fix) {
        if (rank < 1) throw new IllegalArgumentException("rank must be >= 1, got " + rank);
        DatasetException.requireFile(file, fix);
        long size = size(file, fix);
        try (InputStream in = open(file)) {
            boolean gzip = in instanceof GZIPInputStream;
            int[] dims = dims(file, new DataInputStream(in), rank, gzip, size, fix);
            long elements = elements(file, dims, fix);
            long headerBytes = 4L + 4L * rank;
            if (!gzip && size != headerBytes + elements) {
                throw new DatasetException(file + " has " + size + " bytes, but its header (" + shape(dims) + " unsigned bytes)"
                        + " needs exactly " + (headerBytes + elements) + " (" + headerBytes + " header + " + elements + " data): "
                        + (size < headerBytes + elements ? "the file is truncated" : "it has " + (size - headerBytes - elements)
                        + " bytes more than declared") + ". " + fix);
            }
            if (gzip && elements > MAX_DEFLATE_RATIO * size) {
                throw new DatasetException(file + " is a gzip file of " + size + " bytes, but its header declares " + shape(dims)
                        + " = " + elements + " bytes of data, more than gzip can hold in that size (at most " + MAX_DEFLATE_RATIO
                        + " times it): the file is truncated or its header is corrupt. " + fix);
            }
            return new Header(file, dims, elements, gzip);
        } catch (IOException e) {
            throw unreadable(file, e, fix);
        }
    }

    /**
     * The elements of the file whose header is {@code h} (as {@link #header} returned it), read in
     * pieces for a gzip file so that memory follows the bytes actually present.
     *
     * @throws DatasetException naming the file, the problem and {@code fix}, if the file holds fewer
     *                          or more bytes than its header declares, or cannot be read
     */
    public static byte[] data(Header h, String fix) {
        Path file = h.file();
        int n = (int) h.elements();
        try (InputStream in = open(file)) {
            long skip = h.headerBytes();
            in.skipNBytes(skip);
            byte[] data = h.gzip() ? readCapped(h, in, n, fix) : in.readNBytes(n);
            if (data.length != n) {
                throw new DatasetException(file + ": its header declares " + h.shape() + " = " + n
                        + " bytes of data, but it holds " + data.length + ": the file is truncated"
                        + (h.gzip() ? "" : " or changed while it was read") + ". " + fix);
            }
            return data;
        } catch (IOException e) {
            throw unreadable(file, e, fix);
        }
    }

    /** the file's stream, decompressed if it starts with gzip's magic bytes */
    private static InputStream open(Path file) throws IOException {
        InputStream raw = new BufferedInputStream(Files.newInputStream(file), CHUNK);
        try {
            raw.mark(2);
            int b0 = raw.read(), b1 = raw.read();
            raw.reset();
            return b0 >= 0 && b1 >= 0 && (b0 << 8 | b1) == GZIP_MAGIC ? new GZIPInputStream(raw, CHUNK) : raw;
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static long size(Path file, String fix) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            throw new DatasetException("Cannot read the size of " + file + ": " + e.getMessage() + ". " + fix, e);
        }
    }

    private static DatasetException unreadable(Path file, IOException e, String fix) {
        if (e instanceof EOFException) {
            return new DatasetException(file + " ends early" + (e.getMessage() == null ? "" : " (" + e.getMessage() + ")")
                    + ": the file is truncated. " + fix, e);
        }
        return new DatasetException("Cannot read " + file + ": " + e.getMessage()
                + " (a corrupt gzip file, or an unreadable one). " + fix, e);
    }

    /** reads and checks the magic number and the dimensions */
    private static int[] dims(Path file, DataInputStream in, int rank, boolean gzip, long size, String fix) throws IOException {
        byte[] magic = new byte[4];
        int got = in.readNBytes(magic, 0, 4);
        if (got < 4) {
            throw new DatasetException(file + " holds " + (gzip ? got + " bytes after decompression" : size + " bytes")
                    + ", fewer than the 4 of an IDX magic number: the file is truncated or empty. " + fix);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new DatasetException(file + " is not an IDX file: it starts with bytes " + hex(magic)
                    + ", but an IDX file starts with 00 00, the element type and the rank"
                    + (gzip ? "" : " (or is gzip compressed, starting with 1f 8b)") + ". " + fix);
        }
        int type = magic[2] & 0xFF, fileRank = magic[3] & 0xFF;
        if (type != UNSIGNED_BYTE) {
            throw new DatasetException(file + " is an IDX file of element type 0x" + String.format("%02x", type) + " ("
                    + typeName(type) + "), expected 0x08 (unsigned bytes): magic number " + hex(magic) + ". " + fix);
        }
        if (fileRank != rank) {
            throw new DatasetException(file + " is an IDX file of rank " + fileRank + " (magic number " + hex(magic)
                    + "), expected rank " + rank + (rank == 3 ? " (images: count, rows, columns)" : rank == 1 ? " (labels)" : "")
                    + "; is it the " + (fileRank == 1 ? "labels" : fileRank == 3 ? "images" : "wrong") + " file? " + fix);
        }
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) {
            try {
                dims[i] = in.readInt();
            } catch (EOFException e) {
                throw new DatasetException(file + " ends inside its header (dimension " + (i + 1) + " of " + rank
                        + " missing): the file is truncated. " + fix, e);
            }
        }
        return dims;
    }

    /** the product of the dimensions, checked: each positive, within one Java array */
    private static long elements(Path file, int[] dims, String fix) {
        long n = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] <= 0) {
                throw new DatasetException(file + " declares dimension " + (i + 1) + " as " + dims[i] + " (" + shape(dims)
                        + "); every dimension of an IDX file must be positive: the header is corrupt. " + fix);
            }
            try {
                n = Math.multiplyExact(n, dims[i]);
            } catch (ArithmeticException e) {
                n = Long.MAX_VALUE;
            }
        }
        if (n > MAX_ARRAY) {
            throw new DatasetException(file + " declares " + shape(dims) + " = " + (n == Long.MAX_VALUE ? "more than 2^63" : n)
                    + " elements, more than one array holds (" + MAX_ARRAY + "): the header is corrupt. " + fix);
        }
        return n;
    }

    /** the decompressed data, read in pieces (memory follows the bytes present); refused if it goes on past n bytes */
    private static byte[] readCapped(Header h, InputStream in, int n, String fix) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream(Math.min(n, CHUNK));
        byte[] buf = new byte[CHUNK];
        int left = n;
        while (left > 0) {
            int r = in.read(buf, 0, Math.min(buf.length, left));
            if (r < 0) break;
            out.write(buf, 0, r);
            left -= r;
        }
        if (left == 0 && in.read() >= 0) {
            throw new DatasetException(h.file() + " holds more data after decompression than its header declares (" + h.shape()
                    + " = " + n + " bytes): the file is corrupt or its header is wrong. " + fix);
        }
        return out.toByteArray();
    }

    static String shape(int[] dims) {
        return Arrays.stream(dims).mapToObj(Integer::toString).reduce((a, b) -> a + "x" + b).orElse("");
    }

    private static String hex(byte[] b) {
        StringBuilder s = new StringBuilder();
        for (byte x : b) s.append(s.length() == 0 ? "" : " ").append(String.format("%02x", x & 0xFF));
        return s.toString();
    }

    private static String typeName(int type) {
        return switch (type) {
            case 0x09 -> "signed bytes";
            case 0x0B -> "16-bit integers";
            case 0x0C -> "32-bit integers";
            case 0x0D -> "32-bit floats";
            case 0x0E -> "64-bit floats";
            default -> "not an IDX element type";
        };
    }
}
