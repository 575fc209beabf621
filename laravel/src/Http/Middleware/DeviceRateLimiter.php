<?php

namespace PosSync\Laravel\Http\Middleware;

use Illuminate\Cache\RateLimiter;
use PosSync\Laravel\Protocol\ApiError;

/**
 * Per-device rate limit (§15): a fixed window of `limit` requests per `window_seconds`, on
 * Laravel's `RateLimiter` (so on the cache store the app configures; a store with atomic
 * increments, such as Redis, keeps the count exact under concurrent requests).
 */
final class DeviceRateLimiter
{
    public function __construct(
        private readonly RateLimiter $limiter,
        private readonly int $limit,
        private readonly int $windowSeconds,
    ) {
    }

    /**
     * Counts one request of a device. Returns the state after counting it
     * (`limit`, `remaining`, `reset_seconds`); throws the 429 when it is over its limit.
     *
     * @return array{limit: int, remaining: int, reset_seconds: int}
     */
    public function hit(string $deviceId): array
    {
        $key = 'pos-sync:' . hash('sha256', $deviceId);
        if ($this->limiter->tooManyAttempts($key, $this->limit)) {
            throw ApiError::rateLimited(max(1, $this->limiter->availableIn($key)));
        }
        $count = $this->limiter->hit($key, $this->windowSeconds);

        return [
            'limit' => $this->limit,
            'remaining' => max(0, $this->limit - $count),
            'reset_seconds' => max(0, $this->limiter->availableIn($key)),
        ];
    }
}
