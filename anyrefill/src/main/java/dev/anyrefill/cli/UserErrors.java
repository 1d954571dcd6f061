package dev.anyrefill.cli;

import dev.anyrefill.tensor.Finite;
import dev.anyrefill.weights.WeightsException;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;

/** Which failures are the user's to fix (exit 2, one line) and how to say them. */
final class UserErrors {
    private UserErrors() {
    }

    static boolean isUserError(Throwable e) {
        return e instanceof WeightsException || e instanceof IllegalArgumentException
                || e instanceof UncheckedIOException || e instanceof NoSuchFileException
                || e instanceof UserException || e instanceof Finite.NonFiniteException;
    }

    static String message(Throwable e) {
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    /** A failure caused by the command's input, reported as one line. */
    static final class UserException extends RuntimeException {
        UserException(String message) {
            super(message);
        }
    }
}
