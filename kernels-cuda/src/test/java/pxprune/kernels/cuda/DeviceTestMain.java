package pxprune.kernels.cuda;

import java.io.PrintWriter;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;

/**
 * Runs this module's tests without Maven, for a GPU machine that cannot download anything: see
 * src/test/device/bundle.sh, which packs the classes, the dependencies and a run.sh calling this.
 * Exit status 0 when nothing failed.
 */
public final class DeviceTestMain {
    private DeviceTestMain() {}

    public static void main(String[] args) {
        Launcher launcher = LauncherFactory.create();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener log = new TestExecutionListener() {
            @Override public void executionSkipped(TestIdentifier t, String reason) {
                System.out.println("SKIPPED " + t.getDisplayName() + ": " + reason);
            }

            @Override public void executionFinished(TestIdentifier t, TestExecutionResult r) {
                if (t.isTest() || r.getStatus() != TestExecutionResult.Status.SUCCESSFUL)
                    System.out.println(r.getStatus() + " " + t.getDisplayName()
                            + r.getThrowable().map(e -> ": " + e).orElse(""));
            }
        };
        launcher.execute(LauncherDiscoveryRequestBuilder.request()
                .selectors(DiscoverySelectors.selectPackage("pxprune.kernels.cuda")).build(), summary, log);
        TestExecutionSummary s = summary.getSummary();
        PrintWriter out = new PrintWriter(System.out, true);
        s.printTo(out);
        s.printFailuresTo(out, 30);
        System.exit(s.getTotalFailureCount() == 0 ? 0 : 1);
    }
}
