package pxprune.datasets;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A dataset could not be loaded, read or written: a folder or file is missing, a file has the
 * wrong size or content, an image cannot be decoded. The message says what was wrong, what was
 * expected and how to fix it.
 */
public class DatasetException extends RuntimeException {

    public DatasetException(String message) {
        super(message);
    }

    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Returns {@code dir} if it is a directory, else throws naming it and the expected layout. */
    static Path requireDir(Path dir, String layoutAndFix) {
        if (!Files.isDirectory(dir)) {
            throw new DatasetException("Missing folder " + dir.toAbsolutePath()
                    + (Files.exists(dir) ? " (it exists but is not a folder)" : "")
                    + ".\n" + layoutAndFix);
        }
        return dir;
    }

    /** Returns {@code file} if it is a regular file, else throws naming it and the expected layout. */
    static Path requireFile(Path file, String layoutAndFix) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("Missing file " + file.toAbsolutePath()
                    + (Files.exists(file) ? " (it exists but is not a regular file)" : "")
                    + ".\n" + layoutAndFix);
        }
        return file;
    }
}
