<?php

namespace PosSync\Laravel\Protocol;

/** The protocol's limits (docs/protocol.md §14), the same as `pos_sync::protocol::limits`. */
final class Limits
{
    public const MAX_BODY_BYTES = 8 * 1024 * 1024;
    public const MAX_BATCH_CHANGES = 1000;
    public const MAX_PAYLOAD_BYTES = 256 * 1024;
    public const MAX_ID_CHARS = 128;
    public const DEFAULT_PAGE_LIMIT = 500;
    public const MAX_PAGE_LIMIT = 5000;
    public const PROTOCOL_VERSION = 1;
    public const PROTOCOL_HEADER = 'X-Pos-Sync-Protocol';
    public const BODY_CHECKSUM_HEADER = 'X-Pos-Sync-Body-Sha256';

    /** Why an id is not acceptable (1–128 characters, no control characters), or null. */
    public static function idProblem(mixed $id): ?string
    {
        if (! is_string($id)) {
            return 'must be a string';
        }
        $n = mb_strlen($id, 'UTF-8');
        if ($n === 0 || $n > self::MAX_ID_CHARS || preg_match('/[\x{0}-\x{1f}\x{7f}-\x{9f}]/u', $id)) {
            return sprintf('must be 1 to %d characters without control characters (got %d)', self::MAX_ID_CHARS, $n);
        }

        return null;
    }
}
