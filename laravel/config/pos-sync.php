<?php

// pos-sync/laravel settings. Publish with `php artisan vendor:publish --tag=pos-sync-config`.
return [
    // Database connection of the sync tables (null: the app's default). Models that use the
    // PublishesToSync trait must live on the same connection, so both writes share one
    // transaction.
    'connection' => env('POS_SYNC_DB_CONNECTION'),

    // The device protocol's routes: {prefix}/upload, /download, /status, /resolve.
    'prefix' => env('POS_SYNC_PREFIX', 'api/sync'),

    // Extra middleware (or a group name) in front of the package's own. The package's own
    // middleware does token auth, rate limit and protocol checks; leave the app's 'api'
    // group out unless its throttle and session handling are wanted on top.
    'middleware' => [],

    // Per-device rate limit (docs/protocol.md §15): a fixed window of `limit` requests per
    // `window_seconds`, counted on the cache store `cache_store` (null: the default store).
    'rate_limit' => [
        'limit' => (int) env('POS_SYNC_RATE_LIMIT', 600),
        'window_seconds' => (int) env('POS_SYNC_RATE_WINDOW_SECONDS', 60),
        'cache_store' => env('POS_SYNC_RATE_LIMIT_CACHE'),
    ],

    // Admin routes like the reference server's (/admin/stores/{store}/records/{type}, ...):
    // off (404) until a token is set. For demos, tests and the conformance suite.
    'admin' => [
        'token' => env('POS_SYNC_ADMIN_TOKEN'),
        'prefix' => env('POS_SYNC_ADMIN_PREFIX', 'admin'),
    ],

    // JSON error bodies ({"error":{"code","message"}}) for every failure under the package's
    // routes. With 'everywhere' => true, also for every other path of the app (for an app that
    // only serves pos-sync).
    'json_errors' => [
        'everywhere' => (bool) env('POS_SYNC_JSON_ERRORS_EVERYWHERE', false),
    ],

    // Webhooks (docs/protocol.md §17): a signed `changes.applied` POST to each URL after a
    // transaction that wrote records commits, from a queued job (use a durable queue such as
    // `database`), retried with exponential backoff; failures land in `failed_jobs`.
    'webhooks' => [
        'urls' => array_values(array_filter(explode(',', (string) env('POS_SYNC_WEBHOOK_URLS', '')))),
        'secret' => env('POS_SYNC_WEBHOOK_SECRET'),
        'tries' => (int) env('POS_SYNC_WEBHOOK_TRIES', 5),
        'backoff_seconds' => [1, 2, 4, 8],
        'timeout_seconds' => 10,
        'queue_connection' => env('POS_SYNC_WEBHOOK_QUEUE_CONNECTION'),
        'queue' => env('POS_SYNC_WEBHOOK_QUEUE'),
    ],

    // Publishing of Eloquent models (the PublishesToSync trait): stores a model is published
    // to when the model does not say (syncStoreIds()).
    'publishing' => [
        'default_stores' => array_values(array_filter(explode(',', (string) env('POS_SYNC_DEFAULT_STORES', '')))),
    ],
];
