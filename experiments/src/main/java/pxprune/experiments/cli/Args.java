package pxprune.experiments.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The arguments of one subcommand: options {@code --name value} (or {@code --name=value}), flags
 * {@code --name}, repeatable options, and positional arguments. Parsing checks every option
 * against the subcommand's declared ones; every accessor fails with a {@link UsageException}
 * that names the option and shows a valid value.
 */
final class Args {
    private final String command;
    private final Map<String, String> examples;
    private final Set<String> flags, repeatable;
    private final Map<String, List<String>> values = new LinkedHashMap<>();
    private final List<String> positional = new ArrayList<>();

    /**
     * @param examples every option that takes a value, with an example value for error messages
     * @param flags    options without a value
     */
    Args(String command, String[] args, int from, Map<String, String> examples, Set<String> flags, Set<String> repeatable) {
        this.command = command;
        this.examples = examples;
        this.flags = flags;
        this.repeatable = repeatable;
        for (int i = from; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("--") && a.length() > 2) {
                String name = a.substring(2), value = null;
                int eq = name.indexOf('=');
                if (eq >= 0) { value = name.substring(eq + 1); name = name.substring(0, eq); }
                if (flags.contains(name)) {
                    if (value != null) throw new UsageException("--" + name + " takes no value (write just --" + name + ")");
                    values.computeIfAbsent(name, k -> new ArrayList<>()).add("true");
                    continue;
                }
                if (!examples.containsKey(name)) throw unknown(a);
                if (value == null) {
                    if (i + 1 >= args.length)
                        throw new UsageException("--" + name + " needs a value, e.g. --" + name + " " + examples.get(name));
                    value = args[++i];
                }
                List<String> l = values.computeIfAbsent(name, k -> new ArrayList<>());
                if (!l.isEmpty() && !repeatable.contains(name))
                    throw new UsageException("--" + name + " is given twice; give it once");
                l.add(value);
            } else if (a.startsWith("-") && a.length() > 1 && !isNumber(a)) {
                throw unknown(a);
            } else {
                positional.add(a);
            }
        }
    }

    private static boolean isNumber(String s) {
        try { Double.parseDouble(s); return true; } catch (NumberFormatException e) { return false; }
    }

    private UsageException unknown(String a) {
        List<String> all = new ArrayList<>();
        examples.keySet().forEach(k -> all.add("--" + k));
        flags.forEach(k -> all.add("--" + k));
        return new UsageException("unknown option " + a + " for '" + command + "'; valid options: " + String.join(" ", all)
                + " (see: pxprune help)");
    }

    List<String> positional() { return positional; }

    boolean has(String name) { return values.containsKey(name); }

    boolean flag(String name) { return values.containsKey(name); }

    List<String> all(String name) { return values.getOrDefault(name, List.of()); }

    String string(String name, String dflt) {
        List<String> l = values.get(name);
        return l == null ? dflt : l.get(0);
    }

    String required(String name) {
        String v = string(name, null);
        if (v == null || v.isEmpty())
            throw new UsageException("'" + command + "' needs --" + name + ", e.g. --" + name + " " + examples.get(name));
        return v;
    }

    /** an integer in min..max */
    int integer(String name, int dflt, int min, int max) {
        String v = string(name, null);
        if (v == null) return dflt;
        java.math.BigInteger x;
        try {
            x = new java.math.BigInteger(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " " + v + " is not an integer; give e.g. --" + name + " " + examples.get(name));
        }
        if (x.compareTo(java.math.BigInteger.valueOf(min)) < 0 || x.compareTo(java.math.BigInteger.valueOf(max)) > 0)
            throw new UsageException("--" + name + " " + v + " is outside " + min + ".." + max + "; give e.g. --" + name + " "
                    + examples.get(name));
        return x.intValue();
    }

    long longValue(String name, long dflt) {
        String v = string(name, null);
        if (v == null) return dflt;
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " " + v + " is not an integer; give e.g. --" + name + " " + examples.get(name));
        }
    }

    /** a density: a number in (0, 1] */
    double density(String name) {
        String v = required(name);
        double d;
        try {
            d = Double.parseDouble(v.strip());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " " + v + " is not a number; give the fraction of weights kept in (0, 1], e.g. --"
                    + name + " " + examples.get(name));
        }
        if (!(d > 0 && d <= 1))
            throw new UsageException("--" + name + " " + v + " is outside (0, 1]; it is the fraction of weights kept: give e.g. --"
                    + name + " " + examples.get(name) + " to keep " + examples.get(name));
        return d;
    }

    /** an existing regular file */
    Path existingFile(String name) {
        Path p = Path.of(required(name));
        if (!Files.isRegularFile(p))
            throw new UsageException("--" + name + " " + p + ": " + (Files.exists(p) ? "is not a regular file" : "no such file")
                    + "; give the path of an existing file");
        return p;
    }

    /** fails if there are more positional arguments than max */
    void maxPositional(int max, String usage) {
        if (positional.size() > max)
            throw new UsageException("unexpected argument '" + positional.get(max) + "' for '" + command + "'; usage: " + usage);
    }
}
