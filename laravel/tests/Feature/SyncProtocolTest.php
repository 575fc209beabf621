<?php

namespace PosSync\Laravel\Tests\Feature;

use Illuminate\Foundation\Testing\RefreshDatabase;
use Illuminate\Support\Facades\DB;
use PosSync\Laravel\Protocol\Canonical;
use PosSync\Laravel\Protocol\Hlc;
use PosSync\Laravel\Tests\TestCase;

/** Upload, download, status and resolve through the HTTP kernel, on SQLite or PostgreSQL. */
final class SyncProtocolTest extends TestCase
{
    use RefreshDatabase;

    public function testASaleAppliesOnceMovesStockAndDownloads(): void
    {
        $a1 = $this->device('store-a');
        $a2 = $this->device('store-a');
        $sale = self::sale('s-1', [['p1', 2], ['p2', 1]]);
        $this->assertSame([['change_id' => $sale['change_id'], 'status' => 'applied', 'version' => 1]], $this->upload($a1, [$sale]));
        $this->assertSame('duplicate', $this->upload($a1, [$sale])[0]['status']);
        $renamed = ['change_id' => self::uid('chg')] + $sale;
        $this->assertSame(['duplicate', 1], array_values(array_intersect_key($this->upload($a2, [$renamed])[0], ['status' => 0, 'version' => 0])));

        $this->assertEquals(['p1' => -2, 'p2' => -1], DB::table('pos_sync_stock')->pluck('quantity', 'product_id')->map(fn ($q) => (int) $q)->all());
        $page = $this->getJson('/api/sync/download?entity_type=sale', $this->bearer($a1))->assertOk()->json();
        $this->assertCount(1, $page['records']);
        $this->assertSame($sale['hlc'], $page['records'][0]['updated_hlc']);
        $this->assertSame($sale['checksum'], $page['records'][0]['checksum']);
        $records = json_decode(json_encode($page['records']), false);
        $this->assertSame(Canonical::checksum($records), $page['checksum']);
        $this->assertSame('v1.1', $page['next_token']);
    }

    public function testCustomersAreVersionedAndStaleEditsConflictUntilResolved(): void
    {
        $a1 = $this->device('store-a');
        $a2 = $this->device('store-a');
        $this->assertSame(1, $this->upload($a1, [self::change('customer', 'c1', 'create', ['id' => 'c1', 'name' => 'Bob'])])[0]['version']);
        $this->assertSame(2, $this->upload($a2, [self::change('customer', 'c1', 'update', ['id' => 'c1', 'name' => 'Bob 2'], 1)])[0]['version']);
        $stale = self::change('customer', 'c1', 'update', ['id' => 'c1', 'name' => 'Bob 1'], 1);
        $result = $this->upload($a1, [$stale])[0];
        $this->assertSame('conflict', $result['status']);
        $this->assertSame(2, $result['server_record']['version']);
        $this->assertSame(['id' => 'c1', 'name' => 'Bob 2'], $result['server_record']['payload']);
        $again = $this->upload($a1, [$stale])[0];
        $this->assertSame($result['conflict_id'], $again['conflict_id'], 'the same change reports the same conflict');
        $this->assertSame(1, $this->getJson('/api/sync/status', $this->bearer($a1))->json('open_conflicts'));

        $payload = ['id' => 'c1', 'name' => 'Bob 1'];
        $resolve = ['conflict_id' => $result['conflict_id'], 'resolution' => 'keep_local', 'payload' => $payload,
            'checksum' => Canonical::checksum((object) $payload), 'hlc' => Hlc::pack(Hlc::nowMs())];
        $other = $this->device('store-b');
        $this->postJson('/api/sync/resolve', $resolve, $this->bearer($other))->assertStatus(404)->assertJsonPath('error.code', 'not_found');
        $record = $this->postJson('/api/sync/resolve', $resolve, $this->bearer($a1))->assertOk()->json('record');
        $this->assertSame([3, $payload], [$record['version'], $record['payload']]);
        $this->postJson('/api/sync/resolve', $resolve, $this->bearer($a1))->assertStatus(409)->assertJsonPath('error.code', 'conflict_closed');
        $this->assertSame(0, $this->getJson('/api/sync/status', $this->bearer($a1))->json('open_conflicts'));

        $this->assertSame(4, $this->upload($a1, [self::change('customer', 'c1', 'delete', null, 3)])[0]['version']);
        $tomb = collect($this->getJson('/api/sync/download?entity_type=customer', $this->bearer($a2))->json('records'))->firstWhere('entity_id', 'c1');
        $this->assertSame([true, null, Canonical::NULL_CHECKSUM], [$tomb['deleted'], $tomb['payload'], $tomb['checksum']]);
    }

    public function testRejectionsArePerChangeAndNothingElseIsBlocked(): void
    {
        $a1 = $this->device('store-a');
        $bad = self::sale('s-bad', [['p', 1]]);
        $bad['checksum'] = Canonical::checksum(json_decode('{"x":1}'));
        $changes = [
            $bad,
            self::change('product', 'p1', 'create', ['id' => 'p1']),
            self::change('sale', 's-2', 'create', ['id' => 's-2', 'lines' => []]),
            self::change('sale', 's-3', 'update', ['id' => 's-3', 'lines' => [['product_id' => 'p', 'quantity' => 1]]]),
            self::change('stock_adjustment', 'a-1', 'create', ['id' => 'a-1', 'product_id' => 'p']),
            self::change('customer', 'c-9', 'update', ['id' => 'c-9']),
            self::sale('s-ok', [['p', 3]]),
        ];
        $codes = array_map(fn ($r) => [$r['status'], $r['code'] ?? null], $this->upload($a1, $changes));
        $this->assertSame([
            ['rejected', 'checksum_mismatch'], ['rejected', 'invalid_action'], ['rejected', 'invalid_payload'],
            ['rejected', 'invalid_action'], ['rejected', 'invalid_payload'], ['rejected', 'invalid_payload'], ['applied', null],
        ], $codes);
        // Rejections are not remembered: judged the same again.
        $this->assertSame('rejected', $this->upload($a1, [$bad])[0]['status']);
        // A change id used by another store is refused without revealing anything.
        $b1 = $this->device('store-b');
        $reused = ['change_id' => $changes[6]['change_id']] + self::sale('s-b', [['p', 1]]);
        $this->assertSame(['status' => 'rejected', 'code' => 'invalid_request'], array_intersect_key($this->upload($b1, [$reused])[0], ['status' => 0, 'code' => 0]));
    }

    public function testDownloadsPageWithoutLosingAnythingAndRefuseBadTokens(): void
    {
        $a1 = $this->device('store-a');
        $ids = array_map(fn ($i) => "c{$i}", range(1, 7));
        $this->upload($a1, array_map(fn ($id) => self::change('customer', $id, 'create', ['id' => $id, 'name' => 'C']), $ids));
        $seen = [];
        $since = '';
        $sizes = [];
        do {
            $page = $this->getJson("/api/sync/download?entity_type=customer&limit=3&since={$since}", $this->bearer($a1))->assertOk()->json();
            $seen = array_merge($seen, array_column($page['records'], 'entity_id'));
            $sizes[] = count($page['records']);
            $since = $page['next_token'];
        } while ($page['has_more']);
        $this->assertSame($ids, $seen);
        $this->assertSame([3, 3, 1], $sizes);
        $empty = $this->getJson("/api/sync/download?entity_type=customer&since={$since}", $this->bearer($a1))->json();
        $this->assertSame([[], $since, false], [$empty['records'], $empty['next_token'], $empty['has_more']]);

        // Contract C: a token ahead of the store (server restored from a backup) is a 409.
        $this->getJson('/api/sync/download?entity_type=customer&since=v1.999', $this->bearer($a1))
            ->assertStatus(409)->assertJsonPath('error.code', 'sync_token_ahead');
        foreach (['' => 'invalid_request', 'entity_type=invoice' => 'unknown_entity_type', 'entity_type=product&since=garbage' => 'invalid_request',
            'entity_type=product&limit=0' => 'invalid_request', 'entity_type=product&limit=1.5' => 'invalid_request',
            'entity_type=product&entity_type=price' => 'invalid_request'] as $query => $code) {
            $this->getJson("/api/sync/download?{$query}", $this->bearer($a1))->assertStatus(400)->assertJsonPath('error.code', $code);
        }
    }

    public function testStatusCountsAndChecksumsFollowEveryWrite(): void
    {
        $a1 = $this->device('store-a');
        $this->upload($a1, [
            self::change('customer', 'c1', 'create', ['id' => 'c1', 'name' => 'A']),
            self::change('customer', 'c2', 'create', ['id' => 'c2', 'name' => 'B']),
            self::change('customer', 'c1', 'update', ['id' => 'c1', 'name' => 'A2'], 1),
            self::change('customer', 'c2', 'delete', null, 1),
        ]);
        $status = $this->getJson('/api/sync/status', $this->bearer($a1))->assertOk()->json();
        $customers = collect($status['entities'])->firstWhere('entity_type', 'customer');
        $live = Canonical::checksum(json_decode('{"id":"c1","name":"A2"}'));
        $this->assertSame(['entity_type' => 'customer', 'count' => 1, 'checksum' => Canonical::drift($live)], $customers);
        $this->assertSame(['sale', 'stock_adjustment', 'product', 'price', 'customer', 'report'], array_column($status['entities'], 'entity_type'));
        $this->assertSame(['limit' => 600, 'remaining' => 598], array_intersect_key($status['rate_limit'], ['limit' => 0, 'remaining' => 0]));
    }
}
