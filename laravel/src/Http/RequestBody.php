<?php

namespace PosSync\Laravel\Http;

use Illuminate\Http\Request;
use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\Limits;

/**
 * Reads a JSON request body (§4, §14, §16): `Content-Encoding` (gzip or none), the 8 MiB
 * limit before and after gzip decoding (a small body that inflates past it is refused, no
 * zip bombs), `Content-Type`, and JSON syntax. Objects stay objects (`stdClass`).
 */
final class RequestBody
{
    private const INFLATE_CHUNK = 4096;

    public static function json(Request $request): mixed
    {
        $raw = self::bytes($request);
        self::checkContentType($request);
        if ($raw === '') {
            throw ApiError::invalidRequest('the body is empty; send a JSON object');
        }
        try {
            return json_decode($raw, false, 512, JSON_THROW_ON_ERROR);
        } catch (\JsonException $e) {
            throw ApiError::invalidRequest('the body is not valid JSON: ' . $e->getMessage());
        }
    }

    /** The decoded body bytes, at most MAX_BODY_BYTES. */
    public static function bytes(Request $request): string
    {
        $raw = $request->getContent();
        if (strlen($raw) > Limits::MAX_BODY_BYTES) {
            throw self::tooLarge();
        }
        $encoding = strtolower(trim((string) $request->headers->get('Content-Encoding', '')));

        return match ($encoding) {
            '', 'identity' => $raw,
            'gzip', 'x-gzip' => self::gunzip($raw),
            default => throw ApiError::invalidRequest(
                sprintf("Content-Encoding '%s' is not supported; send gzip or no encoding", mb_substr($encoding, 0, 32)),
                415
            ),
        };
    }

    public static function checkContentType(Request $request): void
    {
        $type = $request->headers->get('Content-Type');
        if ($type === null) {
            return;
        }
        $mime = strtolower(trim(explode(';', $type)[0]));
        if ($mime !== 'application/json') {
            throw ApiError::invalidRequest(
                sprintf("Content-Type '%s' is not supported; send application/json", mb_substr($mime, 0, 64)),
                415
            );
        }
    }

    private static function gunzip(string $raw): string
    {
        // Inflated a chunk at a time so that a bomb stops at the cap instead of filling memory.
        $context = @inflate_init(ZLIB_ENCODING_GZIP);
        $out = '';
        $offset = 0;
        $length = strlen($raw);
        do {
            $chunk = substr($raw, $offset, self::INFLATE_CHUNK);
            $offset += self::INFLATE_CHUNK;
            $last = $offset >= $length;
            $piece = @inflate_add($context, $chunk, $last ? ZLIB_FINISH : ZLIB_SYNC_FLUSH);
            if ($piece === false) {
                throw ApiError::invalidRequest('the gzip body could not be decoded');
            }
            $out .= $piece;
            if (strlen($out) > Limits::MAX_BODY_BYTES) {
                throw self::tooLarge();
            }
        } while (! $last);
        if (inflate_get_status($context) !== ZLIB_STREAM_END) {
            throw ApiError::invalidRequest('the gzip body could not be decoded: it is truncated');
        }

        return $out;
    }

    private static function tooLarge(): ApiError
    {
        return ApiError::tooLarge(sprintf('request body is larger than %d bytes (after gzip decoding)', Limits::MAX_BODY_BYTES));
    }
}
