package dev.anyrefill.cli;

import dev.anyrefill.kernels.Parallel;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code anyrefill} command line. */
@Command(name = "anyrefill", mixinStandardHelpOptions = true, version = "anyrefill-jvm " + Main.VERSION,
        description = "AnyRefill (Left-Prompt-Guided vision tasks) on FLUX.1-Fill-dev, in pure Java.",
        subcommands = {
                RefillCommand.class,
                DemoCommand.class,
                PrepareCommand.class,
                EvaluateCommand.class,
                PlotCommand.class,
                ConvertCommand.class,
                DatasetCommand.class,
                InspectCommand.class,
                ForwardCommand.class,
                SampleCommand.class,
                VaeCommand.class,
                TokenizeCommand.class,
                TextCommand.class,
                EncodePromptCommand.class,
                TrainCommand.class,
                TrainStepCommand.class,
                BenchCommand.class,
                TuneCommand.class,
        })
public final class Main implements Runnable {
    public static final String VERSION = "0.1.0";

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Show stack traces of errors.")
    boolean verbose;

    @Option(names = "--threads", scope = CommandLine.ScopeType.INHERIT, paramLabel = "N",
            description = "Threads of the pure-Java kernels (default: the available processors).")
    void setThreads(int threads) {
        if (threads < 1) {
            throw new CommandLine.ParameterException(new CommandLine(this), "--threads must be at least 1, got " + threads);
        }
        Parallel.setThreads(threads);
    }

    @Override
    public void run() {
        CommandLine.usage(this, System.out);
    }

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code (2 for user errors). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        // a mistyped option or value: one line and where to look, not the whole usage
        cli.setParameterExceptionHandler((e, args2) -> {
            CommandLine c = e.getCommandLine();
            System.err.println("anyrefill: " + UserErrors.message(e) + " (see '" + c.getCommandSpec().qualifiedName()
                    + " --help')");
            return 2;
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean verbose = parseResult.hasMatchedOption("--verbose")
                    || parseResult.subcommands().stream().anyMatch(p -> p.hasMatchedOption("--verbose"));
            if (verbose) {
                e.printStackTrace(System.err);
            } else {
                System.err.println("anyrefill: " + UserErrors.message(e));
            }
            return UserErrors.isUserError(e) ? 2 : 1;
        });
        try {
            return cli.execute(args);
        } catch (OutOfMemoryError e) {
            // the heap is what the user can change: say so in one line rather than a stack trace
            System.err.println("anyrefill: out of memory: this JVM's heap is " + Runtime.getRuntime().maxMemory() / (1 << 20)
                    + " MB; give more with ANYREFILL_JAVA_OPTS=-Xmx<size>, or a smaller --size, or --tile");
            return 2;
        }
    }
}
