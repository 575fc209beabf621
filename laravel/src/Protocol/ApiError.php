<?php

namespace PosSync\Laravel\Protocol;

use PosSync\Laravel\Http\JsonAnswer;
use Symfony\Component\HttpFoundation\Response;

/**
 * A protocol error answer (docs/protocol.md §13): HTTP status, error code, message in words.
 * Thrown anywhere in a request; it renders itself as `{"error":{"code","message"}}`, so every
 * exception handler (the app's own included) answers it in the protocol's shape.
 */
class ApiError extends \RuntimeException
{
    public function __construct(
        public readonly int $status,
        public readonly string $errorCode,
        string $message,
        public readonly ?int $retryAfter = null,
    ) {
        parent::__construct($message);
    }

    public static function invalidRequest(string $message, int $status = 400): self
    {
        return new self($status, 'invalid_request', $message);
    }

    public static function unknownEntityType(string $message): self
    {
        return new self(400, 'unknown_entity_type', $message);
    }

    public static function checksumMismatch(string $message): self
    {
        return new self(400, 'checksum_mismatch', $message);
    }

    public static function unauthorized(string $message): self
    {
        return new self(401, 'unauthorized', $message);
    }

    public static function notFound(string $message): self
    {
        return new self(404, 'not_found', $message);
    }

    public static function tooLarge(string $message): self
    {
        return new self(413, 'payload_too_large', $message);
    }

    public static function rateLimited(int $retryAfter): self
    {
        return new self(429, 'rate_limited', "too many requests from this device; retry after {$retryAfter} s", max(1, $retryAfter));
    }

    public function render(): Response
    {
        $response = JsonAnswer::error($this->status, $this->errorCode, $this->getMessage());
        if ($this->status === 401) {
            $response->headers->set('WWW-Authenticate', 'Bearer realm="pos-sync"');
        }
        if ($this->retryAfter !== null) {
            $response->headers->set('Retry-After', (string) $this->retryAfter);
        }

        return $response;
    }
}
