<?php

namespace PosSync\Laravel\Tests;

use Illuminate\Contracts\Console\Kernel;
use Illuminate\Foundation\Testing\TestCase as LaravelTestCase;
use PosSync\Laravel\Devices\DeviceRegistry;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\Hlc;

/** Boots the host app (tests/app) and offers builders of protocol messages. */
abstract class TestCase extends LaravelTestCase
{
    public function createApplication()
    {
        $app = require __DIR__ . '/app/bootstrap.php';
        $app->make(Kernel::class)->bootstrap();
        $app['config']->set('pos-sync.admin.token', 'admin-secret');
        $app['config']->set('pos-sync.json_errors.everywhere', true);
        $app['config']->set('cache.default', 'array');

        return $app;
    }

    /** Registers a device and returns its token. */
    protected function device(string $store = 'store-a', ?string $device = null): string
    {
        return app(DeviceRegistry::class)->create($store, $device ?? 'till-' . bin2hex(random_bytes(4)));
    }

    protected static function uid(string $prefix): string
    {
        return $prefix . '-' . bin2hex(random_bytes(8));
    }

    /** @return array<string, mixed> */
    protected static function change(string $type, string $id, string $action, mixed $payload, ?int $base = null): array
    {
        $payload = is_array($payload) ? json_decode(json_encode($payload), false) : $payload;
        $change = ['change_id' => self::uid('chg'), 'entity_type' => $type, 'entity_id' => $id, 'action' => $action,
            'hlc' => Hlc::pack(Hlc::nowMs()), 'payload' => $payload, 'checksum' => Canonical::checksum($payload)];
        if ($base !== null) {
            $change['base_version'] = $base;
        }

        return $change;
    }

    protected static function sale(string $id, array $lines): array
    {
        return self::change('sale', $id, 'create', ['id' => $id, 'lines' => array_map(
            fn ($l) => ['product_id' => $l[0], 'quantity' => $l[1], 'unit_price' => 150],
            $lines
        ), 'total' => 300]);
    }

    protected static function batch(array $changes): array
    {
        $objects = json_decode(json_encode($changes), false);

        return ['batch_id' => self::uid('batch'), 'changes' => $changes, 'checksum' => Canonical::checksum($objects)];
    }

    protected function upload(string $token, array $changes): array
    {
        $response = $this->postJson('/api/sync/upload', self::batch($changes), ['Authorization' => "Bearer {$token}"]);
        $response->assertOk();

        return $response->json('results');
    }

    protected function bearer(string $token): array
    {
        return ['Authorization' => "Bearer {$token}"];
    }
}
