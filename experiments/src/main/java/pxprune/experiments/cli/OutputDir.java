package pxprune.experiments.cli;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * Checks an output folder or file given on the command line before any work starts: the folder is
 * created (with its parents), a file is written in it and deleted again, and the folders this
 * made are removed again (a refused command leaves nothing behind), so that a path under
 * a regular file, in a read-only or virtual file system ({@code /proc}, {@code /sys}) or without
 * write permission fails at once with one line naming the option, instead of after pruning or
 * training.
 */
public final class OutputDir {
    private OutputDir() {}

    /**
     * Creates the folder dir (and its parents) if needed and checks that files can be created in it.
     *
     * @param option the option as the user wrote it, e.g. {@code --out}
     * @return dir
     * @throws UsageException naming the option, the path and the reason
     */
    public static Path prepare(Path dir, String option) {
        if (Files.exists(dir) && !Files.isDirectory(dir))
            throw new UsageException(option + " " + dir + " exists and is not a folder; give a folder for the results");
        check(dir, option, dir);
        return dir;
    }

    /**
     * Checks an output file: it is not a folder, and its folder exists (or is created) and is
     * writable. The file itself is not created.
     *
     * @return file
     * @throws UsageException naming the option, the path and the reason
     */
    public static Path prepareFile(Path file, String option) {
        if (Files.isDirectory(file))
            throw new UsageException(option + " " + file + " is a folder; give a file name, e.g. " + option + " O.safetensors");
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) check(parent, option, file);
        return file;
    }

    private static void check(Path dir, String option, Path given) {
        for (Path p = dir.toAbsolutePath(); p != null; p = p.getParent())
            if (Files.isRegularFile(p))
                throw new UsageException(option + " " + given + ": " + p + " is a file, so no folder can be made under it; "
                        + "give a path in a writable folder");
        Path existing = dir.toAbsolutePath();
        while (existing != null && !Files.exists(existing)) existing = existing.getParent();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UsageException(option + " " + given + ": cannot create the folder " + dir + " (" + reason(e)
                    + "); give a path in a writable folder");
        }
        try {
            Path probe = Files.createTempFile(dir, ".pxprune-write-check-", ".tmp");
            Files.delete(probe);
        } catch (IOException e) {
            throw new UsageException(option + " " + given + ": cannot write in the folder " + dir + " (" + reason(e)
                    + "); give a path in a writable folder");
        } finally {
            for (Path p = dir.toAbsolutePath(); p != null && !p.equals(existing); p = p.getParent()) {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    break; // not empty or not ours: leave it
                }
            }
        }
    }

    private static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied";
        if (e instanceof NoSuchFileException) return "the file system does not allow it there";
        if (e instanceof FileSystemException f && f.getReason() != null) return f.getReason();
        return e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    }
}
