<?php

namespace PosSync\Laravel\Http\Middleware;

use Closure;
use Illuminate\Http\Request;
use PosSync\Laravel\Devices\DeviceRegistry;
use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\Limits;
use Symfony\Component\HttpFoundation\Response;

/**
 * The checks every `/api/sync/*` request passes before its controller, in the protocol's
 * order (§3): bearer token (401) → per-device rate limit (429) → protocol version (400).
 */
final class AuthenticateDevice
{
    public const DEVICE = 'pos_sync.device';
    public const RATE_LIMIT = 'pos_sync.rate_limit';

    public function __construct(
        private readonly DeviceRegistry $devices,
        private readonly DeviceRateLimiter $limiter,
    ) {
    }

    public function handle(Request $request, Closure $next): Response
    {
        $token = self::bearer($request);
        $device = $token === null ? null : $this->devices->find($token);
        if ($device === null) {
            throw ApiError::unauthorized('missing or unknown bearer token');
        }
        $request->attributes->set(self::DEVICE, $device);
        $request->attributes->set(self::RATE_LIMIT, $this->limiter->hit($device->deviceId));
        self::checkProtocol($request);

        return $next($request);
    }

    /** The token of an `Authorization: Bearer <token>` header. */
    public static function bearer(Request $request): ?string
    {
        $value = (string) $request->headers->get('Authorization', '');
        $parts = explode(' ', $value, 2);
        if (count($parts) !== 2 || strcasecmp($parts[0], 'bearer') !== 0) {
            return null;
        }
        $token = trim($parts[1]);

        return $token === '' ? null : $token;
    }

    private static function checkProtocol(Request $request): void
    {
        $version = $request->headers->get(Limits::PROTOCOL_HEADER);
        if ($version === null || trim($version) === (string) Limits::PROTOCOL_VERSION) {
            return;
        }
        throw new ApiError(400, 'unsupported_protocol_version', sprintf(
            "this server speaks protocol version %d; the request asked for '%s'",
            Limits::PROTOCOL_VERSION,
            mb_substr($version, 0, 32)
        ));
    }
}
