package pxprune.datasets;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/**
 * An ImageNet-style folder tree {@code root/<class>/*.{JPEG,jpg,png}} (extensions in any case), like
 * torchvision's ImageFolder: classes are the sub-folders sorted by name, numbered from 0; examples are
 * ordered by class, then file name. Each image becomes RGB, is resized (bilinear) so its shorter side is
 * {@code round(size*256/224)}, then center-cropped to {@code size x size}; pixels in [0, 1].
 * Hidden files and folders (names starting with '.') are ignored; a class folder or image that is a
 * symbolic link leading outside root is refused.
 */
public final class ImageFolder {

    private static final Set<String> EXTENSIONS = Set.of("jpeg", "jpg", "png");

    private ImageFolder() {
    }

    /**
     * Loads every image under {@code root}. The whole set must fit one in-memory Dataset
     * (N*3*size*size < 2^31 floats).
     *
     * @throws DatasetException if root is missing, has no class folders, a class folder has no images,
     *                          or an image cannot be decoded
     */
    public static Dataset load(Path root, int size) {
        if (size < 1) throw new IllegalArgumentException("Image size must be >= 1, got " + size);
        List<String> classes = classes(root);
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int k = 0; k < classes.size(); k++) {
            Path dir = root.resolve(classes.get(k));
            List<Path> found = Images.listFiles(root, dir, EXTENSIONS);
            if (found.isEmpty()) {
                throw new DatasetException("Class folder " + dir + " has no .JPEG, .jpg or .png files.\n" + help(root));
            }
            files.addAll(found);
            labels.addAll(Collections.nCopies(found.size(), k));
        }
        float[] x = Images.loadAll(files, (int) Math.round(size * 256.0 / 224.0), size);
        int[] y = labels.stream().mapToInt(Integer::intValue).toArray();
        Path leaf = root.toAbsolutePath().normalize().getFileName();
        return Dataset.wrap(x, y, Images.CHANNELS, size, size, classes.size(), "imagefolder:" + (leaf == null ? root : leaf));
    }

    /**
     * The class names (sub-folder names of {@code root}, sorted) in label order.
     *
     * @throws DatasetException if root is missing or has no sub-folders
     */
    public static List<String> classes(Path root) {
        DatasetException.requireDir(root, help(root));
        List<String> classes = Images.list(root, root, name -> true, Files::isDirectory).stream()
                .map(p -> p.getFileName().toString()).toList();
        if (classes.isEmpty()) {
            throw new DatasetException("Folder " + root + " has no class sub-folders.\n" + help(root));
        }
        return classes;
    }

    private static String help(Path root) {
        return "Expected layout: " + root.resolve("<class>/<image>.JPEG|.jpg|.png")
                + ", one sub-folder per class (e.g. ImageNet's train/n01440764/...). "
                + "Fix: point to the folder that contains the class folders, e.g. <imagenet>/train or <imagenet>/val with the "
                + "validation images sorted into class folders.";
    }
}
