package pxprune.experiments.cli;

/** A bad command-line argument: the message says what is wrong and how to fix it, on one line (exit code 2). */
public final class UsageException extends RuntimeException {
    public UsageException(String message) { super(message); }
}
