package com.getcapacitor;

/** TEST STUB: the one Bridge method the real PluginCall refers to. */
public class Bridge {
    public void releaseCall(PluginCall call) {}
}
