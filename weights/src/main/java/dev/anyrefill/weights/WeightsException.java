package dev.anyrefill.weights;

/** A checkpoint or tensor file that cannot be used; the message names file, tensor and reason. */
public class WeightsException extends RuntimeException {
    public WeightsException(String message) {
        super(message);
    }

    public WeightsException(String message, Throwable cause) {
        super(message, cause);
    }
}
