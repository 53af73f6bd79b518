package pxprune.experiments.train;

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
 * <tr><td>seg_demo</td><td>seg_demo, deeplabv3_resnet20 (3x32x32)</td><td>{@value #SEG_DEMO_EPOCHS}</td><td>{@value #SEG_DEMO_BATCH}</td><td>see {@link #segDemo()}</td><td>0.9</td><td>1e-4</td><td>see {@link #segDemo()}</td></tr>
 * <tr><td>voc_deeplabv3_resnet50</td><td>voc2012_aug, deeplabv3_resnet50</td><td>80</td><td>4</td><td>0.01 head, 0.001 backbone</td><td>0.9</td><td>1e-4</td><td>50, 60</td></tr>
 * <tr><td>voc_deeplabv3plus_resnet50</td><td>voc2012_aug, deeplabv3plus_resnet50</td><td>80</td><td>4</td><td>0.01 head, 0.001 backbone</td><td>0.9</td><td>1e-4</td><td>50, 60</td></tr>
 * <tr><td>fashion_mnist_resnet20</td><td>fashion_mnist, resnet20 (1x28x28)</td><td>160</td><td>128</td><td>0.1</td><td>0.9</td><td>1e-4</td><td>80, 120</td></tr>
 * <tr><td>fashion_mnist_vgg16_bn</td><td>fashion_mnist, vgg16_bn (1x28x28)</td><td>160</td><td>128</td><td>0.1</td><td>0.9 Nesterov</td><td>5e-4</td><td>60, 120</td></tr>
 * <tr><td>cifar10_resnet50_pretrained</td><td>cifar10, tv_resnet50 from ImageNet weights</td><td>30</td><td>128</td><td>0.01</td><td>0.9</td><td>5e-4</td><td>15, 25</td></tr>
 * </table>
 *
 * <p>The Fashion-MNIST recipes (1x28x28; {@code apt-get install dataset-fashion-mnist} on Debian,
 * or the four files in {@code data_root/fashion-mnist/}) are the CIFAR recipes of the same models
 * with the dataset changed; their augmentation is the one of the data set's published references:
 * random crops of the image zero-padded by {@value ClassificationTask#AUGMENT_PAD} pixels, horizontal flips,
 * per-channel normalisation.
 *
 * <p>{@code imagenet_resnet50} reads ImageNet streamed from disk (docs/datasets-imagenet.md): training
 * images through torchvision's RandomResizedCrop to 224 with flips, evaluation through resize 256 and
 * centre crop 224; {@code --set crop=N} changes both sides (e.g. 32 for a quick check on the CPU).
 *
 * <p>The segmentation recipes (docs/segmentation.md) train on random crops with random rescaling
 * and horizontal flips; the VOC ones are the PX authors' setup: density 0.018 in 100 rounds, crop
 * 513, scale 0.5-2.0, per-pixel cross-entropy ignoring label 255 (the V3+ model's output stride of
 * 16 is the model's own).
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
        // Fashion-MNIST with the CIFAR recipe of the same model (vgg16_bn's 4 max pools take 28x28 to 1x1)
        m.put("fashion_mnist_resnet20", m.get("cifar10_resnet20").with("dataset", "fashion_mnist"));
        m.put("fashion_mnist_vgg16_bn", m.get("cifar100_vgg16_bn").with("dataset", "fashion_mnist"));
        m.put("digits", digits());
        m.put("seg_demo", segDemo());
        m.put("voc_deeplabv3_resnet50", voc("deeplabv3_resnet50"));
        m.put("voc_deeplabv3plus_resnet50", voc("deeplabv3plus_resnet50"));
        m.put("cifar10_resnet50_pretrained", cifar10Transfer());
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

    /** epochs and batch size of the seg_demo recipe */
    public static final int SEG_DEMO_EPOCHS = 6, SEG_DEMO_BATCH = 8;

    /**
     * The small DeepLab on the embedded 3x32x32 shapes: px to density 0.01 in 10 rounds (where
     * random pruning leaves a network that predicts background everywhere),
     * {@value #SEG_DEMO_EPOCHS} epochs of batch {@value #SEG_DEMO_BATCH}, lr 0.05 divided by 10 at
     * epoch 5, random crops of 32 at scale 0.75-1.25 with flips (sized so that the four runs of
     * {@code pxprune run seg_demo} take a minute or two on 2 cores; docs/segmentation.md).
     */
    public static RunConfig segDemo() {
        return new RunConfig("seg_demo", "deeplabv3_resnet20", "px", 0.01, 10, 10, 1, SEG_DEMO_EPOCHS, SEG_DEMO_BATCH, 0.05, 0.9,
                false, 1e-4, List.of(5), 0.1, "data", true, 32, 0.75, 1.25, true, 0);
    }

    /**
     * Pascal VOC 2012 with the SBD training images (voc2012_aug), the PX authors' DeepLab setup, from
     * an ImageNet-pre-trained ResNet-50 backbone in {@value #IMAGENET_RESNET50} (the authors used DINO
     * weights; any torchvision-layout ResNet-50 state dict fits)
     */
    static RunConfig voc(String model) {
        return new RunConfig("voc2012_aug", model, "px", 0.018, 100, 10, 1, 80, 4, 0.01, 0.9, false, 1e-4, List.of(50, 60), 0.1,
                "data", true, 513, 0.5, 2.0, true, 0.001, "", IMAGENET_RESNET50);
    }

    /** where the recipes that start from ImageNet weights expect torchvision's ResNet-50 as safetensors */
    public static final String IMAGENET_RESNET50 = "data/resnet50_imagenet.safetensors";

    /**
     * Transfer: torchvision's ResNet-50 pre-trained on ImageNet ({@value #IMAGENET_RESNET50}, all but
     * fc), pruned with px on CIFAR-10 at its own 32 px and fine-tuned: 30 epochs of batch 128, lr 0.01
     * divided by 10 at epochs 15 and 25, momentum 0.9, weight decay 5e-4, CIFAR augmentation
     */
    static RunConfig cifar10Transfer() {
        return new RunConfig("cifar10", "tv_resnet50", "px", 0.018, 100, 10, 1, 30, 128, 0.01, 0.9, false, 5e-4, List.of(15, 25),
                0.1, "data", true, 0, 1.0, 1.0, false, 0, "", IMAGENET_RESNET50);
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
