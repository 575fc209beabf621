<?php

namespace PosSync\Laravel\Http\Middleware;

use Closure;
use Illuminate\Http\Request;
use PosSync\Laravel\Http\JsonAnswer;
use Symfony\Component\HttpFoundation\Response;

/**
 * Outermost middleware of the package's routes: every answer names the protocol version and
 * carries the SHA-256 of its body (§4), and is gzip-compressed for clients that accept it
 * (§16; level 1: most of the saving for little CPU). Done here rather than in the web server
 * so it holds behind nginx, Apache or Octane alike.
 */
final class FinishAnswer
{
    private const MIN_GZIP_BYTES = 1024;

    public function handle(Request $request, Closure $next): Response
    {
        $response = $next($request);
        JsonAnswer::stamp($response);
        $content = $response->getContent();
        $response->headers->set('Vary', 'Accept-Encoding');
        if (is_string($content) && strlen($content) >= self::MIN_GZIP_BYTES && self::acceptsGzip($request)
            && ! $response->headers->has('Content-Encoding')) {
            $response->setContent(gzencode($content, 1));
            $response->headers->set('Content-Encoding', 'gzip');
        }

        return $response;
    }

    private static function acceptsGzip(Request $request): bool
    {
        foreach (explode(',', (string) $request->headers->get('Accept-Encoding', '')) as $part) {
            $params = array_map('trim', explode(';', $part));
            if (strtolower($params[0]) === 'gzip' && ! in_array('q=0', $params, true)) {
                return true;
            }
        }

        return false;
    }
}
