package dev.anyrefill.text;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;

/** Reading optional values out of a Hugging Face config.json (absent config or key: the default). */
public final class Configs {
    private Configs() {
    }

    public static int intOr(JsonObject config, String key, int fallback) {
        JsonElement e = config == null ? null : config.get(key);
        return e == null || e.isJsonNull() ? fallback : e.getAsInt();
    }

    public static float floatOr(JsonObject config, String key, float fallback) {
        JsonElement e = config == null ? null : config.get(key);
        return e == null || e.isJsonNull() ? fallback : e.getAsFloat();
    }

    public static String stringOr(JsonObject config, String key, String fallback) {
        JsonElement e = config == null ? null : config.get(key);
        return e == null || e.isJsonNull() ? fallback : e.getAsString();
    }
}
