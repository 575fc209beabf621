<?php

namespace PosSync\Laravel\Webhooks;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Foundation\Bus\Dispatchable;
use Illuminate\Queue\InteractsWithQueue;
use Illuminate\Support\Facades\Http;

/**
 * Delivers one `changes.applied` event to one URL (§17). The job carries the serialized body,
 * so every attempt sends the same bytes, the same event id and the same signature; a
 * connection error, a timeout or a non-2xx answer throws, and the queue retries with
 * exponential backoff until `tries` run out (then the job lands in `failed_jobs`).
 */
final class DeliverWebhook implements ShouldQueue
{
    use Dispatchable;
    use InteractsWithQueue;
    use Queueable;

    public int $tries;
    public int $timeout = 30;

    /** @param list<int> $backoffSeconds */
    public function __construct(
        public readonly string $url,
        public readonly string $eventId,
        public readonly string $body,
        int $tries = 5,
        public readonly array $backoffSeconds = [1, 2, 4, 8],
    ) {
        $this->tries = $tries;
    }

    /** @return list<int> */
    public function backoff(): array
    {
        return $this->backoffSeconds;
    }

    public static function signature(string $secret, string $body): string
    {
        return 'sha256=' . hash_hmac('sha256', $body, $secret);
    }

    public function handle(): void
    {
        $headers = [
            'X-Pos-Sync-Event' => WebhookEvents::CHANGES_APPLIED,
            'X-Pos-Sync-Event-Id' => $this->eventId,
        ];
        $secret = config('pos-sync.webhooks.secret');
        if (is_string($secret) && $secret !== '') {
            $headers['X-Pos-Sync-Signature'] = self::signature($secret, $this->body);
        }
        $response = Http::withHeaders($headers)
            ->timeout((int) config('pos-sync.webhooks.timeout_seconds', 10))
            ->withOptions(['allow_redirects' => false])
            ->withBody($this->body, 'application/json')
            ->post($this->url);
        if (! $response->successful()) {
            throw new \RuntimeException("webhook {$this->eventId} to {$this->url}: HTTP {$response->status()}");
        }
    }
}
