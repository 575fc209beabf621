<?php

namespace PosSync\Laravel\Tests\Feature;

use Illuminate\Foundation\Testing\RefreshDatabase;
use Illuminate\Support\Facades\Artisan;
use Illuminate\Support\Facades\DB;
use PosSync\Laravel\PosSyncServiceProvider;
use PosSync\Laravel\Tests\TestCase;

final class DeviceCommandTest extends TestCase
{
    use RefreshDatabase;

    public function testCreatePrintsATokenOnceAndStoresOnlyItsHash(): void
    {
        $this->withoutMockingConsoleOutput();
        $this->assertSame(0, Artisan::call('pos-sync:device', ['action' => 'create', '--store' => 'S1', '--device' => 'till-1', '--plain' => true]));
        $token = trim(Artisan::output());
        $this->assertMatchesRegularExpression('/^pst_[0-9a-f]{48}$/', $token);
        $row = DB::table('pos_sync_devices')->first();
        $this->assertSame([hash('sha256', $token), 'till-1', 'S1'], [$row->token_hash, $row->device_id, $row->store_id]);
        $this->assertStringNotContainsString($token, json_encode(DB::table('pos_sync_devices')->get()));
        $this->getJson('/api/sync/status', $this->bearer($token))->assertOk()->assertJsonPath('device_id', 'till-1');

        Artisan::call('pos-sync:device', ['action' => 'list']);
        $this->assertStringContainsString('till-1', Artisan::output());
        $this->assertSame(0, Artisan::call('pos-sync:device', ['action' => 'revoke', '--device' => 'till-1']));
        $this->getJson('/api/sync/status', $this->bearer($token))->assertStatus(401);
        $this->assertSame(1, Artisan::call('pos-sync:device', ['action' => 'revoke', '--device' => 'till-1']));
        $this->assertSame(1, Artisan::call('pos-sync:device', ['action' => 'create', '--store' => '', '--device' => 'x']));
    }

    public function testThePackageIsAutoDiscoveredAndItsConfigPublishable(): void
    {
        $composer = json_decode(file_get_contents(__DIR__ . '/../../composer.json'), true);
        $this->assertSame([PosSyncServiceProvider::class], $composer['extra']['laravel']['providers']);
        $this->assertSame('pos-sync/laravel', $composer['name']);
        $paths = PosSyncServiceProvider::pathsToPublish(PosSyncServiceProvider::class, 'pos-sync-config');
        $this->assertCount(1, $paths);
        $this->assertFileExists(array_key_first($paths));
        $this->assertSame('api/sync', config('pos-sync.prefix'));
    }
}
