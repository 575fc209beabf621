<?php

namespace PosSync\Laravel\Protocol;

/**
 * Canonical JSON and checksums (docs/protocol.md §11): keys sorted by their bytes at every
 * depth, no whitespace, minimal string escapes, shortest round-trip floats. Values come from
 * `json_decode($text, false)`, so JSON objects are `stdClass` and `{}` is never `[]`.
 */
final class Canonical
{
    private const FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE
        | JSON_UNESCAPED_LINE_TERMINATORS | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

    /** The SHA-256 of the canonical JSON of `null` (a tombstone's or a delete's checksum). */
    public const NULL_CHECKSUM = '74234e98afe7498fb5daf1f36ac2d78acc339464f950703b8c019892f982b90b';

    public static function json(mixed $value): string
    {
        if ($value instanceof \stdClass) {
            $fields = get_object_vars($value);
            ksort($fields, SORT_STRING);
            $parts = [];
            foreach ($fields as $key => $item) {
                $parts[] = json_encode((string) $key, self::FLAGS) . ':' . self::json($item);
            }

            return '{' . implode(',', $parts) . '}';
        }
        if (is_array($value)) {
            if ($value !== [] && ! array_is_list($value)) {
                // An associative array stands for an object (a model's mapped payload).
                return self::json((object) $value);
            }
            $parts = [];
            foreach ($value as $item) {
                $parts[] = self::json($item);
            }

            return '[' . implode(',', $parts) . ']';
        }
        return json_encode($value, self::FLAGS);
    }

    public static function checksum(mixed $value): string
    {
        return hash('sha256', self::json($value));
    }

    /** The checksum of text that already is canonical JSON. */
    public static function checksumOfText(string $canonical): string
    {
        return hash('sha256', $canonical);
    }

    /** A record checksum's contribution to its type's drift checksum (§9): its first 4 bytes. */
    public static function drift(string $checksumHex): int
    {
        return intval(substr($checksumHex, 0, 8), 16);
    }

    /** A JSON string literal as canonical JSON writes it. */
    public static function string(string $value): string
    {
        return json_encode($value, self::FLAGS);
    }

    /** Compares a received checksum with the expected one (case-insensitive hex, constant time). */
    public static function matches(string $expected, mixed $received): bool
    {
        return is_string($received) && hash_equals($expected, strtolower($received));
    }
}
