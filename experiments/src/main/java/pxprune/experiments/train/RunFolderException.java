package pxprune.experiments.train;

/**
 * A run folder holds a file that is not what the run wrote (an unreadable or inconsistent
 * summary, masks that keep no weight, another config): the message names the file, the problem
 * and what to delete to run again, on one line. A bad input, like a bad config (exit code 2).
 */
public final class RunFolderException extends IllegalArgumentException {
    public RunFolderException(String message) { super(message); }
}
