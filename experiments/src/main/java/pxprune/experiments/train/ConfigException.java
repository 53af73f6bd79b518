package pxprune.experiments.train;

/**
 * A run configuration is invalid: an unknown key, a value of the wrong type, or a value out of
 * range. The message names the key, what was expected and what was given, on one line.
 */
public final class ConfigException extends IllegalArgumentException {
    public ConfigException(String message) { super(message); }
}
