<?php

namespace PosSync\Laravel\Tests\Feature;

use Illuminate\Support\Facades\Artisan;
use Illuminate\Support\Facades\DB;
use PosSync\Laravel\Publishing\BulkPublisher;
use PosSync\Laravel\Tests\TestCase;
use PosSync\Laravel\Webhooks\DeliverWebhook;

/**
 * Webhooks end to end: queued on the database queue after commit, delivered by a real queue
 * worker to a real HTTP receiver on loopback, signed, retried with the same bytes, and left
 * in failed_jobs when the receiver keeps failing. (Not RefreshDatabase: on Laravel 8 the
 * after-commit jobs would wait for the test's own transaction forever.)
 */
final class WebhookTest extends TestCase
{
    /** @var resource|null */
    private $receiver = null;
    private string $log;

    protected function setUp(): void
    {
        parent::setUp();
        Artisan::call('migrate:fresh');
        $this->log = tempnam(sys_get_temp_dir(), 'pos-sync-hook');
        $port = $this->freePort();
        $this->receiver = proc_open(
            [PHP_BINARY, '-S', "127.0.0.1:{$port}", __DIR__ . '/../fixtures/webhook-receiver.php'],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', '/dev/null', 'w'], 2 => ['file', '/dev/null', 'w']],
            $pipes,
            null,
            ['RECEIVER_LOG' => $this->log]
        );
        for ($i = 0; $i < 50 && @fsockopen('127.0.0.1', $port) === false; $i++) {
            usleep(50000);
        }
        config([
            'queue.default' => 'database',
            'pos-sync.webhooks.urls' => ["http://127.0.0.1:{$port}/hook"],
            'pos-sync.webhooks.secret' => 'whsec-test',
            'pos-sync.webhooks.tries' => 2,
            'pos-sync.webhooks.backoff_seconds' => [0],
        ]);
    }

    protected function tearDown(): void
    {
        if ($this->receiver !== null) {
            proc_terminate($this->receiver);
            proc_close($this->receiver);
        }
        @unlink($this->log);
        @unlink($this->log . '.status');
        parent::tearDown();
    }

    private function freePort(): int
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) explode(':', stream_socket_get_name($socket, false))[1];
        fclose($socket);

        return $port;
    }

    private function deliveries(): array
    {
        return array_map(fn ($l) => json_decode($l, true), array_filter(explode("\n", (string) file_get_contents($this->log))));
    }

    public function testAnUploadQueuesASignedEventThatIsRetriedWithTheSameBytes(): void
    {
        $t = $this->device('store-a', 'till-a1');
        $sale = self::sale('s-1', [['p1', 1]]);
        $this->upload($t, [$sale]);
        $this->assertSame(1, DB::table('jobs')->count(), 'queued on the database queue, not sent inside the request');
        $this->assertSame([], $this->deliveries());

        file_put_contents($this->log . '.status', '500');
        Artisan::call('queue:work', ['--once' => true, '--stop-when-empty' => true]);
        file_put_contents($this->log . '.status', '204');
        Artisan::call('queue:work', ['--once' => true, '--stop-when-empty' => true]);
        $deliveries = $this->deliveries();
        $this->assertCount(2, $deliveries);
        $this->assertSame($deliveries[0]['body'], $deliveries[1]['body'], 'a retry sends the same bytes');
        $this->assertSame($deliveries[0]['event_id'], $deliveries[1]['event_id']);
        $this->assertSame(DeliverWebhook::signature('whsec-test', $deliveries[0]['body']), $deliveries[0]['signature']);
        $this->assertSame('sha256=' . hash_hmac('sha256', $deliveries[0]['body'], 'whsec-test'), $deliveries[1]['signature']);
        $event = json_decode($deliveries[0]['body'], true);
        $this->assertSame(['changes.applied', 'store-a', 'till-a1'], [$event['event'], $event['store_id'], $event['device_id']]);
        $this->assertSame([['entity_type' => 'sale', 'entity_id' => 's-1', 'change_id' => $sale['change_id'], 'version' => 1]], $event['changes']);
        $this->assertSame(0, DB::table('jobs')->count());

        // A duplicate applies nothing and queues nothing.
        $this->upload($t, [$sale]);
        $this->assertSame(0, DB::table('jobs')->count());
    }

    public function testABackOfficeEditIsSentWithoutADeviceAndFailuresLandInFailedJobs(): void
    {
        app(BulkPublisher::class)->publish('store-a', 'product', [['id' => 'p-9', 'price' => 100]]);
        file_put_contents($this->log . '.status', '503');
        Artisan::call('queue:work', ['--once' => true, '--stop-when-empty' => true]);
        Artisan::call('queue:work', ['--once' => true, '--stop-when-empty' => true]);
        $deliveries = $this->deliveries();
        $this->assertCount(2, $deliveries, 'two tries');
        $event = json_decode($deliveries[0]['body'], true);
        $this->assertNull($event['device_id']);
        $this->assertNull($event['changes'][0]['change_id']);
        $this->assertSame(1, DB::table('failed_jobs')->count());
        $this->assertSame(0, DB::table('jobs')->count());
    }

    public function testARolledBackTransactionSendsNothing(): void
    {
        try {
            DB::transaction(function () {
                app(BulkPublisher::class)->publish('store-a', 'product', [['id' => 'p-1']]);
                throw new \RuntimeException('back office failed');
            });
        } catch (\RuntimeException) {
        }
        $this->assertSame(0, DB::table('jobs')->count());
        $this->assertSame(0, DB::table('pos_sync_records')->count());
    }
}
