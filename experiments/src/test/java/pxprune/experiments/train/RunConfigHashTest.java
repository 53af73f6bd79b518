package pxprune.experiments.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every run folder keeps its name: the hashes of the recipes, of recipes with each key changed
 * through {@code --set}, of the optional keys at and off their defaults and of CUDA runs, as the
 * configuration computed them before its keys were declared in sections. A change that moves a
 * hash here orphans every run folder of that config.
 */
class RunConfigHashTest {

    /** recipe, hash, then the --set assignments applied to the recipe */
    static final String[][] CASES = {
            {"cifar10_resnet20", "8307d8138aa4"},
            {"cifar100_vgg16_bn", "9a5af0a47be1"},
            {"tinyimagenet_resnet18", "3360b0fddbcb"},
            {"imagenet_resnet50", "6614b46fc428"},
            {"fashion_mnist_resnet20", "c8c03e6ebba1"},
            {"fashion_mnist_vgg16_bn", "53797f82a926"},
            {"digits", "629f8885271f"},
            {"seg_demo", "8767e0cac3da"},
            {"voc_deeplabv3_resnet50", "6a6245584d25"},
            {"voc_deeplabv3plus_resnet50", "0d08dccc8429"},
            {"cifar10_resnet50_pretrained", "b5f8ef29d855"},
            {"digits", "b4722283605f", "dataset=cifar10"},
            {"digits", "c5516deaff70", "model=resnet32"},
            {"digits", "82170418ceef", "method=synflow"},
            {"digits", "7ab330c629b4", "method=random"},
            {"digits", "206caaefa76e", "method=dense", "density=1"},
            {"digits", "d456454bd6c8", "density=0.05"},
            {"digits", "27c4c1cb2fd4", "density=1"},
            {"digits", "ef3988aedb92", "rounds=1"},
            {"digits", "f27045f102f6", "examples_per_class=3"},
            {"digits", "5d2c57e2ccbd", "seed=2"},
            {"digits", "ad291dc1ebd0", "seed=-7"},
            {"digits", "5ab0e36d7d91", "seed=9223372036854775807"},
            {"digits", "e4f1079a8d51", "epochs=0"},
            {"digits", "96182d37b191", "epochs=3"},
            {"digits", "4c56e06ba8ae", "batch_size=32"},
            {"digits", "41f7da6d9846", "lr=0.05"},
            {"digits", "bae0f0fac763", "lr=1e-3"},
            {"digits", "73a27801c1ff", "momentum=0"},
            {"digits", "2656d6bd425f", "momentum=0.95"},
            {"digits", "b60748be136d", "nesterov=true"},
            {"digits", "9d3831201fd9", "weight_decay=0"},
            {"digits", "37b3fade627b", "weight_decay=1e-4"},
            {"digits", "063fb6d85d99", "milestones="},
            {"digits", "df61bd80f991", "milestones=[3, 7]"},
            {"digits", "8a30d89eb18e", "milestones=5"},
            {"digits", "d0bde8cb1d04", "gamma=0.2"},
            {"digits", "9303fb044abe", "gamma=1"},
            {"digits", "f926ec06e481", "data_root=/data/sets"},
            {"digits", "73bb370032c0", "augment=true"},
            {"digits", "629f8885271f", "device=cpu"},
            {"digits", "7fc8c313e1ed", "device=cuda"},
            {"digits", "6742f7ed4482", "device=cuda:0"},
            {"digits", "8ecb94c429a5", "device=cuda:1"},
            {"digits", "0bcf0360a241", "pretrained=w.safetensors"},
            {"digits", "4d21948b2892", "pretrained_backbone=b.safetensors"},
            {"digits", "629f8885271f", "pretrained="},
            {"digits", "629f8885271f", "crop=0"},
            {"digits", "629f8885271f", "scale_min=1", "scale_max=1.0"},
            {"digits", "629f8885271f", "flip=false"},
            {"digits", "629f8885271f", "backbone_lr=0"},
            {"digits", "629f8885271f", "method=px", "density=0.01", "epochs=20"},
            {"digits", "54ffd081fdc6", "epochs=2", "method=snip", "density=0.1", "seed=3", "device=cuda"},
            {"seg_demo", "656ae67b5cc0", "crop=0", "augment=false"},
            {"seg_demo", "aa85cea6fcfd", "crop=64"},
            {"seg_demo", "a4d2a95f7ba7", "scale_min=1", "scale_max=1"},
            {"seg_demo", "339e30667414", "scale_min=0.5", "scale_max=2"},
            {"seg_demo", "396ee305645f", "flip=false"},
            {"seg_demo", "c72d6ae4926c", "backbone_lr=0.01"},
            {"seg_demo", "8767e0cac3da", "backbone_lr=0"},
            {"seg_demo", "a551ebdb7c69", "method=random"},
            {"seg_demo", "d5c00b301bd8", "method=dense", "density=1"},
            {"seg_demo", "41f9703683d6", "device=cuda"},
            {"seg_demo", "1be4a6b66555", "device=cuda:2"},
            {"seg_demo", "04044d116f44", "pretrained_backbone=r.safetensors"},
            {"seg_demo", "d00f0c135822", "pretrained=m.safetensors"},
            {"voc_deeplabv3_resnet50", "ebe904e8b65f", "pretrained_backbone="},
            {"voc_deeplabv3_resnet50", "4685cef7b368", "backbone_lr=0"},
            {"voc_deeplabv3plus_resnet50", "90189c57acbb", "crop=321", "device=cuda"},
            {"imagenet_resnet50", "a631b5da644f", "crop=32"},
            {"imagenet_resnet50", "6614b46fc428", "crop=0"},
            {"cifar10_resnet50_pretrained", "03b62f7a1ba8", "pretrained_backbone="},
            {"cifar10_resnet50_pretrained", "4305b31d001e", "device=cuda:0"},
            {"cifar10_resnet20", "8c0252f7250d", "density=0.05", "epochs=2"},
            {"cifar100_vgg16_bn", "955e5c5614ca", "nesterov=false"},
            {"tinyimagenet_resnet18", "2a14e7087cbd", "batch_size=128"},
            {"fashion_mnist_resnet20", "6c0f715af6a4", "method=grasp"},
            {"fashion_mnist_vgg16_bn", "60dedfb67448", "augment=false"}
    };

    static RunConfig config(String[] c) {
        return Recipes.get(c[0]).withSets(Arrays.asList(c).subList(2, c.length));
    }

    @Test
    void everyRunFolderKeepsItsHash() {
        List<String> wrong = new ArrayList<>();
        for (String[] c : CASES) {
            String h = config(c).hash();
            if (!h.equals(c[1])) wrong.add(String.join(" ", c) + " -> " + h);
        }
        assertEquals(List.of(), wrong);
    }
}
