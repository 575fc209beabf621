package com.getcapacitor;

/** TEST STUB of Capacitor's Logger (the real one writes to android.util.Log, which is native). */
public class Logger {
    public static String tags(String... subtags) {
        return "Capacitor/" + String.join("/", subtags);
    }

    public static void error(String tag, String message, Throwable e) {
        System.err.println(tag + ": " + message);
    }

    public static void error(String message, Throwable e) {
        System.err.println(message);
    }

    public static void debug(String tag, String message) {}

    public static void warn(String tag, String message) {}
}
