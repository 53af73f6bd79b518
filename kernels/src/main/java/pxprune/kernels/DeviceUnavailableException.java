package pxprune.kernels;

/**
 * A device's backend cannot be used on this machine. The message says why, starting with
 * "no CUDA device/driver found: " for CUDA; the cause, if any, is the original failure.
 */
public final class DeviceUnavailableException extends UnsupportedOperationException {
    public DeviceUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
