package pxprune.kernels;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Marks a test class or method that needs the CUDA backend: tagged {@code cuda}, and skipped with
 * the reason where {@code Backends.of(Device.CUDA)} fails. Where no GPU is present these tests run
 * against the CPU emulation of the CUDA driver (kernels-cuda/src/test/emulator): there they check the
 * kernels' logic and the Java side, not a GPU.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("cuda")
@ExtendWith(CudaTest.Condition.class)
public @interface CudaTest {
    /** enables the test only where the CUDA backend works */
    final class Condition implements ExecutionCondition {
        @Override public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            String why = Backends.unavailableReason(Device.CUDA);
            return why == null ? ConditionEvaluationResult.enabled("CUDA available")
                    : ConditionEvaluationResult.disabled("skipped: " + why);
        }
    }
}
