package pxprune.px.train;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The named training recipes: the paper's schedules (SGD, step decay by 0.1) and a small digits
 * recipe for the default job. Every recipe prunes with {@code px} by default (method, density and
 * rounds are meant to be overridden); data is read from {@code data_root} ("data").
 *
 * <table>
 * <caption>recipes</caption>
 * <tr><th>name</th><th>data, model</th><th>epochs</th><th>batch</th><th>lr</th><th>momentum</th><th>wd</th><th>steps</th></tr>
 * <tr><td>cifar10_resnet20</td><td>cifar10, resnet20</td><td>160</td><td>128</td><td>0.1</td><td>0.9</td><td>1e-4</td><td>80, 120</td></tr>
 * <tr><td>cifar100_vgg16_bn</td><td>cifar100, vgg16_bn</td><td>160</td><td>128</td><td>0.1</td><td>0.9 Nesterov</td><td>5e-4</td><td>60, 120</td></tr>
 * <tr><td>tinyimagenet_resnet18</td><td>tiny-imagenet, resnet18</td><td>200</td><td>256</td><td>0.2</td><td>0.9</td><td>1e-4</td><td>100, 150</td></tr>
 * <tr><td>imagenet_resnet50</td><td>imagenet, resnet50</td><td>90</td><td>256</td><td>0.1</td><td>0.9</td><td>1e-4</td><td>30, 60, 80</td></tr>
 * <tr><td>digits</td><td>digits, resnet20 (1x8x8)</td><td>{@value #DIGITS_EPOCHS}</td><td>64</td><td>0.1</td><td>0.9</td><td>5e-4</td><td>see {@link #digits()}</td></tr>
 * </table>
 */
public final class Recipes {
    private Recipes() {}

    /** the recipe used for keys a config file leaves out, and by {@code ./pxprune run} without a config */
    public static final String DEFAULT = "digits";

    /** epochs of the digits recipe (about a second each on 2 cores) */
    public static final int DIGITS_EPOCHS = 20;

    private static final Map<String, RunConfig> RECIPES = recipes();

    private static Map<String, RunConfig> recipes() {
        Map<String, RunConfig> m = new LinkedHashMap<>();
        m.put("cifar10_resnet20", new RunConfig("cifar10", "resnet20", "px", 0.018, 100, 10, 1, 160, 128, 0.1, 0.9, false,
                1e-4, List.of(80, 120), 0.1, "data", true));
        m.put("cifar100_vgg16_bn", new RunConfig("cifar100", "vgg16_bn", "px", 0.018, 100, 10, 1, 160, 128, 0.1, 0.9, true,
                5e-4, List.of(60, 120), 0.1, "data", true));
        m.put("tinyimagenet_resnet18", new RunConfig("tiny-imagenet", "resnet18", "px", 0.018, 100, 10, 1, 200, 256, 0.2, 0.9,
                false, 1e-4, List.of(100, 150), 0.1, "data", true));
        m.put("imagenet_resnet50", new RunConfig("imagenet", "resnet50", "px", 0.018, 100, 10, 1, 90, 256, 0.1, 0.9, false,
                1e-4, List.of(30, 60, 80), 0.1, "data", true));
        m.put("digits", digits());
        return java.util.Collections.unmodifiableMap(m);
    }

    /**
     * ResNet-20 on the embedded 8x8 digits: px to density 0.01 in 100 rounds, {@value #DIGITS_EPOCHS}
     * epochs of batch 64, lr 0.1 divided by 10 at epochs 10 and 15, no augmentation (a flipped
     * digit is another digit).
     */
    public static RunConfig digits() {
        return new RunConfig("digits", "resnet20", "px", 0.01, 100, 10, 1, DIGITS_EPOCHS, 64, 0.1, 0.9, false, 5e-4,
                List.of(10, 15), 0.1, "data", false);
    }

    public static List<String> names() { return List.copyOf(RECIPES.keySet()); }

    public static boolean contains(String name) { return RECIPES.containsKey(name); }

    /** @throws ConfigException for an unknown name (the message lists the valid ones) */
    public static RunConfig get(String name) {
        RunConfig r = RECIPES.get(name);
        if (r == null)
            throw new ConfigException("unknown recipe '" + name + "'; use one of: " + String.join(", ", RECIPES.keySet()));
        return r;
    }
}
