<?php

namespace PosSync\Laravel\Http\Middleware;

use Closure;
use Illuminate\Http\Request;
use PosSync\Laravel\Protocol\ApiError;
use Symfony\Component\HttpFoundation\Response;

/** The admin routes: 404 while no admin token is configured (the default), 401 for a wrong one. */
final class AuthenticateAdmin
{
    public function handle(Request $request, Closure $next): Response
    {
        $expected = config('pos-sync.admin.token');
        if (! is_string($expected) || $expected === '') {
            throw ApiError::notFound('no such endpoint');
        }
        $token = AuthenticateDevice::bearer($request);
        if ($token === null || ! hash_equals($expected, $token)) {
            throw ApiError::unauthorized('missing or wrong admin token');
        }

        return $next($request);
    }
}
