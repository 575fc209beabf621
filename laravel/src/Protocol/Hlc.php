<?php

namespace PosSync\Laravel\Protocol;

/** Hybrid logical clock values: `(milliseconds << 16) | counter` (docs/protocol.md §12). */
final class Hlc
{
    /** A device timestamp further ahead of the server's wall clock is not trusted. */
    public const MAX_DRIFT_MS = 5 * 60 * 1000;

    public static function nowMs(): int
    {
        return (int) floor(microtime(true) * 1000);
    }

    public static function pack(int $millis, int $counter = 0): int
    {
        return ($millis << 16) | ($counter & 0xFFFF);
    }

    public static function millis(int $hlc): int
    {
        return $hlc >> 16;
    }

    /** The server's next timestamp after `$last`. */
    public static function tick(int $last, int $nowMs): int
    {
        return max(self::pack($nowMs), $last + 1);
    }
}
