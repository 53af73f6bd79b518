package pxprune.kernels;

/**
 * One device: its kind and its number among the devices of that kind ({@code cpu}: 0, the one CPU;
 * {@code cuda:N}: CUDA device N, 0 = the first). Parsed once where a device is named, on the command
 * line or in a run config, and handed to {@link Backends#of(DeviceId)}, which creates that device's
 * backend.
 *
 * <p>The written forms are {@code cpu}, {@code cuda} and {@code cuda:N}. {@code cuda} without a number
 * means the device of the system property {@value #CUDA_DEFAULT_PROPERTY} or else the environment
 * variable {@value #CUDA_DEFAULT_ENV}, else 0: read by {@link #parse} (and by {@link #defaultOf} for a
 * tensor put on CUDA before any device was named), nowhere else. The canonical form
 * ({@link #toString()}) is {@code cpu} or {@code cuda:N}.
 */
public record DeviceId(Device kind, int index) {
    /** the allowed forms, as error messages list them */
    public static final String FORMS = "cpu, cuda or cuda:N (N = a CUDA device number, 0 = the first)";
    /** the largest device number accepted */
    public static final int MAX_INDEX = 1023;
    /** the system property naming the CUDA device that {@code cuda} (without a number) means */
    public static final String CUDA_DEFAULT_PROPERTY = "pxprune.cuda.device";
    /** the environment variable naming it when the property is not set */
    public static final String CUDA_DEFAULT_ENV = "PXPRUNE_CUDA_DEVICE";
    public static final DeviceId CPU = new DeviceId(Device.CPU, 0);

    public DeviceId {
        if (kind == null) throw new IllegalArgumentException("DeviceId: kind is null; give Device.CPU or Device.CUDA");
        if (kind == Device.CPU ? index != 0 : index < 0 || index > MAX_INDEX)
            throw new IllegalArgumentException("DeviceId: device number " + index + " is not valid for " + kind
                    + "; use 0 for the CPU, 0.." + MAX_INDEX + " for CUDA");
    }

    /** CUDA device number index */
    public static DeviceId cuda(int index) { return new DeviceId(Device.CUDA, index); }

    /**
     * Parses cpu, cuda or cuda:N (lower case, no spaces); {@code cuda} is {@link #defaultOf}(CUDA).
     *
     * @throws IllegalArgumentException "'VALUE' is not a device; give cpu, cuda or cuda:N (...)", or for
     *     {@code cuda} the property or variable that holds no device number
     */
    public static DeviceId parse(String s) {
        if (checked(s).equals("cpu")) return CPU;
        if (s.equals("cuda")) return defaultOf(Device.CUDA);
        return cuda(Integer.parseInt(s.substring(5)));
    }

    /** whether s is written in one of the forms {@link #parse} accepts (without reading what {@code cuda} means) */
    public static boolean isValid(String s) {
        if (s == null) return false;
        if (s.equals("cpu") || s.equals("cuda")) return true;
        return s.startsWith("cuda:") && s.length() > 5 && s.length() <= 9 && s.substring(5).chars().allMatch(c -> c >= '0' && c <= '9')
                && Integer.parseInt(s.substring(5)) <= MAX_INDEX;
    }

    /**
     * s, when it is written in one of the forms {@link #parse} accepts (without reading what {@code cuda} means).
     *
     * @throws IllegalArgumentException "'VALUE' is not a device; give cpu, cuda or cuda:N (...)"
     */
    public static String checked(String s) {
        if (!isValid(s)) throw new IllegalArgumentException((s == null ? "null" : "'" + s + "'") + " is not a device; give " + FORMS);
        return s;
    }

    /**
     * The device of kind that is meant where no number is given: the CPU, or the CUDA device of
     * {@value #CUDA_DEFAULT_PROPERTY} / {@value #CUDA_DEFAULT_ENV} (blank or unset: 0).
     *
     * @throws IllegalArgumentException naming the property and the value when it is not a device number
     */
    public static DeviceId defaultOf(Device kind) {
        if (kind == Device.CPU) return CPU;
        String s = System.getProperty(CUDA_DEFAULT_PROPERTY, System.getenv(CUDA_DEFAULT_ENV));
        if (s == null || s.isBlank()) return new DeviceId(kind, 0);
        String t = s.strip();
        if (t.length() <= 4 && t.chars().allMatch(c -> c >= '0' && c <= '9') && Integer.parseInt(t) <= MAX_INDEX)
            return new DeviceId(kind, Integer.parseInt(t));
        throw new IllegalArgumentException(CUDA_DEFAULT_PROPERTY + " / " + CUDA_DEFAULT_ENV + " must be a device number, got '" + s + "'");
    }

    /** the canonical string: cpu or cuda:N */
    @Override public String toString() { return kind == Device.CPU ? "cpu" : kind.name().toLowerCase(java.util.Locale.ROOT) + ":" + index; }
}
