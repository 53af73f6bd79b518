package pxprune.experiments.sweep;

import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What became of one run: status {@code done} or {@code failed}, the child processes started for it
 * (0: it was done before this sweep started), the last exit code, the error (the last line of the
 * run's log, for a failed run), the wall seconds of all its attempts and the host that ran it.
 */
public record RunResult(int index, String hash, String status, int attempts, int exitCode, String error, double wallSeconds,
                        String host) implements Serializable {
    public static final String DONE = "done", FAILED = "failed", RUNNING = "running";

    public boolean done() { return DONE.equals(status); }

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("index", (long) index);
        m.put("hash", hash);
        m.put("status", status);
        m.put("attempts", (long) attempts);
        m.put("exit_code", (long) exitCode);
        m.put("error", error);
        m.put("wall_seconds", wallSeconds);
        m.put("host", host);
        return m;
    }

    static RunResult fromMap(Map<String, Object> m) {
        return new RunResult(((Number) m.get("index")).intValue(), (String) m.get("hash"), (String) m.get("status"),
                ((Number) m.get("attempts")).intValue(), ((Number) m.get("exit_code")).intValue(), (String) m.get("error"),
                ((Number) m.get("wall_seconds")).doubleValue(), (String) m.get("host"));
    }
}
