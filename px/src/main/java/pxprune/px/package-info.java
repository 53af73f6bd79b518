/**
 * Pruning at initialization.
 *
 * <ul>
 *   <li>{@link pxprune.px.Scorer} and {@link pxprune.px.methods.ScorerRegistry}: one score per prunable
 *       weight ({@link pxprune.px.PrunableLayer}); px (docs/px-method.md#score) and px_datafree,
 *       random, magnitude, snip, grasp, synflow, synflow_l2. Every auxiliary network is the model
 *       evaluated through an {@link pxprune.nn.Interpreter} with substituted weights,
 *       normalization and activations (package-private {@code Substituted}); no scorer copies or
 *       changes the model.</li>
 *   <li>{@link pxprune.px.Masks}: 0/1 masks by parameter name, density, apply, safetensors I/O.</li>
 *   <li>{@link pxprune.px.TopK}: exact selection of n_keep = N - floor((1 - d) N), never reviving,
 *       ties to the lower flat index across layers in registration order.</li>
 *   <li>{@link pxprune.px.Schedule}, {@link pxprune.px.Pruner}: the iterative loop, its per-round
 *       record and outputs; {@link pxprune.px.Connectivity}: the layer-collapse check.</li>
 *   <li>{@link pxprune.px.ScaledNetwork}: an auxiliary network in float32 with a power-of-two
 *       exponent per tensor (PX's activation network, SynFlow's linearised network).</li>
 * </ul>
 */
package pxprune.px;
