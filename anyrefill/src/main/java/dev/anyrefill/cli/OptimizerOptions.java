package dev.anyrefill.cli;

import dev.anyrefill.train.AdamW;
import picocli.CommandLine.Option;

/** AdamW's options, shared by train and train-step (torch's defaults, lr 1e-4). */
final class OptimizerOptions {
    @Option(names = "--lr", defaultValue = "1e-4", paramLabel = "X", description = "(Peak) learning rate (default: ${DEFAULT-VALUE}).")
    double lr;

    @Option(names = "--beta1", defaultValue = "0.9", paramLabel = "X", description = "AdamW beta1 (default: ${DEFAULT-VALUE}).")
    double beta1;

    @Option(names = "--beta2", defaultValue = "0.999", paramLabel = "X", description = "AdamW beta2 (default: ${DEFAULT-VALUE}).")
    double beta2;

    @Option(names = "--eps", defaultValue = "1e-8", paramLabel = "X", description = "AdamW epsilon (default: ${DEFAULT-VALUE}).")
    double eps;

    @Option(names = "--weight-decay", defaultValue = "0.01", paramLabel = "X",
            description = "Decoupled weight decay (default: ${DEFAULT-VALUE}, torch's).")
    double weightDecay;

    /** The settings, checked (an error names the bad value). */
    AdamW.Settings settings() {
        return new AdamW.Settings(lr, beta1, beta2, eps, weightDecay);
    }
}
