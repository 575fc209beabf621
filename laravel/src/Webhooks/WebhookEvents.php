<?php

namespace PosSync\Laravel\Webhooks;

use Illuminate\Support\Str;
use PosSync\Laravel\Protocol\Hlc;

/**
 * Queues a `changes.applied` event for every configured URL once the transaction that wrote
 * the changes has committed (never inside a device's request: a slow receiver never delays
 * an upload). Changes that applied nothing are not sent.
 */
final class WebhookEvents
{
    public const CHANGES_APPLIED = 'changes.applied';

    /**
     * @param list<array{entity_type: string, entity_id: string, change_id: ?string, version: int}> $changes
     */
    public static function changesApplied(string $storeId, ?string $deviceId, array $changes): void
    {
        $urls = array_values(array_filter((array) config('pos-sync.webhooks.urls', [])));
        if ($changes === [] || $urls === []) {
            return;
        }
        $eventId = (string) Str::uuid();
        $body = json_encode([
            'event' => self::CHANGES_APPLIED,
            'event_id' => $eventId,
            'store_id' => $storeId,
            'device_id' => $deviceId,
            'changes' => $changes,
            'sent_at' => Hlc::nowMs(),
        ], JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE | JSON_THROW_ON_ERROR);
        $tries = (int) config('pos-sync.webhooks.tries', 5);
        $backoff = array_map('intval', (array) config('pos-sync.webhooks.backoff_seconds', [1, 2, 4, 8]));
        foreach ($urls as $url) {
            // afterCommit: inside an app's own transaction the event waits for its commit and
            // is dropped on rollback; outside of one it is queued at once.
            DeliverWebhook::dispatch($url, $eventId, $body, $tries, $backoff)
                ->onConnection(config('pos-sync.webhooks.queue_connection'))
                ->onQueue(config('pos-sync.webhooks.queue'))
                ->afterCommit();
        }
    }
}
