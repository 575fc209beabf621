<?php

namespace PosSync\Laravel\Http\Controllers;

use Illuminate\Http\Request;
use PosSync\Laravel\Http\JsonAnswer;
use PosSync\Laravel\Http\Middleware\AuthenticateDevice;
use PosSync\Laravel\Protocol\ApiError;
use PosSync\Laravel\Protocol\EntityType;
use PosSync\Laravel\Protocol\Hlc;
use PosSync\Laravel\Protocol\Limits;
use PosSync\Laravel\Protocol\SyncToken;
use PosSync\Laravel\Sync\StoredRecord;
use PosSync\Laravel\Sync\StoreTransaction;
use PosSync\Laravel\Sync\SyncDatabase;
use Symfony\Component\HttpFoundation\Response;

/** `GET /api/sync/download?entity_type=T&since=TOKEN&limit=N` (§8). */
final class DownloadController
{
    public function __invoke(Request $request): Response
    {
        $device = $request->attributes->get(AuthenticateDevice::DEVICE);
        [$type, $since, $limit] = self::query((string) $request->server->get('QUERY_STRING', ''));
        $db = SyncDatabase::connection();
        $records = StoreTransaction::page($db, $device->storeId, $type, $since, $limit + 1);
        if ($records === [] && $since > 0 && $since > StoreTransaction::lastSequence($db, $device->storeId)) {
            // Contract C: the server was restored from a backup or the store was reset.
            throw new ApiError(409, 'sync_token_ahead', sprintf(
                "the sync token is ahead of this store's changes (the server was restored or the store reset); download %s again from the beginning",
                $type
            ));
        }
        $hasMore = count($records) > $limit;
        if ($hasMore) {
            array_pop($records);
        }
        $next = $records === [] ? $since : end($records)->seq;
        $json = '[' . implode(',', array_map(fn (StoredRecord $r) => $r->json(), $records)) . ']';

        return JsonAnswer::text('{"entity_type":"' . $type . '","records":' . $json
            . ',"next_token":"' . SyncToken::encode($next) . '","has_more":' . ($hasMore ? 'true' : 'false')
            . ',"checksum":"' . hash('sha256', $json) . '","server_time":' . Hlc::nowMs() . '}');
    }

    /**
     * The query parsed by hand: PHP's own parsing lets a repeated parameter win silently.
     *
     * @return array{0: string, 1: int, 2: int}
     */
    private static function query(string $raw): array
    {
        $params = [];
        foreach ($raw === '' ? [] : explode('&', $raw) as $pair) {
            if ($pair === '') {
                continue;
            }
            [$key, $value] = array_pad(explode('=', $pair, 2), 2, '');
            $key = urldecode($key);
            if (array_key_exists($key, $params)) {
                throw ApiError::invalidRequest("'{$key}' is given more than once");
            }
            $params[$key] = urldecode($value);
        }
        $type = $params['entity_type'] ?? '';
        if ($type === '') {
            throw ApiError::invalidRequest("the query parameter 'entity_type' is required");
        }
        EntityType::check($type);
        $since = 0;
        if (($params['since'] ?? '') !== '') {
            $since = SyncToken::decode($params['since'])
                ?? throw ApiError::invalidRequest("'since' is not a sync token this server issued; pass next_token from a previous download, or omit it to start over");
        }
        $limit = Limits::DEFAULT_PAGE_LIMIT;
        if (array_key_exists('limit', $params)) {
            $text = $params['limit'];
            if (! ctype_digit($text) || ltrim($text, '0') === '') {
                throw ApiError::invalidRequest(sprintf("'limit' must be a whole number from 1 to %d", Limits::MAX_PAGE_LIMIT));
            }
            $limit = strlen($text) > 6 ? Limits::MAX_PAGE_LIMIT : min((int) $text, Limits::MAX_PAGE_LIMIT);
        }

        return [$type, $since, $limit];
    }
}
