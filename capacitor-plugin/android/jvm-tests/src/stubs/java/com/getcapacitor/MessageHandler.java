package com.getcapacitor;

/**
 * TEST STUB of Capacitor's MessageHandler (the real one needs a WebView and a Bridge): the
 * real PluginCall hands its result to this method; tests override it to capture what the web
 * app would receive.
 */
public class MessageHandler {
    public void sendResponseMessage(PluginCall call, PluginResult successResult, PluginResult errorResult) {}
}
