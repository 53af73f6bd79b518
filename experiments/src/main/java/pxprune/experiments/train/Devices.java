package pxprune.experiments.train;

import pxprune.kernels.Backends;
import pxprune.kernels.Device;
import pxprune.kernels.DeviceId;
import pxprune.kernels.DeviceUnavailableException;

/**
 * Where a command computes: the device string of the command line's {@code --device} (run, prune,
 * score, predict, ntk, explain, bench) and of the run configs' {@code device} key ({@link DeviceId}'s
 * forms: {@code cpu}, {@code cuda}, {@code cuda:N}), parsed and made the device of this process.
 */
public final class Devices {
    private Devices() {}

    /**
     * Parses device ({@link DeviceId#parse}) and makes it the device this process computes on
     * ({@link Backends#of(DeviceId)}), checking that it can be used.
     *
     * @throws IllegalArgumentException naming the device as written and why it cannot be used: not a
     *     device string, no driver or device (with the reason {@link Backends} gives), or another device
     *     of its kind already in use in this process
     */
    public static DeviceId activate(String device) {
        DeviceId id = DeviceId.parse(device);
        if (id.kind() == Device.CPU) return id;
        try {
            Backends.of(id);
        } catch (DeviceUnavailableException e) {
            throw new IllegalArgumentException(device + " cannot be used: " + e.getMessage() + "; use cpu (or run where CUDA is installed)");
        } catch (IllegalStateException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        return id;
    }
}
