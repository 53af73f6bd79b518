package pxprune.experiments.train;

import pxprune.kernels.Backends;
import pxprune.kernels.Device;

/**
 * Where a command computes: {@code cpu}, {@code cuda} (the CUDA device of the system property
 * {@code pxprune.cuda.device} or the environment variable {@code PXPRUNE_CUDA_DEVICE}, else device 0)
 * or {@code cuda:N} (device number N). The one parser of the device string for the command line's
 * {@code --device} (run, prune, score, bench) and the run configs' {@code device} key.
 *
 * <p>{@link #activate()} makes the choice take effect before CUDA is first used: {@code cuda:N} sets
 * {@code pxprune.cuda.device} (which the CUDA backend reads when it starts), and checks that the
 * backend can be used, failing with {@link Backends#unavailableReason}'s reason (no driver, no
 * device, which library is missing). The CUDA backend of a process uses one device: asking for
 * another number after CUDA has started is an error.
 */
public record DeviceSpec(Device device, int index) {
    /** the allowed forms, as error messages list them */
    public static final String FORMS = "cpu, cuda or cuda:N (N = a CUDA device number, 0 = the first)";
    /** the largest device number accepted */
    public static final int MAX_INDEX = 1023;
    public static final DeviceSpec CPU = new DeviceSpec(Device.CPU, -1);

    /** the system property the CUDA backend reads its device number from */
    static final String DEVICE_PROPERTY = "pxprune.cuda.device";

    public DeviceSpec {
        if (device == null) throw new IllegalArgumentException("DeviceSpec: device is null; give Device.CPU or Device.CUDA");
        if (device == Device.CPU ? index != -1 : index < -1 || index > MAX_INDEX)
            throw new IllegalArgumentException("DeviceSpec: device number " + index + " is not valid for " + device
                    + "; use -1 (none) for the CPU, -1 (the default device) or 0.." + MAX_INDEX + " for CUDA");
    }

    /**
     * Parses cpu, cuda or cuda:N (lower case, no spaces).
     *
     * @throws IllegalArgumentException "'VALUE' is not a device; give cpu, cuda or cuda:N (...)"
     */
    public static DeviceSpec parse(String s) {
        if (s != null) {
            if (s.equals("cpu")) return CPU;
            if (s.equals("cuda")) return new DeviceSpec(Device.CUDA, -1);
            if (s.startsWith("cuda:") && s.length() > 5 && s.length() <= 9 && s.substring(5).chars().allMatch(c -> c >= '0' && c <= '9')) {
                int n = Integer.parseInt(s.substring(5));
                if (n <= MAX_INDEX) return new DeviceSpec(Device.CUDA, n);
            }
        }
        throw new IllegalArgumentException((s == null ? "null" : "'" + s + "'") + " is not a device; give " + FORMS);
    }

    /** whether s is a device string {@link #parse} accepts */
    public static boolean isValid(String s) {
        try {
            parse(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** the canonical string: cpu, cuda or cuda:N */
    @Override public String toString() { return device == Device.CPU ? "cpu" : index < 0 ? "cuda" : "cuda:" + index; }

    /**
     * Makes this device the one computations use and checks that it can be used; returns its
     * {@link Device}. For {@code cuda:N}: sets {@code pxprune.cuda.device=N} unless CUDA has
     * already started in this process on another device number (then fails).
     *
     * @throws IllegalArgumentException naming the device and why it cannot be used
     */
    public Device activate() {
        if (device == Device.CPU) return Device.CPU;
        synchronized (DeviceSpec.class) {
            if (index >= 0) {
                String current = System.getProperty(DEVICE_PROPERTY, System.getenv("PXPRUNE_CUDA_DEVICE"));
                String want = Integer.toString(index);
                boolean same = current == null ? index == 0 : current.strip().equals(want);
                if (!same) {
                    if (Backends.resolved(Device.CUDA))
                        throw new IllegalArgumentException(this + ": this process has already started (or tried to start) CUDA on device "
                                + (current == null ? "0" : current.strip()) + "; one process uses one CUDA device, so run "
                                + this + " in a process of its own");
                    System.setProperty(DEVICE_PROPERTY, want);
                } else if (current == null) System.setProperty(DEVICE_PROPERTY, want);
            }
        }
        String reason = Backends.unavailableReason(Device.CUDA);
        if (reason != null)
            throw new IllegalArgumentException(this + " cannot be used: " + reason + "; use cpu (or run where CUDA is installed)");
        return Device.CUDA;
    }
}
