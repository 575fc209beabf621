package androidx.annotation;

import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;

/** TEST STUB of androidx.annotation.Nullable (androidx is not on Maven Central). */
@Retention(RetentionPolicy.CLASS)
public @interface Nullable {}
