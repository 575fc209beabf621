<?php

namespace PosSync\Laravel\Protocol;

/** Download tokens `v1.<seq>`: the store sequence number of the last record a device holds. */
final class SyncToken
{
    public static function encode(int $sequence): string
    {
        return 'v1.' . $sequence;
    }

    /** The sequence number of a token this server issued, or null for anything else. */
    public static function decode(string $token): ?int
    {
        if (! preg_match('/^v1\.(\d{1,18})$/', $token, $m)) {
            return null;
        }

        return (int) $m[1];
    }
}
