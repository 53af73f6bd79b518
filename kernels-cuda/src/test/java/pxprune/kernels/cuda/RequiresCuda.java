package pxprune.kernels.cuda;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import pxprune.kernels.Backends;
import pxprune.kernels.Device;

/** Runs a test class only where the CUDA backend works; elsewhere its tests are skipped with the reason. */
final class RequiresCuda implements ExecutionCondition {
    @Override public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        String why = Backends.unavailableReason(Device.CUDA);
        return why == null ? ConditionEvaluationResult.enabled("CUDA available")
                : ConditionEvaluationResult.disabled("skipped: " + why);
    }
}
