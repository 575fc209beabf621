<?php

namespace PosSync\Laravel\Http;

use Illuminate\Http\Response;
use PosSync\Laravel\Protocol\Limits;

/**
 * Builds answers from JSON text the package wrote itself (records are stored as canonical
 * JSON text and spliced in, never decoded and encoded again), with the headers every answer
 * carries: the protocol version and the SHA-256 of the body (§4).
 */
final class JsonAnswer
{
    public const FLAGS = JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_PRESERVE_ZERO_FRACTION | JSON_THROW_ON_ERROR;

    public static function text(string $json, int $status = 200): Response
    {
        $response = new Response($json, $status, ['Content-Type' => 'application/json']);
        self::stamp($response);

        return $response;
    }

    public static function of(mixed $value, int $status = 200): Response
    {
        return self::text(json_encode($value, self::FLAGS), $status);
    }

    public static function error(int $status, string $code, string $message): Response
    {
        return self::of(['error' => ['code' => $code, 'message' => $message]], $status);
    }

    /** Sets the protocol header and the body checksum header on any response. */
    public static function stamp(\Symfony\Component\HttpFoundation\Response $response): void
    {
        $response->headers->set(Limits::PROTOCOL_HEADER, (string) Limits::PROTOCOL_VERSION);
        $content = $response->getContent();
        if (is_string($content)) {
            $response->headers->set(Limits::BODY_CHECKSUM_HEADER, hash('sha256', $content));
        }
    }
}
