<?php

namespace PosSync\Laravel\Http;

use Illuminate\Http\Request;
use Illuminate\Validation\ValidationException;
use PosSync\Laravel\Protocol\ApiError;
use Symfony\Component\HttpKernel\Exception\HttpExceptionInterface;
use Symfony\Component\HttpFoundation\Response;

/**
 * Renders every exception under the package's paths (or everywhere, if configured) as the
 * protocol's error body (§13) instead of an HTML page: unknown paths, wrong methods,
 * validation, oversized posts, and 500s (whose detail goes to the log, never to the client).
 */
final class ErrorRendering
{
    public static function render(\Throwable $e, Request $request): ?Response
    {
        if (! self::covers($request)) {
            return null;
        }
        if ($e instanceof ApiError) {
            return $e->render();
        }
        [$status, $code, $message] = match (true) {
            $e instanceof ValidationException => [400, 'invalid_request', $e->getMessage()],
            $e instanceof HttpExceptionInterface => self::forStatus($e->getStatusCode()),
            default => [500, 'internal', 'the server failed; retry later'],
        };
        $response = JsonAnswer::error($status, $code, $message);
        if ($e instanceof HttpExceptionInterface) {
            foreach ($e->getHeaders() as $name => $value) {
                $response->headers->set($name, $value);
            }
        }

        return $response;
    }

    /** @return array{0: int, 1: string, 2: string} */
    private static function forStatus(int $status): array
    {
        return match ($status) {
            401 => [401, 'unauthorized', 'unauthorized'],
            403 => [403, 'forbidden', 'forbidden'],
            404 => [404, 'not_found', 'no such endpoint'],
            405 => [405, 'invalid_request', 'method not allowed on this endpoint'],
            413 => [413, 'payload_too_large', 'request body is too large'],
            415 => [415, 'invalid_request', 'unsupported media type'],
            429 => [429, 'rate_limited', 'too many requests'],
            default => [$status, $status >= 500 ? 'internal' : 'invalid_request', strtolower(Response::$statusTexts[$status] ?? 'request failed')],
        };
    }

    private static function covers(Request $request): bool
    {
        if (config('pos-sync.json_errors.everywhere')) {
            return true;
        }
        foreach ([config('pos-sync.prefix', 'api/sync'), config('pos-sync.admin.prefix', 'admin')] as $prefix) {
            $prefix = trim((string) $prefix, '/');
            if ($request->is($prefix, $prefix . '/*')) {
                return true;
            }
        }

        return false;
    }
}
