package pxprune.experiments;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The house plan as tests: which module may use which (poms and Java references), which package of the
 * pruning library may use which, that the library writes no files, and that the engine names no pruning
 * method. It reads the checkout's sources and poms, not compiled classes (as ArchUnit would), so that one
 * small reader sees every module, also bench and sweep-spark above this one, and the C, C++ and CUDA
 * sources. A Java reference is any {@code pxprune.<package>.<Type>} in code, imports and fully qualified
 * names alike; comments are left out, and string literals everywhere but in the method names and file names.

 */
class HousePlanTest {
    /**
     * Each module and the modules it may depend on directly; it may use everything these may use.
     * Adding a module means adding it here.
     */
    static final Map<String, List<String>> PLAN = Map.ofEntries(
            Map.entry("native", List.of()),
            Map.entry("kernels", List.of("native")),
            Map.entry("kernels-cuda", List.of("kernels")), // the CUDA backend, beside the CPU one
            Map.entry("core", List.of("kernels")),
            Map.entry("nn", List.of("core")),
            Map.entry("datasets", List.of()), // stands alone
            Map.entry("px", List.of("nn", "kernels-cuda")), // the pruning library (its fused kernels have a CUDA side)
            Map.entry("experiments", List.of("px", "datasets")), // the application
            Map.entry("bench", List.of("experiments", "kernels-cuda")), // also benchmarks the CUDA backend
            Map.entry("sweep-spark", List.of("experiments")));

    /** found with ServiceLoader: any module above kernels may have it on its runtime class path (scope runtime) */
    static final String RUNTIME_BACKEND = "kernels-cuda";

    /** the engine: the modules that must not know any pruning method */
    static final List<String> ENGINE = List.of("native", "kernels", "kernels-cuda", "core", "nn", "datasets");

    /**
     * Pruning-method names the engine must not use, as words of an identifier or string (camelCase and
     * snake_case split, lower case): PX's classes and fused kernels (pxfused.cu, prefix pxf_), its networks
     * and passes, SynFlow, SNIP and GraSP. The project's own prefix is not one: pxprune, PxNative, pxk_,
     * pxconv.h, pxkernels.h (the engine's kernels) and pxcuda.cu are allowed.
     */
    static final List<String> METHOD_NAMES = List.of(
            "px ops", "px kernels", "px scorer", "px bound", "device px", "pxfused", "pxf",
            "scaled activation", "path kernel", "path conv", "act conv", "activation conv", "relu gate", "gate mul",
            "syn flow", "synflow", "snip", "grasp", "gra sp");

    /** code in package {@code from} may not refer to package {@code to} (a package, or with ".." it and its subpackages) */
    record PackageRule(String from, String to, String why) {}

    static final List<PackageRule> PACKAGE_RULES = List.of(
            new PackageRule("pxprune.px", "pxprune.px.methods..", "the library's root knows no method (the registry in pxprune.px.methods does)"),
            new PackageRule("pxprune.px.methods.px..", "pxprune.px.methods.synflow..", "one method does not import another"),
            new PackageRule("pxprune.px.methods.synflow..", "pxprune.px.methods.px..", "one method does not import another"),
            new PackageRule("pxprune.px.methods.px..", "pxprune.px.methods", "a method's defaults belong to the method, not to the registry"),
            new PackageRule("pxprune.px.methods.synflow..", "pxprune.px.methods", "a method's defaults belong to the method, not to the registry"),
            new PackageRule("pxprune.px..", "pxprune.experiments..", "the library does not import the application"));

    /** how the library would write charts, tables or reports: the application (experiments) writes files */
    static final Pattern WRITES_FILES = Pattern.compile(
            "\\b(java\\.awt|javax\\.imageio|ImageIO|FileOutputStream|FileWriter|Files\\s*\\.\\s*(write\\w*|newBufferedWriter|newOutputStream))\\b");
    static final Pattern REPORT_FILE_NAME = Pattern.compile("(?i)\\.(csv|png|svg|jsonl?|md|html)\\b");

    /** a broken rule: the file (relative to the checkout), what in it breaks the rule, and the rule */
    record Violation(String file, String what, String rule) {
        @Override public String toString() { return file + ": " + what + " -- " + rule; }
    }

    static final Path ROOT = checkoutRoot();

    /** every main Java source of every module, read once */
    static List<JavaSource> SOURCES;

    @BeforeAll static void readSources() {
        SOURCES = javaSources();
    }

    record JavaSource(String module, String file, String pkg, Text text) {}

    @Test void everyModuleIsInThePlan() {
        Set<String> modules = new TreeSet<>(childTexts(pom(ROOT), "modules", "module"));
        assertEquals(new TreeSet<>(PLAN.keySet()), modules, "the root pom's modules and HousePlanTest.PLAN differ: add the module to the plan");
    }

    @Test void pomDependenciesFollowThePlan() {
        List<Violation> v = new ArrayList<>();
        Map<String, Set<String>> graph = new TreeMap<>();
        for (String module : PLAN.keySet()) {
            graph.put(module, new TreeSet<>());
            for (Element d : children(child(pom(ROOT.resolve(module)), "dependencies"), "dependency")) {
                String artifact = text(d, "artifactId"), scope = text(d, "scope");
                if (!artifact.startsWith("pxprune-")) continue;
                String to = artifact.substring("pxprune-".length());
                graph.get(module).add(to);
                if (scope.equals("test") || mayUse(module, to)) continue;
                if (to.equals(RUNTIME_BACKEND) && scope.equals("runtime") && mayUse(module, "kernels")) continue;
                v.add(new Violation(module + "/pom.xml", "depends on " + artifact + (scope.isEmpty() ? "" : " (" + scope + ")"),
                        module + " may depend on " + allowed(module) + (mayUse(module, "kernels") ? ", and on " + RUNTIME_BACKEND + " at runtime" : "")));
            }
        }
        assertNone("module dependencies", v);
        for (String m : PLAN.keySet()) assertFalse(mayUse(m, m), "HousePlanTest.PLAN has a cycle through " + m);
        List<String> path = new ArrayList<>();
        for (String m : graph.keySet()) assertTrue(acyclic(m, graph, path, new LinkedHashSet<>()), "a cycle of modules (all scopes): " + path);
    }

    @Test void javaReferencesFollowThePlan() {
        Map<String, String> owner = new TreeMap<>();
        for (JavaSource s : SOURCES) {
            String before = owner.putIfAbsent(s.pkg(), s.module());
            assertTrue(before == null || before.equals(s.module()), "package " + s.pkg() + " is in two modules, " + before + " and " + s.module());
        }
        List<Violation> v = new ArrayList<>();
        for (JavaSource s : SOURCES)
            references(s).forEach((type, pkg) -> {
                String to = owner.get(pkg);
                if (to == null) v.add(new Violation(s.file(), "refers to " + type, "no module's src/main holds package " + pkg));
                else if (!to.equals(s.module()) && !mayUse(s.module(), to))
                    v.add(new Violation(s.file(), "refers to " + type + " of " + to, s.module() + " may use " + allowed(s.module())));
            });
        assertNone("Java references between modules", v);
    }

    @Test void packagesOfTheLibraryFollowThePlan() {
        List<Violation> v = new ArrayList<>();
        for (JavaSource s : SOURCES)
            references(s).forEach((type, pkg) -> {
                for (PackageRule r : PACKAGE_RULES)
                    if (in(s.pkg(), r.from()) && in(pkg, r.to())) v.add(new Violation(s.file(), type, r.from() + " may not use " + r.to() + ": " + r.why()));
            });
        assertNone("package rules", v);
    }

    @Test void theLibraryWritesNoFiles() {
        List<Violation> v = new ArrayList<>();
        for (JavaSource s : SOURCES) {
            if (!s.module().equals("px")) continue;
            Matcher m = WRITES_FILES.matcher(s.text().code());
            while (m.find()) v.add(new Violation(s.file(), m.group(), "the library writes no files: the application (experiments) does"));
            for (String literal : s.text().strings())
                if (REPORT_FILE_NAME.matcher(literal).find())
                    v.add(new Violation(s.file(), "\"" + literal + "\"", "the library names no chart, table or report file: the application does"));
        }
        assertNone("the library writes no files", v);
    }

    /** C, C++ and CUDA sources are read as Java is (comments and strings alike); other files by name only */
    static final Pattern CODE_FILE = Pattern.compile(".*\\.(java|h|hpp|c|cc|cpp|cu|cuh|inc)");

    @Test void theEngineNamesNoPruningMethod() throws IOException {
        List<Violation> v = new ArrayList<>();
        for (String module : ENGINE) {
            Path main = ROOT.resolve(module).resolve("src/main");
            if (!Files.isDirectory(main)) continue;
            try (Stream<Path> files = Files.walk(main)) {
                for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                    List<String> tokens = new ArrayList<>(List.of(f.getFileName().toString().split("\\.")));
                    if (CODE_FILE.matcher(f.getFileName().toString()).matches()) {
                        Text t = Text.of(Files.readString(f, StandardCharsets.UTF_8));
                        tokens.addAll(identifiers(t.code()));
                        t.strings().forEach(s -> tokens.addAll(identifiers(s)));
                    }
                    Map<String, Set<String>> found = new TreeMap<>();
                    for (String token : tokens) {
                        String words = " " + words(token) + " ";
                        for (String name : METHOD_NAMES)
                            if (words.contains(" " + name + " ")) found.computeIfAbsent(name, k -> new TreeSet<>()).add(token);
                    }
                    found.forEach((name, where) -> v.add(new Violation(relative(f), "names \"" + name + "\" in " + where,
                            "the engine (" + String.join(", ", ENGINE) + ") names no pruning method")));
                }
            }
        }
        assertNone("no pruning method in the engine", v);
    }

    // ---------------------------------------------------------------- checks

    /** fails, listing them, when there are violations */
    static void assertNone(String rules, List<Violation> found) {
        assertTrue(found.isEmpty(), rules + ": " + found.size() + " violation(s) of the house plan:\n  "
                + String.join("\n  ", found.stream().map(Violation::toString).toList()));
    }

    static boolean mayUse(String module, String other) {
        return closure(module).contains(other);
    }

    /** the modules that module may use: its plan entries and theirs, transitively */
    static Set<String> closure(String module) {
        Set<String> out = new TreeSet<>();
        List<String> todo = new ArrayList<>(PLAN.getOrDefault(module, List.of()));
        while (!todo.isEmpty()) {
            String m = todo.remove(todo.size() - 1);
            if (out.add(m)) todo.addAll(PLAN.getOrDefault(m, List.of()));
        }
        return out;
    }

    static String allowed(String module) {
        Set<String> c = closure(module);
        return c.isEmpty() ? "no other module" : String.join(", ", c);
    }

    static boolean acyclic(String m, Map<String, Set<String>> graph, List<String> path, Set<String> onPath) {
        path.add(m);
        if (!onPath.add(m)) return false;
        for (String to : graph.getOrDefault(m, Set.of())) if (!acyclic(to, graph, path, onPath)) return false;
        onPath.remove(m);
        path.remove(path.size() - 1);
        return true;
    }

    /** package pattern: "a.b" is that package, "a.b.." it and its subpackages */
    static boolean in(String pkg, String pattern) {
        if (!pattern.endsWith("..")) return pkg.equals(pattern);
        String p = pattern.substring(0, pattern.length() - 2);
        return pkg.equals(p) || pkg.startsWith(p + ".");
    }

    static final Pattern REFERENCE = Pattern.compile("\\bpxprune((?:\\.[a-z_][a-z0-9_]*)+)\\.([A-Z][A-Za-z0-9_]*|\\*)");

    /** the pxprune types a source refers to in code (type -> its package), its own package's left out */
    static Map<String, String> references(JavaSource s) {
        Map<String, String> out = new TreeMap<>();
        Matcher m = REFERENCE.matcher(s.text().code());
        while (m.find()) {
            String pkg = "pxprune" + m.group(1);
            if (!pkg.equals(s.pkg())) out.put(pkg + "." + m.group(2), pkg);
        }
        return out;
    }

    static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    static List<String> identifiers(String text) {
        return IDENTIFIER.matcher(text).results().map(r -> r.group()).toList();
    }

    /** an identifier's words, lower case: CpuPxKernels -> "cpu px kernels", pxf_relu_gate_f32 -> "pxf relu gate f32" */
    static String words(String identifier) {
        return identifier.replaceAll("([a-z0-9])([A-Z])", "$1 $2").replaceAll("([A-Z]+)([A-Z][a-z])", "$1 $2")
                .replace('_', ' ').trim().toLowerCase(java.util.Locale.ROOT).replaceAll(" +", " ");
    }

    // ---------------------------------------------------------------- reading the checkout

    /**
     * A Java, C, C++ or CUDA source split into its code (comments and string and character literals blanked
     * out) and its string literals.
     */
    record Text(String code, List<String> strings) {
        static Text of(String src) {
            StringBuilder code = new StringBuilder(src.length());
            List<String> strings = new ArrayList<>();
            int i = 0, n = src.length();
            while (i < n) {
                char c = src.charAt(i);
                if (src.startsWith("//", i)) {
                    while (i < n && src.charAt(i) != '\n') i++;
                } else if (src.startsWith("/*", i)) {
                    int end = src.indexOf("*/", i + 2);
                    i = end < 0 ? n : end + 2;
                    code.append(' ');
                } else if (src.startsWith("\"\"\"", i)) { // a Java text block
                    int end = src.indexOf("\"\"\"", i + 3);
                    strings.add(src.substring(i + 3, end < 0 ? n : end));
                    i = end < 0 ? n : end + 3;
                    code.append("\"\"");
                } else if (c == '"' || c == '\'') {
                    int j = i + 1;
                    while (j < n && src.charAt(j) != c && src.charAt(j) != '\n') j += src.charAt(j) == '\\' ? 2 : 1;
                    if (c == '"') strings.add(src.substring(i + 1, Math.min(j, n)));
                    i = j + 1;
                    code.append(c).append(c);
                } else {
                    code.append(c);
                    i++;
                }
            }
            return new Text(code.toString(), strings);
        }
    }

    static final Pattern PACKAGE = Pattern.compile("^\\s*package\\s+([\\w.]+)\\s*;", Pattern.MULTILINE);

    static List<JavaSource> javaSources() {
        List<JavaSource> out = new ArrayList<>();
        for (String module : PLAN.keySet()) {
            Path dir = ROOT.resolve(module).resolve("src/main/java");
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).sorted().toList()) {
                    Text t = Text.of(Files.readString(f, StandardCharsets.UTF_8));
                    Matcher m = PACKAGE.matcher(t.code());
                    assertTrue(m.find(), relative(f) + " has no package declaration");
                    out.add(new JavaSource(module, relative(f), m.group(1), t));
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return out;
    }

    static String relative(Path f) {
        return ROOT.relativize(f).toString().replace('\\', '/');
    }

    /** the checkout: the first folder at or above the working directory whose pom is the parent pom */
    static Path checkoutRoot() {
        for (Path d = Path.of(System.getProperty("user.dir")).toAbsolutePath(); d != null; d = d.getParent()) {
            Path pom = d.resolve("pom.xml");
            try {
                if (Files.isRegularFile(pom) && Files.readString(pom).contains("<artifactId>pxprune-parent</artifactId>")
                        && Files.isDirectory(d.resolve("px"))) return d;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no checkout (a pom.xml of pxprune-parent) at or above " + System.getProperty("user.dir"));
    }

    static Element pom(Path dir) {
        try {
            return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(dir.resolve("pom.xml").toFile()).getDocumentElement();
        } catch (Exception e) {
            throw new IllegalStateException(dir.resolve("pom.xml") + ": " + e.getMessage(), e);
        }
    }

    static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        if (parent == null) return out;
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling())
            if (n instanceof Element e && e.getTagName().equals(name)) out.add(e);
        return out;
    }

    static Element child(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? null : c.get(0);
    }

    static String text(Element parent, String name) {
        Element c = child(parent, name);
        return c == null ? "" : c.getTextContent().trim();
    }

    static List<String> childTexts(Element parent, String list, String item) {
        return children(child(parent, list), item).stream().map(e -> e.getTextContent().trim()).toList();
    }
}
